from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError
from vitreem.places.selectors import unit_resolve
from vitreem.registry.duplicates import SCAN_THRESHOLD, duplicates_scan


class Command(BaseCommand):
    help = ("Find records that may be the same child and add them to the review queue "
            "(/registry/duplicates/). Pairs already queued or decided are left alone.")

    def add_arguments(self, parser):
        parser.add_argument("--unit", default="", help="Only children of this unit (code or version:code)")
        parser.add_argument("--threshold", type=float, default=SCAN_THRESHOLD,
                            help=f"Lowest score written to the queue (default {SCAN_THRESHOLD})")

    def handle(self, *args, unit, threshold, **options):
        try:
            scope = unit_resolve(unit) if unit else None
            created = duplicates_scan(unit=scope, threshold=threshold)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        where = f" in {scope.name} ({scope.ref})" if scope else ""
        self.stdout.write(f"{created} new candidate pair(s){where}")
