"""vitreem report_annual --year Y --format docx|pdf|xlsx --out FILE [--unit CODE]"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError


class Command(BaseCommand):
    help = "Write the annual report (or its statistical tables) of a year to a file."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=["docx", "pdf", "xlsx"], required=True)
        parser.add_argument("--out", required=True, help="Output file")
        parser.add_argument("--unit", default="legacy:62",
                            help="Unit: legacy:CODE / 2025:CODE, or a bare code of the version in force at year end "
                                 "(default: the demo province, legacy:62 Kon Tum)")

    def handle(self, *args, year, format, out, unit, **options):
        from vitreem.places.selectors import unit_resolve
        from vitreem.stats.engine import params_for

        from ...services import report_build

        started = time.perf_counter()
        try:
            unit_obj = unit_resolve(unit, on=params_for(year=year).as_of) if ":" not in unit else unit_resolve(unit)
            data, params = report_build(year=year, unit=unit_obj, fmt=format, user=None)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        Path(out).write_bytes(data)
        self.stdout.write(f"{out}: {len(data):,} bytes, {params['unit']} {year}, {time.perf_counter() - started:.1f} s")
