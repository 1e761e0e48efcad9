"""The demo province. Each capability adds its part here, in order, so `make demo` builds it all."""

from __future__ import annotations

from vitreem.accounts.services import demo_accounts_ensure


def demo_seed(*, children: int, seed: int, if_empty: bool) -> str:
    users = demo_accounts_ensure()
    return f"demo accounts: {', '.join(u.username for u in users)}"
