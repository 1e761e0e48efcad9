"""Dashboard page, home panel and API: figures, drill-downs that open the records behind them, scope."""

from __future__ import annotations

import re

import pytest

from conftest import login
from vitreem.stats.engine import compute, params_for

pytestmark = pytest.mark.django_db

DRILLED = ["children", "poor_household_children", "near_poor_household_children", "special_circumstances", "at_risk"]


def test_province_dashboard(demo):
    client = login(demo.users["province"])
    resp = client.get("/stats/?year=2022&unit=legacy:62")
    assert resp.status_code == 200
    page = resp.content.decode()
    ctx = resp.context
    expected = compute(params_for(year=2022, unit=demo.province), DRILLED)
    values = {f["code"]: f for f in ctx["headline"]}
    for code in DRILLED:
        assert values[code]["value"] == expected[code]
    prev = compute(params_for(year=2021, unit=demo.province), ["children"])["children"]
    assert values["children"]["change"] == expected["children"] - prev
    assert len(ctx["table"]) == 10  # Kon Tum's districts (legacy, 2022)
    assert sum(r["values"][0]["value"] for r in ctx["table"]) == expected["children"]
    assert len(ctx["groups"]) == 14 and sum(1 for p in ctx["points"] if p["lat"] is not None) > 50
    assert '<svg class="chart"' in page and '<svg class="chart map"' in page
    assert "/registry/children/?as_of=2022-12-31" in page


def test_sorting_by_unit_table(demo):
    client = login(demo.users["province"])
    rows = client.get("/stats/?year=2022&unit=legacy:62&sort=-children").context["table"]
    values = [r["values"][0]["value"] for r in rows]
    assert values == sorted(values, reverse=True)


def test_drilldown_counts_equal_headline(demo):
    client = login(demo.users["province"])
    headline = {f["code"]: f for f in client.get("/stats/?year=2022&unit=legacy:62").context["headline"]}
    for code in DRILLED:
        resp = client.get(headline[code]["url"])
        assert resp.status_code == 200, code
        assert resp.context["page"].paginator.count == headline[code]["value"], code


@pytest.mark.parametrize("unit", ["legacy:62", "2025:51", "legacy:615"])
def test_by_group_drilldown_counts_equal_figures(demo, unit):
    """Special circumstances by group: each group's number in the page links to the child list
    filtered on that group, and that list holds exactly that many children."""
    from html import unescape

    client = login(demo.users["province"])
    resp = client.get(f"/stats/?year=2022&unit={unit}")
    page = unescape(resp.content.decode())
    groups = resp.context["groups"]
    assert len(groups) == 14 and sum(g["value"] for g in groups) >= 1
    for g in groups:
        assert g["url"] and f"special={g['code']}" in g["url"]
        assert f'href="{g["url"]}"' in page, g["code"]  # the number in the table is the link
        listed = client.get(g["url"])
        assert listed.status_code == 200, g["code"]
        assert listed.context["page"].paginator.count == g["value"], g["code"]


def test_commune_worker_sees_own_commune_only(demo):
    worker_a, worker_b = demo.users["commune"], demo.users["commune2"]
    client_b = login(worker_b)
    assert client_b.get("/stats/?year=2022&unit=legacy:23500").status_code == 403
    assert client_b.get("/stats/?year=2022&unit=legacy:62").status_code == 403
    assert client_b.get("/api/stats/figures?year=2022&unit=legacy:23500").status_code == 403
    own = client_b.get("/stats/?year=2022")
    assert own.status_code == 200 and own.context["unit"].ref == "legacy:23512"
    a_value = compute(params_for(year=2022, unit=demo.commune_a), ["children"])["children"]
    b_value = compute(params_for(year=2022, unit=demo.commune_b), ["children"])["children"]
    assert {f["code"]: f["value"] for f in own.context["headline"]}["children"] == b_value != a_value
    # the home panel: their commune's figures and work lists
    home = login(worker_a).get("/")
    panel = next(p for p in home.context["panels"] if p["template"] == "stats/home_panel.html")["context"]
    assert panel["unit"].pk in {demo.commune_a.pk, demo.commune_a_2025.pk}
    assert panel["work"] and all(f["code"] != "children" for f in panel["work"])


def test_leader_sees_figures_but_no_case_lists(demo):
    resp = login(demo.users["leader"]).get("/stats/?year=2022&unit=legacy:62")
    assert resp.status_code == 200
    cases = [f for f in resp.context["headline"] if f["code"].startswith("cases_")]
    assert cases and all(f["url"] is None for f in cases)
    assert "/cases/?" not in resp.content.decode()  # no link to a case list (the nav is the cases app's)
    officer = login(demo.users["province"]).get("/stats/?year=2022&unit=legacy:62")
    assert any(f["url"] for f in officer.context["headline"] if f["code"].startswith("cases_"))


def test_reporter_sees_no_child_figures(demo):
    client = login(demo.users["reporter"])
    assert client.get("/stats/").status_code == 403
    assert client.get("/api/stats/figures?year=2022").status_code == 403
    home = client.get("/")
    assert all(p["template"] != "stats/home_panel.html" for p in home.context["panels"])


