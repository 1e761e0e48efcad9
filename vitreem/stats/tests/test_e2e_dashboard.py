"""End to end in a real browser: a commune worker opens the dashboard, picks 2022, follows a figure to
the list of children behind it, and the list has as many children as the figure says; then the same
for a group of special circumstances."""

import re

import pytest

from conftest import browser_login

pytestmark = pytest.mark.e2e


def test_dashboard_and_drilldown(browser_page):
    from vitreem.demo.services import demo_seed

    demo_seed(children=1000, seed=7, parts=["registry"], log=lambda line: None)
    page = browser_page
    browser_login(page, "commune", "vitreem-demo")
    page.wait_for_url("**/")
    page.get_by_role("link", name="Thống kê", exact=True).click()
    page.locator("#f-year").select_option("2022")
    page.locator("#f-unit").select_option("legacy:23500")
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url("**/stats/?year=2022*")
    assert "Thị trấn Đăk Hà" in page.locator("h1").inner_text()
    figure = page.locator('a[data-figure="children"]')
    shown = int(figure.inner_text().replace(".", ""))
    assert shown > 0
    figure.click()
    page.wait_for_url("**/registry/children/?as_of=2022-12-31*")
    text = page.locator("main").inner_text()
    total = re.search(r"(\d[\d.]*)\s+trẻ\b", text)
    assert total is not None, text[:500]
    assert int(total.group(1).replace(".", "")) == shown

    # special circumstances by group: a group's number opens the list of that group's children
    page.go_back()
    page.wait_for_url("**/stats/?year=2022*")
    page.locator("#h-groups ~ details summary").click()
    links = page.locator("#h-groups ~ details a")
    group_link = next(links.nth(i) for i in range(links.count()) if links.nth(i).inner_text() != "0")
    shown = int(group_link.inner_text().replace(".", ""))
    group_link.click()
    page.wait_for_url("**/registry/children/?*special=*")
    text = page.locator("main").inner_text()
    total = re.search(r"(\d[\d.]*)\s+trẻ\b", text)
    assert total is not None, text[:500]
    assert int(total.group(1).replace(".", "")) == shown
