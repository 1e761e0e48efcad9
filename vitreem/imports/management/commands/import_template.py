"""vitreem import_template OUT.xlsx: the blank list template (the export's columns, with a help sheet)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Tạo mẫu Excel trống để nhập danh sách trẻ em (write the blank import template)."

    def add_arguments(self, parser):
        parser.add_argument("out")

    def handle(self, *args, **opts):
        from ...exporting import template_write

        if not opts["out"].lower().endswith(".xlsx"):
            raise CommandError("OUT must end in .xlsx")
        template_write(opts["out"])
        self.stdout.write(opts["out"])
