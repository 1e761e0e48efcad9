"""A small file whose used range is huge (issue 20 item 2): refused by the cells it holds, before a reader
builds the grid, with a message naming the sheet and the far cell; the background import has a time
and a memory limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import login
from vitreem.core.jobs import JobLimitExceeded, job_limits
from vitreem.imports.bounds import sheet_extents
from vitreem.imports.models import ImportBatch
from vitreem.imports.reading import ReadError, read_sheets

from .files import xlsx


def sparse_xlsx(path: Path, *, row: int = 2000, col: int = 16384) -> Path:
    """Cells A1 and XFD2000 (the attack: 5 KB on disk, 32 million cells of used range)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Danh sách")
    ws.write_string(0, 0, "Họ và tên")
    ws.write_string(row - 1, col - 1, "x")
    # Formatted but empty cells far away hold nothing: the reader leaves them out, so do we.
    ws.write_blank(4999, 16000, None, wb.add_format({"bold": True}))
    wb.close()
    return path


def repeated_ods(path: Path) -> Path:
    """One value repeated 16,000 columns × 2,000 rows in 1.4 KB (50 s and 3.9 GB in the reader)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        '<office:spreadsheet><table:table table:name="Trang 1"><table:table-row><table:table-cell '
        'office:value-type="string"><text:p>Họ và tên</text:p></table:table-cell></table:table-row>'
        '<table:table-row table:number-rows-repeated="2000"><table:table-cell table:number-columns-repeated="16000" '
        'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table>'
        '</office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
    return path


# Read a file in a fresh process and report its peak memory, so the figure is the reader's alone.
_PROBE = """
import json, resource, sys, django
django.setup()
from vitreem.imports.reading import ReadError, read_sheets
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_sheets(sys.argv[1]); outcome = "read"
except ReadError as exc:
    outcome = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "grew_mb": (after - before) / 1024}))
