"""Domain errors become their page in one place (issue 19 item 2): core.middleware.DomainErrorMiddleware."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from conftest import login
from vitreem.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.middleware import DomainErrorMiddleware

pytestmark = pytest.mark.django_db


def _page(path: str, exc: Exception, user):
    request = RequestFactory().get(path)
    request.user = user
    return DomainErrorMiddleware(lambda r: None).process_exception(request, exc)


@pytest.mark.parametrize(("exc", "status", "text"), [
    (NotFound("không có"), 404, "404"),
    (PermissionDenied("Chỉ cán bộ cấp tỉnh được làm việc này."), 403, "Chỉ cán bộ cấp tỉnh được làm việc này."),
    (ValidationFailed({"year": "Năm phải từ 2021."}), 400, "Năm phải từ 2021."),
    (DomainError("Mã đơn vị hành chính không hợp lệ: x."), 400, "Mã đơn vị hành chính không hợp lệ: x."),
])
def test_each_domain_error_is_its_page_with_its_message(worker_a, exc, status, text):
    response = _page("/activities/", exc, worker_a)
    assert response.status_code == status
    assert text in response.content.decode()


def test_the_api_and_other_exceptions_are_left_alone(worker_a):
    assert _page("/api/registry/children", NotFound("x"), worker_a) is None  # core/api.py answers in JSON
    assert _page("/activities/", ValueError("a bug"), worker_a) is None  # the 500 handler's


def test_a_page_without_its_own_handler_gives_the_message(worker_a):
    # The report-template page raises PermissionDenied for a commune worker and no longer catches it.
    response = login(worker_a).get("/reports/templates/")
    assert response.status_code == 403
    assert "Chỉ cán bộ cơ quan thường trực cấp tỉnh được thay mẫu báo cáo." in response.content.decode()
