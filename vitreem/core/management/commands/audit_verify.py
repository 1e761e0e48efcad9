"""`vitreem audit_verify [--json] [--no-seal]`: check the audit log's hash chain (core/audit_chain.py).

Seals the rows not yet chained first (unless --no-seal), then walks the chain. Exit status 0 when
every link holds, 1 when a row was changed, deleted or added outside the application."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Kiểm tra chuỗi băm của nhật ký kiểm toán (verify the audit log's hash chain)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
        parser.add_argument("--no-seal", action="store_true", help="do not chain the new rows first")

    def handle(self, *args, **opts):
        from vitreem.core.audit_chain import audit_seal, audit_verify

        sealed = 0 if opts["no_seal"] else audit_seal()
        result = audit_verify()
        if opts["json"]:
            self.stdout.write(json.dumps({**result.as_json(), "sealed_now": sealed}, ensure_ascii=False))
        else:
            self.stdout.write(f"{result.rows:,} rows chained, head {result.head_seq:,} "
                              f"{result.head_hash[:16] or '-'}; {result.unsealed:,} not yet sealed"
                              f"{f'; {sealed:,} sealed now' if sealed else ''}")
            for problem in result.problems:
                self.stdout.write(f"  {problem['kind']}: {problem['message']}")
            self.stdout.write("OK" if result.ok else f"TAMPERED: {len(result.problems)} problem(s)")
        if not result.ok:
            sys.exit(1)
