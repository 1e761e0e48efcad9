"""The audit log's hash chain (issue 15 item 6): rows altered, deleted, cut off or forged in SQL are found
by `vitreem audit_verify`; rows written at once, in bulk, by COPY and late are all chained."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from vitreem.core.audit import audit_access, audit_change, audit_changes_bulk
from vitreem.core.audit_chain import GENESIS, audit_seal, audit_verify, canonical, link
from vitreem.core.models import AuditChain, AuditEntry

TABLE = AuditEntry._meta.db_table


@pytest.fixture
def places_loaded(transactional_db):
    """A transactional test before this one may have flushed the units: reload them first."""
    from conftest import ensure_places

    ensure_places()


@pytest.fixture
def base(worker_a) -> int:
    """Rows the fixtures wrote (the accounts' creation) sealed first: the tests' rows follow them."""
    audit_seal()
    return AuditChain.objects.get(pk=1).last_seq


def _write(actor, n: int, unit=None) -> list[AuditEntry]:
    rows = []
    with transaction.atomic():
        for i in range(n):
            rows.append(audit_change(actor=actor, action="child.update", object_type="registry.child", object_id=i,
                                     unit=unit, changes={"full_name": ["Nguyễn Thị Hoa", f"Nguyễn Thị Hòa {i}"]}))
    return rows


def _verify_cli() -> tuple[int, dict]:
    """`vitreem audit_verify --json --no-seal`: (exit status, output)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit_verify", "--json", "--no-seal", stdout=out)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, json.loads(out.getvalue())


def _sql(statement: str, params: list | None = None) -> None:
    """Change the table behind the application's back, as someone with the database's password would.
    On PostgreSQL a trigger refuses it first; the tamperer (a superuser) switches triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(statement, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


@pytest.mark.django_db
def test_every_kind_of_write_is_chained_in_order(worker_a, units, base):
    _write(worker_a, 3, units.commune_a)
    with transaction.atomic():
        audit_access(actor=worker_a, obj=worker_a, unit=units.commune_a)
        audit_changes_bulk([AuditEntry(actor=worker_a, action="import.row", object_type="registry.child",
                                       object_id=str(i), changes={"row": i}) for i in range(4)])
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 8
    assert audit_seal(batch=3) == 8  # in batches, each chained after the last
    seqs = list(AuditEntry.objects.order_by("id").values_list("seq", flat=True))
    assert seqs == list(range(1, base + 9))
    result = audit_verify()
    assert result.ok and result.rows == base + 8 and result.unsealed == 0
    head = AuditChain.objects.get(pk=1)
    assert head.last_seq == base + 8 and head.last_hash == AuditEntry.objects.get(seq=base + 8).hash
    # Each link is the HMAC of the previous one and the row as stored.
    first = AuditEntry.objects.filter(seq=1).values(*[f.attname for f in AuditEntry._meta.concrete_fields])[0]
    assert first["hash"] == link(GENESIS, first)
    assert audit_seal() == 0  # nothing new


@pytest.mark.django_db
def test_an_import_copy_is_chained(worker_a, units, settings, tmp_path, base):
    """The import writes its audit rows with COPY (PostgreSQL) or executemany (SQLite)."""
    from vitreem.imports.services import import_create, import_execute

    settings.MEDIA_ROOT = tmp_path
    rows = "Họ và tên,Ngày sinh,Giới tính\n" + "".join(f"Y Tin {chr(65 + i)},01/02/2015,Nam\n" for i in range(12))
    batch = import_create(actor=worker_a, filename="ds.csv", content=rows.encode(), default_unit=units.commune_a_2025)
    result = import_execute(actor=worker_a, batch=batch)
    assert result["created"] == 12
    written = AuditEntry.objects.filter(seq__isnull=True).count()
    assert written >= 12
    assert audit_seal() == written
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_row_altered_in_sql_is_found(worker_a, units, base):
    rows = _write(worker_a, 5, units.commune_a)
    audit_seal()
    assert _verify_cli()[0] == 0
    victim = rows[2]
    if connection.vendor == "postgresql":
        # Below the application, the database itself refuses a change to an audit row.
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET action = 'child.view' WHERE id = %s", [victim.pk])  # noqa: S608
    _sql(f"UPDATE {TABLE} SET changes = %s WHERE id = %s",  # noqa: S608
         [json.dumps({"full_name": ["Nguyễn Thị Hoa", "Ai đó khác"]}), victim.pk])
    status, out = _verify_cli()
    assert status == 1 and not out["ok"]
    assert [(p["kind"], p["seq"]) for p in out["problems"]] == [("altered", base + 3)]
    assert f"id {victim.pk}" in out["problems"][0]["message"]


@pytest.mark.django_db
def test_a_deleted_row_is_found(worker_a, units, base):
    rows = _write(worker_a, 5, units.commune_a)
    audit_seal()
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [rows[1].pk])  # noqa: S608
    status, out = _verify_cli()
    assert status == 1
    kinds = {p["kind"]: p for p in out["problems"]}
    assert kinds["missing"]["from_seq"] == base + 2 and kinds["missing"]["to_seq"] == base + 2
    assert kinds["broken_link"]["seq"] == base + 3


@pytest.mark.django_db
def test_the_last_rows_cut_off_are_found(worker_a, units, base):
    rows = _write(worker_a, 5, units.commune_a)
    audit_seal()
    _sql(f"DELETE FROM {TABLE} WHERE id IN (%s, %s)", [rows[3].pk, rows[4].pk])  # noqa: S608
    status, out = _verify_cli()
    assert status == 1
    assert [(p["kind"], p["from_seq"], p["to_seq"]) for p in out["problems"]] == [("tail_missing", base + 4, base + 5)]


@pytest.mark.django_db
def test_a_row_forged_with_a_recomputed_hash_is_found(worker_a, units, base):
    """Without the key (it is not in the database) a forger cannot make a link that holds."""
    import hashlib

    _write(worker_a, 3, units.commune_a)
    audit_seal()
    forged = AuditEntry.objects.filter(seq=base + 2).values(*[f.attname for f in AuditEntry._meta.concrete_fields])[0]
    forged["action"] = "child.view"
    previous = AuditEntry.objects.get(seq=base + 1).hash
    guessed = hashlib.sha256((previous + "\n" + canonical(forged)).encode()).hexdigest()
    _sql(f"UPDATE {TABLE} SET action = 'child.view', hash = %s WHERE id = %s", [guessed, forged["id"]])  # noqa: S608
    status, out = _verify_cli()
    assert status == 1 and out["problems"][0]["kind"] == "altered" and out["problems"][0]["seq"] == base + 2


@pytest.mark.django_db
def test_a_row_that_commits_late_with_an_earlier_id_is_chained_after(worker_a, units, base):
    """Ids are taken before commit: a long transaction (an import) can commit rows whose ids are lower
    than rows already sealed. They are chained after the head, not into the middle."""
    rows = _write(worker_a, 4, units.commune_a)
    audit_seal()
    late_id = rows[0].pk - 1000
    AuditEntry.objects.bulk_create([AuditEntry(id=late_id, actor=worker_a, action="child.update",
                                               object_type="registry.child", object_id="late")])
    assert audit_seal() == 1
    assert AuditEntry.objects.get(pk=late_id).seq == base + 5
    assert audit_verify().ok


def test_a_column_added_later_with_an_empty_default_keeps_older_hashes():
    row = {"id": 1, "action": "child.update", "changes": {"b": 1, "a": [1, "x"]}, "object_id": ""}
    assert canonical({**row, "added_later": None}) == canonical(row) == canonical({**row, "added_later": ""})
    assert canonical({**row, "action": "child.view"}) != canonical(row)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_keep_one_unbroken_chain(places_loaded, worker_a, units, base):
    """Six writers (each its own connection and transactions) and two sealers at once."""
    import time

    from django.db import OperationalError

    errors: list[BaseException] = []

    def retrying(write):
        # The test database on SQLite is shared-cache memory, whose table locks fail at once instead of
        # waiting like a file's busy timeout: wait here. PostgreSQL never gets here.
        while True:
            try:
                return write()
            except OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                time.sleep(0.005)

    def writer(n: int) -> None:
        try:
            for _ in range(n):
                retrying(lambda: _write(worker_a, 3, units.commune_a))
        except BaseException as exc:  # noqa: BLE001 — reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    def sealer(stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                retrying(lambda: audit_seal(batch=7))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    stop = threading.Event()
    sealers = [threading.Thread(target=sealer, args=(stop,)) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(10,)) for _ in range(6)]
    for t in sealers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in sealers:
        t.join()
    assert errors == []
    audit_seal()
    result = audit_verify()
    assert result.ok, result.problems
    assert result.rows == base + 6 * 10 * 3 == AuditEntry.objects.count()
    assert sorted(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, base + 181))
