"""A record filed under a legacy commune merged into a 2025 commune belongs to the 2025 commune's people
(issue 21 item 2): case VV-2024-D00041 of Xã Hà Mòn, merged into Xã Đăk Hà, was listed as hers on the
worker's home page but gave 404 on its page and was missing from her overdue list."""

from __future__ import annotations

import pytest

from conftest import login
from vitreem.cases.models import Case
from vitreem.cases.selectors import cases_for_user, cases_overdue
from vitreem.core.scope import scope_for
from vitreem.places.models import UnitSuccession

from .conftest import intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged_commune(units):
    """A legacy commune (not Đăk Hà itself) whose default successor is the 2025 Xã Đăk Hà."""
    succession = (UnitSuccession.objects.filter(new=units.commune_a_2025, is_default=True)
                  .exclude(old=units.commune_a).select_related("old").first())
    assert succession is not None, "the crosswalk merges at least one other commune into Xã Đăk Hà"
    return succession.old


@pytest.fixture
def legacy_case(worker_a, child_a, merged_commune):
    case = intake(worker_a, child_a)
    # Filed in 2024 under the legacy commune, before the reform merged it.
    Case.objects.filter(pk=case.pk).update(unit=merged_commune)
    return Case.objects.get(pk=case.pk)


def test_the_worker_of_the_2025_commune_sees_the_merged_commune_s_records(worker_a, merged_commune):
    assert scope_for(worker_a).sees_unit(merged_commune.pk)


def test_her_case_filed_under_the_merged_commune_opens_and_is_listed(worker_a, legacy_case):
    assert legacy_case in cases_for_user(worker_a)
    assert login(worker_a).get(f"/cases/{legacy_case.pk}/").status_code == 200
    from django.utils import timezone

    Case.objects.filter(pk=legacy_case.pk).update(next_due_at=timezone.now() - timezone.timedelta(hours=1),
                                                  next_due_kind="emergency")
    assert legacy_case.pk in [c.pk for c in cases_overdue(user=worker_a, mine=True)]


def test_another_commune_s_worker_still_cannot(worker_b, legacy_case, merged_commune):
    assert not scope_for(worker_b).sees_unit(merged_commune.pk)
    assert login(worker_b).get(f"/cases/{legacy_case.pk}/").status_code == 404
