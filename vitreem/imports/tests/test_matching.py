"""Matching rows against the register, the round trip export → import, and the safety property."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitreem.core.models import AuditEntry
from vitreem.imports.exporting import iter_rows, write_csv, write_xlsx
from vitreem.imports.reading import ReadError
from vitreem.registry import services as reg
from vitreem.registry.models import Child, DuplicateCandidate, Guardian, Household, SpecialEpisode

from .conftest import years_ago
from .files import csv_bytes, ods, xlsx

HEAD = ["Họ và tên", "Ngày sinh", "Giới tính", "Số định danh", "Thôn/Tổ"]


def pid_for(born: dt.date, sex: str, serial: int) -> str:
    return f"062{2 + (sex == 'F')}{born.year % 100:02d}{serial:06d}"


def test_update_by_personal_id_audited_with_the_import(worker_a, units, run_import):
    born = years_ago(6)
    child = reg.child_register(actor=worker_a, unit=units.commune_a_2025, data={
        "full_name": "Nguyễn Thị Hoa", "birth_date": born, "sex": "F", "personal_id": pid_for(born, "F", 1)})
    rows = [HEAD, ["Nguyễn Thị Hoa", born, "Nữ", pid_for(born, "F", 1), "Thôn Kon Klốc"]]
    batch, r = run_import(worker_a, "ds.xlsx", xlsx(rows))
    assert (r["created"], r["updated"]) == (0, 1)
    child.refresh_from_db()
    assert child.village == "Thôn Kon Klốc" and child.version == 2
    entry = AuditEntry.objects.get(action="child.update", object_id=str(child.pk))
    assert entry.source == f"import:{batch.pk}" and entry.changes["village"] == ["", "Thôn Kon Klốc"]


def test_update_by_name_and_birth_date(worker_a, units, run_import):
    born = years_ago(4)
    child = reg.child_register(actor=worker_a, unit=units.commune_a_2025,
                               data={"full_name": "Y Nhung", "birth_date": born, "sex": "F"})
    _b, r = run_import(worker_a, "ds.xlsx", xlsx([[*HEAD, "Nhóm HCĐB"], ["Y Nhung", born, "Nữ", "", "", "4.2"]]))
    assert (r["created"], r["updated"]) == (0, 1)
    episode = SpecialEpisode.objects.get(child=child)
    assert (episode.group.code, episode.subgroup.code) == ("4", "4.2")


def test_personal_id_of_a_child_outside_scope_is_refused(worker_a, worker_b, units, run_import):
    born = years_ago(6)
    reg.child_register(actor=worker_b, unit=units.commune_b_2025, data={
        "full_name": "Đinh Văn Khôi", "birth_date": born, "sex": "M", "personal_id": pid_for(born, "M", 9)})
    _b, r = run_import(worker_a, "ds.xlsx", xlsx([HEAD, ["Đinh Văn Khôi", born, "Nam", pid_for(born, "M", 9), ""]]))
    assert r["errors"][0]["code"] == "id_elsewhere" and r["written"] is False
    assert Child.objects.count() == 1


def test_uncertain_match_goes_to_review(worker_a, units, run_import):
    born = years_ago(7)
    old = reg.child_register(actor=worker_a, unit=units.commune_a_2025,
                             data={"full_name": "Nguyễn Văn Hùng", "birth_date": born, "sex": "M"})
    from vitreem.imports.engine import MATCH_SCORE, REVIEW_SCORE
    from vitreem.registry.selectors import candidates_for_new

    # Same given name, a different middle name, born a year later on the same day: maybe the same boy.
    other_birth = born.replace(year=born.year + 1)
    row = {"full_name": "Nguyễn Hữu Hùng", "name_key": "nguyen huu hung", "given_key": "hung", "birth_date": other_birth,
           "birth_precision": "day", "sex": "M", "personal_id": ""}
    [found] = candidates_for_new(row, unit=units.commune_a_2025, user=worker_a)
    assert REVIEW_SCORE <= found["score"] < MATCH_SCORE  # 0.85 when written: uncertain
    batch, r = run_import(worker_a, "ds.xlsx", xlsx([HEAD, ["Nguyễn Hữu Hùng", other_birth, "Nam", "", ""]]))
    assert (r["created"], r["review"]) == (1, 1)
    pair = DuplicateCandidate.objects.get()
    assert pair.child_b == old and pair.source == f"import:{batch.pk}" and pair.status == "open"


def test_duplicate_rows_within_a_file(worker_a, units, run_import):
    born = years_ago(3)
    _b, r = run_import(worker_a, "ds.xlsx", xlsx([HEAD, ["Y Hơn", born, "Nữ", "", ""], ["Y Hơn", born, "Nữ", "", ""]]),
                       unit=units.commune_a_2025)
    assert r["errors"][0]["code"] == "duplicate_in_file" and "dòng 2" in r["errors"][0]["message"]


def full_file():
    born = years_ago(9)
    header = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Số định danh cá nhân", "Thôn/Tổ dân phố",
              "Xã/Phường", "Họ tên cha/mẹ/người nuôi dưỡng", "Quan hệ với trẻ", "Hộ nghèo/cận nghèo", "Nhóm HCĐB",
              "Nguy cơ", "Tình trạng đi học", "Khuyết tật", "Ghi chú"]
    return xlsx([header,
                 [1, "A Thắng", born, "Nam", "Xơ Đăng", pid_for(born, "M", 5), "Thôn 3", "Xã Đăk Hà", "A Phơi", "Cha",
                  "HN", "1; 4.2", "Gia đình có bạo lực", "Đang đi học - Tiểu học", "Khuyết tật nặng", "ở với bà"],
                 [2, "Y Duyên", str(years_ago(2).year), "Nữ", "Ba Na", "", "Thôn 3", "Đăk Hà", "Y Liên", "Mẹ", "CN", "",
                  "", "Chưa đến tuổi đi học", "", ""],
                 [3, "Trần Minh Khang", years_ago(12).strftime("%m/%Y"), "Nam", "Kinh", "", "Tổ 2", "Đăk Hà",
                  "Trần Văn Tư", "Ông/bà", "", "", "", "Bỏ học", "", ""]])


def snapshot_registry():
    return (sorted(Child.objects.values_list("full_name", "birth_date", "birth_precision", "sex", "ethnicity_id",
                                             "personal_id", "village", "unit_id", "schooling", "school_level",
                                             "disability", "note", "version", "household_id")),
            Guardian.objects.count(), Household.objects.count(), SpecialEpisode.objects.count(),
            AuditEntry.objects.filter(object_type__startswith="registry.").count())


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_export_import_changes_nothing(worker_a, units, run_import, tmp_path, fmt):
    _b, r = run_import(worker_a, "ds.xlsx", full_file())
    assert r["errors"] == [] and r["created"] == 3, r["errors"]
    # plus a child registered through the form
    reg.child_register(actor=worker_a, unit=units.commune_a_2025,
                       data={"full_name": "Lê Thị Mơ", "birth_date": years_ago(1), "sex": "F"})
    before = snapshot_registry()
    qs = Child.objects.filter(unit=units.commune_a_2025)
    if fmt == "xlsx":
        path = tmp_path / "out.xlsx"
        write_xlsx(str(path), iter_rows(qs))
        data = path.read_bytes()
    else:
        buffer = io.StringIO()
        write_csv(buffer, iter_rows(qs))
        data = buffer.getvalue().encode("utf-8")
    _b, r = run_import(worker_a, f"out.{fmt}", data)
    assert r["errors"] == [] and {w["code"] for w in r["warnings"]} <= {"year_only"}
    assert (r["rows"], r["created"], r["updated"], r["unchanged"]) == (4, 0, 0, 4), (r, list(Child.objects.values_list("full_name", "birth_date", "source")))
    assert snapshot_registry() == before
    thang = Child.objects.get(full_name="A Thắng")
    assert thang.household.poverty.get(year=timezone.localdate().year).status == "poor"
    assert thang.risks.get().factor.code == "domestic_violence"


# ---------------------------------------------------------------- safety property

def _import_bytes(user, name, data):
    from vitreem.imports.services import import_create, import_execute

    batch = import_create(actor=user, filename=name, content=data)
    try:
        return import_execute(actor=user, batch=batch)
    except ReadError:
        return None


SAFE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@SAFE
@given(data=st.binary(min_size=1, max_size=4000), suffix=st.sampled_from([".xlsx", ".xls", ".ods", ".csv"]))
def test_random_bytes_never_crash_nor_write(worker_a, units, data, suffix):
    _import_bytes(worker_a, "x" + suffix, data)
    assert Child.objects.count() == 0


@SAFE
@given(cut=st.floats(min_value=0.05, max_value=0.95), kind=st.sampled_from(["xlsx", "ods"]))
def test_truncated_files_never_crash_nor_write(worker_a, units, cut, kind):
    rows = [HEAD, ["Nguyễn Văn A", years_ago(3), "Nam", "", ""], ["Nguyễn Văn B", years_ago(4), "Nam", "", "x" * 500]]
    data = xlsx(rows) if kind == "xlsx" else ods(rows)
    _import_bytes(worker_a, "t." + kind, data[: max(1, int(len(data) * cut))])
    assert Child.objects.count() == 0


@SAFE
@given(cells=st.lists(st.one_of(st.text(max_size=3000), st.integers(), st.floats(allow_nan=True), st.none()),
                      min_size=5, max_size=5),
       size=st.integers(min_value=0, max_value=40000))
def test_odd_and_huge_cells_never_crash(worker_a, units, cells, size):
    """A row of anything after a real header: it may be valid or not, but nothing crashes, and an
    invalid row writes nothing."""
    cells = list(cells)
    cells[4] = "y" * size
    result = _import_bytes(worker_a, "h.csv", csv_bytes([HEAD, cells]))
    if result is not None and not result["written"]:
        assert Child.objects.filter(source__startswith="import:").count() == 0
    Child.objects.all().delete()


def test_child_with_a_flagged_id_is_still_updated_by_an_import(worker_a, units, run_import):
    """A personal ID that contradicts the birth year is flagged at import, not refused, and the next
    list can still update that child (child_update keeps the import's non-strict ID rule)."""
    born = years_ago(6)
    wrong = pid_for(born.replace(year=born.year - 1), "F", 3)  # the ID says a year earlier
    _b, first = run_import(worker_a, "ds.xlsx", xlsx([HEAD, ["Lê Thị Mai", born, "Nữ", wrong, ""]]))
    assert first["created"] == 1 and any(w["code"] == "id_mismatch" for w in first["warnings"])
    child = Child.objects.get()
    assert child.personal_id_mismatch is True
    _b, second = run_import(worker_a, "ds.xlsx", xlsx([HEAD, ["Lê Thị Mai", born, "Nữ", wrong, "Thôn 3"]]))
    assert (second["updated"], second["invalid"], second["written"]) == (1, 0, True), second["errors"]
    child.refresh_from_db()
    assert child.village == "Thôn 3" and child.personal_id == wrong and child.personal_id_mismatch is True
    assert AuditEntry.objects.filter(action="child.update", object_id=str(child.pk)).exists()


def test_child_update_strict_id_is_the_default_and_imports_can_relax_it(worker_a, units):
    from vitreem.core.errors import ValidationFailed

    born = years_ago(5)
    wrong = pid_for(born, "M", 4)  # says a boy
    child = reg.child_register(actor=worker_a, unit=units.commune_a_2025,
                               data={"full_name": "Hồ Thị Lan", "birth_date": born, "sex": "F"})
    with pytest.raises(ValidationFailed):
        reg.child_update(actor=worker_a, child=child, data={"personal_id": wrong}, on=timezone.localdate())
    child = reg.child_update(actor=worker_a, child=child, data={"personal_id": wrong}, on=timezone.localdate(),
                             strict_id=False)
    assert child.personal_id == wrong and child.personal_id_mismatch is True


def test_chunks_written_in_the_background_match_one_chunk(worker_a, units, run_import, monkeypatch):
    """Chunks of one row: every chunk's COPYs (a writer thread on PostgreSQL) and the next chunk's
    queries take turns; siblings in later chunks share the household made in an earlier one; the
    result equals a one-chunk import, with one audit row per record made."""
    from vitreem.imports import engine
    from vitreem.registry.models import ChildRisk, HouseholdPoverty

    born = years_ago(9)
    header = ["Họ và tên", "Ngày sinh", "Giới tính", "Thôn/Tổ", "Họ tên cha/mẹ/người nuôi dưỡng", "Hộ nghèo/cận nghèo",
              "Nhóm HCĐB", "Nguy cơ"]
    rows = [header,
            ["A Thắng", born, "Nam", "Thôn 3", "A Phơi", "HN", "1; 4.2", "Gia đình có bạo lực"],
            ["Y Duyên", years_ago(4), "Nữ", "Thôn 3", "A Phơi", "HN", "", ""],
            ["Y Hoa", years_ago(6), "Nữ", "Thôn 3", "A Phơi", "HN", "", ""],
            ["Trần Minh Khang", years_ago(12), "Nam", "Tổ 2", "Trần Văn Tư", "CN", "", "Gia đình có bạo lực"]]
    monkeypatch.setattr(engine, "CHUNK", 1)
    batch, r = run_import(worker_a, "ds.xlsx", xlsx(rows), unit=units.commune_a_2025)
    assert r["errors"] == [] and (r["created"], r["written"]) == (4, True), r
    assert Household.objects.count() == 2 and HouseholdPoverty.objects.count() == 2
    assert Child.objects.filter(household__head_name="A Phơi").count() == 3
    assert SpecialEpisode.objects.count() == 2 and ChildRisk.objects.count() == 2
    actions = list(AuditEntry.objects.filter(source=f"import:{batch.pk}").values_list("action", flat=True))
    assert sorted(actions) == sorted(["child.register"] * 4 + ["household.create"] * 2
                                     + ["household.poverty_set"] * 2 + ["child.special_open"] * 2
                                     + ["child.risk_assess"] * 2 + ["import.commit"])
    before = snapshot_registry()
    _b, again = run_import(worker_a, "ds.xlsx", xlsx(rows), unit=units.commune_a_2025)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4), again
    assert snapshot_registry() == before


