"""In a real browser: a commune worker enters a training and its participants, one by one (htmx) and by sheet."""

import pytest

from conftest import COMMUNE_A, PASSWORD, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.activities.models import Activity, Participant
from vitreem.places.selectors import unit_resolve

from .helpers import sheet

pytestmark = pytest.mark.e2e


def test_commune_worker_enters_a_training_with_its_participants(browser_page, tmp_path):
    user_create(username="commune", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                units=[unit_resolve(r) for r in COMMUNE_A])
    page = browser_page
    browser_login(page, "commune")
    page.wait_for_url("**/")
    page.get_by_role("link", name="Hoạt động").first.click()
    page.wait_for_url("**/activities/")
    page.get_by_role("link", name="Tập huấn").first.click()
    page.wait_for_url("**/activities/new/training/")
    page.get_by_label("Tên hoạt động").fill("Tập huấn cộng tác viên thôn về bảo vệ trẻ em")
    page.get_by_label("Ngày bắt đầu").fill("2022-05-10")
    page.get_by_label("Ngày kết thúc").fill("2022-05-11")
    page.get_by_label("Đơn vị (nơi tổ chức)").select_option(label="Thị trấn Đăk Hà (legacy:23500)")
    page.get_by_label("Đối tượng").select_option("collaborators")
    page.get_by_label("Số ngày").fill("2")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url("**/activities/*/")
    assert "Đã lưu hoạt động." in page.locator("main").inner_text()

    form = page.locator("#participant-form")
    form.get_by_label("Họ và tên").fill("Y Blin")
    form.get_by_label("Giới tính").select_option("F")
    form.get_by_label("Dân tộc").fill("Xơ Đăng")
    form.get_by_label("Điểm sau").fill("8,5")
    form.get_by_role("button", name="Thêm").click()
    page.locator("#participants").get_by_text("Y Blin").wait_for()
    # the htmx swap replaced the section without a page load; add a second participant the same way
    form = page.locator("#participant-form")
    form.get_by_label("Họ và tên").fill("A Thuận")
    form.get_by_label("Giới tính").select_option("M")
    form.get_by_role("button", name="Thêm").click()
    page.locator("#participants").get_by_text("A Thuận").wait_for()

    bad = tmp_path / "ds.xlsx"
    bad.write_bytes(sheet([["Nguyễn Thị Hoa", "Thôn 1", "CTV", "Nữ", "Kinh", "", ""],
                           ["Lê Văn Nam", "Thôn 2", "CTV", "?", "Kinh", "", ""]]))
    page.get_by_label("Tệp danh sách (.xlsx)").set_input_files(str(bad))
    page.get_by_role("button", name="Tải lên").click()
    assert "chưa lưu người nào" in page.get_by_role("alert").first.inner_text()
    good = tmp_path / "ds2.xlsx"
    good.write_bytes(sheet([["Nguyễn Thị Hoa", "Thôn 1", "CTV", "Nữ", "Kinh", "5", "8"],
                            ["Lê Văn Nam", "Thôn 2", "CTV", "Nam", "Kinh", "6", "9"]]))
    page.get_by_label("Tệp danh sách (.xlsx)").set_input_files(str(good))
    page.get_by_role("button", name="Tải lên").click()
    page.wait_for_url("**/activities/*/")
    assert "Đã thêm 2 người" in page.locator("main").inner_text()
    assert "4 học viên (2 nữ)" in page.locator("#participants").inner_text()

    activity = Activity.objects.get()
    assert activity.kind == "training" and activity.unit.ref == "legacy:23500"
    assert Participant.objects.filter(activity=activity).count() == 4
