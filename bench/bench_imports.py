"""Imports benchmark (issue 4): a demo-province list of children into an empty register on PostgreSQL.

Figures, all measured in the same run on the same rows:
- import end to end (read, validate, match, write, audit) in rows/s;
- the floor: python-calamine read + PostgreSQL COPY of the same rows into a bare table;
- naive Django: Child.save() + Residence.save() + one audit row per row, on a 5,000-row sample;
- peak memory (max RSS of the process) after the import;
- the import's CPU seconds in this process and in its PostgreSQL backend (read from /proc, the server
  is local), and the load average when it started: the machine is shared, and CPU seconds say what
  the import itself cost when the wall time is stretched by others;
- export of the imported children to .xlsx (XlsxWriter, constant memory) beside openpyxl writing the
  same rows (openpyxl is stopped after OPENPYXL_BUDGET seconds and its time extrapolated).

Size: BENCH_IMPORT_ROWS (default 200,000). Database: DATABASE_URL (default a local PostgreSQL); a
throw-away test database is created and dropped, so the register is empty and nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import resource
import tempfile
import time

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "200000"))
NAIVE_ROWS = 5000
OPENPYXL_BUDGET = 60.0
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "A", "Y", "Đinh", "Hồ", "Võ", "Đặng", "Bùi", "Lò"]
MIDDLE = ["Văn", "Thị", "Minh", "Hữu", "Ngọc", "Thanh", "", "Đức", "Kim"]
GIVEN = ["An", "Bình", "Hoa", "Dũng", "Lan", "Hùng", "Thảo", "Khôi", "Nhi", "Phúc", "Tâm", "Vy", "Blong", "Hơn",
         "Thắng", "Mai", "Duyên", "Khang", "Linh", "Trang", "Quân", "Nam", "Hiếu", "Yến"]
ETHNIC = ["Kinh", "Xơ Đăng", "Ba Na", "Gia rai", "Giẻ Triêng", "Brâu", "Rơ Măm", "Sedang"]
HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Số định danh cá nhân", "Thôn/Tổ dân phố",
          "Xã/Phường", "Họ tên cha/mẹ/người nuôi dưỡng", "Hộ nghèo/cận nghèo", "Nhóm HCĐB", "Tình trạng đi học"]


def _setup():
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_imports")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django
    from django.conf import settings

    if not settings.configured or not django.apps.apps.ready:
        django.setup()


def _make_rows(communes: list[str], n: int, today: dt.date, *, seed: int = 2022) -> list[list]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sex = rng.choice("MF")
        age_days = rng.randint(30, 15 * 365)
        born = today - dt.timedelta(days=age_days)
        pid = f"062{2 + (sex == 'F')}{born.year % 100:02d}{i:06d}" if rng.random() < 0.6 else ""
        name = " ".join(p for p in (rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN), f"{i:x}".translate(
            str.maketrans("0123456789abcdef", "ABCDEGHIKLMNOPQR"))) if p)
        poverty = rng.choices(["", "Hộ nghèo", "Hộ cận nghèo"], [75, 12, 13])[0]
        rows.append([i + 1, name, born, "Nam" if sex == "M" else "Nữ", rng.choice(ETHNIC), pid,
                     f"Thôn {rng.randint(1, 12)}", rng.choice(communes), f"{rng.choice(FAMILY)} Văn {rng.choice(GIVEN)}",
                     poverty, rng.choice(["1", "4.2", "9"]) if rng.random() < 0.02 else "",
                     "Đang đi học" if age_days > 6 * 365 else ""])
    return rows


def _write_xlsx(path: str, rows: list[list]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet("Danh sách")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, ["DANH SÁCH TRẺ EM DƯỚI 16 TUỔI"])
    ws.write_row(2, 0, HEADER)
    for r, row in enumerate(rows, start=3):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, v, date_fmt)
            elif v != "":
                ws.write(r, c, v)
    wb.close()


def _floor(path: str, n: int) -> float:
    """calamine read + COPY of the same rows into a bare table: the floor any import stands on."""
    import python_calamine as pc
    from django.db import connection, transaction

    start = time.perf_counter()
    rows = pc.CalamineWorkbook.from_path(path).get_sheet_by_name("Danh sách").to_python()[3:]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_floor (n int, name text, born date, sex text, ethnicity text, pid text,"
                    " village text, unit text, guardian text, poverty text, grp text, school text)")
        if connection.vendor == "postgresql":
            with cur.cursor.copy("COPY bench_floor FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([int(row[0]), row[1], row[2], *[str(v) for v in row[3:12]]])
        else:
            cur.executemany("INSERT INTO bench_floor VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                            [[int(r[0]), r[1], r[2], *[str(v) for v in r[3:12]]] for r in rows])
        cur.execute("DROP TABLE bench_floor")
    return time.perf_counter() - start


def _server_cpu_clock():
    """CPU seconds used so far by this connection's PostgreSQL backend (a local server: /proc), or None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115, PTH123
        return (int(fields[11]) + int(fields[12])) / tick

    try:
        read()
    except OSError:
        return None
    return read


