"""Backup and restore (issue 15 item 5), built on the databases' own tools.

A backup is one .tar file:
  vitreem-backup.json   the manifest: when, which database, the schema (last migration of each app),
                        the row count of every table, the audit chain's head, every media file's
                        size and SHA-256, and optionally `vitreem stats` for every year
  database/postgresql.dump   pg_dump's custom format (PostgreSQL), or
  database/sqlite3.db        a copy made with SQLite's online backup API (SQLite)
  media/…               MEDIA_ROOT: uploaded imports, case attachments, activity files, generated
                        reports and exports, report templates

Consistency. On PostgreSQL the counts are taken in a REPEATABLE READ transaction whose snapshot
pg_dump is given (`--snapshot`), so the manifest describes exactly the rows in the dump, while the
application keeps running. On SQLite the online backup copies a consistent image, and the counts are
taken from that copy. Media files are copied after the database: a file named by a row in the dump
exists by then (files are written before their row commits and never deleted).

Restore goes into an empty database only (a fresh `createdb`, or a SQLite file that does not exist
yet), then checks: every table's count equals the manifest's, every media file's hash, the audit
chain verifies and its head is the one in the manifest, and — when the backup carries them — the
figures of every year are those the backup recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

FORMAT = 1
MANIFEST = "vitreem-backup.json"
PG_DUMP = "database/postgresql.dump"
SQLITE_DB = "database/sqlite3.db"
# Tables whose content is the database's own or rebuilt on start, not the installation's data.
SKIP_TABLES = {"django_session"}


class BackupError(Exception):
    """The backup or restore cannot be made (exit status 2), with the reason."""


# ---------------------------------------------------------------- what a database holds

def data_tables() -> list[str]:
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)
              if m._meta.managed and not m._meta.proxy}
    return sorted(tables - SKIP_TABLES)


def table_counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 — names from the models
        counts[table] = int(cursor.fetchone()[0])
    return counts


def schema_state() -> dict[str, str]:
    """The last applied migration of each app."""
    from django.db.migrations.recorder import MigrationRecorder

    last: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.order_by("app", "name").values_list("app", "name"):
        last[app] = max(last.get(app, ""), name)
    return last


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _media_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------- PostgreSQL tools

def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = {**os.environ}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: PLW1510
    if done.returncode:
        raise BackupError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _pg_dump(target: Path, log: Callable[[str], None]) -> dict[str, int]:
    """Dump with the snapshot the counts are taken in; returns the counts."""
    settings_dict = connection.settings_dict
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = table_counts(cursor, data_tables())
        log(f"pg_dump (snapshot {snapshot})")
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
              f"--file={target}", f"--dbname={settings_dict['NAME']}"], _pg_env(settings_dict))
    return counts


def _pg_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()")
        return int(cursor.fetchone()[0]) == 0


def _pg_restore(dump: Path) -> None:
    settings_dict = connection.settings_dict
    connections.close_all()
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={settings_dict['NAME']}", str(dump)], _pg_env(settings_dict))


# ---------------------------------------------------------------- SQLite tools

def _sqlite_copy(target: Path) -> dict[str, int]:
    """SQLite's online backup API: a consistent copy while others keep writing; counts from the copy."""
    connection.ensure_connection()
    source = connection.connection
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy, pages=4096)
        counts = table_counts(copy.cursor(), data_tables())
    finally:
        copy.close()
    return counts


def _sqlite_path() -> Path:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise BackupError("restore needs a SQLite database file (DATABASE_URL=sqlite:///path)")
    return Path(name)


def _sqlite_is_empty() -> bool:
    path = _sqlite_path()
    if not path.exists() or path.stat().st_size == 0:
        return True
    with sqlite3.connect(str(path)) as db:
        return db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0


def _sqlite_restore(copy: Path) -> None:
    path = _sqlite_path()
    connections.close_all()
    source = sqlite3.connect(str(copy))
    target = sqlite3.connect(str(path))
    try:
        source.backup(target, pages=4096)
    finally:
        source.close()
        target.close()


# ---------------------------------------------------------------- backup

def backup_make(out: Path | str, *, with_stats: bool = False, log: Callable[[str], None] = lambda _m: None,
                ) -> dict[str, Any]:
    """Write the backup to `out` (a .tar); returns the manifest (with the time each step took)."""
    from .audit_chain import audit_seal
    from .models import AuditChain

    out = Path(out)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"backups support PostgreSQL and SQLite, not {vendor}")
    sealed = audit_seal()  # the audit rows written so far enter the chain the backup carries
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".vitreem-backup-") as tmp:
        work = Path(tmp)
        (work / "database").mkdir()
        step = time.perf_counter()
        if vendor == "postgresql":
            counts = _pg_dump(work / PG_DUMP, log)
            db_member = PG_DUMP
        else:
            counts = _sqlite_copy(work / SQLITE_DB)
            db_member = SQLITE_DB
        timings["database_s"] = round(time.perf_counter() - step, 2)
        head = AuditChain.objects.filter(pk=1).values("last_seq", "last_hash").first() or {"last_seq": 0, "last_hash": ""}
        media_root = Path(settings.MEDIA_ROOT)
        step = time.perf_counter()
        media = {str(p.relative_to(media_root)): {"bytes": p.stat().st_size, "sha256": _file_hash(p)}
                 for p in _media_files(media_root)}
        manifest: dict[str, Any] = {
            "format": FORMAT, "made_at": timezone.now().isoformat(), "database": vendor,
            "schema": schema_state(), "counts": counts,
            "audit": {"head_seq": head["last_seq"], "head_hash": head["last_hash"], "sealed_now": sealed},
            "media": media,
        }
        if with_stats:
            step_stats = time.perf_counter()
            manifest["stats"] = stats_every_year()
            timings["stats_s"] = round(time.perf_counter() - step_stats, 2)
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(work / MANIFEST, arcname=MANIFEST)
            tar.add(work / db_member, arcname=db_member)
            for name in media:
                tar.add(media_root / name, arcname=f"media/{name}")
        timings["archive_s"] = round(time.perf_counter() - step, 2)
        os.replace(partial, out)  # a backup file is whole or absent
    timings["total_s"] = round(time.perf_counter() - started, 2)
    log(f"backup written: {out} ({out.stat().st_size:,} bytes)")
    return {**manifest, "timings": timings, "file": str(out), "bytes": out.stat().st_size}