"""


def _probe(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=300,  # noqa: S603
                          check=True, env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin",
                                           "DATABASE_URL": "sqlite:///:memory:"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_used_range_is_measured_by_the_cells_present(tmp_path):
    [extent] = sheet_extents(sparse_xlsx(tmp_path / "a.xlsx"), ".xlsx")
    assert (extent.sheet, extent.rows, extent.columns, extent.far_cell) == ("Danh sách", 2000, 16384, "XFD2000")
    [ods] = sheet_extents(repeated_ods(tmp_path / "b.ods"), ".ods")
    assert (ods.sheet, ods.rows, ods.columns) == ("Trang 1", 2001, 16000)
    ordinary = tmp_path / "c.xlsx"
    ordinary.write_bytes(xlsx([["Họ và tên", "Ngày sinh"], ["An", "01/02/2015"], ["Bình", ""]]))
    [small] = sheet_extents(ordinary, ".xlsx")
    assert (small.rows, small.columns) == (3, 2)


@pytest.mark.parametrize("maker,suffix,cell", [(sparse_xlsx, ".xlsx", "XFD2000"), (repeated_ods, ".ods", "WQJ2001")])
def test_a_sparse_bomb_is_refused_without_the_memory(tmp_path, maker, suffix, cell):
    path = maker(tmp_path / f"bomb{suffix}")
    assert path.stat().st_size < 10_000
    with pytest.raises(ReadError) as caught:
        read_sheets(path)
    message = str(caught.value)
    assert cell in message and "vượt giới hạn" in message and "xoá các ô thừa" in message
    # In a process of its own the refusal costs next to nothing (the grid was 1 GB for the .xlsx and
    # 3.9 GB for the .ods); an ordinary file read the same way is the baseline.
    ordinary = tmp_path / "ok.xlsx"
    ordinary.write_bytes(xlsx([["Họ và tên", "Ngày sinh"], *[[f"Trẻ {i}", "01/02/2015"] for i in range(200)]]))
    bomb, baseline = _probe(path), _probe(ordinary)
    assert cell in bomb["outcome"] and baseline["outcome"] == "read"
    assert bomb["grew_mb"] < baseline["grew_mb"] + 50, (bomb, baseline)


def test_the_limit_is_configured(tmp_path, settings):
    path = tmp_path / "wide.xlsx"
    path.write_bytes(xlsx([["Họ và tên", *[f"c{i}" for i in range(40)]], ["An", *range(40)]]))
    assert read_sheets(path)[0][0].rows[1][:2] == ["An", 0.0]
    settings.VITREEM_IMPORT_MAX_COLUMNS = 30
    with pytest.raises(ReadError, match="AO1"):
        read_sheets(path)


def test_the_upload_of_a_bomb_is_refused_on_its_preview(worker_a, units, tmp_path):
    client = login(worker_a)
    data = sparse_xlsx(tmp_path / "bomb.xlsx").read_bytes()
    response = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile("ds.xlsx", data)})
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "XFD2000" in html and "Danh sách" in html
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED


def test_a_background_job_has_a_memory_limit():
    with pytest.raises(JobLimitExceeded, match="bộ nhớ"), job_limits(memory_mb=100):
        block = bytearray(400 * 1024 * 1024)
        block[-1] = 1
    # The limit is lifted after the job: the same allocation works.
    assert len(bytearray(400 * 1024 * 1024)) == 400 * 1024 * 1024


def test_a_background_job_has_a_time_limit():
    started = time.monotonic()
    with pytest.raises(JobLimitExceeded, match="giây"), job_limits(seconds=0.5):
        while time.monotonic() - started < 30:
            time.sleep(0.05)


# ---------------------------------------------------------------- rejected uploads (issue 20 item 12)

def _stored(tmp_path) -> list[Path]:
    return [p for p in (tmp_path / "media").rglob("*") if p.is_file()]


def test_a_refused_or_unreadable_upload_leaves_no_file(worker_a, units, tmp_path):
    client = login(worker_a)
    for name, data in [("bomb.xlsx", sparse_xlsx(tmp_path / "bomb.xlsx").read_bytes()),
                       ("hong.xlsx", b"PK\x03\x04 not really a spreadsheet" * 1000)]:
        response = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 302
        assert len(_stored(tmp_path)) == 1  # kept for its preview
        page = client.get(response["Location"])
        assert page.status_code == 200 and page.context["read_error"]
        assert _stored(tmp_path) == []
        batch = ImportBatch.objects.get(filename=name)
        assert batch.status == ImportBatch.Status.FAILED and not batch.file
        assert batch.result["message"] == page.context["read_error"]


def test_the_command_line_import_of_a_bomb_leaves_no_file(worker_a, units, tmp_path, run_import):
    with pytest.raises(ReadError):
        run_import(worker_a, "bomb.xlsx", sparse_xlsx(tmp_path / "bomb.xlsx").read_bytes())
    assert _stored(tmp_path) == []
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_pending_uploads_have_a_quota_per_user(worker_a, worker_b, units, settings, tmp_path):
    settings.VITREEM_IMPORT_PENDING_PER_USER = 2
    data = xlsx([["Họ và tên", "Ngày sinh"], ["An", "01/02/2015"]])
    client = login(worker_a)
    for _i in range(2):
        assert client.post(reverse("imports:upload"), {"file": SimpleUploadedFile("ds.xlsx", data)}).status_code == 302
    refused = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile("ds.xlsx", data)})
    assert refused.status_code == 400
    assert "tối đa 2" in refused.content.decode()
    assert ImportBatch.objects.filter(owner=worker_a).count() == 2 and len(_stored(tmp_path)) == 2
    # Another user has a quota of her own.
    assert login(worker_b).post(reverse("imports:upload"), {"file": SimpleUploadedFile("ds.xlsx", data)}).status_code == 302
    # Dropping one deletes its file and frees a place.
    first = ImportBatch.objects.filter(owner=worker_a).order_by("id").first()
    assert login(worker_b).post(reverse("imports:drop", args=[first.pk])).status_code == 404
    assert client.post(reverse("imports:drop", args=[first.pk])).status_code == 302
    first.refresh_from_db()
    assert first.status == ImportBatch.Status.FAILED and not first.file and len(_stored(tmp_path)) == 2
    assert client.post(reverse("imports:upload"), {"file": SimpleUploadedFile("ds.xlsx", data)}).status_code == 302
