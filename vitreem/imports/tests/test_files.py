"""Files as communes send them: titles, merged two-row headers, legacy fonts, every format and encoding."""

import datetime as dt

import pytest

from vitreem.core.text import to_tcvn3, to_vni
from vitreem.imports.columns import guess_mapping, match_header
from vitreem.registry.models import Child

from .conftest import years_ago
from .files import csv_bytes, ods, xls, xlsx


@pytest.mark.parametrize(("header", "field"), [
    ("Họ và tên", "full_name"), ("HỌ TÊN TRẺ", "full_name"), ("Ho ten", "full_name"), ("Tên trẻ em", "full_name"),
    ("Ngày sinh", "birth_date"), ("Ngày, tháng, năm sinh", "birth_date"), ("NS", "birth_date"),
    ("Giới tính", "sex"), ("Nam/Nữ", "sex"), ("Nam", "sex_male"), ("Nữ", "sex_female"), ("Dân tộc", "ethnicity"),
    ("Thôn/Tổ", "village"), ("Xã/Phường", "unit"), ("Số định danh", "personal_id"), ("CCCD", "personal_id"),
    ("Mã định danh", "personal_id"), ("Hộ nghèo", "poor"), ("Hộ cận nghèo", "near_poor"),
    ("Hộ nghèo/cận nghèo", "poverty"), ("Hoàn cảnh đặc biệt", "special"), ("Nhóm HCĐB", "special"),
    ("Nguy cơ", "risk"), ("Họ tên cha/mẹ/người nuôi dưỡng", "guardian"), ("Họ tên cha", "father"),
    ("Tình trạng đi học", "schooling"), ("Khuyết tật", "disability"), ("Ghi chú", "note"),
    ("tên, họ và", "full_name"), ("SINH NGÀY THÁNG NĂM", "birth_date"),
])
def test_header_synonyms(header, field):
    assert match_header([header]).field == field


def test_tcvn3_header_and_guess():
    cols = [[to_tcvn3("Họ và tên")], ["Ngày sinh"], ["Giới tính"], ["Bảng tổng hợp khác"]]
    assert guess_mapping(cols) == {0: "full_name", 1: "birth_date", 2: "sex"}


