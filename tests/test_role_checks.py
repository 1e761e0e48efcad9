"""Who may do what is decided in one place (issue 19 item 1): roles are grouped in accounts/models.py and
turned into named abilities by core.scope.Scope. A module elsewhere that compares a user's role itself
is the next page copying the wrong version of a rule — this test names it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "vitreem"
# The two places allowed to look at a role: accounts (the roles and their groups) and core (the Scope).
ALLOWED = ("accounts", "core")
COMPARISON = re.compile(
    r"""(\.role|getattr\([^)]*["']role["'][^)]*\))\s*(==|!=|\bnot\s+in\b|\bin\b)"""
    r"""|\bRole\.[A-Z_]+\s*(==|!=)|(==|!=)\s*Role\.[A-Z_]+"""
    r"""|["'](admin|province_officer|commune_worker|leader|reporter|chairman|case_supervisor|referral_agency)["']\s*(==|!=)"""
)


def offending_lines(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in ALLOWED or "tests" in rel.parts or "migrations" in rel.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if COMPARISON.search(line):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_no_module_outside_core_and_accounts_compares_a_role():
    assert offending_lines() == []


@pytest.mark.parametrize("line", [
    'if user.role == Role.COMMUNE_WORKER:',
    'if getattr(actor, "role", None) not in RULE_EDITORS:',
    'return request.auth.role in services.REASSIGN_ROLES',
    'if user.role == "commune_worker":',
])
def test_the_check_catches_each_form(tmp_path, line):
    module = tmp_path / "benefits" / "views.py"
    module.parent.mkdir()
    module.write_text(f"def view(user):\n    {line}\n        pass\n", encoding="utf-8")
    assert offending_lines(tmp_path) == [f"benefits/views.py:2: {line}"]
