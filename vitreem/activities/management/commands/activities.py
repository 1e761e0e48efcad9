"""`vitreem activities --year Y [--unit CODE] [--json]`: the year's activity and budget figures, computed by
the one statistics engine (the same indicators as the activities page and the annual report)."""

import json

from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError
from vitreem.core.text import format_number
from vitreem.places.selectors import unit_resolve
from vitreem.stats.engine import indicators, params_for


class Command(BaseCommand):
    help = "Activities and budget figures of a year (communication, training, campaigns, recreation, play points, budget)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--unit", default="", help="Unit code (version in force at the end of the year) or "
                                                       "legacy:CODE / 2025:CODE")
        parser.add_argument("--as", dest="as_user", default="", help="Compute within this user's scope")
        parser.add_argument("--json", action="store_true", help="One JSON object")

    def handle(self, *args, year, unit, as_user, **options):
        from vitreem.accounts.models import User

        from ...selectors import activity_figures

        try:
            as_of = params_for(year=year).as_of
            unit_obj = (unit_resolve(unit) if ":" in unit else unit_resolve(unit, on=as_of)) if unit else None
            user = User.objects.get(username=as_user) if as_user else None
        except (DomainError, User.DoesNotExist) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        figures = activity_figures(year=year, unit=unit_obj, user=user)
        # The activities issue named `play_points` an integer: the number of open play points. The
        # communes that have one, the unit's communes and their share go under `play_points_detail`.
        detail = figures.pop("play_points")
        figures = {**figures, "play_points": detail["points"], "play_points_detail": detail}
        out = {"year": year, "unit": unit_obj.ref if unit_obj else None, **figures}
        if options["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False, default=str))
            return
        registry = indicators()
        for code, value in figures.items():
            if code == "play_points_detail":
                continue
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else format_number(value)
            self.stdout.write(f"{registry[code].label}: {shown}")
