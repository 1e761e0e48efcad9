"""vitreem export_children OUT.xlsx|OUT.csv --as USERNAME [--unit CODE]: the children the user may see,
in the import template's layout."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError


class Command(BaseCommand):
    help = "Xuất danh sách trẻ em ra .xlsx hoặc .csv theo mẫu nhập (export children in the template layout)."

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--unit", help="only this unit (code, e.g. 23500 or legacy:62)")

    def handle(self, *args, **opts):
        from vitreem.accounts.models import User
        from vitreem.core.scope import require_unit
        from vitreem.places.selectors import unit_resolve

        from ...exporting import iter_rows, write_csv, write_xlsx
        from ...selectors import children_for_export

        out = Path(opts["out"])
        if out.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError("OUT must end in .xlsx or .csv")
        try:
            actor = User.objects.get(username=opts["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"no active user {opts['username']!r}") from None
        from vitreem.privacy.exports import export_audit, require_export_names, units_of

        try:
            # Least privilege (issue 15 item 8): the command takes names out like the page does.
            require_export_names(actor)
            unit = unit_resolve(opts["unit"]) if opts.get("unit") else None
            if unit is not None:
                require_unit(actor, unit, write=False)
            qs = children_for_export(user=actor, filters={"unit": unit} if unit else {})
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        if out.suffix.lower() == ".csv":
            with out.open("w", encoding="utf-8", newline="") as fh:
                n = write_csv(fh, iter_rows(qs))
        else:
            n = write_xlsx(str(out), iter_rows(qs))
        # The audit row's source is "cli" outside a request.
        export_audit(actor=actor, what="registry.child", rows=n, units=units_of(qs),
                     filters={"unit": opts.get("unit"), "out": out.name})
        self.stdout.write(f"{n} trẻ → {out}")