def test_a_failed_write_leaves_nothing(worker_a, units, run_import, monkeypatch):
    """An error while the rows are written (here: a household the database refuses, a missing head
    name) rolls the whole import back, whichever thread met it."""
    from vitreem.core import bulk

    real = bulk.Copy.flush

    def broken(self):
        if self.model is Household:
            self.rows = [(*row[:2], None, *row[3:]) for row in self.rows]  # head_name is NOT NULL
        return real(self)

    monkeypatch.setattr(bulk.Copy, "flush", broken)
    header = ["Họ và tên", "Ngày sinh", "Giới tính", "Họ tên cha/mẹ/người nuôi dưỡng", "Hộ nghèo/cận nghèo"]
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        run_import(worker_a, "ds.xlsx", xlsx([header, ["A Thắng", years_ago(9), "Nam", "A Phơi", "HN"]]),
                   unit=units.commune_a_2025)
    assert Child.objects.count() == 0 and Household.objects.count() == 0


def test_near_duplicate_rows_of_one_file_go_to_review(worker_a, units, run_import):
    """The same girl twice in one list — diacritics dropped, day and month swapped — is not refused like
    an exact repeat: both rows are written and the pair waits in the review queue."""
    born = dt.date(years_ago(6).year, 3, 11)
    rows = [HEAD, ["Y Blưm Niê", born, "Nữ", "", "Thôn 2"],
            ["Đinh Văn Tâm", years_ago(9), "Nam", "", "Thôn 2"],
            ["Y Blum Nie", born.replace(month=11, day=3), "Nữ", "", "Thôn 2"]]
    _b, dry = run_import(worker_a, "ds.xlsx", xlsx(rows), dry_run=True)
    assert (dry["created"], dry["review"], dry["invalid"]) == (3, 2, 0)
    assert not DuplicateCandidate.objects.exists() and not Child.objects.exists()

    batch, r = run_import(worker_a, "ds.xlsx", xlsx(rows))
    assert (r["created"], r["review"], r["written"]) == (3, 2, True)
    pair = DuplicateCandidate.objects.get()
    names = {pair.child_a.full_name, pair.child_b.full_name}
    assert names == {"Y Blưm Niê", "Y Blum Nie"} and pair.source == f"import:{batch.pk}" and pair.status == "open"
    assert "birth_swapped" in pair.reasons and pair.unit_id == units.commune_a_2025.pk
    flagged = {w["row"] for w in r["warnings"] if w["code"] == "duplicate_in_file_possible"}
    assert flagged == {2, 4}  # the spreadsheet's own row numbers (header on row 1)
