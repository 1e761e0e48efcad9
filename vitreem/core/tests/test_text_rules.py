"""Names and free text (issue 20 item 5, issue 15 item 1): one rule, core.text.text_problem, applied by the
services — so a form, the API, an import and the phone's sync meet the same refusal."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import login
from vitreem.core.text import text_problem
from vitreem.imports.tests.conftest import years_ago
from vitreem.imports.tests.files import commune_list, xlsx
from vitreem.registry.models import Child, Household
from vitreem.registry.services import child_register, guardian_add, household_create

BAD_NAMES = {
    "zero-width space": "Nguyễn\u200bVăn An",
    "NUL": "Nguyễn Văn\x00 An",
    "right-to-left override": "Nguyễn \u202eVăn An",
    "a run of combining marks": "Nguyễn\u0301\u0300\u0303 Văn An",
    "a digit": "Trần 3 Lan",
    "markup": "<b>An</b>",
    "an at sign": "An@example",
}
GOOD_NAMES = [
    "Y Hơ Niê", "A Tin", "Rơ Mah H'Hen", "Rơ Châm H’Yam", "Nguyễn Thị Ánh-Dương",
    # every Vietnamese letter with a diacritic, in both cases
    "Ăắằẳẵặ Âấầẩẫậ Đ Êếềểễệ Ôốồổỗộ Ơớờởỡợ Ưứừửữự Áàảãạ Éèẻẽẹ Íìỉĩị Óòỏõọ Úùủũụ Ýỳỷỹỵ",
    "ăắằẳẵặ âấầẩẫậ đ êếềểễệ ôốồổỗộ ơớờởỡợ ưứừửữự",
    "Bô̆ Nia",  # Bahnar ô̆: one combining mark after NFC
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_vietnamese_and_minority_names_pass(name):
    import unicodedata

    assert text_problem(unicodedata.normalize("NFC", name), label="Họ và tên", max_length=150, name=True) is None


@pytest.mark.parametrize("what", sorted(BAD_NAMES))
def test_each_bad_form_is_refused_with_the_field_named(what):
    problem = text_problem(BAD_NAMES[what], label="Họ và tên", max_length=150, name=True)
    assert problem is not None and problem.startswith("Họ và tên")


def test_free_text_allows_punctuation_and_digits_but_not_hidden_characters():
    assert text_problem("Thôn 3, xã Đăk Hà (gần trường)", label="Nơi xảy ra sự việc") is None
    assert text_problem("Thôn 3\u200d", label="Nơi xảy ra sự việc") is not None
    assert "dài quá 120 ký tự" in text_problem("x" * 121, label="Thôn", max_length=120)


@pytest.mark.django_db
@pytest.mark.parametrize("what", sorted(BAD_NAMES))
def test_the_service_refuses_and_writes_nothing(worker_a, units, what):
    from vitreem.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        child_register(actor=worker_a, data={"full_name": BAD_NAMES[what], "birth_date": dt.date(2016, 1, 2),
                                             "sex": "F"}, unit=units.commune_a_2025, confirm_not_duplicate=True)
    assert "full_name" in refused.value.errors and Child.objects.count() == 0


@pytest.mark.django_db
def test_guardian_and_head_of_household_names_and_lengths(worker_a, units):
    from vitreem.core.errors import ValidationFailed

    child = child_register(actor=worker_a, data={"full_name": "Rơ Mah H'Hen", "birth_date": dt.date(2016, 1, 2),
                                                 "sex": "F"}, unit=units.commune_a_2025, confirm_not_duplicate=True)
    with pytest.raises(ValidationFailed) as refused:
        guardian_add(actor=worker_a, child=child, full_name="Rơ Mah\u202e Yơn", relationship="mother")
    assert "guardian" in refused.value.errors
    # A 20,000-character head of household was stored in a 120-character column on SQLite.
    with pytest.raises(ValidationFailed) as refused:
        household_create(actor=worker_a, unit=units.commune_a_2025, head_name="A" * 20_000)
    assert "dài quá 120 ký tự" in refused.value.errors["head_name"] and Household.objects.count() == 0


@pytest.mark.django_db
def test_the_api_says_which_field(worker_a):
    body = {"full_name": "Nguyễn\u200bVăn An", "birth_date": "2016-01-02", "sex": "M", "unit": "2025:23500"}
    response = login(worker_a).post("/api/registry/children", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "full_name"
    assert "ký tự ẩn" in response.json()["message"] and Child.objects.count() == 0


@pytest.mark.django_db
def test_the_import_names_the_row_and_the_column(worker_a, units):
    from vitreem.imports.services import import_create, import_execute

    rows = [["Nguyễn\u202eVăn An", years_ago(5).strftime("%d/%m/%Y"), "Nam", "Kinh", "", "Thôn 1", "Xã Đăk Hà",
             "", "", "", "", ""]]
    batch = import_create(actor=worker_a, filename="ds.xlsx", content=xlsx(commune_list(rows)))
    result = import_execute(actor=worker_a, batch=batch)
    error = result["errors"][0]
    assert error["row"] == 5 and error["column"] == "Họ và tên" and "ký tự ẩn" in error["message"]
    assert Child.objects.count() == 0
