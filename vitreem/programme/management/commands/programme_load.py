from django.core.management.base import BaseCommand

from vitreem.programme.catalogue import catalogue_load


class Command(BaseCommand):
    help = ("Load the National Action Programme for Children 2021–2030 indicators (Decision 23/QĐ-TTg) with their "
            "national 2025/2030 targets and the member units' report forms; existing rows are left as they are.")

    def handle(self, *args, **options):
        created = catalogue_load()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in created.items()))
