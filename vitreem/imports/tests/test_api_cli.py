"""The API and the three commands: options, --json shape, exit statuses."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from conftest import login
from vitreem.imports.models import ImportBatch
from vitreem.registry.models import Child

from .conftest import years_ago
from .files import commune_list, xlsx

JSON_KEYS = {"file", "sheet", "header_row", "encoding", "mapping", "rows", "valid", "invalid", "created", "updated",
             "unchanged", "review", "written", "errors"}


def good_file():
    return xlsx(commune_list([["Nguyễn Văn An", years_ago(5), "Nam", "Kinh", "", "Thôn 1", "Đăk Hà", "", "", "", "", ""]]))


def bad_file():
    return xlsx(commune_list([["Nguyễn Văn An", years_ago(5), "Nam", "Kinh", "", "", "Đăk Hà", "", "", "", "", ""],
                              ["Lê Văn Già", years_ago(20), "Nam", "Kinh", "", "", "Đăk Hà", "", "", "", "", ""]]))


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_children", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_cli_json_and_exit_statuses(worker_a, units, tmp_path):
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    good.write_bytes(good_file())
    bad.write_bytes(bad_file())
    code, out, _err = run_cli(str(good), "--as", "worker_a", "--dry-run", "--json")
    result = json.loads(out)
    assert code == 0 and set(result) == JSON_KEYS and result["written"] is False and Child.objects.count() == 0
    assert result["mapping"]["Họ và tên"] == "full_name" and result["header_row"] == 4
    code, out, _err = run_cli(str(bad), "--as", "worker_a", "--json", "--errors", str(tmp_path / "err.xlsx"))
    result = json.loads(out)
    assert code == 1 and result["written"] is False and result["invalid"] == 1 and Child.objects.count() == 0
    assert set(result["errors"][0]) == {"row", "column", "value", "code", "message"}
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "err.xlsx").active
    assert list(ws.iter_rows(values_only=True))[1][0] == 6
    code, out, _err = run_cli(str(bad), "--as", "worker_a", "--json", "--valid-only")
    assert code == 0 and json.loads(out)["created"] == 1 and Child.objects.count() == 1
    code, out, _err = run_cli(str(good), "--as", "worker_a", "--json")
    result = json.loads(out)
    assert code == 0 and (result["created"], result["updated"]) == (0, 1)  # the village is new
    assert Child.objects.get().village == "Thôn 1"
    code, out, _err = run_cli(str(good), "--as", "worker_a", "--json")
    assert code == 0 and (json.loads(out)["updated"], json.loads(out)["unchanged"]) == (0, 1)
    code, out, _err = run_cli(str(bad), "--as", "worker_a", "--dry-run")
    assert code == 1 and "dòng 6" in out


def test_cli_unreadable_and_no_table(worker_a, units, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really")
    code, out, err = run_cli(str(junk), "--as", "worker_a", "--json")
    assert code == 2 and json.loads(out)["errors"][0]["code"] == "no_table" and "Không đọc được" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b,c\n1,2,3\n")
    code, _out, err = run_cli(str(empty), "--as", "worker_a")
    assert code == 2 and "Không tìm thấy bảng" in err
    code, _out, _err = run_cli(str(tmp_path / "missing.xlsx"), "--as", "worker_a")
    assert code == 2


def test_cli_unit_and_sheet_and_scope(worker_a, worker_b, units, tmp_path):
    f = tmp_path / "ds.xlsx"
    f.write_bytes(xlsx([["Họ và tên", "Ngày sinh", "Giới tính"], ["Y Nhi", years_ago(2), "Nữ"]], sheet="T1",
                       extra_sheets={"Khác": [["x"]]}))
    code, out, _ = run_cli(str(f), "--as", "worker_a", "--unit", "23500", "--sheet", "T1", "--json")
    assert code == 0 and json.loads(out)["sheet"] == "T1"
    assert Child.objects.get().unit == units.commune_a_2025
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):  # worker_b may not import into commune A
        run_cli(str(f), "--as", "worker_b", "--unit", "23500")
    with pytest.raises(CommandError):
        run_cli(str(f), "--as", "nobody")


def test_export_and_template_commands(worker_a, units, tmp_path, run_import):
    from openpyxl import load_workbook

    run_import(worker_a, "ds.xlsx", good_file())
    call_command("import_template", str(tmp_path / "t.xlsx"), stdout=io.StringIO())
    call_command("export_children", str(tmp_path / "e.xlsx"), "--as", "worker_a", stdout=io.StringIO())
    call_command("export_children", str(tmp_path / "e.csv"), "--as", "worker_a", "--unit", "2025:23500",
                 stdout=io.StringIO())
    template = next(load_workbook(tmp_path / "t.xlsx").worksheets[0].iter_rows(values_only=True))
    exported = list(load_workbook(tmp_path / "e.xlsx").worksheets[0].iter_rows(values_only=True))
    assert template == exported[0] and exported[1][1] == "Nguyễn Văn An"
    assert "Nguyễn Văn An" in (tmp_path / "e.csv").read_text(encoding="utf-8-sig")


def test_api_upload_list_detail_and_scope(worker_a, worker_b, units, django_capture_on_commit_callbacks):
    client = login(worker_a)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/api/imports/", {"file": SimpleUploadedFile("ds.xlsx", good_file()), "valid_only": "false"})
    assert r.status_code == 202, r.content
    batch_id = r.json()["id"]
    detail = client.get(f"/api/imports/{batch_id}").json()
    assert detail["status"] == "done" and detail["result"]["created"] == 1
    assert [b["id"] for b in client.get("/api/imports/").json()] == [batch_id]
    other = login(worker_b)
    assert other.get(f"/api/imports/{batch_id}").status_code == 404
    assert other.get("/api/imports/").json() == []
    r = other.post("/api/imports/", {"file": SimpleUploadedFile("ds.pdf", b"x")})
    assert r.status_code == 400 and r.json()["field"] == "file"
    r = other.post("/api/imports/", {"file": SimpleUploadedFile("ds.xlsx", good_file()), "unit": "2025:23500"})
    assert r.status_code == 403
    assert ImportBatch.objects.count() == 1
    assert client.put(f"/api/imports/{batch_id}").status_code == 405


def test_api_dry_run(worker_a, units, django_capture_on_commit_callbacks):
    client = login(worker_a)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/api/imports/", {"file": SimpleUploadedFile("ds.xlsx", bad_file()), "dry_run": "true"})
    detail = client.get(f"/api/imports/{r.json()['id']}").json()
    assert detail["result"]["invalid"] == 1 and detail["result"]["written"] is False and Child.objects.count() == 0
