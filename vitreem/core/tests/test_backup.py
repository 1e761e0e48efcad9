"""`vitreem backup` → `vitreem restore` into an empty database (issue 15 item 5), on the database the suite
runs on (SQLite, or PostgreSQL with DATABASE_URL): the same row counts, the same files, the same
`vitreem stats` for every year, and an audit log whose chain verifies up to the same head.

The backup is made here, from the test database; the restore runs as the real command in another
process, against a new, empty database (a new SQLite file, or a database created for the test) and an
empty MEDIA_ROOT, and the figures are then read from that process too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

YEARS = list(range(2021, timezone.localdate().year + 1))
STATS_SCRIPT = """
import json, sys, django
django.setup()
from io import StringIO
from django.core.management import call_command
out = {}
for year in sys.argv[1:]:
    buf = StringIO()
    call_command("stats", "--year", year, "--json", stdout=buf)
    out[year] = json.loads(buf.getvalue())
buf = StringIO()
try:
    call_command("audit_verify", "--json", "--no-seal", stdout=buf)
except SystemExit:
    pass
out["audit"] = json.loads(buf.getvalue())
print(json.dumps(out))
"""


@pytest.fixture
def empty_database(tmp_path):
    """A DATABASE_URL for a new, empty database of the suite's kind; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    s = connection.settings_dict
    name = f"{s['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    conninfo = {"host": s["HOST"] or "", "port": s["PORT"] or "", "user": s["USER"] or "", "password": s["PASSWORD"] or "",
                    "dbname": "postgres"}
    with psycopg.connect(**conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        yield f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(**conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    media = tmp_path / "restored-media"
    return {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media),
            "VITREEM_VAR_DIR": str(tmp_path / "restored-var"), "DJANGO_SETTINGS_MODULE": "config.settings.test"}


def _vitreem(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "vitreem"), *args], env=env, capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture
def installation(settings, tmp_path):
    """A small demo province with an attachment on a case and a generated report (media files)."""
    from conftest import ensure_places
    from vitreem.accounts.models import User
    from vitreem.cases.attachments import attachment_add
    from vitreem.cases.models import Case
    from vitreem.demo.services import demo_seed
    from vitreem.reports.services import report_generate

    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_places()
    demo_seed(children=1200, seed=11, parts=["registry", "cases", "benefits"], log=lambda *_: None)
    worker = User.objects.get(username="commune")
    case = Case.objects.filter(owner=worker).order_by("pk").first()
    attachment_add(actor=worker, case=case, upload=SimpleUploadedFile("bien-ban.pdf", b"%PDF-1.4 scan of a record"),
                   description="Biên bản")
    report_generate(actor=User.objects.get(username="province"), year=2022, unit="legacy:62", fmt="xlsx")
    return settings.MEDIA_ROOT


def _backup(out: Path) -> dict:
    buf = StringIO()
    call_command("backup", str(out), "--stats", "--json", stdout=buf)
    return json.loads(buf.getvalue())


def test_backup_then_restore_into_an_empty_database_gives_the_same_installation(installation, empty_database, tmp_path):
    from vitreem.core.backup import backup_read_manifest

    archive = tmp_path / "vitreem.tar"
    summary = _backup(archive)
    assert summary["media_files"] == 2 and summary["stats_years"] == len(YEARS)
    manifest = backup_read_manifest(archive)
    assert manifest["counts"]["registry_child"] > 1000 and manifest["audit"]["head_seq"] > 0
    source_stats = {}
    for year in YEARS:
        buf = StringIO()
        call_command("stats", "--year", str(year), "--json", stdout=buf)
        source_stats[str(year)] = json.loads(buf.getvalue())

    env = _env(empty_database, tmp_path)
    restored = _vitreem(["restore", str(archive), "--json"], env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    report = json.loads(restored.stdout)
    assert report["ok"] and report["problems"] == []
    assert report["rows"] == sum(manifest["counts"].values()) and report["media_files"] == 2

    # Read back by another process from the restored database: figures and the audit chain.
    after = json.loads(subprocess.run([sys.executable, "-c", STATS_SCRIPT, *map(str, YEARS)], env=env,
                                      capture_output=True, text=True, check=True, timeout=600).stdout)
    for year in YEARS:
        assert after[str(year)] == source_stats[str(year)], year
    assert after["audit"]["ok"] and after["audit"]["head"]["seq"] == manifest["audit"]["head_seq"]
    assert after["audit"]["head"]["hash"] == manifest["audit"]["head_hash"]
    # The files, byte for byte.
    media = Path(env["MEDIA_ROOT"])
    for name in manifest["media"]:
        assert (media / name).read_bytes() == (installation / name).read_bytes()

    # A second restore into the now full database is refused and changes nothing.
    again = _vitreem(["restore", str(archive)], env)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_a_restore_that_does_not_match_its_backup_says_so(installation, empty_database, tmp_path):
    """The checks are real: a backup whose manifest promises one more child than its dump holds is
    restored, and the command names the table and exits 1."""
    archive = tmp_path / "vitreem.tar"
    _backup(archive)
    doctored = tmp_path / "doctored.tar"
    with tarfile.open(archive) as source, tarfile.open(doctored, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "vitreem-backup.json":
                manifest = json.loads(data)
                manifest["counts"]["registry_child"] += 1
                data = json.dumps(manifest).encode()
                member.size = len(data)
            from io import BytesIO

            target.addfile(member, BytesIO(data))
    restored = _vitreem(["restore", str(doctored)], _env(empty_database, tmp_path))
    assert restored.returncode == 1
    assert "table registry_child" in restored.stdout and "MISMATCH" in restored.stdout