def test_bad_input(demo):
    client = login(demo.users["province"])
    resp = client.get("/stats/?year=abc")
    assert resp.status_code == 400 and "Năm không hợp lệ" in resp.content.decode()
    assert client.get("/stats/?year=1990").status_code == 400
    assert client.get("/stats/?year=2022&unit=legacy:99999").status_code == 404
    assert client.post("/stats/").status_code == 405
    empty = client.get("/stats/?year=2005&unit=legacy:62")
    assert empty.status_code == 200 and empty.context["no_data"]
    api = client.get("/api/stats/figures?year=2022&codes=nope")
    assert api.status_code == 400 and "nope" in api.json()["message"]


def test_api_figures(demo):
    client = login(demo.users["province"])
    body = client.get("/api/stats/figures?year=2022&unit=2025:51&codes=children,special_circumstances").json()
    assert body["unit"] == "2025:51" and body["as_of"] == "2022-12-31"
    assert body["figures"] == compute(params_for(year=2022, unit=demo.province_2025), ["children", "special_circumstances"])
    assert body["drilldown"]["children"].startswith("/registry/children/?as_of=2022-12-31")
    assert any(i["code"] == "children" for i in client.get("/api/stats/indicators").json())


def test_dashboard_reads_rollups(demo, django_assert_max_num_queries):
    client = login(demo.users["province"])
    client.get("/stats/?year=2022&unit=legacy:62")  # fills the rollups
    with django_assert_max_num_queries(60):
        assert client.get("/stats/?year=2022&unit=legacy:62").status_code == 200


def test_kept_page_follows_a_registry_change(demo, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_special_on

    client = login(demo.users["province"])

    def shown() -> int:
        # read from the HTML: a kept page is served without rendering a template (no resp.context)
        page = client.get("/stats/?unit=2025:51").content.decode()
        m = re.search(r'data-figure="special_circumstances">\s*([\d.]+)<', page)
        assert m is not None, page[:300]
        return int(m.group(1).replace(".", ""))

    before = shown()
    assert shown() == before  # the kept page
    today = timezone.localdate()
    child = (Child.objects.filter(q_child_on(today), unit__version="2025").exclude(q_special_on(today))
             .order_by("pk").first())
    with django_capture_on_commit_callbacks(execute=True):
        services.special_episode_open(actor=demo.users["province"], child=child,
                                      group=SpecialGroup.objects.get(code="2"), start=today - dt.timedelta(days=2))
    # A page does not recompute stored figures: the last value, marked, until the worker's turn.
    assert shown() == before
    assert "Đang cập nhật" in client.get("/stats/?unit=2025:51").content.decode()
    from vitreem.stats.rollups import rollups_refresh_if_changed

    rollups_refresh_if_changed(None)
    assert shown() == before + 1
    assert "Đang cập nhật" not in client.get("/stats/?unit=2025:51").content.decode()


def test_page_of_last_values_is_kept_until_the_worker_refreshes(demo, django_capture_on_commit_callbacks):
    """Under steady data entry the unit is stamped again and again: a page showing last values
    ("Đang cập nhật") is the same page until the worker commits recomputed figures, so it is kept
    across further changes, and rendered again after the worker's turn."""
    import datetime as dt

    from django.utils import timezone

    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_special_on
    from vitreem.stats.rollups import rollups_refresh_if_changed

    client = login(demo.users["province"])
    url = "/stats/?unit=2025:51"
    assert client.get(url).context is not None
    assert client.get(url).context is None  # kept: figures current, no change since
    today = timezone.localdate()
    children = list(Child.objects.filter(q_child_on(today), unit__version="2025").exclude(q_special_on(today))
                    .order_by("pk")[:2])

    def change(child) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.special_episode_open(actor=demo.users["province"], child=child,
                                          group=SpecialGroup.objects.get(code="2"), start=today - dt.timedelta(days=2))

    change(children[0])
    first = client.get(url)
    assert first.context is not None and first.context["updating"]  # rendered again: the unit was stamped
    change(children[1])
    again = client.get(url)
    assert again.context is None  # kept although stamped again: the same last values, still marked
    assert again.content.decode().count("Đang cập nhật") == first.content.decode().count("Đang cập nhật") >= 1
    rollups_refresh_if_changed(None)  # the worker's turn commits the recomputed figures
    after = client.get(url)
    assert after.context is not None and not after.context["updating"]
    assert client.get(url).context is None  # and that page is kept in turn


def test_commune_figures_no_turn_recomputes_are_never_served_stale(demo, django_capture_on_commit_callbacks):
    """A commune's case counts are not among what the worker's turn recomputes (`worker_refreshes`): a
    page that served their last values would serve them for good. The visit recomputes them instead."""
    from vitreem.cases.tests.conftest import intake
    from vitreem.registry.models import Child
    from vitreem.stats.rollups import worker_codes, worker_refreshes

    unit = demo.commune_a_2025
    today = params_for(year=None).as_of
    assert not worker_refreshes("cases_received", unit, today, worker_codes())
    assert worker_refreshes("children", unit, today, worker_codes())
    client = login(demo.users["commune"])
    url = f"/stats/?unit={unit.ref}"

    def received() -> int:
        return next(f["value"] for f in client.get(url).context["headline"] if f["code"] == "cases_received")

    before = received()
    child = Child.objects.filter(unit=unit, ended_on__isnull=True).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        intake(demo.users["commune"], child)
    resp = client.get(url)
    assert next(f["value"] for f in resp.context["headline"] if f["code"] == "cases_received") == before + 1


def test_a_commune_of_the_other_version_waits_for_the_turn_as_a_sum(demo, django_capture_on_commit_callbacks):
    """A legacy commune as of a date after the 2025 reform is the sum of the 2025 communes it became,
    which the worker's turn recomputes: a page sums their last values, marked, and keeps nothing; it
    does not recount the records. After the turn the sum is current."""
    import datetime as dt

    from django.utils import timezone

    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_special_on
    from vitreem.stats.rollups import figures, rollups_refresh_if_changed

    today = timezone.localdate()
    legacy = demo.commune_a
    rollups_refresh_if_changed(None)

    def shown() -> tuple[int, set]:
        updating: set = set()
        value = figures(units=[legacy], days=[today], codes=["special_circumstances"], updating=updating)
        return value[(legacy.pk, today)]["special_circumstances"], updating

    before, updating = shown()
    assert not updating
    child = (Child.objects.filter(q_child_on(today), unit=demo.commune_a_2025).exclude(q_special_on(today))
             .order_by("pk").first())
    with django_capture_on_commit_callbacks(execute=True):
        services.special_episode_open(actor=demo.users["province"], child=child,
                                      group=SpecialGroup.objects.get(code="2"), start=today - dt.timedelta(days=2))
    assert shown() == (before, {(legacy.pk, today)})
    assert shown() == (before, {(legacy.pk, today)})  # nothing kept as current in between
    rollups_refresh_if_changed(None)
    assert shown() == (before + 1, set())


def test_kept_page_carries_a_real_csrf_token(demo):
    from vitreem.stats.views import CSRF_PLACEHOLDER

    client = login(demo.users["province"])
    first = client.get("/stats/?year=2022&unit=legacy:62")
    kept = client.get("/stats/?year=2022&unit=legacy:62")
    assert first.context is not None and kept.context is None  # the second is the kept page, not rendered
    for resp in (first, kept):
        page = resp.content.decode()
        assert CSRF_PLACEHOLDER not in page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        assert len(token) == 64 and f'"X-CSRFToken": "{token}"' in page
    # the language form works from the kept page: its token is accepted
    client.enforce_csrf_checks = True
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', kept.content.decode()).group(1)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/stats/", "csrfmiddlewaretoken": token}
                       ).status_code == 302