def stats_every_year() -> dict[str, Any]:
    """`vitreem stats --json` for the whole installation, every year from 2021 (the Programme's first)
    to this one: what a restore must give back exactly."""
    from vitreem.stats.engine import compute, params_for

    out = {}
    for year in range(2021, timezone.localdate().year + 1):
        figures = compute(params_for(year=year))
        out[str(year)] = json.loads(json.dumps(figures, default=str))
    return out


# ---------------------------------------------------------------- restore

def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in tar.getmembers():
        name = member.name
        if name.startswith("/") or ".." in Path(name).parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"refusing a backup member outside its folders: {name!r}")
        members.append(member)
    return members


def backup_read_manifest(path: Path | str) -> dict[str, Any]:
    with tarfile.open(path, "r") as tar:
        handle = tar.extractfile(MANIFEST)
        if handle is None:
            raise BackupError("not a vitreem backup: no manifest")
        return json.loads(handle.read().decode("utf-8"))


def restore_apply(path: Path | str, *, log: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Restore the backup into the (empty) configured database and MEDIA_ROOT, then check it.
    Returns {"ok", "problems", "timings", …}; refuses (BackupError) a database that is not empty."""
    path = Path(path)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if not path.exists():
        raise BackupError(f"no such backup: {path}")
    manifest = backup_read_manifest(path)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not {FORMAT}")
    vendor = connection.vendor
    if manifest["database"] != vendor:
        raise BackupError(f"the backup is of a {manifest['database']} database; this installation uses {vendor}")
    if not (_pg_is_empty() if vendor == "postgresql" else _sqlite_is_empty()):
        raise BackupError("the database is not empty: restore into a new, empty database")
    media_root = Path(settings.MEDIA_ROOT)
    clashes = [n for n in manifest["media"] if (media_root / n).exists()]
    if clashes:
        raise BackupError(f"MEDIA_ROOT already holds {len(clashes)} of the backup's files (e.g. {clashes[0]})")
    with tempfile.TemporaryDirectory(prefix=".vitreem-restore-",
                                     dir=media_root.parent if media_root.parent.exists() else None) as tmp:
        work = Path(tmp)
        step = time.perf_counter()
        with tarfile.open(path, "r") as tar:
            members = _safe_members(tar)
            tar.extractall(work, members=members, filter="data")
        timings["unpack_s"] = round(time.perf_counter() - step, 2)
        step = time.perf_counter()
        log("restoring the database")
        if vendor == "postgresql":
            _pg_restore(work / PG_DUMP)
        else:
            _sqlite_restore(work / SQLITE_DB)
        timings["database_s"] = round(time.perf_counter() - step, 2)
        step = time.perf_counter()
        for name in manifest["media"]:
            target = media_root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(work / "media" / name), target)
        timings["media_s"] = round(time.perf_counter() - step, 2)
    step = time.perf_counter()
    report = restore_check(manifest)
    timings["check_s"] = round(time.perf_counter() - step, 2)
    timings["total_s"] = round(time.perf_counter() - started, 2)
    return {**report, "timings": timings, "made_at": manifest["made_at"]}


def restore_check(manifest: dict[str, Any]) -> dict[str, Any]:
    """Compare the restored installation with the manifest."""
    from .audit_chain import audit_verify

    problems: list[str] = []
    connections.close_all()
    with connection.cursor() as cursor:
        counts = table_counts(cursor, sorted(manifest["counts"]))
    problems += [f"table {t}: {counts[t]:,} rows, the backup had {n:,}" for t, n in manifest["counts"].items()
                 if counts[t] != n]
    media_root = Path(settings.MEDIA_ROOT)
    for name, meta in manifest["media"].items():
        file = media_root / name
        if not file.exists() or _file_hash(file) != meta["sha256"]:
            problems.append(f"media file {name} missing or different")
    chain = audit_verify()
    problems += [f"audit chain: {p['message']}" for p in chain.problems]
    if (chain.head_seq, chain.head_hash) != (manifest["audit"]["head_seq"], manifest["audit"]["head_hash"]):
        problems.append("audit chain: the head is not the one the backup recorded")
    stats_years = 0
    if "stats" in manifest:
        now = stats_every_year()
        for year, figures in manifest["stats"].items():
            stats_years += 1
            if now.get(year) != figures:
                changed = sorted(k for k in figures if now.get(year, {}).get(k) != figures[k])
                problems.append(f"vitreem stats {year}: {', '.join(changed[:10])} differ")
    code = {m.label for m in apps.get_app_configs()}
    newer = [app for app in manifest["schema"] if app not in code]
    if newer:
        problems.append(f"the backup has apps this code does not know: {', '.join(newer)}")
    return {"ok": not problems, "problems": problems, "tables": len(counts), "rows": sum(counts.values()),
            "media_files": len(manifest["media"]), "audit_rows": chain.rows, "audit_unsealed": chain.unsealed,
            "stats_years": stats_years, "checked_at": dt.datetime.now(dt.UTC).isoformat()}