def _naive(rows: list[list], unit, actor, today: dt.date) -> float:
    """Model.save() per row (child, residence, audit row), rolled back afterwards."""
    from django.db import transaction

    from vitreem.core.audit import audit_change, snapshot
    from vitreem.registry.models import Child, Residence
    from vitreem.registry.services import CHILD_FIELDS
    from vitreem.registry.validation import child_clean

    class Undo(Exception):  # noqa: N818
        pass

    start = time.perf_counter()
    try:
        with transaction.atomic():
            for row in rows:
                cleaned = child_clean({"full_name": row[1], "birth_date": row[2], "sex": "M" if row[3] == "Nam" else "F",
                                       "personal_id": row[5]}, on=today, strict_id=False)
                child = Child(**cleaned.data, unit=unit, source="bench")
                child.save()
                Residence(child=child, unit=unit, start=child.birth_date).save()
                audit_change(actor=actor, action="child.register", obj=child, unit=unit,
                             changes=snapshot(child, CHILD_FIELDS))
            elapsed = time.perf_counter() - start
            raise Undo
    except Undo:
        pass
    return elapsed


def _openpyxl(rows: list[dict], headers: list[str], fields: list[str]) -> tuple[int, float]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    ws.append(headers)
    start = time.perf_counter()
    n = 0
    for row in rows:
        ws.append([row[f] for f in fields])
        n += 1
        if n % 1000 == 0 and time.perf_counter() - start > OPENPYXL_BUDGET:
            break
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    wb.save(path)
    os.unlink(path)
    return n, time.perf_counter() - start


def run(emit) -> None:
    _setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    if connection.vendor != "postgresql":
        # `make bench` sets Django up before this module runs, so _setup's default URL comes too
        # late when DATABASE_URL is unset: say so rather than pass SQLite figures off as the issue's.
        print("bench_imports: running on SQLite; the issue's figures need "  # noqa: T201
              "DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_imports", flush=True)
    old = setup_databases(verbosity=0, interactive=False)
    try:
        _run(emit, connection.vendor, timezone.localdate())
    finally:
        teardown_databases(old, verbosity=0)


def _size_check(emit, path: str, tag: str) -> None:
    """What the size check (issue 20 item 2: the used range measured by the cells present, before the
    reader builds it) adds to reading the file, against calamine's read of the same file."""
    from pathlib import Path

    import python_calamine as pc

    from vitreem.imports.bounds import sheet_extents

    start = time.perf_counter()
    pc.CalamineWorkbook.from_path(path).get_sheet_by_name("Danh sách").to_python()
    read = time.perf_counter() - start
    start = time.perf_counter()
    sheet_extents(Path(path), ".xlsx")
    emit(f"import size check, sheet XML scanned by cells present ({tag})", round(time.perf_counter() - start, 2), "s",
         "calamine read of the same file", round(read, 2))


