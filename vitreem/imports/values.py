"""Reading the cells of one row into the registry's terms: dates, sex, ethnicity, poverty, groups, units.

Each parser returns the value or raises CellError with a code and a Vietnamese message; the engine
turns those into the row's error list with the Excel row number and the column's header.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.scope import scope_for
from vitreem.core.text import fold_words, nfc, unit_key
from vitreem.places.models import AdminUnit, Level
from vitreem.places.selectors import unit_current
from vitreem.registry.models import (
    BirthPrecision,
    Disability,
    Ethnicity,
    Guardian,
    PovertyStatus,
    RiskFactor,
    Schooling,
    SchoolLevel,
    Sex,
    SpecialGroup,
)

EXCEL_EPOCH = dt.date(1899, 12, 30)


class CellError(Exception):
    def __init__(self, code: str, message: str, *, candidates: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.candidates = candidates or []


def cell_text(cell: Any) -> str:
    """The cell as the user sees it: 12.0 → "12", dates dd/mm/yyyy."""
    if cell is None or cell == "":
        return ""
    if isinstance(cell, bool):
        return "x" if cell else ""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.strftime("%d/%m/%Y")
    if isinstance(cell, dt.date):
        return cell.strftime("%d/%m/%Y")
    return nfc(str(cell))


# ---------------------------------------------------------------- dates

_DMY = re.compile(r"^(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4}|\d{2})$")
_YMD = re.compile(r"^(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})(?:[ t].*)?$")
_MY = re.compile(r"^(\d{1,2})\s*[/\-.]\s*(\d{4})$")
_WORDS = re.compile(r"^(?:ngay\s*)?(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})$")


def _make(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError("invalid_date", _("Ngày không có thật: %(d)02d/%(m)02d/%(y)s.")
                        % {"d": day, "m": month, "y": year}) from None


def parse_date(cell: Any, *, today: dt.date) -> tuple[dt.date, str]:
    """(date, precision). Accepts dd/mm/yyyy, d/m/yy, dd-mm-yyyy, yyyy-mm-dd, mm/yyyy, a year alone,
    Excel serial numbers and real date cells."""
    if isinstance(cell, dt.datetime):
        return cell.date(), BirthPrecision.DAY
    if isinstance(cell, dt.date):
        return cell, BirthPrecision.DAY
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        number = float(cell)
        if number.is_integer() and 1900 <= number <= today.year:
            return dt.date(int(number), 1, 1), BirthPrecision.YEAR
        if 1 <= number < 2958466:
            return EXCEL_EPOCH + dt.timedelta(days=int(number)), BirthPrecision.DAY
        raise CellError("invalid_date", _("Ngày sinh không hợp lệ: %(v)s.") % {"v": cell_text(cell)})
    text = fold_words(str(cell)) if re.search(r"[^\d/\-.\s:tT]", str(cell)) else str(cell).strip()
    if m := _DMY.match(text):
        day, month, year = int(m[1]), int(m[2]), m[3]
        y = int(year)
        if len(year) == 2:
            y = 2000 + y if 2000 + y <= today.year else 1900 + y
        return _make(y, month, day), BirthPrecision.DAY
    if m := _YMD.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3])), BirthPrecision.DAY
    if m := _MY.match(text):
        return _make(int(m[2]), int(m[1]), 1), BirthPrecision.MONTH
    if re.fullmatch(r"\d{4}", text) and 1900 <= int(text) <= today.year:
        return dt.date(int(text), 1, 1), BirthPrecision.YEAR
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        return EXCEL_EPOCH + dt.timedelta(days=int(float(text))), BirthPrecision.DAY
    if m := _WORDS.match(text):
        return _make(int(m[3]), int(m[2]), int(m[1])), BirthPrecision.DAY
    raise CellError("invalid_date", _("Không đọc được ngày sinh \"%(v)s\" (viết dd/mm/yyyy).") % {"v": str(cell)[:40]})


def format_birth(day: dt.date, precision: str) -> str:
    """How the export writes a birth date, so that the import reads the same precision back."""
    if precision == BirthPrecision.YEAR:
        return str(day.year)
    if precision == BirthPrecision.MONTH:
        return day.strftime("%m/%Y")
    return day.strftime("%d/%m/%Y")


# ---------------------------------------------------------------- small vocabularies

_MARKS = {"x", "v", "1", "co", "yes", "true", "√", "✓", "✔", "+", "có"}


def is_mark(cell: Any) -> bool:
    if cell is True:
        return True
    return fold_words(cell_text(cell)) in _MARKS or cell_text(cell).strip() in _MARKS


_SEX = {"nam": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE, "1": Sex.MALE, "trai": Sex.MALE, "be trai": Sex.MALE,
        "nu": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE, "0": Sex.FEMALE, "2": Sex.FEMALE,
        "gai": Sex.FEMALE, "be gai": Sex.FEMALE}


def parse_sex(cell: Any) -> str:
    key = fold_words(cell_text(cell))
    if key in _SEX:
        return _SEX[key]
    raise CellError("invalid_sex", _("Giới tính phải là Nam hoặc Nữ (nhận được: %(v)s).") % {"v": cell_text(cell)[:20]})


def parse_sex_marks(male: Any, female: Any) -> str:
    m, f = is_mark(male), is_mark(female)
    if m and not f:
        return Sex.MALE
    if f and not m:
        return Sex.FEMALE
    raise CellError("invalid_sex", _("Đánh dấu x vào đúng một trong hai cột Nam, Nữ."))


_POOR = {"hn", "ho ngheo", "ngheo", "x", "hộ nghèo", "poor"}
_NEAR = {"cn", "hcn", "can ngheo", "ho can ngheo", "near poor"}
_NONE = {"khong", "0", "-", "k", "no", "none", "binh thuong"}


def parse_poverty(cell: Any) -> str | None:
    key = fold_words(cell_text(cell))
    if not key:
        return None
    if key in _NEAR or "can ngheo" in key:
        return PovertyStatus.NEAR_POOR
    if key in _POOR or "ngheo" in key:
        return PovertyStatus.POOR
    if key in _NONE:
        return PovertyStatus.NONE
    raise CellError("invalid_poverty", _("Không hiểu phân loại hộ \"%(v)s\" (dùng Hộ nghèo, Hộ cận nghèo, HN, CN).")
                    % {"v": cell_text(cell)[:30]})


def format_poverty(status: str | None) -> str:
    labels: dict[str, str] = {PovertyStatus.POOR: "Hộ nghèo", PovertyStatus.NEAR_POOR: "Hộ cận nghèo"}
    return labels.get(status or "", "")


_LEVELS = [("mam non", SchoolLevel.PRESCHOOL), ("mau giao", SchoolLevel.PRESCHOOL), ("nha tre", SchoolLevel.PRESCHOOL),
           ("tieu hoc", SchoolLevel.PRIMARY), ("thcs", SchoolLevel.LOWER_SECONDARY),
           ("trung hoc co so", SchoolLevel.LOWER_SECONDARY), ("thpt", SchoolLevel.UPPER_SECONDARY),
           ("trung hoc pho thong", SchoolLevel.UPPER_SECONDARY), ("nghe", SchoolLevel.VOCATIONAL),
           ("cao dang", SchoolLevel.HIGHER), ("dai hoc", SchoolLevel.HIGHER)]


def parse_schooling(cell: Any) -> tuple[str, str]:
    """(schooling, school level)."""
    key = fold_words(cell_text(cell))
    if not key or key in ("chua ro", "khong ro"):
        return Schooling.UNKNOWN, ""
    if "bo hoc" in key or "nghi hoc" in key or "thoi hoc" in key:
        return Schooling.DROPPED_OUT, ""
    if "chua den tuoi" in key or "chua di hoc" in key or "chua hoc" in key:
        return Schooling.NOT_SCHOOL_AGE, ""
    level = next((lv for word, lv in _LEVELS if re.search(rf"\b{word}\b", key)), "")
    if not level and (m := re.search(r"\blop (\d{1,2})\b", key)):
        grade = int(m[1])
        level = (SchoolLevel.PRIMARY if grade <= 5 else SchoolLevel.LOWER_SECONDARY if grade <= 9
                 else SchoolLevel.UPPER_SECONDARY)
    if level or "di hoc" in key or "dang hoc" in key or key in ("x", "co", "1"):
        return Schooling.IN_SCHOOL, level
    raise CellError("invalid_schooling", _("Không hiểu tình trạng đi học \"%(v)s\".") % {"v": cell_text(cell)[:40]})


def format_schooling(schooling: str, level: str) -> str:
    if schooling == Schooling.IN_SCHOOL and level:
        return f"{Schooling(schooling).label} - {SchoolLevel(level).label}"
    if schooling == Schooling.UNKNOWN:
        return ""
    return str(Schooling(schooling).label)


def parse_disability(cell: Any) -> str:
    key = fold_words(cell_text(cell))
    if not key or key in _NONE:
        return Disability.NONE
    if "dac biet nang" in key:
        return Disability.PARTICULARLY_SEVERE
    if "nang" in key:
        return Disability.SEVERE
    if key in _MARKS or "nhe" in key or "khuyet tat" in key or key in ("co", "kt"):
        return Disability.DISABLED
    raise CellError("invalid_disability", _("Không hiểu mức độ khuyết tật \"%(v)s\".") % {"v": cell_text(cell)[:40]})


def format_disability(value: str) -> str:
    return "" if value == Disability.NONE else str(Disability(value).label)


_RELATIONSHIPS = [("nguoi nhan cham soc thay the", Guardian.Relationship.FOSTER),
                  ("cham soc thay the", Guardian.Relationship.FOSTER), ("cha", Guardian.Relationship.FATHER),
                  ("bo", Guardian.Relationship.FATHER), ("me", Guardian.Relationship.MOTHER),
                  ("ong", Guardian.Relationship.GRANDPARENT), ("ba", Guardian.Relationship.GRANDPARENT),
                  ("anh", Guardian.Relationship.SIBLING), ("chi", Guardian.Relationship.SIBLING),
                  ("co", Guardian.Relationship.RELATIVE), ("chu", Guardian.Relationship.RELATIVE),
                  ("bac", Guardian.Relationship.RELATIVE), ("di", Guardian.Relationship.RELATIVE),
                  ("cau", Guardian.Relationship.RELATIVE), ("ho hang", Guardian.Relationship.RELATIVE)]


def parse_relationship(cell: Any) -> str:
    key = fold_words(cell_text(cell))
    if not key:
        return Guardian.Relationship.OTHER
    for word, rel in _RELATIONSHIPS:
        if key == word or key.startswith(word + " "):
            return rel
    return Guardian.Relationship.OTHER


def parse_personal_id(cell: Any) -> tuple[str, str | None]:
    """(the ID as 12 digits when it can be, a warning). Excel drops the leading 0 of a numeric cell
    (Kon Tum's IDs start with 062), so an 11-digit number gets it back, with a warning."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if float(cell).is_integer():
            text = str(int(cell))
            if len(text) == 11:
                return "0" + text, _("Số định danh bị mất số 0 ở đầu (ô kiểu số); đã thêm lại.")
            return text, None
        return cell_text(cell), None
    return re.sub(r"[\s.'’`-]", "", str(cell or "")), None


# ---------------------------------------------------------------- code tables

def _compact(text: str) -> str:
    return fold_words(text).replace(" ", "")


@dataclass
class CodeTables:
    """Ethnicities, groups and risk factors keyed by every way lists write them (loaded once per import)."""

    ethnicity: dict[str, int] = field(default_factory=dict)
    ethnicity_name: dict[int, str] = field(default_factory=dict)
    groups: dict[str, SpecialGroup] = field(default_factory=dict)
    group_names: list[tuple[str, SpecialGroup]] = field(default_factory=list)
    risks: dict[str, RiskFactor] = field(default_factory=dict)
    risk_names: list[tuple[str, RiskFactor]] = field(default_factory=list)

    @classmethod
    def load(cls) -> CodeTables:
        t = cls()
        for e in Ethnicity.objects.all():
            t.ethnicity_name[e.pk] = e.name
            t.ethnicity[e.code] = e.pk
            t.ethnicity[str(int(e.code))] = e.pk
            for name in [e.name, *e.aliases]:
                t.ethnicity[_compact(name)] = e.pk
        for g in SpecialGroup.objects.select_related("parent"):
            t.groups[g.code] = g
            t.group_names.append((fold_words(g.name), g))
        for r in RiskFactor.objects.filter(active=True):
            t.risks[r.code] = r
            t.risk_names.append((fold_words(r.name), r))
        return t

    def parse_ethnicity(self, cell: Any) -> int | None:
        text = cell_text(cell)
        if not text:
            return None
        key = _compact(text)
        for candidate in (text, key, key.removeprefix("dantoc")):
            if candidate in self.ethnicity:
                return self.ethnicity[candidate]
        raise CellError("unknown_ethnicity", _("Không có dân tộc \"%(v)s\" trong danh mục 54 dân tộc.") % {"v": text[:40]})

    @staticmethod
    def _split(cell: Any) -> list[str]:
        return [p.strip() for p in re.split(r"[;\n,]+", cell_text(cell)) if p.strip()]

    def parse_groups(self, cell: Any) -> list[SpecialGroup]:
        out: list[SpecialGroup] = []
        for part in self._split(cell):
            key = fold_words(part)
            code = re.sub(r"^(nhom|n)\s*", "", key).replace(" ", ".")
            group = self.groups.get(code)
            if group is None:
                exact = [g for name, g in self.group_names if name == key]
                found = exact or [g for name, g in self.group_names if key and key in name and len(key) >= 6]
                top = {(g.parent or g).pk for g in found}
                if len(found) == 1 or (exact and len(exact) == 1):
                    group = found[0]
                elif len(top) == 1 and found:
                    group = next(g for g in found if g.parent_id is None) if any(
                        g.parent_id is None for g in found) else found[0]
            if group is None:
                raise CellError("unknown_group", _("Không hiểu nhóm hoàn cảnh đặc biệt \"%(v)s\" (dùng số nhóm 1–14, "
                                                   "ví dụ 4 hoặc 4.2, hoặc tên nhóm).") % {"v": part[:40]})
            if group not in out:
                out.append(group)
        return out

    def parse_risks(self, cell: Any) -> tuple[list[RiskFactor], str | None]:
        out: list[RiskFactor] = []
        warning = None
        for part in self._split(cell):
            key = fold_words(part)
            factor = self.risks.get(part) or next((r for name, r in self.risk_names if name == key), None) or next(
                (r for name, r in self.risk_names if len(key) >= 6 and key in name), None)
            if factor is None:
                if is_mark(part):
                    warning = _("Cột nguy cơ chỉ đánh dấu, không nêu yếu tố nguy cơ: chưa ghi nhận.")
                    continue
                raise CellError("unknown_risk", _("Không hiểu yếu tố nguy cơ \"%(v)s\".") % {"v": part[:40]})
            if factor not in out:
                out.append(factor)
        return out, warning


# ---------------------------------------------------------------- units

class UnitResolver:
    """Commune names and codes within the user's scope → the commune in force today.

    "Xã Hà Mòn", "Ha Mon", "23509": with or without the type, with or without diacritics. A legacy
    commune goes to today's unit through the crosswalk; a split one needs a choice (`choices`, keyed
    by the folded name, from the web preview) or the row is reported with the candidates.
    """

    def __init__(self, user, *, default: AdminUnit | None = None, choices: dict[str, int] | None = None,
                 today: dt.date | None = None):
        self.scope = scope_for(user)
        self.today = today or timezone.localdate()
        self.default = default
        self.choices = {k: int(v) for k, v in (choices or {}).items()}
        self.cache: dict[tuple[str, str], AdminUnit | CellError] = {}

    @staticmethod
    def choice_key(text: str) -> str:
        return fold_words(text)

    def _current(self, units: list[AdminUnit], label: str) -> AdminUnit:
        current: dict[int, AdminUnit] = {}
        for unit in units:
            for now in unit_current(unit):
                current.setdefault(now.pk, now)
        if len(current) == 1:
            return next(iter(current.values()))
        chosen = self.choices.get(self.choice_key(label))
        if chosen in current:
            return current[chosen]
        raise CellError("unit_split", _("Xã/phường \"%(v)s\" nay thuộc nhiều đơn vị (%(c)s): hãy chọn đơn vị.")
                        % {"v": label, "c": ", ".join(f"{u.name} ({u.ref})" for u in current.values())},
                        candidates=[{"id": u.pk, "name": u.name, "ref": u.ref} for u in current.values()])

    def _reachable(self, unit: AdminUnit) -> bool:
        """In scope itself, or (a legacy commune) through today's unit it became."""
        return self.scope.sees_unit(unit.pk) or any(self.scope.sees_unit(u.pk) for u in unit_current(unit))

    def _pick(self, units: list[AdminUnit], label: str) -> AdminUnit:
        mine = [u for u in units if self._reachable(u)]
        if not mine:
            if units:
                raise CellError("out_of_scope", _("Xã/phường \"%(v)s\" nằm ngoài phạm vi của bạn.") % {"v": label})
            raise CellError("unknown_unit", _("Không tìm thấy xã/phường \"%(v)s\".") % {"v": label})
        # A name in force today means today's unit; only a name that no longer exists is read as a
        # legacy commune ("Thị trấn Đăk Hà", "Xã Hà Mòn") and followed through the crosswalk.
        now = [u for u in mine if u.valid_on(self.today)]
        return self._current(now or mine, label)

    def _by_code(self, code: str) -> AdminUnit:
        version, _sep, bare = code.rpartition(":")
        units = AdminUnit.objects.filter(code=bare.strip(), level=Level.COMMUNE)
        if version:
            units = units.filter(version=version.strip())
        return self._pick(list(units.order_by("-version")), code)

    def _by_name(self, name: str) -> AdminUnit:
        key, words = unit_key(name), fold_words(name)
        units = list(AdminUnit.objects.filter(search_key=key, level=Level.COMMUNE))
        if words != key:
            typed = [u for u in units if fold_words(u.name) == words]
            units = typed or units
        return self._pick(units, name)

    def resolve(self, name: str, code: str) -> AdminUnit:
        if not code and re.fullmatch(r"(?:(?:legacy|2025)\s*:\s*)?\d{3,5}", name.strip()):
            name, code = "", name.strip()  # a code written in the name column
        cache_key = (name, code)
        if cache_key not in self.cache:
            try:
                if code:
                    result: AdminUnit | CellError = self._by_code(code)
                elif name:
                    result = self._by_name(name)
                elif self.default is not None:
                    result = self._current([self.default], self.default.name) if not self.default.valid_on(
                        self.today) else self.default
                else:
                    result = self._only_commune()
            except CellError as exc:
                result = exc
            self.cache[cache_key] = result
        result = self.cache[cache_key]
        if isinstance(result, CellError):
            raise result
        return result

    def _only_commune(self) -> AdminUnit:
        units = list(AdminUnit.objects.filter(pk__in=self.scope.unit_ids, level=Level.COMMUNE))
        now = [u for u in units if u.valid_on(self.today)]
        if len(now) == 1:
            return now[0]
        raise CellError("unit_required", _("Không rõ xã/phường của trẻ: thêm cột Xã/Phường hoặc chọn một đơn vị "
                                           "cho cả tệp."))
