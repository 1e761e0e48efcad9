"""The country's dashboard (`/stats/?unit=country`, issue 13): on an installation of several provinces,
a user assigned every province sees the sums of the provinces' stored figures, the provinces below,
and nobody else sees it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import login
from vitreem.accounts.models import Role, User
from vitreem.places.models import AdminUnit, Level, Version
from vitreem.registry.models import Child
from vitreem.registry.services import child_register
from vitreem.stats.engine import compute, params_for
from vitreem.stats.rollups import rollups_refresh

pytestmark = pytest.mark.django_db
YEAR = 2022


@pytest.fixture
def country(demo):
    """The demo province and a second province with two children (born 2015, registered in 2025 in a
    commune of Hà Nội), the stored figures filled; `national`: a leader assigned every province."""
    other = AdminUnit.objects.filter(level=Level.COMMUNE, version=Version.V2025, province_code="01").order_by("code")[0]
    worker = User.objects.create_user("worker_hn", password="x", role=Role.COMMUNE_WORKER, full_name="Cán bộ Hà Nội")
    worker.units.set([other])
    for name in ("Nguyễn Văn Hà", "Trần Thị Nội"):
        child_register(actor=worker, data={"full_name": name, "birth_date": dt.date(2015, 5, 1), "sex": "M"},
                       unit=other, confirm_not_duplicate=True)
    national = User.objects.create_user("national", password="x", role=Role.LEADER, full_name="Lãnh đạo Bộ")
    national.units.set(AdminUnit.objects.filter(level=Level.PROVINCE))
    rollups_refresh(years=[YEAR - 1, YEAR, timezone.localdate().year])
    return {"national": national, "other": other, "worker": worker}


def test_the_country_is_the_sum_of_its_provinces(demo, country):
    client = login(country["national"])
    page = client.get(f"/stats/?year={YEAR}&unit=country")
    assert page.status_code == 200
    ctx = page.context
    assert ctx["unit"].name in page.content.decode()
    headline = {f["code"]: f for f in ctx["headline"]}
    # 31/12/2022: the legacy provinces of the installation (the demo's and Hà Nội), each as the engine
    # counts it from the records
    codes = ["children", "special_circumstances", "at_risk", "poor_household_children"]
    assert {"legacy:01", "legacy:62"} <= {r["unit"].ref for r in ctx["table"]}
    each = [compute(params_for(year=YEAR, unit=r["unit"]), codes) for r in ctx["table"]]
    assert {c: headline[c]["value"] for c in codes} == {c: sum(e[c] for e in each) for c in codes}
    assert headline["children"]["value"] > 0
    assert sum(r["values"][0]["value"] for r in ctx["table"]) == headline["children"]["value"]
    # this year: the 2025 provinces, Hà Nội's two children among them
    this_year = client.get("/stats/?unit=country").context
    now = {f["code"]: f["value"] for f in this_year["headline"]}
    provinces = {r["unit"].code: r["values"][0]["value"] for r in this_year["table"]}
    assert provinces["01"] == 2 and now["children"] == sum(provinces.values())
    assert now["children"] == compute(params_for(year=timezone.localdate().year), ["children"])["children"]
    # the API gives the same figures (other tools read the country there)
    api = client.get("/api/stats/figures?unit=country&codes=children,special_circumstances").json()
    assert api["unit"] == "country" and api["figures"]["children"] == now["children"]
    assert api["figures"]["special_circumstances"] == now["special_circumstances"]
    # the trend is the country's, year by year
    trend = this_year["trend"][next(iter(this_year["trend"]))]
    assert trend[-1] == (timezone.localdate().year, now["children"])


def test_the_selector_offers_the_country_to_who_sees_every_province_and_not_the_communes(demo, country):
    page = login(country["national"]).get("/stats/?unit=2025:51").content.decode()
    assert 'value="country"' in page
    options = page.count("<option value=")
    assert options < 200  # the country, the provinces of both versions, the years: not 13,000 communes
    province = login(demo.users["province"]).get("/stats/?unit=2025:51").content.decode()
    assert 'value="country"' not in province


@pytest.mark.parametrize("username", ["province", "leader", "commune", "reporter"])
def test_nobody_who_does_not_see_every_province_sees_the_country(demo, country, username):
    for path in ("/stats/?unit=country", "/api/stats/figures?unit=country"):
        assert login(demo.users[username]).get(path).status_code == 403
        assert login(country["worker"]).get(path).status_code == 403


def test_an_installation_of_one_province_has_no_country_page(demo):
    national = User.objects.create_user("national1", password="x", role=Role.LEADER, full_name="Lãnh đạo")
    national.units.set(AdminUnit.objects.filter(level=Level.PROVINCE))
    page = login(national).get("/stats/?unit=country")
    assert page.status_code == 400 and "chỉ có số liệu của một tỉnh" in page.content.decode()


def test_the_kept_country_page_follows_a_change_in_any_province(demo, country, django_capture_on_commit_callbacks):
    client = login(country["national"])
    first = client.get("/stats/?unit=country").context
    before = {r["unit"].code: r["values"][0]["value"] for r in first["table"]}["01"]
    with CaptureQueriesContext(connection) as kept:
        assert client.get("/stats/?unit=country").context is None  # served as kept: nothing rendered
    assert len(kept) < 10
    with django_capture_on_commit_callbacks(execute=True):  # the change stamps its units (stats.rollups)
        child_register(actor=country["worker"], data={"full_name": "Lê Văn Mới", "birth_date": dt.date(2016, 1, 2),
                                                      "sex": "M"}, unit=country["other"], confirm_not_duplicate=True)
    rollups_refresh(years=[timezone.localdate().year])
    again = client.get("/stats/?unit=country").context
    assert again is not None
    assert {r["unit"].code: r["values"][0]["value"] for r in again["table"]}["01"] == before + 1
    assert Child.objects.filter(unit=country["other"]).count() == before + 1
