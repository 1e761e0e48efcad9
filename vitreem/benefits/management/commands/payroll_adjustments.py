"""`vitreem payroll_adjustments --month YYYY-MM --as USERNAME [--unit CODE] [--rules-from YYYY-MM] [--json]`

A dry run: the arrears and adjustments the month's payroll would carry, each with its cause — a change
about the person after a month was locked ("person"), a recorded correction of the rules ("rule"), a
manual correction ("manual"). With `--rules-from`, as if a correction of the rules affecting that month
and later were recorded now: the adjustments it would create (issue 14 item 8). Within the user's scope,
like `vitreem payroll`; the read is audited; nothing else is written."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vitreem.core.errors import DomainError
from vitreem.core.text import format_number

CAUSES = {"person": "thay đổi về đối tượng sau khi khóa", "rule": "sửa cách áp dụng quy định", "manual": "điều chỉnh ghi tay"}


class Command(BaseCommand):
    help = "Dry run: the arrears and adjustments of a month's payroll by cause (nothing is written)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="The open month whose payroll would carry them (YYYY-MM)")
        parser.add_argument("--as", dest="as_user", required=True, help="Compute within this user's scope")
        parser.add_argument("--unit", default="", help="Unit code (version in force that month) or legacy:CODE / 2025:CODE")
        parser.add_argument("--rules-from", default="", help="Assume a rule correction affecting this month on (YYYY-MM)")
        parser.add_argument("--json", action="store_true", help="One JSON object")

    def handle(self, *args, month, as_user, unit, rules_from, **options):
        from vitreem.accounts.models import User
        from vitreem.benefits.payroll import payroll_compute
        from vitreem.benefits.rules import month_label, month_parse
        from vitreem.benefits.selectors import payroll_communes
        from vitreem.core.audit import audit_read_list
        from vitreem.core.scope import require_unit, scope_for
        from vitreem.places.selectors import unit_resolve

        try:
            user = User.objects.get(username=as_user, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"Không có người dùng “{as_user}”.") from None
        try:
            if not scope_for(user).read_children:
                raise CommandError(f"Tài khoản “{as_user}” không được xem dữ liệu trẻ em.")
            first = month_parse(month)
            assumed = [(month_parse(rules_from, field_name="rules_from"), timezone.now())] if rules_from else []
            unit_obj = (unit_resolve(unit, on=first) if ":" not in unit else unit_resolve(unit)) if unit else None
            if unit_obj is not None:
                require_unit(user, unit_obj, write=False)
            # The communes in the user's scope, in the month's version (across the 2025 reform), as `vitreem payroll`.
            result = payroll_compute(month=first, commune_ids=payroll_communes(user=user, month=first, unit=unit_obj),
                                     assumed_changes=assumed)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        if result.locked:
            raise CommandError(f"Tháng {month_label(first)} đã khóa: chọn tháng chưa chi trả.")
        units = {u.unit.pk: u.unit for u in result.by_unit}
        rows = [{"allowance": ln.allowance_id, "child": ln.child_id, "name": ln.name,
                 "unit": units[ln.unit_id].ref if ln.unit_id in units else None, "for_month": f"{d['for_month']:%Y-%m}",
                 "kind": str(d["kind"]), "cause": d.get("cause", ""), "amount": d["amount"]}
                for ln in result.lines for d in ln.details]
        audit_read_list(user=user, what="benefits.payroll_adjustments", count=len(rows),
                        filters={"month": month, "unit": unit, "rules_from": rules_from})
        by_cause: dict[str, dict[str, int]] = {}
        for r in rows:
            total = by_cause.setdefault(r["cause"], {"lines": 0, "amount": 0})
            total["lines"] += 1
            total["amount"] += r["amount"]
        if options["json"]:
            self.stdout.write(json.dumps({"month": f"{first:%Y-%m}", "rules_from": rules_from or None, "lines": rows,
                                          "by_cause": by_cause, "total": sum(r["amount"] for r in rows)},
                                         ensure_ascii=False))
            return
        self.stdout.write(f"Truy lĩnh và điều chỉnh trong bảng lương tháng {month_label(first)} (chạy thử, không ghi gì)"
                          + (f", giả định sửa quy định từ tháng {month_label(assumed[0][0])}" if assumed else ""))
        for r in rows:
            self.stdout.write(f"  {r['name']} ({r['unit']}): tháng {r['for_month']} {format_number(r['amount'])} đồng"
                              f" — {CAUSES.get(r['cause'], r['cause'])}")
        for cause, total in by_cause.items():
            self.stdout.write(f"{CAUSES.get(cause, cause)}: {total['lines']} dòng, {format_number(total['amount'])} đồng")
        if not rows:
            self.stdout.write("Không có khoản truy lĩnh hay điều chỉnh nào.")
