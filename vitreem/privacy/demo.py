"""Demo part "privacy": a few consents, data subjects' requests in every state, and young people whose
records are due under the retention rules (so `vitreem retention` and /privacy/retention/ show them).

The demo's children are born from 2006 (registry/demo.py), so none is 21 yet: a handful of records of
young people born in 2003–2004 who aged out of the register (ended on their 16th birthday) are added in
the two demo communes. Their records ended in 2019–2020: they count in no figure of 2021 or later."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from vitreem.core.scope import scope_for
from vitreem.core.text import fold
from vitreem.registry.models import Child, EndReason, Guardian, Residence

from . import services
from .erasure import turns_16


def _aged_out(rng, unit_id: int, n: int) -> int:
    made = 0
    for i in range(n):
        # Born 2003–2004: aged out by the end of 2020, before every year the dashboards and the recorded
        # figures cover (2021 on), so no figure of the demo moves.
        born = dt.date(2003, 1, 15) + dt.timedelta(days=rng.randint(0, 690))
        given = rng.choice(["Hùng", "Lan", "Mai", "Dũng", "H'Lim", "Blông"])
        name = f"{rng.choice(['Nguyễn', 'Trần', 'Y', 'A'])} {rng.choice(['Văn', 'Thị'])} {given}"
        child = Child.objects.create(
            family_name=name.split(" ")[0], middle_name=name.split(" ")[1], given_name=given, full_name=name,
            name_key=fold(name), given_key=fold(given), birth_date=born, sex="M" if i % 2 else "F", unit_id=unit_id,
            ended_on=turns_16(Child(birth_date=born)), end_reason=EndReason.OTHER,
            note="Đủ 16 tuổi, kết thúc theo dõi", personal_id=f"0621{born:%y}{rng.randint(100000, 999999)}",
            source="demo")
        Residence.objects.create(child=child, unit_id=unit_id, start=born, end=child.ended_on)
        Guardian.objects.create(child=child, full_name=f"{name.split(' ')[0]} Thị Mẹ", name_key="me",
                                relationship="mother", phone="0905000000")
        made += 1
    return made


def seed(ctx) -> str:
    rng = ctx.rng("privacy")
    today = timezone.localdate()
    lines = []
    for username, n_old in (("commune", 6), ("commune2", 3)):
        user = ctx.users.get(username)
        if user is None:
            continue
        units = scope_for(user).unit_ids
        kids = list(Child.objects.filter(unit_id__in=units, ended_on__isnull=True,
                                         birth_date__lte=today - dt.timedelta(days=365 * 8),
                                         birth_date__gt=today - dt.timedelta(days=365 * 15)).order_by("pk")[:6])
        if len(kids) < 5:
            continue
        unit_id = kids[0].unit_id
        old = _aged_out(rng, unit_id, n_old)
        for kid in kids[:2]:
            services.consent_record(actor=user, child=kid, purpose="referral", child_agrees=True,
                                    representative_name=f"{kid.family_name} Thị Mẹ", representative_relationship="Mẹ",
                                    given_on=today - dt.timedelta(days=rng.randint(5, 60)),
                                    evidence="Phiếu đồng ý lưu tại hồ sơ trẻ, UBND xã")
        services.consent_record(actor=user, child=kids[2], purpose="publication", child_agrees=True,
                                representative_name=f"{kids[2].family_name} Văn Cha", representative_relationship="Cha",
                                given_on=today - dt.timedelta(days=30), evidence="Văn bản đồng ý số 07")
        access = services.request_register(actor=user, child=kids[0], kind="access", requester_name="Mẹ của trẻ",
                                           received_on=today - dt.timedelta(days=12))
        services.request_answer(actor=user, request_id=access.pk, done=True,
                                answer="Đã giao hồ sơ dữ liệu cá nhân của trẻ cho mẹ", on=today - dt.timedelta(days=6))
        corr = services.request_register(actor=user, child=kids[1], kind="correction", requester_name="Cha của trẻ",
                                         details="Sửa tên thôn", received_on=today - dt.timedelta(days=3))
        services.request_acknowledge(actor=user, request_id=corr.pk, on=today - dt.timedelta(days=2))
        # Overdue: received 25 days ago, restriction due in 15 days.
        services.request_register(actor=user, child=kids[3], kind="restriction", requester_name="Bà nội của trẻ",
                                  received_on=today - dt.timedelta(days=25))
        deletion = services.request_register(actor=user, child=kids[4], kind="deletion", requester_name="Mẹ của trẻ",
                                             received_on=today - dt.timedelta(days=4))
        services.request_answer(actor=user, request_id=deletion.pk, done=False, on=today,
                                answer="Trẻ đang được theo dõi trong danh sách của xã (Điều 19 khoản 1 điểm c); "
                                       "chưa hết thời hạn lưu trữ.")
        lines.append(f"{username}: 3 consents, 4 requests, {old} aged-out records due for retention")
    return "; ".join(lines) or "no demo communes"
