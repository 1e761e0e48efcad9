"""The web flow: upload → preview (mapping) → confirm → job → result with the error report; scope."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import login
from vitreem.imports.models import HeaderMapping, ImportBatch
from vitreem.registry.models import Child

from .conftest import years_ago
from .files import xlsx


def list_file(extra=()):
    rows = [["DANH SÁCH TRẺ EM"], [], ["STT", "Họ tên trẻ", "NS", "Giới", "Ghi chú khác", "Cột lạ"],
            [1, "Nguyễn Văn An", years_ago(5), "Nam", "", "z"], [2, "Lê Thị Bình", years_ago(7), "Nữ", "", "z"],
            *extra]
    return xlsx(rows)


def upload(client, data, name="ds.xlsx", **extra):
    return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data), **extra})


def test_full_web_flow(worker_a, units, django_capture_on_commit_callbacks):
    client = login(worker_a)
    bad_row = [[3, "Trần Văn Cũ", years_ago(17), "Nam", "", ""]]
    r = upload(client, list_file(bad_row))
    assert r.status_code == 302
    batch = ImportBatch.objects.get()
    page = client.get(r["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nguyễn Văn An" in html and "Trẻ đã" in html  # first rows and the 17-year-old's error
    assert page.context["checked"]["invalid"] == 1 and Child.objects.count() == 0
    form = page.context["form"]
    assert form["col_1"].initial == "full_name" and form["col_5"].initial in ("", None)
    # Correct the mapping: the "Ghi chú khác" column is the note, the odd one stays unread.
    post = {f"col_{i}": f.initial or "" for i, f in enumerate(form.column_fields())}
    post["col_4"] = "note"
    r = client.post(reverse("imports:preview", args=[batch.pk]), post)
    assert r.status_code == 302
    assert HeaderMapping.objects.get().mapping["4"] == "note"
    # Confirm with "import the valid rows": the job runs and the page shows the result.
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("imports:preview", args=[batch.pk]), {**post, "confirm": "1", "valid_only": "1"})
    assert r.status_code == 302 and r["Location"] == reverse("imports:detail", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == "done" and batch.result["created"] == 2 and batch.result["invalid"] == 1
    assert Child.objects.count() == 2
    detail = client.get(r["Location"])
    assert detail.status_code == 200 and "Tải báo cáo lỗi" in detail.content.decode()
    # The error report: the original row, with its error.
    report = client.get(reverse("imports:errors", args=[batch.pk]))
    assert report.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("Dòng", "Lỗi", "Cảnh báo", "STT") and rows[1][0] == 6
    assert "16 tuổi" in rows[1][1] and rows[1][4] == "Trần Văn Cũ"
    # History lists it.
    listing = client.get(reverse("imports:list"))
    assert "ds.xlsx" in listing.content.decode()


def test_remembered_mapping_is_proposed_for_same_headers(worker_a, units):
    client = login(worker_a)
    HeaderMapping.objects.create(key=__import__("vitreem.imports.columns", fromlist=["x"]).header_set_key(
        ["STT", "Họ tên trẻ", "NS", "Giới", "Ghi chú khác", "Cột lạ"]),
        mapping={"1": "full_name", "2": "birth_date", "3": "sex", "4": "note"})
    r = upload(client, list_file())
    page = client.get(r["Location"])
    assert page.context["form"]["col_4"].initial == "note"


def test_all_or_nothing_by_default_on_the_web(worker_a, units, django_capture_on_commit_callbacks):
    client = login(worker_a)
    r = upload(client, list_file([[3, "Trần Văn Cũ", years_ago(17), "Nam", "", ""]]))
    batch = ImportBatch.objects.get()
    page = client.get(r["Location"])
    post = {f"col_{i}": f.initial or "" for i, f in enumerate(page.context["form"].column_fields())}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:preview", args=[batch.pk]), {**post, "confirm": "1"})
    batch.refresh_from_db()
    assert batch.status == "rejected" and Child.objects.count() == 0


def test_bad_upload(worker_a, units):
    client = login(worker_a)
    r = upload(client, b"hello", name="ds.pdf")
    assert r.status_code == 400 and "không được hỗ trợ" in r.content.decode()
    r = upload(client, b"\x00\x01garbage", name="ds.xlsx")
    assert r.status_code == 302
    page = client.get(r["Location"])
    assert page.status_code == 200 and "Không đọc được" in page.content.decode()
    assert Child.objects.count() == 0


def test_wrong_method(worker_a, units):
    client = login(worker_a)
    assert client.get(reverse("imports:upload")).status_code == 405
    assert client.post(reverse("imports:list")).status_code == 405


def test_other_commune_cannot_see_or_run_an_import(worker_a, worker_b, units, django_capture_on_commit_callbacks):
    r = upload(login(worker_a), list_file())
    batch = ImportBatch.objects.get()
    other = login(worker_b)
    for name in ("detail", "preview", "errors"):
        assert other.get(reverse(f"imports:{name}", args=[batch.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert other.post(reverse("imports:preview", args=[batch.pk]), {"confirm": "1"}).status_code == 404
    assert "ds.xlsx" not in other.get(reverse("imports:list")).content.decode()
    assert Child.objects.count() == 0
    # worker_b cannot file an import under commune A either.
    r = upload(other, list_file(), unit=str(units.commune_a_2025.pk))
    assert r.status_code == 400 and ImportBatch.objects.count() == 1


def test_reporter_has_no_import_pages(reporter, units):
    client = login(reporter)
    assert client.get(reverse("imports:list")).status_code == 403
    assert upload(client, list_file()).status_code == 403
    assert client.get(reverse("imports:export")).status_code == 403


def test_leader_reads_history_but_cannot_upload(leader, worker_a, units):
    upload(login(worker_a), list_file())
    client = login(leader)
    page = client.get(reverse("imports:list"))
    assert page.status_code == 200 and page.context["form"] is None
    assert upload(client, list_file()).status_code == 403


def test_export_and_template_downloads(worker_a, worker_b, units, run_import):
    from openpyxl import load_workbook

    run_import(worker_a, "a.xlsx", list_file())
    run_import(worker_b, "b.xlsx", xlsx([["Họ và tên", "Ngày sinh", "Giới tính"], ["Phạm Văn Bê", years_ago(4), "Nam"]]))
    r = login(worker_a).get(reverse("imports:export") + "?format=xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).worksheets[0]
    names = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["Lê Thị Bình", "Nguyễn Văn An"]
    r = login(worker_a).get(reverse("imports:export") + "?format=csv&sex=F")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "Lê Thị Bình" in text and "Nguyễn Văn An" not in text and "Phạm Văn Bê" not in text
    assert login(worker_a).get(reverse("imports:export") + "?format=pdf").status_code == 400
    r = login(worker_a).get(reverse("imports:template"))
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).worksheets[0]
    assert next(ws.iter_rows(values_only=True))[:3] == ("STT", "Họ và tên", "Ngày sinh")


def test_large_export_runs_as_a_job(worker_a, units, run_import, django_capture_on_commit_callbacks, monkeypatch):
    from vitreem.core.models import TaskStatus
    from vitreem.imports import views

    monkeypatch.setattr(views, "EXPORT_SYNC_ROWS", 1)
    run_import(worker_a, "a.xlsx", list_file())
    client = login(worker_a)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get(reverse("imports:export") + "?format=xlsx")
    assert r.status_code == 302
    status = TaskStatus.objects.get(kind="export")
    assert status.state == "done" and status.result["rows"] == 2
    download = client.get(status.result["url"])
    assert download.status_code == 200
    assert login_other_status(status.result["url"], units) == 404


def login_other_status(url, units):
    from vitreem.accounts.models import Role
    from vitreem.accounts.services import user_create

    other = user_create(username="other_a", password="a-long-test-password", role=Role.COMMUNE_WORKER,
                        units=[units.commune_a_2025], full_name="Other")
    return login(other).get(url).status_code


@pytest.mark.parametrize("name", ["list"])
def test_list_page_query_count(worker_a, units, run_import, django_assert_max_num_queries, name):
    for i in range(3):
        run_import(worker_a, f"ds{i}.xlsx", list_file(), dry_run=True)
    client = login(worker_a)
    client.get(reverse("imports:list"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse(f"imports:{name}")).status_code == 200
