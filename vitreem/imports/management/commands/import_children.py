"""vitreem import_children FILE --as USERNAME [--unit CODE] [--sheet NAME] [--dry-run] [--valid-only]
[--errors OUT.xlsx] [--json]

Exit status: 0 when the file was read and either written or (dry run) fully valid; 1 when rows are
invalid and nothing was written; 2 when the file cannot be read or holds no table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError


class Command(BaseCommand):
    help = "Nhập danh sách trẻ em từ tệp Excel/ODS/CSV (import a child list from a spreadsheet)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--as", dest="username", required=True, help="acting user (scope and audit)")
        parser.add_argument("--unit", help="commune code for rows that name none (e.g. 23500 or legacy:23500)")
        parser.add_argument("--sheet", help="sheet name (default: the sheet that holds the table)")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument("--valid-only", action="store_true", help="write the valid rows even if some are invalid")
        parser.add_argument("--errors", help="write the rows with errors to this .xlsx")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        from vitreem.accounts.models import User
        from vitreem.places.selectors import unit_resolve

        from ...reading import ReadError
        from ...report import error_report_write
        from ...services import import_create, import_execute, json_result

        path = Path(opts["file"])
        try:
            actor = User.objects.get(username=opts["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"no active user {opts['username']!r}") from None

        def unreadable(code: str, message: str) -> None:
            if opts["json"]:
                empty = {"file": path.name, "sheet": None, "header_row": None, "encoding": None, "mapping": {},
                         "rows": 0, "valid": 0, "invalid": 0, "created": 0, "updated": 0, "unchanged": 0,
                         "review": 0, "written": False,
                         "errors": [{"row": None, "column": None, "value": None, "code": code, "message": message}]}
                self.stdout.write(json.dumps(empty, ensure_ascii=False))
            self.stderr.write(message)
            sys.exit(2)

        if not path.is_file():
            unreadable("unreadable", f"Không mở được tệp {path}.")
        try:
            unit = unit_resolve(opts["unit"]) if opts.get("unit") else None
            batch = import_create(actor=actor, filename=path.name, content=path.read_bytes(), default_unit=unit,
                                  sheet=opts.get("sheet") or "")
        except DomainError as exc:
            if exc.field == "file":
                unreadable("unreadable", str(exc.message))
            raise CommandError(str(exc.message)) from None
        progress = None
        if not opts["json"] and sys.stderr.isatty():
            def progress(done, total):
                self.stderr.write(f"\r{done}/{total}", ending="")
        try:
            result = import_execute(actor=actor, batch=batch, dry_run=opts["dry_run"], valid_only=opts["valid_only"],
                                    progress=progress)
        except ReadError as exc:
            unreadable("no_table", str(exc))
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        if result["rows"] == 0:
            unreadable("no_rows", "Bảng danh sách không có dòng dữ liệu nào.")
        if opts.get("errors"):
            error_report_write(batch, opts["errors"])
        if opts["json"]:
            self.stdout.write(json.dumps(json_result(result), ensure_ascii=False, default=str))
            for w in result.get("warnings", []):
                self.stderr.write(f"cảnh báo dòng {w['row']} [{w['column']}]: {w['message']}")
        else:
            self._summary(result)
        ok = result["written"] or (opts["dry_run"] and result["invalid"] == 0)
        if not ok:
            sys.exit(1)

    def _summary(self, r):
        self.stdout.write(f"{r['file']} · trang {r['sheet']} · tiêu đề dòng {r['header_row']} · mã hoá {r['encoding']}")
        self.stdout.write(f"{r['rows']} dòng: {r['valid']} hợp lệ, {r['invalid']} lỗi; tạo mới {r['created']}, "
                          f"cập nhật {r['updated']}, không đổi {r['unchanged']}, chờ xem xét trùng {r['review']}; "
                          f"{'ĐÃ GHI' if r['written'] else 'KHÔNG ghi gì'}")
        for e in r["errors"][:200]:
            self.stdout.write(f"  dòng {e['row']} [{e['column']}] {e['value']!r}: {e['message']}")
        if len(r["errors"]) > 200:
            self.stdout.write(f"  … và {len(r['errors']) - 200} lỗi nữa (dùng --errors OUT.xlsx)")
        for w in r.get("warnings", [])[:50]:
            self.stdout.write(f"  cảnh báo dòng {w['row']} [{w['column']}]: {w['message']}")
