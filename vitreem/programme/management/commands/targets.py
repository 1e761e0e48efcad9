import json

from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError
from vitreem.core.text import format_number
from vitreem.places.selectors import unit_resolve
from vitreem.programme.selectors import STATUS_LABELS, evaluation_for_year


class Command(BaseCommand):
    help = ("The province's targets for a year with their value and status (achieved / not_achieved / "
            "no_data); the same figures as the evaluation page.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--unit", default="", help="legacy:CODE / 2025:CODE (default: the whole installation)")
        parser.add_argument("--json", action="store_true", help="A JSON list of objects")

    def handle(self, *args, year, unit, **options):
        try:
            unit_obj = unit_resolve(unit) if unit else None
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        rows = evaluation_for_year(year=year, unit=unit_obj, with_trend=False)["targets"]
        out = [{"code": r["code"], "name": r["name"], "value": _num(r["value"]), "target": _num(r["target"]),
                "direction": r["direction"], "status": r["status"], "source": r["source"]} for r in rows]
        if options["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
            return
        for r in rows:
            value = format_number(r["value"], 2) if r["value"] is not None else "—"
            self.stdout.write(f"{r['code']}: {value} / {format_number(r['target'], 2)} "
                              f"({STATUS_LABELS[r['status']]}) — {r['name']}")


def _num(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
