"""Builders for the privacy tests: children written straight into the register (as the benefits tests
do: the register's own validation refuses people aged 16+, whom retention is about)."""

from __future__ import annotations

import datetime as dt

from vitreem.benefits.tests.factories import make_child
from vitreem.registry.models import Guardian

__all__ = ["make_child", "with_guardian", "years_ago"]


def years_ago(n: int, *, today: dt.date | None = None) -> dt.date:
    from django.utils import timezone

    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - n)
    except ValueError:
        return today.replace(year=today.year - n, day=28)


def with_guardian(child, name: str = "Nguyễn Thị Mẹ", phone: str = "0912345678"):
    Guardian.objects.create(child=child, full_name=name, name_key=name.lower(), relationship="mother", phone=phone)
    return child
