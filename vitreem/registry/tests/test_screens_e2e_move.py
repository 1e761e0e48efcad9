"""In a real browser: a worker of two communes moves a child from one to the other; choosing the
commune reloads the household list (htmx) before saving."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import COMMUNE_A, COMMUNE_B, PASSWORD, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.places.selectors import unit_resolve
from vitreem.registry import services
from vitreem.registry.models import Child

pytestmark = pytest.mark.e2e


def test_move_a_child_with_the_household_of_the_new_commune(browser_page):
    units = [unit_resolve(r) for r in COMMUNE_A + COMMUNE_B]
    worker = user_create(username="two_communes", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                         units=units)
    commune_a, commune_b = units[1], units[3]
    child = services.child_register(actor=worker, data={"full_name": "A Thắng", "birth_date": dt.date(2016, 5, 6),
                                                        "sex": "M"}, unit=commune_a, confirm_not_duplicate=True)
    household = services.household_create(actor=worker, unit=commune_b, head_name="Rơ Châm Blếp", village="Làng Kon Rơ")
    page = browser_page
    browser_login(page, "two_communes")
    page.wait_for_url("**/")
    page.goto(f"/registry/children/{child.pk}/")
    page.get_by_role("link", name="Chuyển nơi ở").click()
    page.wait_for_url("**/move/")
    household_select = page.get_by_label("Hộ gia đình ở nơi mới")
    assert "Rơ Châm Blếp" not in household_select.inner_text()
    page.get_by_label("Chuyển đến xã/phường").select_option(commune_b.ref)
    # htmx swaps the household field for the one of the chosen commune.
    page.locator(f"#id_household option[value='{household.pk}']").wait_for(state="attached")
    page.get_by_label("Hộ gia đình ở nơi mới").select_option(str(household.pk))
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(f"**/registry/children/{child.pk}/")
    main = page.locator("main").inner_text()
    assert "Đã ghi nhận trẻ chuyển đến" in main and "Làng Kon Rơ" in main
    child.refresh_from_db()
    assert child.unit == commune_b and child.household == household and child.residences.count() == 2
    assert Child.objects.count() == 1
