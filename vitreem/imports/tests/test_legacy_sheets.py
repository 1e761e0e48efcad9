"""Sheets typed whole in a legacy font (TCVN3/ABC or VNI), as many communes still keep them: titles,
header, rows, the place-and-date line and the signature lines ("Người lập biểu", "Chủ tịch") all in
the legacy encoding. The table ends at its footer (issue 15 item 1), and the preview shows the names
converted (issue 21 item 8)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import login
from vitreem.core.text import to_tcvn3, to_vni
from vitreem.imports.services import import_create
from vitreem.registry.models import Child

from .conftest import years_ago
from .files import csv_bytes, xls, xlsx

NAMES = ["Phạm Mỹ Hương", "Nguyễn Thị Hoà", "Trần Văn Đức"]


def legacy_sheet(encode) -> list[list]:
    born = years_ago(6).strftime("%d/%m/%Y")
    return [
        [encode("ỦY BAN NHÂN DÂN XÃ ĐĂK HÀ"), "", "", "", ""],
        ["", encode("DANH SÁCH TRẺ EM CÓ HOÀN CẢNH ĐẶC BIỆT NĂM 2024"), "", "", ""],
        ["", "", "", "", ""],
        [encode("STT"), encode("Họ và tên"), encode("Ngày sinh"), encode("Giới tính"), encode("Thôn")],
        [1, encode(NAMES[0]), born, encode("Nữ"), encode("Thôn Kon Gung")],
        [2, encode(NAMES[1]), born, encode("Nữ"), encode("Thôn 1")],
        [3, encode(NAMES[2]), born, encode("Nam"), encode("Thôn 2")],
        ["", "", "", "", ""],
        ["", encode("Tổng số: 3 trẻ"), "", "", ""],
        ["", "", "", encode("Đăk Hà, ngày 15 tháng 3 năm 2024"), ""],
        ["", encode("Người lập biểu"), "", encode("Chủ tịch UBND xã"), ""],
        ["", encode("(Ký, ghi rõ họ tên)"), "", encode("(Ký tên, đóng dấu)"), ""],
        ["", "", "", "", ""],
        ["", encode("Lê Thị Lan"), "", encode("Nguyễn Văn Bình"), ""],
    ]


def _tcvn3(text: str) -> str:
    """TCVN3 (ABC) has no codes for capitals with tone marks: titles are typed in lower case with the
    capitals font (.VnTimeH), which shows the same codes as capitals."""
    try:
        return to_tcvn3(text)
    except ValueError:
        return to_tcvn3(text.lower())


ENCODINGS = {"tcvn3": _tcvn3, "vni": to_vni}
FORMATS = {"xlsx": xlsx, "xls": xls, "csv": lambda rows: csv_bytes(rows, encoding="cp1252")}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_legacy_sheet_is_read_to_the_end_of_its_table(worker_a, units, run_import, encoding, fmt):
    rows = legacy_sheet(ENCODINGS[encoding])
    _b, r = run_import(worker_a, f"ds.{fmt}", FORMATS[fmt](rows), unit=units.commune_a_2025)
    assert r["errors"] == [], r["errors"]
    assert r["encoding"] == encoding
    assert r["rows"] == 3 and r["created"] == 3
    assert sorted(Child.objects.values_list("full_name", flat=True)) == sorted(NAMES)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_footer_alone_each_kind_ends_the_table(worker_a, units, run_import, encoding):
    """Each kind of footer line, alone after the rows, ends the table (none is read as a child)."""
    encode = ENCODINGS[encoding]
    base = legacy_sheet(encode)[:7]
    for footer in (["", encode("Người lập biểu"), "", "", ""], ["", "", "", encode("Chủ tịch UBND xã"), ""],
                   ["", encode("Đăk Hà, ngày 15 tháng 3 năm 2024"), "", "", ""],
                   [encode("TM. ỦY BAN NHÂN DÂN"), "", "", "", ""],
                   ["", encode("Xác nhận của UBND xã"), "", "", ""]):
        Child.objects.all().delete()
        _b, r = run_import(worker_a, "ds.xlsx", xlsx([*base, footer, ["", encode("Lê Thị Lan"), "", "", ""]]),
                           unit=units.commune_a_2025)
        assert r["errors"] == [] and r["rows"] == 3, (footer, r["errors"])


def test_the_preview_shows_legacy_names_converted(worker_a, units, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    batch = import_create(actor=worker_a, filename="ds.xlsx", content=xlsx(legacy_sheet(_tcvn3)),
                          default_unit=units.commune_a_2025)
    html = login(worker_a).get(reverse("imports:preview", args=[batch.pk])).content.decode()
    for name in NAMES:
        assert name in html
    assert to_tcvn3(NAMES[0]) not in html  # "Ph¹m Mü H­¬ng"
    assert "Thôn Kon Gung" in html and "Người lập biểu" not in html
