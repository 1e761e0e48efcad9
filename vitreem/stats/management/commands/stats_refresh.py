"""`vitreem stats_refresh [--year Y] [--full]`: fill the stored figures (rollups) of every unit of the
installation, for every year-end from 2021 and today (or one year's as-of date)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vitreem.stats.rollups import FIRST_YEAR, rollups_refresh


class Command(BaseCommand):
    help = ("Fill the stored figures of every province, district and commune (both versions of the units) for "
            "every year-end from 2021 and today; values still fresh are kept unless --full.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None, help="Only this year's as-of date")
        parser.add_argument("--full", action="store_true", help="Recompute every value, fresh or not")

    def handle(self, *args, year, full, **options):
        today = timezone.localdate()
        if year is not None and not FIRST_YEAR <= year <= today.year:
            raise CommandError(f"Năm {year} nằm ngoài khoảng {FIRST_YEAR}–{today.year}.")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done}/{total} ngày tính ({time.perf_counter() - started:.1f} s)")

        pairs = rollups_refresh(years=[year] if year is not None else None, full=full, progress=progress)
        self.stdout.write(f"{pairs} (đơn vị, ngày tính) đã cập nhật trong {time.perf_counter() - started:.1f} s")
