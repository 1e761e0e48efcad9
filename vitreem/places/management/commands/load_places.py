from django.core.management.base import BaseCommand

from vitreem.places.services import places_load


class Command(BaseCommand):
    help = "Load both versions of Vietnam's administrative units and the 2025 crosswalk (idempotent)."

    def handle(self, *args, **options):
        report = places_load()
        counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
        self.stdout.write(
            f"units: {report.created} created, {report.updated} updated, {report.unchanged} unchanged; "
            f"crosswalk pairs: {report.successions}; unmatched: {len(report.unmatched_successions)}\n{counts}"
        )
