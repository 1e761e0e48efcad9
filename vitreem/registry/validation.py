"""One validation code for a child's data: the forms, the API and the spreadsheet import all call
`child_clean`, so a rule is written once and says the same thing everywhere."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.text import fold, nfc, text_problem

from .models import CHILD_AGE_LIMIT, BirthPrecision, Disability, Schooling, SchoolLevel, Sex

ID_RE = re.compile(r"^\d{12}$")
# Django rebuilds `Choices.values` on every access (about 20 µs each); child_clean runs for every row
# of a 200,000-row import, so the allowed values are taken once here.
_PRECISIONS = frozenset(BirthPrecision.values)
_SEXES = frozenset(Sex.values)
_SCHOOLINGS = frozenset(Schooling.values)
_LEVELS = frozenset(SchoolLevel.values)
_DISABILITIES = frozenset(Disability.values)


def split_name(full_name: str) -> tuple[str, str, str]:
    """"Nguyễn Thị Hoa" → ("Nguyễn", "Thị", "Hoa"): family first, given name last."""
    return _split_normalised(nfc(full_name))


def _split_normalised(full: str) -> tuple[str, str, str]:
    parts = full.split(" ")
    if len(parts) == 1:
        return "", "", parts[0]
    return parts[0], " ".join(parts[1:-1]), parts[-1]


# Given names repeat a great deal (a few thousand cover a province): their folded keys are kept.
_fold_given = functools.lru_cache(maxsize=8192)(fold)


def personal_id_problem(pid: str, *, birth_date: dt.date | None, sex: str | None) -> tuple[str, str] | None:
    """Check the 12-digit personal identification number against birth year and sex.

    Digits 1–3: province of birth registration; digit 4: century and sex (1900s: 0 male, 1 female;
    2000s: 2 male, 3 female; 2100s: 4/5); digits 5–6: the last two digits of the birth year.
    Returns (code, message) for a *mismatch*; a malformed number raises in child_clean.
    """
    century_digit = int(pid[3])
    century = 1900 + 100 * (century_digit // 2)
    id_sex = Sex.MALE if century_digit % 2 == 0 else Sex.FEMALE
    if birth_date is not None:
        year = century + int(pid[4:6])
        if year != birth_date.year:
            return ("id_year_mismatch",
                    _("Số định danh cho năm sinh %(y)s, khác năm sinh %(b)s.") % {"y": year, "b": birth_date.year})
    if sex and sex != id_sex:
        return ("id_sex_mismatch", _("Số định danh cho giới tính %(s)s, khác giới tính đã khai.")
                % {"s": Sex(id_sex).label})
    return None


@dataclass
class Cleaned:
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def error(self, name: str, code: str, message: str) -> None:
        self.errors.setdefault(name, message)
        self.codes.setdefault(name, code)


def child_clean(raw: dict[str, Any], *, on: dt.date, strict_id: bool = True) -> Cleaned:
    """Validate and normalise a child's fields.

    `raw` keys: full_name (or family_name/middle_name/given_name), birth_date (date), birth_precision,
    sex, personal_id, schooling, school_level, dropout_date, disability, birth_registered, village, note.
    A mismatching personal ID is an error when `strict_id` (forms, API), a flagged warning otherwise.
    """
    out = Cleaned()
    d = out.data
    full = nfc(raw.get("full_name") or " ".join(
        p for p in (raw.get("family_name"), raw.get("middle_name"), raw.get("given_name")) if p))
    if not full:
        out.error("full_name", "required", _("Họ và tên không được để trống."))
    elif name_problem := text_problem(full, label=_("Họ và tên"), max_length=150, name=True):
        out.error("full_name", "invalid_name", name_problem)
    else:
        d["family_name"], d["middle_name"], d["given_name"] = _split_normalised(full)  # `full` is NFC already
        d["full_name"] = full
        d["name_key"] = fold(full)
        d["given_key"] = _fold_given(d["given_name"])

    birth = raw.get("birth_date")
    precision = raw.get("birth_precision") or BirthPrecision.DAY
    if precision not in _PRECISIONS:
        out.error("birth_precision", "invalid_choice", _("Độ chính xác ngày sinh không hợp lệ."))
    if not isinstance(birth, dt.date):
        out.error("birth_date", "required", _("Ngày sinh không được để trống."))
    elif birth > on:
        out.error("birth_date", "birth_in_future", _("Ngày sinh %(d)s ở tương lai.") % {"d": birth.strftime("%d/%m/%Y")})
    else:
        age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
        if age >= CHILD_AGE_LIMIT:
            out.error("birth_date", "too_old", _("Trẻ đã %(a)s tuổi vào ngày %(d)s; hệ thống chỉ quản lý trẻ dưới 16 tuổi "
                                                 "(Luật Trẻ em, Điều 1).") % {"a": age, "d": on.strftime("%d/%m/%Y")})
        d["birth_date"] = birth
        d["birth_precision"] = precision

    sex = raw.get("sex")
    if sex not in _SEXES:
        out.error("sex", "required", _("Giới tính phải là Nam hoặc Nữ."))
    else:
        d["sex"] = sex

    pid = re.sub(r"\s", "", str(raw.get("personal_id") or ""))
    if pid:
        if not ID_RE.match(pid):
            out.error("personal_id", "id_format",
                      _("Số định danh cá nhân phải gồm đúng 12 chữ số (nhận được: %(v)s).") % {"v": pid[:20]})
        else:
            problem = personal_id_problem(pid, birth_date=d.get("birth_date"), sex=d.get("sex"))
            d["personal_id"] = pid
            d["personal_id_mismatch"] = problem is not None
            if problem:
                if strict_id:
                    out.error("personal_id", problem[0], problem[1])
                else:
                    out.warnings["personal_id"] = problem[1]
    else:
        d["personal_id"] = ""
        d["personal_id_mismatch"] = False

    schooling = raw.get("schooling") or Schooling.UNKNOWN
    if schooling not in _SCHOOLINGS:
        out.error("schooling", "invalid_choice", _("Tình trạng đi học không hợp lệ."))
    d["schooling"] = schooling
    level = raw.get("school_level") or ""
    if level and level not in _LEVELS:
        out.error("school_level", "invalid_choice", _("Cấp học không hợp lệ."))
    d["school_level"] = level if schooling == Schooling.IN_SCHOOL else ""
    dropout = raw.get("dropout_date")
    if schooling == Schooling.DROPPED_OUT and isinstance(dropout, dt.date):
        if dropout > on or ("birth_date" in d and dropout < d["birth_date"]):
            out.error("dropout_date", "invalid_date", _("Ngày bỏ học không hợp lệ."))
        d["dropout_date"] = dropout
    else:
        d["dropout_date"] = None

    disability = raw.get("disability") or Disability.NONE
    if disability not in _DISABILITIES:
        out.error("disability", "invalid_choice", _("Mức độ khuyết tật không hợp lệ."))
    d["disability"] = disability
    d["birth_registered"] = bool(raw.get("birth_registered", True))
    for name, label, limit in (("village", _("Thôn, tổ dân phố"), 120), ("note", _("Ghi chú"), 4000)):
        d[name] = nfc(raw.get(name))
        if text_error := text_problem(d[name], label=label, max_length=limit):
            out.error(name, "invalid_text", text_error)
    return out


def period_clean(start: dt.date | None, end: dt.date | None, *, on: dt.date, start_field: str = "start",
                 end_field: str = "end") -> dict[str, str]:
    errors: dict[str, str] = {}
    if start is None:
        errors[start_field] = _("Ngày bắt đầu không được để trống.")
    elif start > on:
        errors[start_field] = _("Ngày bắt đầu ở tương lai.")
    if start and end and end < start:
        errors[end_field] = _("Ngày kết thúc (%(e)s) trước ngày bắt đầu (%(s)s).") % {
            "e": end.strftime("%d/%m/%Y"), "s": start.strftime("%d/%m/%Y")}
    return errors
