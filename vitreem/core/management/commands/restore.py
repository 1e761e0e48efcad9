"""`vitreem restore IN [--json]`: restore a backup into an empty database and MEDIA_ROOT, then check
counts, files, the audit chain and (when recorded) the figures of every year (core/backup.py).
Exit status 0 when everything matches, 1 when restored but a check failed, 2 when refused."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Khôi phục bản sao lưu vào cơ sở dữ liệu trống (restore a backup into an empty database)."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the backup file (.tar) written by `vitreem backup`")
        parser.add_argument("--json", action="store_true", help="the check's result as one JSON object")

    def handle(self, *args, **opts):
        from vitreem.core.backup import BackupError, restore_apply

        log = (lambda _m: None) if opts["json"] else (lambda m: self.stderr.write(m))
        try:
            report = restore_apply(opts["backup"], log=log)
        except BackupError as exc:
            self.stderr.write(f"restore: {exc}")
            sys.exit(2)
        if opts["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(f"restored {report['rows']:,} rows in {report['tables']} tables, "
                              f"{report['media_files']:,} files, {report['audit_rows']:,} audit rows chained, "
                              f"{report['stats_years']} years of figures checked, in {report['timings']['total_s']} s")
            for problem in report["problems"]:
                self.stdout.write(f"  {problem}")
            self.stdout.write("OK" if report["ok"] else "MISMATCH")
        if not report["ok"]:
            sys.exit(1)
