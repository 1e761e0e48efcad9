"""A member unit whose membership has ended (DOLISA after the 2025 reorganisation) takes no new referral,
and a referral made to it before still shows it (issue 14 item 17)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from conftest import login
from vitreem.accounts.models import MemberUnit
from vitreem.accounts.services import member_unit_membership_set
from vitreem.cases import services
from vitreem.cases.forms import ReferralForm
from vitreem.cases.models import Referral
from vitreem.core.errors import DomainError

pytestmark = pytest.mark.django_db


def _select(page: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S)
    assert match, f"no <select name={name}> on the page"
    return match.group(0)


def test_a_unit_that_ended_is_not_offered_for_a_new_referral_but_an_old_referral_still_shows_it(worker_a, case_a):
    dolisa = MemberUnit.objects.create(code="so-ldtbxh", name="Sở Lao động - Thương binh và Xã hội",
                                       valid_from=dt.date(2021, 1, 1))
    health = MemberUnit.objects.create(code="so-yte", name="Sở Y tế", valid_from=dt.date(2021, 1, 1))
    services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=dolisa,
                           reason="Hỗ trợ trợ giúp xã hội", guardian_consent=True, child_consent=True)
    # Its work for children passes to Health: its membership ends yesterday.
    member_unit_membership_set(actor=None, member_unit=dolisa, valid_from=dt.date(2021, 1, 1),
                               valid_to=timezone.localdate() - dt.timedelta(days=1))

    offered = ReferralForm().fields["member_unit"].queryset  # type: ignore[attr-defined]
    assert health in offered and dolisa not in offered
    w = login(worker_a)
    page = w.get(f"/cases/{case_a.pk}/").content.decode()
    select = _select(page, "member_unit")
    assert f'value="{health.pk}"' in select and f'value="{dolisa.pk}"' not in select
    referrals = page[page.index("<h2>Chuyển gửi</h2>"):]
    assert "Sở Lao động - Thương binh và Xã hội" in referrals  # the old referral keeps its unit

    # Posting the ended unit anyway is refused and writes nothing.
    case_a.refresh_from_db()
    r = w.post(f"/cases/{case_a.pk}/do/referral/", {"version": case_a.version, "member_unit": dolisa.pk,
                                                    "reason": "Lần nữa", "guardian_consent": "on",
                                                    "child_consent": "on"})
    assert r.status_code == 400
    assert Referral.objects.filter(member_unit=dolisa).count() == 1
    with pytest.raises(DomainError, match="không còn là đơn vị thành viên"):
        services.referral_open(actor=worker_a, case=case_a.pk, expected_version=None, member_unit=dolisa,
                               reason="Lần nữa", guardian_consent=True, child_consent=True)
