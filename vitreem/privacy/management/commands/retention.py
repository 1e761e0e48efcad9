"""vitreem retention [--on YYYY-MM-DD] [--apply --as USERNAME] [--json]: the records whose retention period
has ended under the rule in force (privacy.RetentionRule), and, with --apply, their de-identification with
one audit row each (privacy/erasure.py). Without --apply nothing is written."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "List (and with --apply carry out) the retention rules that are due."

    def add_arguments(self, parser):
        parser.add_argument("--on", help="the day to judge (default today), YYYY-MM-DD")
        parser.add_argument("--apply", action="store_true", help="de-identify what is due (needs --as)")
        parser.add_argument("--as", dest="username", help="the administrator or provincial officer applying it")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        from vitreem.accounts.models import User
        from vitreem.core.errors import DomainError
        from vitreem.core.scope import scope_for
        from vitreem.privacy.erasure import retention_apply, retention_due
        from vitreem.privacy.services import require_manage

        try:
            on = dt.date.fromisoformat(opts["on"]) if opts.get("on") else timezone.localdate()
        except ValueError:
            raise CommandError("--on must be YYYY-MM-DD") from None
        if on > timezone.localdate():
            raise CommandError("--on cannot be in the future")
        unit_ids = None
        actor = None
        if opts.get("username"):
            try:
                actor = User.objects.get(username=opts["username"], is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"no active user {opts['username']!r}") from None
            try:
                require_manage(actor)
            except DomainError as exc:
                raise CommandError(str(exc.message)) from None
            unit_ids = scope_for(actor).unit_ids
        if opts["apply"] and actor is None:
            raise CommandError("--apply needs --as USERNAME (who applies it goes into the audit log)")
        due = retention_due(on=on, unit_ids=unit_ids)
        applied = retention_apply(actor=actor, on=on, unit_ids=unit_ids) if opts["apply"] else None
        if opts["json"]:
            self.stdout.write(json.dumps({
                "on": on.isoformat(), "due": [{"kind": d.kind, "id": d.object_id, "unit": d.unit_id,
                                               "due_on": d.due_on.isoformat(), "rule": d.rule_id} for d in due],
                "applied": applied}, ensure_ascii=False))
            return
        for d in due:
            self.stdout.write(f"{d.kind}\t{d.label}\tunit {d.unit_id}\tdue {d.due_on:%d/%m/%Y}")
        self.stdout.write(f"{len(due)} due on {on:%d/%m/%Y}")
        if applied is not None:
            self.stdout.write(f"applied: {applied['child']} child records, {applied['case']} case records")
