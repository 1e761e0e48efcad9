from django.core.management.base import BaseCommand, CommandError

from vitreem.demo.services import DEFAULT_CHILDREN, demo_seed


class Command(BaseCommand):
    help = ("Create the demo province: accounts, and (with the registry) a synthetic population of children. "
            "With --national: the synthetic country for `make bench` (PostgreSQL, empty database).")

    def add_arguments(self, parser):
        parser.add_argument("--children", type=int, default=None,
                            help="Number of children (scales everything); default 200,000, or 25,000,000 "
                                 "child records with --national")
        parser.add_argument("--seed", type=int, default=2022, help="Random seed: same seed, same data")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when a demo province exists")
        parser.add_argument("--national", action="store_true",
                            help="All 34 provinces and 3,321 communes (with their legacy units), children by COPY")

    def handle(self, *args, children, seed, if_empty, national, **options):
        from vitreem.places.models import AdminUnit
        from vitreem.places.services import places_load

        # The demo's units come from the official list (`load_places`, which `make demo` runs first): a
        # database where it was never loaded gets it here, rather than a traceback about province 62.
        if not AdminUnit.objects.exists():
            places_load()
        if national:
            self._national(children, seed)
            return
        report = demo_seed(children=children or DEFAULT_CHILDREN, seed=seed, if_empty=if_empty,
                           log=self.stdout.write)
        if if_empty and "nothing to do" in report:
            self.stdout.write(report)

    def _national(self, children, seed):
        from vitreem.accounts.services import demo_accounts_ensure
        from vitreem.demo.national import NATIONAL_CHILDREN, national_seed

        demo_accounts_ensure()
        try:
            report = national_seed(children=children or NATIONAL_CHILDREN, seed=seed, log=self.stdout.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.lines())
