"""The field API and pages as the phone uses them: who may call them, what the download holds (her
commune only), the shell, the service worker, the manifest and its icons, the vendored libraries."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import re
import threading
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from conftest import login
from vitreem.core.models import AuditEntry
from vitreem.field.models import FieldChange
from vitreem.registry.models import Child
from vitreem.registry.services import child_end, child_update, risk_assess

from .conftest import change, push

pytestmark = pytest.mark.django_db


def test_only_a_commune_worker_uses_the_field_api(worker_a, leader, reporter, officer_a):
    assert login(worker_a).get("/api/field/whoami").status_code == 200
    assert Client().get("/api/field/whoami").status_code == 401
    for user in (leader, reporter, officer_a):
        response = login(user).get("/api/field/snapshot")
        assert response.status_code == 403, user
        assert response.json()["message"] == "Chỉ người làm công tác bảo vệ trẻ em cấp xã dùng được sổ tay thực địa."
    assert login(leader).post("/api/field/sync", json.dumps({"changes": []}),
                              content_type="application/json").status_code == 403


def test_whoami_gives_the_account_its_scope_fingerprint_and_the_clock(worker_a, worker_b):
    me = login(worker_a).get("/api/field/whoami").json()
    other = login(worker_b).get("/api/field/whoami").json()
    assert me["user"]["id"] == worker_a.pk and me["scope_key"] != other["scope_key"]
    assert abs(dt.datetime.fromisoformat(me["server_time"]) - timezone.now()) < dt.timedelta(seconds=30)
    assert me["settings"] == {"wipe_days": 14, "clock_tolerance_minutes": 10}


def test_the_download_holds_her_commune_only_with_the_field_forms_fields(worker_a, child_a, child_b, units):
    risk_assess(actor=worker_a, child=child_a, assessed_on=timezone.localdate(), factors=["parents_away"])
    response = login(worker_a).get("/api/field/snapshot", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "no-store"
    raw = gzip.decompress(response.content).decode()
    snap = json.loads(raw)
    assert "Y Blin" not in raw and str(units.commune_b_2025.name) not in raw  # nothing of commune B at all
    rows = [dict(zip(snap["child_fields"], r, strict=True)) for r in snap["children"]]
    assert [r["id"] for r in rows] == [child_a.pk]
    hoa = rows[0]
    assert (hoa["full_name"], hoa["birth_date"], hoa["sex"], hoa["village"], hoa["risks"]) == (
        "Nguyễn Thị Hoa", "2014-03-02", "F", "Thôn 1", ["parents_away"])
    assert hoa["guardians"][0][1:4] == ["Nguyễn Văn Bình", "father", "0905123456"]
    assert snap["full"] is True and {"ethnicity", "risk_factor", "relationship", "concern"} <= set(snap["codes"])
    # her units and the legacy communes merged into her 2025 commune (Hà Mòn, Đăk La)
    assert sorted(u["ref"] for u in snap["scope"]["units"]) == ["2025:23500", "legacy:23500", "legacy:23521",
                                                                "legacy:23524"]
    # Putting her commune's children on the phone is a read of their data: recorded, one row per unit.
    assert AuditEntry.objects.filter(actor=worker_a, kind=AuditEntry.Kind.ACCESS, action="field.download").count() == 4


def test_the_download_since_a_cursor_sends_only_what_changed(worker_a, officer_a, child_a, units):
    from vitreem.registry.services import child_register

    other = child_register(actor=worker_a, data={"full_name": "Y Nhung", "birth_date": dt.date(2018, 1, 1), "sex": "F"},
                           unit=units.commune_a_2025, confirm_not_duplicate=True)
    client = login(worker_a)
    first = client.get("/api/field/snapshot").json()
    assert len(first["children"]) == 2
    since = timezone.now()
    child_update(actor=officer_a, child=child_a, data={"village": "Thôn 8"}, expected_version=child_a.version)
    child_end(actor=officer_a, child=other, on=timezone.localdate(), reason="left")
    snap = client.get("/api/field/snapshot", {"since": since.isoformat()}).json()
    assert snap["full"] is False and "codes" not in snap
    changed = [dict(zip(snap["child_fields"], r, strict=True)) for r in snap["children"]]
    assert [(c["id"], c["village"]) for c in changed] == [(child_a.pk, "Thôn 8")]
    assert snap["child_ids"] == [child_a.pk]  # the ended record leaves the phone
    assert dt.datetime.fromisoformat(snap["cursor"]) < dt.datetime.fromisoformat(snap["server_time"])


def test_open_cases_in_the_download_are_hers_and_a_summary(worker_a, child_a):
    from vitreem.cases.services import case_intake

    case = case_intake(actor=worker_a, received_at=timezone.now(), channel="community", place="Nhà bà ngoại",
                       concern="neglect", summary="Chi tiết không gửi xuống điện thoại", child=child_a,
                       reporter_name="Y Liên")
    snap = login(worker_a).get("/api/field/snapshot").json()
    assert [c["code"] for c in snap["cases"]] == [case.code]
    assert set(snap["cases"][0]) == {"id", "code", "version", "child", "child_name", "status", "status_label",
                                     "concern", "concern_label", "received_at", "in_danger", "next_due_at",
                                     "next_due_kind"}
    assert "Chi tiết không gửi" not in json.dumps(snap) and "Y Liên" not in json.dumps(snap)


def test_a_sync_is_limited_in_size(worker_a):
    body = {"changes": [{"id": "x"}] * 501}
    response = login(worker_a).post("/api/field/sync", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["message"] == "Gửi tối đa 500 thay đổi mỗi lần."


@pytest.mark.django_db(transaction=True)
def test_the_same_change_sent_twice_at_once_is_applied_once(worker_a):
    """Two requests with the same change id racing (a retry while the first is still running)."""
    one = change("child.register", data={"full_name": "Hà Văn Song", "birth_date": "2016-06-06", "sex": "M"})
    answers: list[dict] = []
    parallel = connection.vendor == "postgresql"
    barrier = threading.Barrier(2 if parallel else 1)

    def send():
        try:
            barrier.wait()
            answers.append(push(login(worker_a), [one]))
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()

    if parallel:
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        # SQLite has one writer at a time (BEGIN IMMEDIATE): the two requests cannot interleave, so
        # they are sent one after the other; the race itself is exercised on PostgreSQL.
        send()
        send()
    assert [a["results"][0]["status"] for a in answers] == ["applied", "applied"]
    assert Child.objects.filter(full_name="Hà Văn Song").count() == 1
    assert FieldChange.objects.filter(pk=one["id"]).count() == 1
    assert AuditEntry.objects.filter(action="child.register", changes__sync__change_id=one["id"]).count() == 1


# ---------------------------------------------------------------- shell, service worker, manifest

def test_the_shell_holds_no_personal_data_and_no_inline_script(worker_a, child_a):
    html = login(worker_a).get("/field/").content.decode()
    assert "Nguyễn Thị Hoa" not in html and worker_a.display_name not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    inline = [attrs for attrs, body in scripts if body.strip() and 'type="application/json"' not in attrs]
    assert inline == []
    assert not re.search(r"\son[a-z]+=", html)
    config = json.loads(re.search(r'<script id="field-config" type="application/json">(.*?)</script>', html, re.S)[1])
    assert config["urls"]["sync"] == "/api/field/sync"


def test_the_service_worker_precaches_the_shell_and_never_a_page(client):
    response = client.get("/field/sw.js")
    assert response.status_code == 200 and response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    precache = json.loads(re.search(r"precacheAndRoute\((\[.*?\])\)", body)[1])
    urls = {p["url"] for p in precache}
    assert {"/field/", "/static/field/app.js", "/static/field/store.js", "/static/vendor/idb-8.0.4/idb.umd.js"} <= urls
    assert not any(u.startswith(("/api/", "/registry/", "/cases/")) for u in urls)
    for entry in precache:
        if entry["url"].startswith("/static/"):
            path = finders.find(entry["url"].removeprefix("/static/"))
            assert entry["revision"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def test_the_manifest_makes_the_app_installable_with_real_icons(client):
    manifest = client.get("/field/manifest.webmanifest").json()
    assert manifest["start_url"] == "/field/" and manifest["display"] == "standalone" and manifest["scope"] == "/"
    sizes = set()
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(Path(finders.find(icon["src"].removeprefix("/static/"))).read_bytes()))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes and any(i.get("purpose") == "maskable" for i in manifest["icons"])


def test_the_icons_are_the_ones_our_script_draws(tmp_path, monkeypatch):
    from vitreem.field import icons

    monkeypatch.setattr(icons, "OUT", tmp_path)
    icons.main()
    for name in ("icon-192.png", "icon-512.png", "maskable-512.png"):
        assert (tmp_path / name).read_bytes() == Path(finders.find(f"field/icons/{name}")).read_bytes()


def test_the_vendored_libraries_are_the_pinned_files_with_their_licences():
    from vitreem.field.vendor import LICENCES, VENDORED

    for path, package, _integrity, sha256 in VENDORED:
        found = finders.find(path)
        assert found, path
        assert hashlib.sha256(Path(found).read_bytes()).hexdigest() == sha256, f"{path} differs from {package}"
        assert package.split("@")[1] in path
    for path, licence in LICENCES.items():
        text = Path(finders.find(path)).read_text()
        assert (licence == "ISC" and "ISC License" in text) or (licence == "MIT" and "MIT" in text)


def test_every_text_the_notebook_shows_is_translated():
    from vitreem.field.strings import field_strings

    strings = field_strings()
    used = set()
    for name in ("app.js", "validate.js"):
        source = Path(finders.find(f"field/{name}")).read_text()
        used |= set(re.findall(r'\bt\("([a-z0-9_]+)"\s*[,)]', source))
    used |= {f"st_{s}" for s in ("waiting", "sent", "failed", "conflict", "review")} | {"sex_M", "sex_F"}
    assert used - set(strings) == set()
