"""The demo province: a synthetic Kon Tum (legacy 62, merged into Quảng Ngãi 51 on 2025-07-01).

Each capability adds its part in `vitreem/<app>/demo.py` as `seed(ctx: DemoContext) -> str`; they
run in the order of SEED_ORDER, each in its own transaction, so `make demo` builds everything.
Same seed, same data.
"""

from __future__ import annotations

import importlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from vitreem.accounts.services import demo_accounts_ensure
from vitreem.places.models import AdminUnit

DEFAULT_CHILDREN = 200_000
# registry first: everything else hangs on the children it creates.
SEED_ORDER = ["registry", "cases", "benefits", "programme", "activities", "imports", "privacy", "stats", "reports"]


@dataclass
class DemoContext:
    children: int
    seed: int
    users: dict[str, Any]
    province: AdminUnit  # legacy:62
    province_2025: AdminUnit  # 2025:51
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)
    data: dict[str, Any] = field(default_factory=dict)  # what one part hands to the next

    @property
    def scale(self) -> float:
        return self.children / DEFAULT_CHILDREN

    def scaled(self, n: int) -> int:
        """A figure of the default province scaled to --children (at least 1 when n > 0)."""
        return max(1, round(n * self.scale)) if n else 0

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{part}")


def demo_exists() -> bool:
    from vitreem.registry.models import Child

    return Child.objects.filter(source="demo").exists()


def demo_seed(*, children: int = DEFAULT_CHILDREN, seed: int = 2022, if_empty: bool = False,
              parts: list[str] | None = None, log=print) -> str:
    users = {u.username: u for u in demo_accounts_ensure()}
    if if_empty and demo_exists():
        return "demo province already loaded; nothing to do"
    ctx = DemoContext(children=children, seed=seed, users=users,
                      province=AdminUnit.objects.get(version="legacy", code="62"),
                      province_2025=AdminUnit.objects.get(version="2025", code="51"))
    lines = []
    for part in parts or SEED_ORDER:
        try:
            module = importlib.import_module(f"vitreem.{part}.demo")
        except ModuleNotFoundError as exc:
            if exc.name == f"vitreem.{part}.demo":
                continue
            raise
        started = time.perf_counter()
        with transaction.atomic():
            summary = module.seed(ctx)
        line = f"{part}: {summary} ({time.perf_counter() - started:.1f} s)"
        log(line)
        lines.append(line)
    # Fresh planner statistics: without them PostgreSQL guessed 173 rows for 250,000 and chose slow plans.
    from vitreem.core.db import after_bulk_load

    after_bulk_load()
    return "\n".join(lines) or "demo accounts only"
