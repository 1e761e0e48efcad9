"""In a real browser: a hotline call taken by the commune worker, the plan approved by the chairman,
the case reviewed and closed."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import COMMUNE_A, PASSWORD, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.cases.models import Case, Status
from vitreem.places.selectors import unit_resolve
from vitreem.registry.services import child_register

pytestmark = pytest.mark.e2e


def _logout(page):
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/accounts/login/")


def _step(page, form_id: str, fields: dict[str, str], button: str, selects: dict[str, str] | None = None):
    form = page.locator(f"#form-{form_id}")
    for label, value in fields.items():
        form.get_by_label(label, exact=True).fill(value)
    for label, value in (selects or {}).items():
        form.get_by_label(label, exact=True).select_option(value)
    form.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_hotline_call_to_closure(browser_page):
    units = [unit_resolve(r) for r in COMMUNE_A]
    worker = user_create(username="commune", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                         units=units)
    user_create(username="chairman", password=PASSWORD, role=Role.CHAIRMAN, full_name="Lê Văn Bình", units=units)
    child_register(actor=worker, data={"full_name": "A Thắng", "birth_date": dt.date(2013, 5, 6), "sex": "M"},
                   unit=units[1], confirm_not_duplicate=True)
    page = browser_page
    browser_login(page, "commune")
    page.wait_for_url("**/")
    page.goto("/cases/new/")
    page.get_by_label("Kênh tiếp nhận").select_option("hotline_111")
    page.get_by_label("Tên người báo tin").fill("Bà Hoa")
    page.get_by_label("Tìm trẻ trong danh sách").fill("a thang")
    page.get_by_label("A Thắng").check()
    page.get_by_label("Loại vụ việc").select_option("physical_violence")
    page.get_by_label("Nơi xảy ra").fill("Thôn 4")
    page.get_by_label("Nội dung sự việc").fill("Tổng đài 111 báo trẻ bị cha dượng đánh")
    page.get_by_role("button", name="Lưu tiếp nhận").click()
    page.wait_for_url("**/cases/*/")
    assert "Đã tiếp nhận vụ việc" in page.locator("main").inner_text()
    case = Case.objects.get()

    _step(page, "verify", {"Kết quả xác minh, đánh giá ban đầu (mẫu 02)": "Có vết bầm ở tay"}, "Ghi kết quả xác minh")
    _step(page, "assess", {"Đánh giá chi tiết (mẫu 03)": "Nguy cơ trung bình",
                           "Biên bản họp về trường hợp": "Họp gia đình và công an xã"}, "Ghi đánh giá chi tiết")
    form = page.locator("#form-plan")
    form.get_by_label("Mục tiêu").fill("Chấm dứt bạo lực")
    form.get_by_label("Loại hỗ trợ 1").select_option("family_counselling")
    form.get_by_label("Nội dung 1").fill("Tư vấn cho cha dượng")
    form.get_by_label("Người/cơ quan thực hiện 1").fill("Hội Phụ nữ xã")
    form.get_by_label("Thời hạn 1").fill(dt.date.today().isoformat())
    form.get_by_role("button", name="Lưu kế hoạch").click()
    page.wait_for_load_state()
    assert page.locator("#case-status").inner_text() == "Kế hoạch chờ phê duyệt"
    _logout(page)

    browser_login(page, "chairman")
    page.wait_for_url("**/")
    page.goto(f"/cases/{case.pk}/")
    _step(page, "approve", {"Số quyết định phê duyệt": "21/QĐ-UBND"}, "Phê duyệt kế hoạch")
    assert page.locator("#case-status").inner_text() == "Đang thực hiện kế hoạch"
    _logout(page)

    browser_login(page, "commune")
    page.wait_for_url("**/")
    page.goto(f"/cases/{case.pk}/")
    form = page.locator("#form-review")
    for label in ("Mức độ tổn hại", "Khả năng tiếp cận của người gây hại", "Trở ngại trong môi trường chăm sóc"):
        form.get_by_label(label).select_option("low")
    form.get_by_label("Đề xuất đóng vụ việc").check()
    form.get_by_role("button", name="Ghi rà soát").click()
    page.wait_for_load_state()
    assert page.locator("#case-status").inner_text() == "Chờ quyết định đóng"
    _logout(page)

    browser_login(page, "chairman")
    page.wait_for_url("**/")
    page.goto(f"/cases/{case.pk}/")
    _step(page, "close", {}, "Đóng vụ việc", selects={"Kết quả": "resolved"})
    assert page.locator("#case-status").inner_text() == "Đã đóng"
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert "Phê duyệt kế hoạch" in page.locator("ol.timeline").inner_text()


def test_supervisor_reassigns_a_case_with_the_htmx_form(browser_page):
    from django.utils import timezone

    from conftest import PROVINCE
    from vitreem.cases.services import case_intake

    units = [unit_resolve(r) for r in COMMUNE_A]
    worker = user_create(username="commune", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                         units=units)
    user_create(username="commune2", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="A Tú", units=units)
    user_create(username="supervisor", password=PASSWORD, role=Role.CASE_SUPERVISOR, full_name="Trần Thu",
                units=[unit_resolve(r) for r in PROVINCE])
    child = child_register(actor=worker, data={"full_name": "A Thắng", "birth_date": dt.date(2013, 5, 6),
                                               "sex": "M"}, unit=units[1], confirm_not_duplicate=True)
    case = case_intake(actor=worker, child=child, received_at=timezone.now(), channel="hotline_111", place="Thôn 1",
                       concern="neglect", summary="Trẻ ở nhà một mình", reporter_anonymous=True)
    page = browser_page
    browser_login(page, "supervisor")
    page.wait_for_url("**/")
    page.goto(f"/cases/{case.pk}/")
    page.get_by_text("Giao lại vụ việc cho người khác").click()
    form = page.locator("#form-reassign")
    form.get_by_label("Giao cho").select_option(label="A Tú")
    form.get_by_role("button", name="Giao lại").click()
    # The refusal is swapped into the form in place: the page is not reloaded, the choice is kept.
    page.locator("#form-reassign .error").wait_for()
    assert "Lý do: chưa nhập" in page.locator("#form-reassign").inner_text()
    form = page.locator("#form-reassign")
    form.get_by_label("Lý do giao lại").fill("Chị Hiền nghỉ phép")
    form.get_by_role("button", name="Giao lại").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    page.get_by_text("Đã giao lại vụ việc.").wait_for()
    assert "Phụ trách: A Tú" in page.locator(".cards").inner_text()
    case.refresh_from_db()
    assert case.owner.username == "commune2"