def messy_rows():
    """Titles, a header over two rows (merged "Giới tính" over Nam | Nữ, merged "Hộ gia đình" over
    Hộ nghèo | Hộ cận nghèo), a row of column numbers, TCVN3 names, Excel serial dates as numbers,
    a year alone, signatures at the end."""
    born = years_ago(6)
    serial = (born - dt.date(1899, 12, 30)).days
    return [
        ["ỦY BAN NHÂN DÂN XÃ ĐĂK HÀ", "", "", "", "", "", "", ""],
        ["", "DANH SÁCH TRẺ EM CÓ HOÀN CẢNH ĐẶC BIỆT", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", ""],
        ["TT", "Họ và tên trẻ em", "Ngày tháng năm sinh", "Giới tính", "", "Dân tộc", "Hộ gia đình", ""],
        ["", "", "", "Nam", "Nữ", "", "Hộ nghèo", "Hộ cận nghèo"],
        ["1", "2", "3", "4", "5", "6", "7", "8"],
        [1, to_tcvn3("Nguyễn Thị Hoà"), serial, "", "x", "Kinh", "", "x"],
        [2, to_tcvn3("Trần Văn Đức"), born.strftime("%d-%m-%Y"), "x", "", "Ba Na", "", ""],
        [3, to_tcvn3("Lê Minh Tuấn"), str(born.year), "x", "", "Sedang", "", ""],
        ["", "", "", "", "", "", "", ""],
        ["", "Người lập biểu", "", "", "", "Chủ tịch UBND xã", "", ""],
        ["", to_tcvn3("Phạm Văn Nam"), "", "", "", "", "", ""],
    ]


MERGES = [(3, 0, 4, 0), (3, 1, 4, 1), (3, 2, 4, 2), (3, 3, 3, 4), (3, 5, 4, 5), (3, 6, 3, 7)]


def test_messy_file_with_merged_header_and_tcvn3(worker_a, units, run_import):
    _b, r = run_import(worker_a, "hcdb.xlsx", xlsx(messy_rows(), merges=MERGES), unit=units.commune_a_2025)
    assert r["errors"] == [], r["errors"]
    assert r["header_row"] == 4 and r["encoding"] == "tcvn3"
    assert r["mapping"]["Họ và tên trẻ em"] == "full_name"
    assert r["mapping"]["Giới tính / Nam"] == "sex_male" and r["mapping"]["Giới tính / Nữ"] == "sex_female"
    assert r["mapping"]["Hộ gia đình / Hộ cận nghèo"] == "near_poor"
    assert r["rows"] == 3 and r["created"] == 3
    hoa = Child.objects.get(full_name="Nguyễn Thị Hoà")
    assert hoa.sex == "F" and hoa.birth_date == years_ago(6) and hoa.birth_precision == "day"
    assert Child.objects.get(full_name="Trần Văn Đức").ethnicity.code == "13"
    tuan = Child.objects.get(full_name="Lê Minh Tuấn")
    assert tuan.birth_precision == "year" and tuan.ethnicity.code == "14"
    assert any(w["code"] == "year_only" for w in r["warnings"])
    # Near-poor needs a head of household name: a warning, not a silent household.
    assert any(w["code"] == "poverty_no_head" for w in r["warnings"])


def test_vni_names(worker_a, units, run_import):
    rows = [["Họ và tên", "Ngày sinh", "Giới tính"],
            [to_vni("Nguyễn Thị Hồng Nhung"), years_ago(3), "Nữ"], [to_vni("Phạm Đức Trường"), years_ago(4), "Nam"]]
    _b, r = run_import(worker_a, "vni.xlsx", xlsx(rows), unit=units.commune_a_2025)
    assert r["encoding"] == "vni" and r["created"] == 2
    assert Child.objects.filter(full_name="Phạm Đức Trường").exists()


def plain_rows():
    return [["Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Số định danh"],
            ["Nguyễn Thị Huyền", years_ago(4).strftime("%d/%m/%Y"), "Nữ", "Kinh", ""],
            ["Đinh Văn Lực", years_ago(9).strftime("%Y-%m-%d"), "Nam", "Xê Đăng", ""]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1258"])
def test_csv_encodings(worker_a, units, run_import, encoding):
    _b, r = run_import(worker_a, "ds.csv", csv_bytes(plain_rows(), encoding=encoding), unit=units.commune_a_2025)
    assert r["errors"] == [] and r["created"] == 2
    assert set(Child.objects.values_list("full_name", flat=True)) == {"Nguyễn Thị Huyền", "Đinh Văn Lực"}


def test_csv_semicolon(worker_a, units, run_import):
    _b, r = run_import(worker_a, "ds.csv", csv_bytes(plain_rows(), delimiter=";"), unit=units.commune_a_2025)
    assert r["created"] == 2


def test_ods(worker_a, units, run_import):
    rows = [["DANH SÁCH TRẺ EM"], [], *plain_rows()]
    rows[3][1] = years_ago(4)  # a real date cell
    _b, r = run_import(worker_a, "ds.ods", ods(rows), unit=units.commune_a_2025)
    assert r["errors"] == [], r["errors"]
    assert r["header_row"] == 3 and r["created"] == 2
    assert Child.objects.get(full_name="Nguyễn Thị Huyền").birth_date == years_ago(4)


def test_xls(worker_a, units, run_import):
    """A real .xls (BIFF8) list: titles, the messy merged two-row header, TCVN3 names, serial dates."""
    _b, r = run_import(worker_a, "hcdb.xls", xls(messy_rows(), merges=MERGES), unit=units.commune_a_2025)
    assert r["errors"] == [], r["errors"]
    assert r["header_row"] == 4 and r["encoding"] == "tcvn3" and r["created"] == 3
    assert r["mapping"]["Giới tính / Nữ"] == "sex_female"
    hoa = Child.objects.get(full_name="Nguyễn Thị Hoà")
    assert hoa.sex == "F" and hoa.birth_date == years_ago(6)


def test_xls_with_date_cells(worker_a, units, run_import):
    rows = [["DANH SÁCH TRẺ EM"], [], *plain_rows()]
    rows[3][1] = years_ago(4)  # a real date cell
    _b, r = run_import(worker_a, "ds.xls", xls(rows), unit=units.commune_a_2025)
    assert r["errors"] == [], r["errors"]
    assert r["header_row"] == 3 and r["created"] == 2
    assert Child.objects.get(full_name="Nguyễn Thị Huyền").birth_date == years_ago(4)
    assert Child.objects.get(full_name="Đinh Văn Lực").ethnicity.code == "14"


def test_sheet_choice(worker_a, units, run_import):
    data = xlsx(plain_rows(), sheet="Trẻ em", extra_sheets={"Bìa": [["BÁO CÁO"], ["Năm 2024"]]})
    _b, r = run_import(worker_a, "ds.xlsx", data, unit=units.commune_a_2025)
    assert r["sheet"] == "Trẻ em" and r["created"] == 2


def test_unknown_sheet_is_unreadable(worker_a, units, run_import):
    from vitreem.imports.reading import ReadError

    with pytest.raises(ReadError):
        run_import(worker_a, "ds.xlsx", xlsx(plain_rows()), sheet="Không có", unit=units.commune_a_2025)


def test_row_errors_name_row_column_value(worker_a, units, run_import):
    rows = [*plain_rows(),
            ["Hà Văn Mười Sáu", years_ago(16, 1, 1).strftime("%d/%m/%Y"), "Nam", "Kinh", ""],  # 16 years old
            ["Y Lan", years_ago(3).strftime("%d/%m/%Y"), "Nữ", "Người sao Hỏa", ""],  # unknown ethnicity
            ["A Tâm", "31/02/2019", "Nam", "Kinh", ""],  # no such day
            ["A Sang", years_ago(3).strftime("%d/%m/%Y"), "Không rõ", "Kinh", "12345"]]  # bad sex and ID
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(rows), unit=units.commune_a_2025)
    assert (r["invalid"], r["written"]) == (4, False)
    by_code = {(e["row"], e["code"]): e for e in r["errors"]}
    assert by_code[(4, "too_old")]["column"] == "Ngày sinh"
    assert "16 tuổi" in by_code[(4, "too_old")]["message"]
    assert by_code[(5, "unknown_ethnicity")]["value"] == "Người sao Hỏa"
    assert by_code[(6, "invalid_date")]["value"] == "31/02/2019"
    assert (7, "invalid_sex") in by_code and (7, "id_format") in by_code
    assert Child.objects.count() == 0


def test_personal_id_mismatch_is_a_flagged_warning(worker_a, units, run_import):
    born = years_ago(5)
    wrong_year = f"0623{(born.year + 1) % 100:02d}000123"  # says a year later
    rows = [["Họ và tên", "Ngày sinh", "Giới tính", "Số định danh"],
            ["Nguyễn Thị Mai", born.strftime("%d/%m/%Y"), "Nữ", wrong_year]]
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(rows), unit=units.commune_a_2025)
    assert r["created"] == 1 and r["warnings"][0]["code"] == "id_mismatch"
    assert Child.objects.get().personal_id_mismatch is True