def _run(emit, vendor: str, today: dt.date) -> None:
    from vitreem.accounts.models import Role
    from vitreem.accounts.services import user_create
    from vitreem.imports.columns import TEMPLATE_FIELDS
    from vitreem.imports.exporting import HEADERS, iter_rows, write_xlsx
    from vitreem.imports.services import import_create, import_execute
    from vitreem.places.models import AdminUnit
    from vitreem.places.selectors import communes_under, unit_current
    from vitreem.places.services import places_load
    from vitreem.registry.models import Child

    places_load()
    province = AdminUnit.objects.get(version="legacy", code="62")
    officer = user_create(username="bench", password="bench-password-long", role=Role.PROVINCE_OFFICER,
                          units=[province, AdminUnit.objects.get(version="2025", code="51")], full_name="Bench")
    communes = sorted({u.name for c in communes_under(province) for u in unit_current(c)})
    tag = f"{vendor}, {ROWS} rows"
    rows = _make_rows(communes, ROWS, today)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        _write_xlsx(path, rows)
        floor = _floor(path, ROWS)
        _size_check(emit, path, tag)
        first_unit = unit_current(communes_under(province).first())[0]
        naive = _naive(rows[:NAIVE_ROWS], first_unit, officer, today)
        with open(path, "rb") as fh:
            batch = import_create(actor=officer, filename="bench.xlsx", content=fh.read())
        server_cpu = _server_cpu_clock()
        server_start = server_cpu() if server_cpu else 0.0
        load = os.getloadavg()[0]
        start, cpu_start = time.perf_counter(), time.process_time()
        result = import_execute(actor=officer, batch=batch, today=today)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        assert result["written"] and result["created"] == ROWS, {k: result[k] for k in ("rows", "valid", "invalid")}
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB (Linux)
        emit(f"import rows/s ({tag})", round(ROWS / elapsed), "rows/s", "calamine + COPY floor",
             round(ROWS / floor))
        emit(f"import time ({tag})", round(elapsed, 1), "s", "calamine + COPY floor", round(floor, 1))
        emit(f"import vs naive save() ({vendor}, naive on {NAIVE_ROWS} rows)", round(ROWS / elapsed), "rows/s",
             "naive Model.save() per row", round(NAIVE_ROWS / naive))
        emit(f"import peak memory, process max RSS ({tag})", round(peak), "MiB")
        # The machine is shared: CPU seconds say what the import itself cost, whatever the load.
        emit(f"import CPU time, this process ({tag})", round(cpu, 1), "s", "wall time", round(elapsed, 1))
        if server_cpu:
            emit(f"import CPU time, PostgreSQL backend ({tag})", round(server_cpu() - server_start, 1), "s")
        emit(f"load average (1 min) when the import started ({tag})", round(load, 2), "load")
        qs = Child.objects.all()
        start = time.perf_counter()
        out = path + ".out.xlsx"
        n = write_xlsx(out, iter_rows(qs))
        export_time = time.perf_counter() - start
        os.unlink(out)
        data = list(iter_rows(qs))
        start = time.perf_counter()
        write_xlsx(out, iter(data))
        write_only = time.perf_counter() - start
        os.unlink(out)
        done, spent = _openpyxl(data, HEADERS, TEMPLATE_FIELDS)
        estimate = spent * len(data) / max(done, 1)
        emit(f"export .xlsx time ({vendor}, {n} children, query included)", round(export_time, 1), "s",
             f"openpyxl write-only ({'measured' if done == len(data) else f'extrapolated from {done} rows'})",
             round(estimate, 1))
        emit(f"export .xlsx writing only, rows already read ({vendor}, {n} children)", round(write_only, 1), "s",
             "openpyxl write-only, same rows", round(estimate, 1))
    finally:
        os.unlink(path)


if __name__ == "__main__":
    import json
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def _emit(name, value, unit, baseline_name=None, baseline_value=None):
        print(json.dumps({"name": name, "value": value, "unit": unit, "baseline_name": baseline_name,
                          "baseline_value": baseline_value}, ensure_ascii=False), flush=True)

    run(_emit)
