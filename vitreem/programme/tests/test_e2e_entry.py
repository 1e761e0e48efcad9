"""In a real browser: a member unit's reporter fills a quarterly report, checks it, saves a draft and submits."""

import pytest

from conftest import PASSWORD, PROVINCE, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.places.selectors import unit_resolve
from vitreem.programme.models import DataValue, Submission, SubmissionStatus

pytestmark = pytest.mark.e2e


def test_reporter_enters_checks_saves_and_submits(browser_page, catalogue):
    mu = catalogue["so-yte"]
    user_create(username="reporter-so-yte", password=PASSWORD, role=Role.REPORTER, full_name="Hồ Thị Lan",
                units=[unit_resolve(r) for r in PROVINCE], member_unit=mu)
    page = browser_page
    browser_login(page, "reporter-so-yte")
    page.wait_for_url("**/")
    page.get_by_role("link", name="Mục tiêu & báo cáo").first.click()
    page.get_by_role("link", name="Biểu mẫu & nhập liệu").click()
    page.goto(f"/programme/forms/yte-tiem-chung/2022Q1/?for=mu:{mu.pk}")
    assert "Sở Y tế" in page.locator("main").inner_text()

    def cell(name):
        return page.locator(f'input[name="{name}"]')

    cell("under1.sex:M").fill("510")
    cell("under1.sex:F").fill("490")
    cell("under1").fill("1.000")
    cell("under1_immunised").fill("1200")
    page.get_by_role("button", name="Kiểm tra").click()
    page.locator("#checks").get_by_text("không được lớn hơn").wait_for()
    assert not Submission.objects.filter(values__isnull=False).exists()

    cell("under1_immunised").fill("980")
    page.get_by_role("button", name="Kiểm tra").click()
    page.get_by_text("Số liệu hợp lệ.").wait_for()
    page.get_by_role("button", name="Lưu nháp").click()
    page.get_by_text("Đã lưu nháp.").wait_for()
    assert cell("under1").input_value() == "1.000"
    assert page.locator("#status").inner_text() == "Nháp"

    page.get_by_role("button", name="Nộp báo cáo").click()
    page.wait_for_url("**/programme/submissions/*/")
    assert page.locator("#status").inner_text() == "Đã nộp"
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.SUBMITTED and submission.first_submitted_at is not None
    assert DataValue.objects.get(submission=submission, element__code="under1_immunised", category="").value == 980
