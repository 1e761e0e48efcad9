"""Issue 21 item 5: code tables (risk factors, special-circumstance groups, beneficiary groups) and the
dashboard's indicator labels are shown in English when the interface is English."""

from __future__ import annotations

from conftest import login
from vitreem.registry.models import ChildRisk
from vitreem.registry.tests.screens_fixtures import world_fixture  # noqa: F401


def _english(user):
    client = login(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def test_risk_factors_and_groups_in_english(world, worker_a):
    factor = ChildRisk.objects.filter(child=world.hoa).select_related("factor").first().factor
    assert factor.name_en and factor.name_en != factor.name
    page = _english(worker_a).get(f"/registry/children/{world.hoa.pk}/").content.decode()
    assert factor.name_en in page and factor.name not in page
    form = _english(worker_a).get(f"/registry/children/{world.hoa.pk}/risk/new/").content.decode()
    assert factor.name_en in form
    vietnamese = login(worker_a).get(f"/registry/children/{world.hoa.pk}/").content.decode()
    assert factor.name in vietnamese


def test_indicator_labels_in_english_on_the_dashboard(world, leader):
    body = _english(leader).get("/stats/").content.decode()
    assert "Children under 16" in body and "Số trẻ em dưới 16 tuổi" not in body


def test_beneficiary_groups_in_english(officer):
    from vitreem.benefits.models import BeneficiaryGroup

    group = BeneficiaryGroup.objects.exclude(name_en="").first()
    body = _english(officer).get("/benefits/rules/").content.decode()
    assert group.name_en in body
