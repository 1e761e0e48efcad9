"""In a real browser: the commune worker finds a child eligible for the monthly social assistance and
records the decision from the eligibility list; the provincial officer opens this month's payroll,
sees the line and the total, locks the month and downloads the signed list (.xlsx). A worker of
another commune cannot open the recipient."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from conftest import COMMUNE_A, COMMUNE_B, PASSWORD, PROVINCE, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.benefits import services
from vitreem.benefits.models import Allowance, AllowanceStatus, Payroll
from vitreem.benefits.rules import month_of
from vitreem.places.selectors import unit_resolve
from vitreem.registry.services import residences_apply_reform

from .factories import make_child

pytestmark = pytest.mark.e2e

D = dt.date


def _second_factor(page, user) -> None:
    """Officers must pass the TOTP step after the password; the test owns the device, so it knows the code."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
    page.wait_for_url("**/accounts/otp/**")
    page.get_by_label("Mã xác thực").fill(f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/")


def _logout(page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/accounts/login/")


def _people():
    """Commune A's worker, commune B's worker, the provincial officer; one child without a source of
    nurture in each commune. Ages as of the end of last month (the month rule): the child of A is
    over 4 (coefficient 1.5), the child of B is 3 (2.5)."""
    worker_a = user_create(username="commune-a", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                           units=[unit_resolve(r) for r in COMMUNE_A])
    worker_b = user_create(username="commune-b", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="A Tú",
                           units=[unit_resolve(r) for r in COMMUNE_B])
    officer = user_create(username="officer", password=PASSWORD, role=Role.PROVINCE_OFFICER, full_name="Cán bộ tỉnh",
                          units=[unit_resolve(r) for r in PROVINCE])
    month = month_of(timezone.localdate())
    born_a = D(month.year - 7, 1, 15)
    born_b = D(month.year - 3, 1, 15) if month.month > 1 else D(month.year - 4, 6, 15)
    child_a = make_child(unit_resolve(COMMUNE_A[0]), birth=born_a, name="Y Bé Thuận",
                         episodes=[("2", born_a + dt.timedelta(days=60))])
    child_b = make_child(unit_resolve(COMMUNE_B[0]), birth=born_b, name="A Nhi Mar",
                         episodes=[("2", born_b + dt.timedelta(days=30))])
    # As in a real register: the legacy residences end on 2025-06-30 and the 2025 communes take over
    # (the factory writes one open legacy residence, which no payroll after the reform would lock).
    residences_apply_reform()
    child_a.refresh_from_db()
    return worker_a, worker_b, officer, child_a, child_b, month


def test_worker_enrols_officer_locks_and_downloads_the_payroll(browser_page, tmp_path):
    worker_a, worker_b, officer, child_a, child_b, month = _people()
    # Commune B's child is already a recipient (recorded the usual way), so the province total adds two lines.
    services.allowance_enrol(actor=worker_b, child=child_b, group="no_nurture", number="7/QĐ-UBND",
                             decided_on=timezone.localdate())
    page = browser_page

    # The commune worker: eligibility list → record the decision on the child's row (htmx, no reload).
    browser_login(page, "commune-a")
    page.wait_for_url("**/")
    page.goto("/benefits/")
    page.get_by_role("link", name="Danh sách đủ điều kiện").click()
    row = page.locator(f"#elig-{child_a.pk}")
    assert "Y Bé Thuận" in row.inner_text()
    assert "Trẻ em dưới 16 tuổi không có nguồn nuôi dưỡng" in row.inner_text()
    assert "A Nhi Mar" not in page.locator("main").inner_text()  # another commune, and already enrolled
    row.get_by_label("Số quyết định").fill("12/QĐ-UBND")
    row.get_by_role("button", name="Ghi quyết định hưởng").click()
    row.get_by_role("status").get_by_text("Đã ghi quyết định").wait_for()
    allowance = Allowance.objects.get(child=child_a)
    assert allowance.status == AllowanceStatus.ACTIVE
    assert allowance.decisions.get().number == "12/QĐ-UBND"

    page.get_by_role("link", name="Người hưởng", exact=True).click()
    page.wait_for_url("**/benefits/recipients/")
    table = page.locator("main table")
    assert "Y Bé Thuận" in table.inner_text() and "A Nhi Mar" not in table.inner_text()
    assert "1 người" in page.locator("main").inner_text()
    table.get_by_role("link", name="Y Bé Thuận").click()
    page.wait_for_url(f"**/benefits/recipients/{allowance.pk}/")
    assert "12/QĐ-UBND" in page.locator("main").inner_text()
    _logout(page)

    # The provincial officer: the month's payroll for the whole province, lock, signed list.
    browser_login(page, "officer")
    _second_factor(page, officer)
    page.goto("/benefits/payroll/")
    page.get_by_role("link", name=f"{month:%m/%Y}", exact=True).click()
    page.wait_for_url(f"**/benefits/payroll/{month:%Y-%m}/")
    lines = page.locator("main table").last.inner_text()
    assert "Y Bé Thuận" in lines and "A Nhi Mar" in lines
    # 1.5 × 500.000 + 2.5 × 500.000 (the base level in force since 07/2024).
    assert page.locator("#payroll-recipients").inner_text() == "2"
    assert page.locator("#payroll-total").inner_text() == "2.000.000"
    assert "Hai triệu đồng" in page.locator("main").inner_text()
    assert "Chưa khóa" in page.locator("main").inner_text()

    page.get_by_role("button", name="Khóa tháng (đã chi trả)").click()
    page.wait_for_url(f"**/benefits/payroll/{month:%Y-%m}/")
    page.get_by_text("Đã khóa bảng chi trả tháng").wait_for()
    assert "Đã chi trả, đã khóa" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Khóa tháng (đã chi trả)").count() == 0
    assert sorted(Payroll.objects.filter(month=month, recipients__gt=0).values_list("total", flat=True)) == [
        750_000, 1_250_000]
    # A locked month shows the snapshot: same line, same total.
    assert page.locator("#payroll-total").inner_text() == "2.000.000"

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải danh sách ký nhận (.xlsx)").click()
    assert download.value.suggested_filename == f"chi-tra-{month:%Y-%m}.xlsx"
    path = tmp_path / "payroll.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path, read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    by_name = {r[1]: r for r in rows if isinstance(r[0], int)}
    assert set(by_name) == {"Y Bé Thuận", "A Nhi Mar"}
    assert by_name["Y Bé Thuận"][5] == 1.5 and by_name["Y Bé Thuận"][7] == 750_000
    assert by_name["Y Bé Thuận"][10] == 750_000
    assert by_name["A Nhi Mar"][10] == 1_250_000
    total = next(r for r in rows if isinstance(r[0], str) and r[0].startswith("Tổng cộng"))
    assert total[0] == "Tổng cộng (2 người)" and total[10] == 2_000_000
    assert any(isinstance(r[0], str) and r[0] == "Bằng chữ: Hai triệu đồng." for r in rows)


def test_worker_of_another_commune_does_not_see_the_recipient(browser_page):
    worker_a, _worker_b, _officer, child_a, _child_b, _month = _people()
    allowance = services.allowance_enrol(actor=worker_a, child=child_a, group="no_nurture", number="12/QĐ-UBND",
                                         decided_on=timezone.localdate())
    page = browser_page
    browser_login(page, "commune-b")
    page.wait_for_url("**/")
    page.goto("/benefits/recipients/")
    assert "Y Bé Thuận" not in page.locator("main").inner_text()
    assert "0 người" in page.locator("main").inner_text()
    response = page.goto(f"/benefits/recipients/{allowance.pk}/")
    assert response is not None and response.status == 404
    assert "Y Bé Thuận" not in page.content()
    # Nor in commune B's payroll of the month.
    page.goto("/benefits/payroll/")
    page.locator("main table a").first.click()
    assert page.locator("#payroll-recipients").inner_text() == "0"
    assert "Y Bé Thuận" not in page.locator("main").inner_text()
