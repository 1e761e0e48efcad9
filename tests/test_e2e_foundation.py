"""End to end in a real browser: a commune worker logs in, sees their commune, logs out."""

import pytest

from conftest import COMMUNE_A, PASSWORD, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.places.selectors import unit_resolve

pytestmark = pytest.mark.e2e


def test_commune_worker_logs_in_sees_the_commune_and_logs_out(browser_page):
    user_create(username="commune", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                units=[unit_resolve(r) for r in COMMUNE_A])
    page = browser_page
    browser_login(page, "commune")
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "Xin chào, Y Hiền"
    assert "Thị trấn Đăk Hà" in page.locator("main").inner_text()
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_wrong_password_shows_a_message_in_vietnamese(browser_page):
    browser_login(browser_page, "nobody", "wrong-password")
    assert "không đúng" in browser_page.get_by_role("alert").inner_text()


def test_the_language_menu_waits_for_enter_from_the_keyboard(browser_page):
    """Issue 21 item 9: ArrowDown on the language menu switched the language at once."""
    page = browser_page
    page.goto("/accounts/login/")
    menu = page.locator("#lang")
    menu.focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert menu.input_value() == "en" and page.locator("html").get_attribute("lang") == "vi"  # only the choice moved
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
