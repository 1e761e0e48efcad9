import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vitreem.core.errors import DomainError
from vitreem.core.text import format_number, format_percent
from vitreem.places.selectors import unit_resolve
from vitreem.stats.engine import compute, indicators, params_for
from vitreem.stats.rollups import figures_installation, figures_one


class Command(BaseCommand):
    help = "Print the headline figures as of 31 December of a year (today for the current year)."
    # A read of stored figures: Django's system checks import every URL module and API schema first,
    # 0.6 s of a 1.4 s run measured on the demo — most of what a caller of `stats --json` waited for.
    # `vitreem check` (and every server start) still runs them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--unit", default="", help="Unit code (version in force on the date) or legacy:CODE / 2025:CODE")
        parser.add_argument("--as", dest="as_user", default="", help="Compute within this user's scope")
        parser.add_argument("--json", action="store_true", help="One JSON object")

    def handle(self, *args, year, unit, as_user, **options):
        from vitreem.accounts.models import User

        try:
            params = params_for(year=year)
            unit_obj = unit_resolve(unit, on=params.as_of) if unit and ":" not in unit else (
                unit_resolve(unit) if unit else None)
            user = User.objects.get(username=as_user) if as_user else None
        except (DomainError, User.DoesNotExist) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        params = params_for(year=year, unit=unit_obj, user=user)
        if user is None and year <= timezone.localdate().year:
            # no scope to apply: the stored figures (the whole installation: the sum of its provinces)
            codes = list(indicators())
            figures = (figures_installation(day=params.as_of, codes=codes) if unit_obj is None
                       else figures_one(unit=unit_obj, day=params.as_of, codes=codes))
        else:
            figures = compute(params)
        out = {"year": year, "as_of": params.as_of.isoformat(), "unit": unit_obj.ref if unit_obj else None, **figures}
        if options["json"]:
            self.stdout.write(_dumps(out))
            return
        registry = indicators()
        for code, value in figures.items():
            ind = registry[code]
            shown = format_percent(value) if ind.measure == "percent" and value is not None else (
                value if isinstance(value, dict) else format_number(value))
            self.stdout.write(f"{ind.label}: {shown}")


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