def test_numeric_personal_id_gets_its_leading_zero(worker_a, units, run_import):
    born = years_ago(5)
    pid = f"0623{born.year % 100:02d}000777"
    rows = [["Họ và tên", "Ngày sinh", "Giới tính", "CCCD"], ["Nguyễn Thị Mai", born, "Nữ", int(pid)]]
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(rows), unit=units.commune_a_2025)
    assert r["created"] == 1 and Child.objects.get().personal_id == pid


def test_child_of_another_commune(worker_a, units, run_import):
    rows = [["Họ và tên", "Ngày sinh", "Giới tính", "Xã"],
            ["Nguyễn Văn Một", years_ago(5), "Nam", "Đăk Hà"], ["Nguyễn Văn Hai", years_ago(5), "Nam", "Xã Đăk Mar"],
            ["Nguyễn Văn Ba", years_ago(5), "Nam", "Phường Hoàn Kiếm"], ["Nguyễn Văn Bốn", years_ago(5), "Nam", "Xã Không Có"]]
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(rows))
    codes = {e["row"]: e["code"] for e in r["errors"]}
    assert codes == {3: "out_of_scope", 4: "out_of_scope", 5: "unknown_unit"}
    assert r["written"] is False


def test_legacy_commune_names_go_to_todays_unit(worker_a, units, run_import):
    rows = [["Họ và tên", "Ngày sinh", "Giới tính", "Xã/Phường"],
            ["Nguyễn Văn Một", years_ago(5), "Nam", "Thị trấn Đắk Hà"], ["Nguyễn Văn Hai", years_ago(5), "Nam", "Xã Hà Mòn"],
            ["Nguyễn Văn Ba", years_ago(5), "Nam", "xa dak ha"], ["Nguyễn Văn Bốn", years_ago(5), "Nam", "23500"]]
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(rows))
    assert r["errors"] == [], r["errors"]
    assert set(Child.objects.values_list("unit", flat=True)) == {units.commune_a_2025.pk}


def test_split_legacy_commune_is_reported_with_candidates(worker_a, units, run_import):
    from vitreem.places.models import AdminUnit, UnitSuccession

    ha_mon = AdminUnit.objects.get(version="legacy", code="23521")
    UnitSuccession.objects.create(old=ha_mon, new=units.commune_b_2025, is_default=False)
    rows = [["Họ và tên", "Ngày sinh", "Giới tính", "Xã"], ["Nguyễn Văn Một", years_ago(5), "Nam", "Xã Hà Mòn"]]
    batch, r = run_import(worker_a, "ds.xlsx", xlsx(rows))
    assert r["errors"][0]["code"] == "unit_split"
    assert "Xã Đăk Hà" in r["errors"][0]["message"] and "Xã Đăk Mar" in r["errors"][0]["message"]
    assert {c["ref"] for c in r["splits"]["Xã Hà Mòn"]} == {"2025:23500", "2025:23512"}
    # The web preview asks; the choice resolves the row.
    from vitreem.imports.services import import_execute, import_table, mapping_confirm

    table = import_table(batch)
    mapping_confirm(actor=worker_a, batch=batch, mapping=table.guessed, headers=table.headers,
                    unit_choices={"xa ha mon": units.commune_a_2025.pk})
    r = import_execute(actor=worker_a, batch=batch)
    assert r["created"] == 1 and Child.objects.get().unit == units.commune_a_2025


def test_huge_and_odd_cells_do_not_break_a_row(worker_a, units, run_import):
    rows = [["Họ và tên", "Ngày sinh", "Giới tính", "Ghi chú"],
            ["Nguyễn " * 5000, years_ago(5), "Nam", "x" * 40000], ["Trần Văn Nam", 10 ** 12, "Nam", ""]]
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(rows), unit=units.commune_a_2025)
    assert r["invalid"] == 2 and Child.objects.count() == 0
