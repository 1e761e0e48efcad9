from django.core.management.base import BaseCommand

from vitreem.demo.services import demo_seed


class Command(BaseCommand):
    help = "Create the demo province: accounts, and (with the registry) a synthetic population of children."

    def add_arguments(self, parser):
        parser.add_argument("--children", type=int, default=200_000, help="Number of children (scales everything)")
        parser.add_argument("--seed", type=int, default=2022, help="Random seed: same seed, same data")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when a demo province exists")

    def handle(self, *args, children, seed, if_empty, **options):
        report = demo_seed(children=children, seed=seed, if_empty=if_empty, log=self.stdout.write)
        if if_empty and "nothing to do" in report:
            self.stdout.write(report)
