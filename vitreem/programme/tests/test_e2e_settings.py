"""In a real browser: a province officer (after the second factor) adds an indicator with its targets,
is told which field is wrong, then adds and removes a data element of a report form."""

import pytest

from conftest import PASSWORD, PROVINCE, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.places.selectors import unit_resolve
from vitreem.programme.models import DataElement, Indicator, Target

pytestmark = pytest.mark.e2e


def _second_factor(page, user) -> None:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
    page.wait_for_url("**/accounts/otp/**")
    page.get_by_label("Mã xác thực").fill(f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}")
    page.get_by_role("button", name="Xác nhận").click()


def test_officer_maintains_indicators_and_form_elements(browser_page, catalogue):
    officer = user_create(username="officer", password=PASSWORD, role=Role.PROVINCE_OFFICER, full_name="Cán bộ tỉnh",
                          units=[unit_resolve(r) for r in PROVINCE])
    page = browser_page
    browser_login(page, "officer")
    _second_factor(page, officer)
    page.goto("/programme/")
    page.get_by_role("link", name="Thiết lập chỉ tiêu, biểu mẫu").click()
    page.get_by_role("link", name="+ Thêm chỉ tiêu").click()

    page.get_by_label("Mã chỉ tiêu").fill("tre-em-duoi-nuoc")
    page.get_by_label("Tên chỉ tiêu", exact=True).fill("Số trẻ em tử vong do đuối nước")
    page.get_by_label("Đơn vị đo").select_option("number")
    page.get_by_label("Chiều đánh giá").select_option("down")
    page.get_by_label("Nguồn số liệu").select_option("reported")
    page.get_by_label("Mục tiêu năm 2025").fill("-8")
    page.get_by_role("button", name="Lưu", exact=True).click()
    page.get_by_text("Mục tiêu năm 2025: Giá trị mục tiêu không được âm.").wait_for()
    assert not Indicator.objects.filter(code="tre-em-duoi-nuoc").exists()

    page.get_by_label("Mục tiêu năm 2025").fill("8")
    page.get_by_role("button", name="Lưu", exact=True).click()
    page.get_by_text("Đã lưu chỉ tiêu Số trẻ em tử vong do đuối nước.").wait_for()
    assert Target.objects.get(indicator__code="tre-em-duoi-nuoc", year=2025).value == 8

    page.goto("/programme/settings/forms/yte-tiem-chung/")
    add = page.locator("#element-add")
    add.get_by_label("Mã").fill("dinh dưỡng")
    add.get_by_label("Tên chỉ tiêu báo cáo").fill("Trẻ em suy dinh dưỡng")
    add.get_by_role("button", name="Thêm").click()
    page.locator("#element-add").get_by_text("chỉ gồm chữ không dấu").wait_for()
    page.locator("#element-add").get_by_label("Mã").fill("suy-dinh-duong")
    page.locator("#element-add").get_by_role("button", name="Thêm").click()
    page.locator("#elements").get_by_text("Trẻ em suy dinh dưỡng").wait_for()
    element = DataElement.objects.get(code="suy-dinh-duong")

    page.locator("#elements tr", has_text="Trẻ em suy dinh dưỡng").get_by_role("link", name="Sửa").click()
    page.get_by_role("button", name="Xoá").click()
    page.get_by_text("Đã xoá Trẻ em suy dinh dưỡng.").wait_for()
    assert not DataElement.objects.filter(pk=element.pk).exists()
