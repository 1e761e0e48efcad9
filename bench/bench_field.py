"""Field work offline: sync of 200 queued changes, the first download of a 3,000-child commune (time
and bytes), and the offline opening of the child list from the phone's encrypted store.

The bench makes its own commune (once, kept for later runs): 3,000 children with a guardian each in
a commune outside the demo province, and its worker. Requests go through Django's test Client
in-process (middleware, session, scope, services, audit). Baselines, measured in the same run:
- the 200 changes written straight through the services the screens call (what sync adds on top);
- the registry API walked page by page for the same 3,000 children (the download without the notebook);
- the child list page served online (what the worker waits for without the notebook).
The browser part drives Chromium (vitreem.testing.browser) against a WSGI server on 127.0.0.1 in this
process. Bounded: each figure is one pass or a few repetitions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import os
import random
import threading
import time
import uuid

CHILDREN = int(os.environ.get("BENCH_FIELD_CHILDREN", "3000"))
CHANGES = 200
COMMUNE = "2025:00004"  # a commune of another province than the demo's: only the bench's children live there
USERNAME = "bench-field"
PASSWORD = "bench-field-password"  # noqa: S105 — a throwaway account of the bench database
PIN = "246810"


def _today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


def _commune():
    """The bench commune with CHILDREN children and its worker (made once)."""
    from vitreem.accounts.models import Role, User
    from vitreem.accounts.services import user_create
    from vitreem.core.text import fold
    from vitreem.places.selectors import unit_resolve
    from vitreem.registry.demo import GIVEN, KINH_FAMILY, MIDDLE, VILLAGES
    from vitreem.registry.models import Child, Guardian, Residence

    unit = unit_resolve(COMMUNE)
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = user_create(username=USERNAME, password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Bench Field",
                           units=[unit])
    have = Child.objects.filter(unit=unit, source="bench-field").count()
    if have >= CHILDREN:
        return user, unit
    rng = random.Random(16)
    today = _today()
    children = []
    for _i in range(CHILDREN - have):
        sex = rng.choice("MF")
        family = rng.choice([f for f, _w in KINH_FAMILY])
        middle, given = rng.choice(MIDDLE[sex]), rng.choice(GIVEN[sex])
        full = f"{family} {middle} {given}"
        birth = today - dt.timedelta(days=rng.randint(30, 15 * 365))
        children.append(Child(family_name=family, middle_name=middle, given_name=given, full_name=full,
                              name_key=fold(full), given_key=fold(given), birth_date=birth, sex=sex, unit=unit,
                              village=rng.choice(VILLAGES), source="bench-field"))
    made = Child.objects.bulk_create(children, batch_size=1000)
    Residence.objects.bulk_create([Residence(child=c, unit=unit, start=c.birth_date) for c in made], batch_size=1000)
    Guardian.objects.bulk_create([Guardian(child=c, full_name=f"{c.family_name} Văn Bố", name_key=fold(f"{c.family_name} van bo"),
                                           relationship="father", phone="0905123456") for c in made], batch_size=1000)
    return user, unit


def _changes(children, factors, rng, tag: str) -> list[dict]:
    """200 changes as a day (or a week) of field work queues them: registrations, address and
    schooling edits, risk assessments, guardians added, in the order recorded."""
    now = dt.datetime.now(dt.UTC)
    out = []
    for i in range(CHANGES):
        at = (now - dt.timedelta(minutes=CHANGES - i)).isoformat()
        child = children[(i * 7) % len(children)]
        kind = ("child.register", "child.address", "risk.assess", "guardian.add")[i % 4]
        change = {"id": str(uuid.uuid4()), "kind": kind, "recorded_at": at, "base_version": child.version,
                  "target": {"child": child.pk}, "data": {}, "base": {}}
        if kind == "child.register":
            change["target"] = {}
            change["data"] = {"full_name": f"Hờ {_letters(tag)} {_letters(str(i))}", "birth_date": f"2016-06-0{1 + i % 9}",
                              "sex": "MF"[i % 2], "village": "Thôn 1"}
        elif kind == "child.address":
            change["data"], change["base"] = {"village": f"Thôn {tag}{i}"}, {"village": child.village}
        elif kind == "risk.assess":
            change["data"] = {"factors": [rng.choice(factors)]}
        else:
            change["data"] = {"full_name": f"Trần Thị {tag} {i}", "relationship": "grandparent"}
        out.append(change)
    return out


def _letters(text: str) -> str:
    """A name part without digits (names have none): "a3f" → "Adf"."""
    return "".join(chr(ord("a") + int(ch)) if ch.isdigit() else ch for ch in text).capitalize()


def _through_services(user, changes) -> None:
    """The baseline: the same writes, straight through the services the screens call."""
    from vitreem.registry.models import Child
    from vitreem.registry.services import (
        PossibleDuplicate,
        child_register,
        child_update,
        guardian_add,
        risk_assess,
    )

    today = _today()
    for c in changes:
        data = c["data"]
        if c["kind"] == "child.register":
            # A PossibleDuplicate is the screen's warning: the work (the duplicate check) was done.
            with contextlib.suppress(PossibleDuplicate):
                child_register(actor=user, data={**data, "birth_date": dt.date.fromisoformat(data["birth_date"])},
                               unit=COMMUNE)
            continue
        child = Child.objects.get(pk=c["target"]["child"])
        if c["kind"] == "child.address":
            child_update(actor=user, child=child, data=data)
        elif c["kind"] == "risk.assess":
            risk_assess(actor=user, child=child, assessed_on=today, factors=data["factors"])
        else:
            guardian_add(actor=user, child=child, full_name=data["full_name"], relationship=data["relationship"])


def _sync(client, changes) -> float:
    started = time.perf_counter()
    for start in range(0, len(changes), 100):  # the phone's batches
        body = {"device_id": "bench", "device_time": dt.datetime.now(dt.UTC).isoformat(),
                "changes": changes[start:start + 100]}
        response = client.post("/api/field/sync", json.dumps(body), content_type="application/json")
        statuses = {r["status"] for r in response.json()["results"]}
        if response.status_code != 200 or statuses - {"applied", "review"}:
            failed = [r["message"] for r in response.json()["results"] if r["status"] not in ("applied", "review")]
            raise RuntimeError(f"sync → {response.status_code} {statuses}: {failed[:3]}")
    return time.perf_counter() - started


def run(emit) -> None:
    from django.core.management import call_command
    from django.test import Client

    from vitreem.places.models import AdminUnit
    from vitreem.registry.models import Child, Guardian, RiskFactor

    call_command("migrate", verbosity=0)
    if not AdminUnit.objects.exists():
        call_command("load_places", verbosity=0)
    user, unit = _commune()
    children = list(Child.objects.filter(unit=unit, source="bench-field").order_by("pk")[:CHILDREN])
    emit("field.commune_children", Child.objects.filter(unit=unit, ended_on__isnull=True).count(), "children")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    factors = list(RiskFactor.objects.values_list("code", flat=True))
    rng = random.Random(7)
    stamp = uuid.uuid4().hex[:4]

    # ---- the first download of the commune (the notebook's snapshot) vs the registry API walked
    for label in ("cold", "warm"):
        started = time.perf_counter()
        response = client.get("/api/field/snapshot", HTTP_ACCEPT_ENCODING="gzip")
        seconds = time.perf_counter() - started
        raw = gzip.decompress(response.content)
        api_started, api_bytes, offset = time.perf_counter(), 0, 0
        while True:
            page = client.get("/api/registry/children", {"limit": 500, "offset": offset})
            api_bytes += len(page.content)
            offset += 500
            if offset >= page.json()["total"]:
                break
        emit(f"field.download_{label}", seconds, "s", "registry_api_walk", time.perf_counter() - api_started,
             children=len(json.loads(raw)["children"]))
    emit("field.download_bytes_gzip", len(response.content), "bytes", "registry_api_walk_bytes", api_bytes)
    emit("field.download_bytes_json", len(raw), "bytes")

    # ---- sync of 200 queued changes vs the same writes through the services
    for label in ("cold", "warm"):
        # The phone's copy as it was after its last download (villages and versions as they are now).
        children = list(Child.objects.filter(unit=unit, source="bench-field").order_by("pk")[:CHILDREN])
        changes = _changes(children, factors, rng, f"{stamp}{label[0]}")
        seconds = _sync(client, changes)
        baseline_changes = _changes(children, factors, rng, f"{stamp}{label[0]}s")
        started = time.perf_counter()
        _through_services(user, baseline_changes)
        emit(f"field.sync_200_{label}", seconds, "s", "services_200", time.perf_counter() - started)
    started = time.perf_counter()
    _sync(client, changes)  # sent again: every change answered from the stored result
    emit("field.sync_200_resent", time.perf_counter() - started, "s", "sync_200_warm", seconds)
    # The commune keeps its CHILDREN children for the next run: the records this run registered are
    # ended (a plain update: bench data, not a worker's act).
    Child.objects.filter(unit=unit, ended_on__isnull=True).exclude(source="bench-field").update(
        ended_on=_today(), end_reason="other")
    Guardian.objects.filter(child__unit=unit, full_name__startswith="Trần Thị ").delete()

    _browser(emit)


def _browser(emit) -> None:
    """The phone: log in, set the PIN, download; then offline, open the child list from the encrypted store."""
    import tempfile

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from playwright.sync_api import sync_playwright

    from vitreem.testing.browser import chromium_path, launch_args

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(StaticFilesHandler(WSGIHandler()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            context = pw.chromium.launch_persistent_context(profile, executable_path=chromium_path(), headless=True,
                                                            args=launch_args(), base_url=base, locale="vi-VN",
                                                            viewport={"width": 375, "height": 740})
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(120_000)
            page.goto("/accounts/login/")
            page.get_by_label("Tên đăng nhập").fill(USERNAME)
            page.get_by_label("Mật khẩu").fill(PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url("**/")
            started = time.perf_counter()
            page.goto("/registry/children/")
            page.locator("main table").wait_for()
            online_list = time.perf_counter() - started
            page.goto("/field/")
            page.locator("#f-pin").fill(PIN)
            page.locator("#f-pin2").fill(PIN)
            started = time.perf_counter()
            page.locator("main button[type=submit]").click()
            page.wait_for_function("() => window.FieldApp.state.state.lastSync && !window.FieldApp.state.syncing")
            emit("field.browser_first_download", time.perf_counter() - started, "s")
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            stored = page.evaluate("""async () => {
              const db = await new Promise(ok => { const r = indexedDB.open('vitreem-field'); r.onsuccess = () => ok(r.result); });
              const box = await new Promise(ok => { const r = db.transaction('vault').objectStore('vault').get('children'); r.onsuccess = () => ok(r.result); });
              db.close();
              return box.ct.byteLength;
            }""")
            emit("field.encrypted_children_bytes", stored, "bytes")
            context.set_offline(True)
            for label in ("cold", "warm"):
                started = time.perf_counter()
                page.goto("/registry/children/")
                page.locator("#f-pin").wait_for()
                shell = time.perf_counter() - started
                page.locator("#f-pin").fill(PIN)
                started = time.perf_counter()
                page.locator("main button[type=submit]").click()
                page.locator(".field-list .card").first.wait_for()
                opened = time.perf_counter() - started
                emit(f"field.offline_shell_{label}", shell, "s", "online_list_page", online_list)
                emit(f"field.offline_unlock_and_list_{label}", opened, "s", "online_list_page", online_list)
            # The parts of the unlock: the PIN's key derivation, the decryption of the children.
            parts = page.evaluate("""async (pin) => {
              const store = await FieldStore.open();
              let t = performance.now();
              await store.unlock(pin);
              const unlock = performance.now() - t;
              t = performance.now();
              const children = await store.get('children');
              const decrypt = performance.now() - t;
              store.close();
              return {unlock, decrypt, n: children.length};
            }""", PIN)
            emit("field.pin_key_derivation", parts["unlock"] / 1000, "s")
            emit("field.decrypt_children", parts["decrypt"] / 1000, "s", children=parts["n"])
            context.close()
    finally:
        server.shutdown()
