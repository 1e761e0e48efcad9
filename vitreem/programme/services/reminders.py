"""Reminders of reports due."""

from __future__ import annotations

import datetime as dt
import functools

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import Role
from vitreem.core.audit import audit_change

from ..models import (
    Reminder,
)

# ---------------------------------------------------------------- reminders


def _recipients(key: str):
    from vitreem.accounts.models import User

    kind, _sep, pk = key.partition(":")
    if kind == "mu":
        return User.objects.filter(member_unit_id=int(pk), role=Role.REPORTER, is_active=True)
    return User.objects.filter(units__pk=int(pk), role=Role.COMMUNE_WORKER, is_active=True)


@transaction.atomic
def reminders_send(*, today: dt.date | None = None) -> list[Reminder]:
    """Remind units of reports not yet submitted: `remind_days_before` days before the deadline, and once
    after it has passed. Each (form, period, unit, kind) is reminded once; the e-mail goes to the unit's
    reporters (or the commune's workers) who have an address."""
    from django.core.mail import send_mail

    from ..selectors import completeness

    today = today or timezone.localdate()
    sent: list[Reminder] = []
    done = set(Reminder.objects.filter(sent_on__year__gte=today.year - 1)
               .values_list("form_id", "period", "assignee_key", "kind"))
    for year in {today.year - 1, today.year}:
        for block in completeness(year=year, today=today):
            form = block["form"]
            for row in block["rows"]:
                for cell in row["cells"]:
                    if cell["received"]:
                        continue
                    days_left = (cell["due_on"] - today).days
                    if 0 <= days_left <= form.remind_days_before:
                        kind = Reminder.Kind.BEFORE
                    elif days_left < 0:
                        kind = Reminder.Kind.AFTER
                    else:
                        continue
                    if (form.pk, cell["period"], row["key"], kind) in done:
                        continue
                    emails = [u.email for u in _recipients(row["key"]) if u.email]
                    subject = (_("Nhắc nộp báo cáo: %(f)s, kỳ %(p)s") if kind == Reminder.Kind.BEFORE
                               else _("Báo cáo quá hạn: %(f)s, kỳ %(p)s")) % {"f": form.name, "p": cell["period"]}
                    body = _("Đơn vị %(u)s: báo cáo %(f)s kỳ %(p)s hạn nộp %(d)s.") % {
                        "u": row["name"], "f": form.name, "p": cell["period"], "d": cell["due_on"].strftime("%d/%m/%Y")}
                    if emails:
                        transaction.on_commit(functools.partial(send_mail, subject, body, None, emails))
                    sent.append(Reminder.objects.create(form=form, period=cell["period"], assignee_key=row["key"],
                                                        kind=kind, sent_on=today, recipients=len(emails)))
    if sent:
        audit_change(actor=None, action="programme.reminders.send", object_type="programme.reminder",
                     changes={"count": len(sent), "on": today.isoformat()})
    return sent
