import datetime as dt

from vitreem.core.models import AuditEntry
from vitreem.registry.models import Child

from .conftest import years_ago
from .files import commune_list, xlsx


def rows_basic():
    return [
        ["Nguyễn Văn An", years_ago(5).strftime("%d/%m/%Y"), "Nam", "Kinh", "", "Thôn 1", "Xã Đăk Hà",
         "Nguyễn Văn Bình", "Hộ nghèo", "", "Đang đi học", ""],
        ["Y Hoa", years_ago(8), "Nữ", "Xơ Đăng", "", "Thôn 2", "Đăk Hà", "A Blong", "CN", "1", "Tiểu học", "ghi chú"],
    ]


def test_import_creates_children_with_audit(worker_a, units, run_import):
    batch, r = run_import(worker_a, "ds.xlsx", xlsx(commune_list(rows_basic())))
    assert r["errors"] == [], r["errors"]
    assert (r["rows"], r["valid"], r["created"], r["written"]) == (2, 2, 2, True)
    assert r["header_row"] == 4 and r["sheet"] == "Danh sách"
    an = Child.objects.get(full_name="Nguyễn Văn An")
    assert an.unit == units.commune_a_2025 and an.source == f"import:{batch.pk}"
    assert an.residences.get().start == an.birth_date
    assert an.guardians.get().full_name == "Nguyễn Văn Bình"
    assert an.household.poverty.get().status == "poor"
    hoa = Child.objects.get(full_name="Y Hoa")
    assert hoa.ethnicity.code == "14" and hoa.special_episodes.get().group.code == "1"
    assert hoa.school_level == "primary"
    audit = AuditEntry.objects.filter(action="child.register", object_id=str(an.pk)).get()
    assert audit.source == f"import:{batch.pk}" and audit.actor == worker_a
    assert audit.changes["full_name"] == "Nguyễn Văn An"


def test_second_import_changes_nothing(worker_a, units, run_import):
    data = xlsx(commune_list(rows_basic()))
    run_import(worker_a, "ds.xlsx", data)
    before = (Child.objects.count(), AuditEntry.objects.filter(object_type="registry.child").count())
    _b, r = run_import(worker_a, "ds.xlsx", data)
    assert (r["created"], r["updated"], r["unchanged"]) == (0, 0, 2)
    assert (Child.objects.count(), AuditEntry.objects.filter(object_type="registry.child").count()) == before


def test_invalid_row_writes_nothing_unless_valid_only(worker_a, units, run_import):
    bad = [*rows_basic(), ["Trần Thị C", years_ago(17), "Nữ", "Kinh", "", "", "", "", "", "", "", ""]]
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(commune_list(bad)))
    assert (r["invalid"], r["written"], Child.objects.count()) == (1, False, 0)
    error = r["errors"][0]
    assert error["row"] == 7 and error["column"] == "Ngày sinh" and error["code"] == "too_old"
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(commune_list(bad)), valid_only=True)
    assert (r["created"], r["written"], Child.objects.count()) == (2, True, 2)


def test_dry_run(worker_a, units, run_import):
    _b, r = run_import(worker_a, "ds.xlsx", xlsx(commune_list(rows_basic())), dry_run=True)
    assert (r["valid"], r["created"], r["written"]) == (2, 2, False)
    assert Child.objects.count() == 0
    assert dt.date.today()
