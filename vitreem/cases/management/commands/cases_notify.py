from django.core.management.base import BaseCommand

from vitreem.cases.notifications import deadline_notifications_send


class Command(BaseCommand):
    help = "Create in-app (and e-mail) notices for case deadlines that are near or missed."

    def handle(self, *args, **options):
        result = deadline_notifications_send()
        self.stdout.write(f"notices: {result['created']}, e-mails: {result['emailed']}")