def test_kept_page_is_not_served_after_scope_change(demo):
    from vitreem.accounts.models import UnitMembership

    worker = demo.users["commune"]
    client = login(worker)
    url = f"/stats/?year=2022&unit={demo.commune_a.ref}"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # kept
    UnitMembership.objects.filter(user=worker).delete()  # both versions of her commune
    worker.refresh_from_db()
    assert client.get(url).status_code == 403


def test_kept_page_is_per_user(demo):
    url = f"/stats/?year=2022&unit={demo.commune_a.ref}"
    assert login(demo.users["province"]).get(url).status_code == 200  # kept for the officer
    assert login(demo.users["commune2"]).get(url).status_code == 403  # another commune's worker


def test_kept_page_is_shared_by_one_audience_and_names_its_viewer(demo):
    """Two officers of the same role and province see one kept page, each with her own name in the
    header; a leader of the same province (another role: no case lists) gets her own."""
    from vitreem.accounts.models import Role
    from vitreem.testing.factories import UserFactory

    first = demo.users["province"]
    refs = [u.ref for u in first.units.all()]
    second = UserFactory(username="officer-two", role=first.role, units=refs, full_name="Cán Bộ Thứ <Hai>")
    url = "/stats/?year=2022&unit=legacy:62"
    mine = login(first).get(url)
    assert mine.context is not None
    theirs = login(second).get(url)
    assert theirs.context is None  # the kept page, not rendered again
    page = theirs.content.decode()
    assert "Cán Bộ Thứ &lt;Hai&gt;" in page and first.display_name not in page  # her name, escaped
    assert "vitreemUserNamePlaceholder" not in page and "vitreemCsrfTokenPlaceholder" not in page
    assert first.display_name in mine.content.decode()
    leader = UserFactory(username="leader-two", role=Role.LEADER, units=refs)
    assert login(leader).get(url).context is not None  # another audience: rendered for her


def test_pending_messages_are_not_kept(demo):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    client = login(demo.users["province"])
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.INFO, "thong-bao-mot-lan")
    response = HttpResponse()
    storage.update(response)
    client.cookies[storage.cookie_name] = response.cookies[storage.cookie_name].value
    assert "thong-bao-mot-lan" in client.get("/stats/?year=2022&unit=legacy:62").content.decode()
    again = client.get("/stats/?year=2022&unit=legacy:62")
    assert "thong-bao-mot-lan" not in again.content.decode()
