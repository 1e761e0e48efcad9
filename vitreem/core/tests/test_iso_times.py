"""PostgreSQL's times read by `fromisoformat` (core.db.iso_timestamptz) are Django's own: the same instant,
the same zone or the same naive wall time, and the same error for what is not an ISO time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from vitreem.core.db import iso_tz_loader

TEXTS = ["2026-12-06 19:05:01.123456+00", "2026-12-06 19:05:01+00", "2026-12-06 19:05:01.5+00",
         "2025-07-01 00:00:00+07", "2026-03-29 01:30:00+05:30", "0001-01-01 00:00:00+00",
         "9999-12-31 23:59:59.999999+00", "2024-02-29 12:00:00.000001-03"]


def _loader(zone):
    return type("SpecificTzLoader", (BaseTzLoader,), {"timezone": zone})  # as Django's register_tzloader


@pytest.mark.parametrize("zone", [dt.UTC, ZoneInfo("Asia/Ho_Chi_Minh"), None])
def test_the_iso_loader_reads_what_django_s_reads(zone):
    django, ours = _loader(zone)(1184), iso_tz_loader(_loader(zone))(1184)
    for text in TEXTS:
        expected, got = django.load(text.encode()), ours.load(text.encode())
        assert got == expected and got.tzinfo == expected.tzinfo, text
        assert (got.tzinfo is None) == (zone is None)
        if zone is None:  # naive: the wall time as written
            assert got.isoformat(" ")[:19] == expected.isoformat(" ")[:19]
        else:
            assert got.utcoffset() == expected.utcoffset()
    for text in ["infinity", "-infinity", "2026-12-06 19:05:01+00 BC", "not a time"]:
        with pytest.raises(psycopg.DataError) as django_error:
            django.load(text.encode())
        with pytest.raises(psycopg.DataError) as our_error:
            ours.load(text.encode())
        assert str(our_error.value) == str(django_error.value)


@pytest.mark.django_db
def test_the_database_s_times_come_back_as_written():
    from django.utils import timezone

    from vitreem.stats.models import UnitStamp

    written = [timezone.now().replace(microsecond=m) for m in (0, 1, 123456, 999999)]
    written.append(dt.datetime(2001, 1, 1, 0, 0, tzinfo=dt.UTC))
    ids = [UnitStamp.objects.create(key=f"t{i}", changed_at=at).pk for i, at in enumerate(written)]
    read = [UnitStamp.objects.get(pk=pk).changed_at for pk in ids]
    assert read == written and all(at.tzinfo is not None and at.utcoffset() == dt.timedelta(0) for at in read)
    assert list(UnitStamp.objects.filter(pk__in=ids).order_by("pk").values_list("changed_at", flat=True)) == written
    if connection.vendor == "postgresql":  # the loader is ours there; SQLite stores text of its own
        from psycopg.pq import Format

        adapters = connection.connection.adapters
        assert getattr(adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT), "iso_fast", False)
