"""`vitreem payroll --month YYYY-MM --as USERNAME [--unit CODE] [--json] [--xlsx OUT.xlsx]`"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError
from vitreem.core.text import format_number


class Command(BaseCommand):
    help = "The monthly social-assistance payroll for a month, within a user's scope (Decree 20/2021)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--as", dest="as_user", required=True, help="Compute within this user's scope")
        parser.add_argument("--unit", default="", help="Unit code (version in force that month) or legacy:CODE / 2025:CODE")
        parser.add_argument("--json", action="store_true", help="One JSON object")
        parser.add_argument("--xlsx", default="", help="Write the signed list to this .xlsx file")

    def handle(self, *args, month, as_user, unit, **options):
        from vitreem.accounts.models import User
        from vitreem.benefits.export import amount_in_words, payroll_xlsx
        from vitreem.benefits.rules import month_parse
        from vitreem.benefits.selectors import payroll_for_user
        from vitreem.core.scope import require_unit, scope_for
        from vitreem.places.selectors import unit_resolve

        try:
            user = User.objects.get(username=as_user, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"Không có người dùng “{as_user}”.") from None
        try:
            first = month_parse(month)
            unit_obj = (unit_resolve(unit, on=first) if ":" not in unit else unit_resolve(unit)) if unit else None
            if not scope_for(user).read_children:
                raise CommandError(f"Tài khoản “{as_user}” không được xem dữ liệu trẻ em.")
            if unit_obj is not None:
                require_unit(user, unit_obj, write=False)
            result = payroll_for_user(user=user, month=first, unit=unit_obj)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        if options["xlsx"]:
            title = unit_obj.name if unit_obj else "Toàn bộ phạm vi"
            Path(options["xlsx"]).write_bytes(payroll_xlsx(result, title_unit=title))
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
            return
        self.stdout.write(f"Tháng {first:%m/%Y} — mức chuẩn {format_number(result.base_level)} đồng"
                          f"{' — đã khóa' if result.locked else ''}")
        for u in result.by_unit:
            if u.recipients:
                self.stdout.write(f"  {u.unit.name}: {format_number(u.recipients)} người, {format_number(u.total)} đồng")
        self.stdout.write(f"Tổng: {format_number(result.recipients)} người, {format_number(result.total)} đồng "
                          f"(truy lĩnh {format_number(result.arrears)}, điều chỉnh {format_number(result.adjustment)})")
        self.stdout.write(f"Bằng chữ: {amount_in_words(result.total)}.")
        if options["xlsx"]:
            self.stdout.write(f"Đã ghi {options['xlsx']}")
