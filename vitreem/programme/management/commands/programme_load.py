from django.core.management.base import BaseCommand

from vitreem.programme.catalogue import catalogue_load, catalogue_update


class Command(BaseCommand):
    help = ("Load the National Action Programme for Children 2021–2030 indicators (Decision 23/QĐ-TTg) with their "
            "national 2025/2030 targets and the member units' report forms; existing rows are left as they are. "
            "With --update, the catalogue's indicators take the decision's objective, unit, source, formula and "
            "national targets again (the province's yearly targets and baselines are kept).")

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true",
                            help="Correct the Decision 23 fields of existing catalogue indicators")

    def handle(self, *args, update=False, **options):
        created = catalogue_update() if update else catalogue_load()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in created.items()))
