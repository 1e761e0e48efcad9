"""In a real browser: a commune worker uploads the commune's list, sees the preview with the row in
error before anything is written, imports the valid rows, waits for the job, and exports the list."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import COMMUNE_A, PASSWORD, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.places.selectors import unit_resolve
from vitreem.registry.models import Child

from .files import commune_list, xlsx

pytestmark = pytest.mark.e2e


def _years_ago(n: int) -> dt.date:
    today = dt.date.today()
    return dt.date(today.year - n, 3, 4)


def test_worker_imports_the_commune_list_and_exports_it_again(browser_page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    user_create(username="xa_dak_ha", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                units=[unit_resolve(r) for r in COMMUNE_A])
    rows = commune_list([
        ["Nguyễn Thị Hoà", _years_ago(6), "Nữ", "Kinh", "", "Thôn 1", "Xã Đăk Hà", "Nguyễn Văn Tư", "Hộ nghèo", "", "", ""],
        ["A Blong", _years_ago(9).strftime("%d/%m/%Y"), "Nam", "Xơ Đăng", "", "Làng Kon Trang", "Đăk Hà", "", "", "",
         "Đang đi học", ""],
        # 17 years old: not a child under the law, so the row is refused with its Excel row number
        ["Trần Văn Lớn", _years_ago(17), "Nam", "Kinh", "", "Thôn 2", "Xã Đăk Hà", "", "", "", "", ""],
    ])
    page = browser_page
    browser_login(page, "xa_dak_ha")
    page.wait_for_url("**/")
    page.get_by_role("link", name="Nhập/xuất Excel").first.click()
    page.get_by_label("Tệp danh sách (.xlsx, .xls, .ods, .csv)").set_input_files(files=[{
        "name": "danh-sach-dak-ha.xlsx", "buffer": xlsx(rows),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.get_by_role("button", name="Tải lên và xem trước").click()
    page.wait_for_url("**/preview/")

    # The preview: the detected table, the mapping, and the error, before anything is written.
    main = page.locator("main")
    assert main.get_by_label("Họ và tên").input_value() == "full_name"
    errors = main.locator("table").filter(has=page.get_by_role("columnheader", name="Giá trị"))
    row = errors.locator("tbody tr").filter(has_text="17 tuổi")
    assert row.count() == 1 and errors.locator("tbody tr").count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "7" and cells[1] == "Ngày sinh"  # the Excel row number and the column
    assert Child.objects.count() == 0

    # Confirm the two valid rows; the job runs and the result page shows what was written.
    page.get_by_label("Chỉ nhập 2 dòng hợp lệ (bỏ qua các dòng lỗi)").check()
    page.get_by_role("button", name="Xác nhận và nhập").click()
    page.wait_for_url("**/imports/*/")
    page.get_by_text("Đã ghi vào sổ theo dõi").wait_for(timeout=60_000)
    cards = page.locator(".cards").inner_text()
    assert "Tạo mới" in cards and "Dòng lỗi" in cards
    assert set(Child.objects.values_list("full_name", flat=True)) == {"Nguyễn Thị Hoà", "A Blong"}
    hoa = Child.objects.get(full_name="Nguyễn Thị Hoà")
    assert hoa.unit.ref == COMMUNE_A[1] and hoa.household is not None

    # Export the commune's list again: the same two children, in the template's columns.
    page.get_by_role("link", name="Lịch sử nhập").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Xuất .xlsx").click()
    path = tmp_path / "export.xlsx"
    download_info.value.save_as(path)
    import python_calamine as pc

    sheet = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    text = "\n".join(" | ".join(str(c) for c in row) for row in sheet)
    assert "Nguyễn Thị Hoà" in text and "A Blong" in text and "Trần Văn Lớn" not in text
