"""`vitreem backup OUT [--stats] [--json]`: the database (pg_dump / SQLite online backup), the media files
and a manifest in one .tar (core/backup.py). Exit status 0 when written, 2 when it could not be."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Sao lưu cơ sở dữ liệu và các tệp (back up the database and the files to one .tar)."

    def add_arguments(self, parser):
        parser.add_argument("out", help="the backup file to write (.tar)")
        parser.add_argument("--stats", action="store_true",
                            help="also record `vitreem stats` of every year, which restore then checks")
        parser.add_argument("--json", action="store_true", help="the manifest summary as one JSON object")

    def handle(self, *args, **opts):
        from vitreem.core.backup import BackupError, backup_make

        log = (lambda _m: None) if opts["json"] else (lambda m: self.stderr.write(m))
        try:
            manifest = backup_make(opts["out"], with_stats=opts["stats"], log=log)
        except BackupError as exc:
            self.stderr.write(f"backup: {exc}")
            sys.exit(2)
        summary = {"file": manifest["file"], "bytes": manifest["bytes"], "database": manifest["database"],
                   "rows": sum(manifest["counts"].values()), "tables": len(manifest["counts"]),
                   "media_files": len(manifest["media"]), "audit_head": manifest["audit"]["head_seq"],
                   "stats_years": len(manifest.get("stats", {})), "timings": manifest["timings"]}
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(f"{summary['file']}: {summary['rows']:,} rows in {summary['tables']} tables, "
                              f"{summary['media_files']:,} files, audit head {summary['audit_head']:,}, "
                              f"{summary['bytes']:,} bytes in {manifest['timings']['total_s']} s")
