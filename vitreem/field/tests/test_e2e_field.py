"""A day of field work in a real browser (Chromium at a phone's 375 px), the network switched off and on
by the test: the notebook installs, opens offline, keeps its data encrypted, queues the worker's
changes, syncs them without losing or overwriting anything, and leaves nothing behind at logout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import COMMUNE_A, COMMUNE_B, PASSWORD, PROVINCE, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.core.models import AuditEntry
from vitreem.places.selectors import unit_resolve
from vitreem.registry.models import Child

pytestmark = pytest.mark.e2e

PIN = "246810"
PHONE = {"width": 375, "height": 740}


def _worker(username="commune-a", refs=COMMUNE_A, name="Y Hiền"):
    return user_create(username=username, password=PASSWORD, role=Role.COMMUNE_WORKER, full_name=name,
                       units=[unit_resolve(r) for r in refs])


def _child(worker, name, born, sex="F", village="Thôn 1", unit="2025:23500"):
    from vitreem.registry.services import child_register

    return child_register(actor=worker, data={"full_name": name, "birth_date": born, "sex": sex, "village": village},
                          unit=unit, confirm_not_duplicate=True)


def _start(page, username="commune-a"):
    """Log in on a phone, open the notebook, set the PIN, download, and wait for the service worker."""
    page.set_viewport_size(PHONE)
    browser_login(page, username)
    page.wait_for_url("**/")
    page.goto("/field/")
    page.locator("#f-pin").fill(PIN)
    page.locator("#f-pin2").fill(PIN)
    page.locator("main button[type=submit]").click()
    _synced(page)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def _synced(page):
    page.wait_for_function("() => window.FieldApp && window.FieldApp.state.state.lastSync && !window.FieldApp.state.syncing"
                           " && window.FieldApp.state.outbox.every(i => i.status !== 'waiting')")


def _unlock(page):
    page.locator("#f-pin").fill(PIN)
    page.locator("main button[type=submit]").click()
    page.locator("#f-pin").wait_for(state="detached")


def _go(page, route):
    page.evaluate("r => { location.hash = r; }", route)
    page.locator(".field-page h1").wait_for()


def _fits(page):
    """No sideways scroll on the phone; every control big enough to tap."""
    result = page.evaluate("""() => {
      const small = [...document.querySelectorAll('main button, main select, main textarea, main .button, ' +
        'main input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
        .filter(e => e.getBoundingClientRect().height > 0)
        .filter(e => e.getBoundingClientRect().height < 44 || e.getBoundingClientRect().width < 44)
        .map(e => e.textContent || e.name);
      return {wide: document.documentElement.scrollWidth > window.innerWidth, small};
    }""")
    assert result == {"wide": False, "small": []}, page.url


def _statuses(page):
    return page.evaluate("window.FieldApp.state.outbox.map(i => i.status)")


def test_two_children_an_assessment_and_a_report_offline_then_synced(browser_page):
    worker = _worker()
    known = _child(worker, "Đinh Thị Lan", dt.date(2013, 5, 5))
    page = browser_page
    _start(page)
    context = page.context
    context.set_offline(True)

    # Offline, her pages open from the phone: the child list at its usual address.
    page.goto("/registry/children/")
    _unlock(page)
    assert page.locator(".field-page h1").inner_text() == "Trẻ em"
    assert "Đinh Thị Lan" in page.locator(".field-list").inner_text()
    _fits(page)

    _go(page, "#/register")
    _fits(page)
    page.get_by_label("Họ và tên *").fill("Rơ Châm Thị Hương")
    page.get_by_label("Ngày sinh *").fill("2017-04-09")
    page.get_by_label("Giới tính *").select_option("F")
    page.get_by_label("Số định danh cá nhân").fill("062217000123")  # digit 4 (2) says a boy born in the 2000s
    page.locator("main button[type=submit]").click()
    assert page.locator("#f-personal_id-error").inner_text() == "Số định danh cho giới tính Nam, khác giới tính đã khai."
    page.get_by_label("Số định danh cá nhân").fill("")
    page.get_by_label("Thôn, làng, tổ dân phố").fill("Thôn 3")
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="Rơ Châm Thị Hương").wait_for()

    page.get_by_role("link", name="Đánh giá nguy cơ").click()
    page.get_by_label("Cha mẹ đi làm ăn xa", exact=False).check()
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="Rơ Châm Thị Hương").wait_for()

    _go(page, "#/register")
    page.get_by_label("Họ và tên *").fill("A Khánh")
    page.get_by_label("Ngày sinh *").fill("2019-11-30")
    page.get_by_label("Giới tính *").select_option("M")
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="A Khánh").wait_for()

    # A report received three hours ago (form 01): the child was in danger.
    received = (timezone.localtime() - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    _go(page, f"#/intake?child={known.pk}")
    _fits(page)
    page.get_by_label("Thời điểm tiếp nhận *").fill(received.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Loại vụ việc").select_option("neglect")
    page.get_by_label("Tính mạng, sức khoẻ", exact=False).check()
    page.get_by_label("Nơi xảy ra *").fill("Nhà bà ngoại, thôn 1")
    page.get_by_label("Nội dung sự việc *").fill("Trẻ ở một mình nhiều ngày")
    page.get_by_label("Người báo tin ẩn danh").check()
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="Hộp thư đi").wait_for()
    assert _statuses(page) == ["waiting"] * 4
    assert not Child.objects.filter(full_name__in=["Rơ Châm Thị Hương", "A Khánh"]).exists()  # nothing sent yet

    context.set_offline(False)  # back in signal: the notebook syncs by itself
    _synced(page)
    assert _statuses(page) == ["sent"] * 4
    hương = Child.objects.get(full_name="Rơ Châm Thị Hương")
    assert hương.village == "Thôn 3" and hương.source == "field"
    assert hương.risks.get().factor.code == "parents_away"
    assert Child.objects.filter(full_name="A Khánh", birth_date=dt.date(2019, 11, 30)).exists()
    case = known.cases.get()
    # Decree 56/2017, Art. 26: the 12 hours run from the report's receipt as recorded, not the sync.
    assert case.received_at == received and case.emergency_due_at == received + dt.timedelta(hours=12)
    rows = AuditEntry.objects.filter(action__in=["child.register", "child.risk_assess", "case.intake"],
                                     changes__sync__isnull=False)
    assert rows.count() == 4
    assert all(r.changes["sync"]["recorded_at"] < r.changes["sync"]["synced_at"] for r in rows)
    page.locator(".outbox-item", has_text="Hạn can thiệp khẩn cấp").wait_for()


def test_the_village_changed_on_both_sides_is_shown_and_resolved(browser_page, live_server):
    worker = _worker()
    officer = user_create(username="officer", password=PASSWORD, role=Role.PROVINCE_OFFICER, full_name="Cán bộ tỉnh",
                          units=[unit_resolve(r) for r in PROVINCE])
    child = _child(worker, "Nguyễn Thị Hoa", dt.date(2014, 3, 2), village="Thôn 1")
    page = browser_page
    _start(page)
    page.context.set_offline(True)
    _go(page, f"#/child/{child.pk}/address")
    page.get_by_label("Thôn, làng, tổ dân phố").fill("Làng Đăk Rơ Wang")
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="Nguyễn Thị Hoa").wait_for()

    # Meanwhile, at the province, an officer changes the same village online.
    office = page.context.browser.new_page(base_url=live_server.url, locale="vi-VN")
    browser_login(office, "officer")
    from vitreem.benefits.tests.test_e2e_benefits import _second_factor

    _second_factor(office, officer)
    office.goto(f"/registry/children/{child.pk}/edit/")
    office.get_by_label("Thôn, làng, tổ dân phố").fill("Thôn Kon Gung")
    office.get_by_role("button", name="Lưu").click()
    office.wait_for_url(f"**/registry/children/{child.pk}/")
    office.close()

    page.context.set_offline(False)
    _synced(page)
    assert _statuses(page) == ["conflict"]
    assert Child.objects.get(pk=child.pk).village == "Thôn Kon Gung"  # nothing of hers applied yet
    _go(page, "#/outbox")
    page.get_by_role("link", name="Chọn giá trị").click()
    _fits(page)
    assert "Thôn Kon Gung" in page.get_by_label("Giữ giá trị trên máy chủ", exact=False).locator("..").inner_text()
    page.get_by_label("Giữ giá trị của tôi", exact=False).check()
    page.get_by_role("button", name="Lưu lựa chọn").click()
    page.locator(".field-page h1", has_text="Hộp thư đi").wait_for()
    _synced(page)
    assert _statuses(page) == ["sent"]
    assert Child.objects.get(pk=child.pk).village == "Làng Đăk Rơ Wang"
    # Both values are in the child's history, where the officer reads it.
    history = AuditEntry.objects.filter(object_type="registry.child", object_id=str(child.pk))
    conflict = history.get(action="child.sync_conflict").changes["fields"]["village"]
    assert conflict == {"server": "Thôn Kon Gung", "device": "Làng Đăk Rơ Wang"}
    assert history.filter(action="child.update", changes__resolution__village__kept="device").count() == 1
    assert page.evaluate(f"window.FieldApp.state.data.children.find(c => c.id === {child.pk}).village") == "Làng Đăk Rơ Wang"


def test_a_child_registered_offline_who_is_already_registered_goes_to_review(browser_page):
    worker = _worker()
    existing = _child(worker, "Nguyễn Thị Hoa", dt.date(2014, 3, 2))
    page = browser_page
    _start(page)
    page.context.set_offline(True)
    _go(page, "#/register")
    page.get_by_label("Họ và tên *").fill("Nguyễn Thị Hoa")
    page.get_by_label("Ngày sinh *").fill("2014-03-02")
    page.get_by_label("Giới tính *").select_option("F")
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="Nguyễn Thị Hoa").wait_for()
    page.context.set_offline(False)
    _synced(page)
    assert _statuses(page) == ["review"]
    assert Child.objects.filter(full_name="Nguyễn Thị Hoa").count() == 1  # no second record
    _go(page, "#/outbox")
    assert "Trẻ này có thể đã có trong danh sách" in page.locator(".outbox-item").inner_text()
    page.get_by_role("link", name="Xem hàng chờ xét trùng").click()
    page.wait_for_url("**/field/review/")
    page.get_by_role("link", name="Nguyễn Thị Hoa").click()
    page.get_by_label("Nguyễn Thị Hoa").check()
    page.get_by_role("button", name="Cùng một trẻ: gắn vào hồ sơ đã chọn").click()
    page.wait_for_url("**/field/review/")
    assert Child.objects.filter(full_name="Nguyễn Thị Hoa").count() == 1
    assert AuditEntry.objects.filter(action="child.field_registration_linked", object_id=str(existing.pk)).exists()


def test_logout_erases_the_phones_data(browser_page):
    worker = _worker()
    _child(worker, "Nguyễn Thị Hoa", dt.date(2014, 3, 2))
    page = browser_page
    _start(page)
    assert "vitreem-field" in page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))")
    # A change not sent yet: she is warned before it is erased.
    page.context.set_offline(True)
    _go(page, "#/register")
    page.get_by_label("Họ và tên *").fill("A Khánh")
    page.get_by_label("Ngày sinh *").fill("2019-11-30")
    page.get_by_label("Giới tính *").select_option("M")
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="A Khánh").wait_for()
    page.route("**/api/field/**", lambda route: route.abort())  # the sync cannot get through: still unsent
    page.context.set_offline(False)
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.locator(".menu-toggle").click()
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/accounts/login/")
    assert dialogs and "1 thay đổi chưa gửi" in dialogs[0]
    assert "vitreem-field" not in page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))")
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0


def test_no_other_communes_data_reaches_the_phone_and_hers_is_encrypted(browser_page):
    worker = _worker()
    other = _worker("commune-b", COMMUNE_B, "A Tú")
    mine = _child(worker, "Nguyễn Thị Hoa", dt.date(2014, 3, 2), village="Thôn Kon Gung")
    theirs = _child(other, "Y Blin Mar", dt.date(2016, 5, 6), sex="M", village="Làng Đăk Mar", unit="2025:23512")
    page = browser_page
    bodies = []
    page.on("response", lambda r: bodies.append(r.text()) if "/api/field/" in r.url else None)
    _start(page)
    # What came over the network: her commune's records, not the other commune's.
    received = "".join(bodies)
    assert "Nguyễn Thị Hoa" in received and "Y Blin Mar" not in received and "Làng Đăk Mar" not in received
    # What the phone stores: every store of every database, and every cache, read raw.
    raw = page.evaluate("""async () => {
      const out = [];
      for (const info of await indexedDB.databases()) {
        const db = await new Promise(ok => { const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); });
        for (const name of db.objectStoreNames) {
          const rows = await new Promise(ok => { const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result); });
          out.push(JSON.stringify(rows, (k, v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v)
            ? new TextDecoder('utf-8', {fatal: false}).decode(v) : v));
        }
        db.close();
      }
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) out.push(await (await cache.match(request)).text());
      }
      return out.join("\\n");
    }""")
    for text in ("Nguyễn Thị Hoa", "Thôn Kon Gung", "Y Blin Mar", "Làng Đăk Mar", mine.birth_date.isoformat()):
        assert text not in raw  # encrypted at rest, and nothing of the other commune at all
    # Unlocked with her PIN, the phone holds exactly her commune's children.
    page.reload()
    _unlock(page)
    ids = page.evaluate("window.FieldApp.state.data.children.map(c => c.id)")
    assert ids == [mine.pk] and theirs.pk not in ids


def test_the_notebook_is_installable_and_opens_offline(browser_page, live_server, tmp_path):
    """Chromium's own installability check, in a persistent profile (a private window, as the other
    tests use, is never installable); then her pages, opened offline, show the notebook's views."""
    from vitreem.testing.browser import chromium_path, launch_args

    _worker()
    browser_type = browser_page.context.browser.browser_type
    context = browser_type.launch_persistent_context(str(tmp_path / "profile"), executable_path=chromium_path(),
                                                     headless=True, args=launch_args(), base_url=live_server.url,
                                                     locale="vi-VN", viewport=PHONE)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(15_000)
        _start(page)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [] and manifest["url"].endswith("/field/manifest.webmanifest")
        context.set_offline(True)
        for path, title in (("/cases/", "Vụ việc đang mở của tôi"), ("/", "Sổ tay thực địa"),
                            ("/benefits/", "Sổ tay thực địa")):
            page.goto(path)
            _unlock(page)
            assert page.locator(".field-page h1").inner_text() == title
            _fits(page)
        assert "cần có mạng" in page.locator(".field-status").inner_text()  # /benefits/ has no offline view
    finally:
        context.close()


def test_erased_after_days_without_sync_and_when_another_account_logs_in(browser_page):
    worker = _worker()
    _worker("commune-b", COMMUNE_B, "A Tú")
    _child(worker, "Nguyễn Thị Hoa", dt.date(2014, 3, 2))
    page = browser_page
    _start(page)
    # A change recorded offline, then the phone stays 15 days without a sync (the setting is 14).
    page.context.set_offline(True)
    _go(page, "#/register")
    page.get_by_label("Họ và tên *").fill("A Khánh")
    page.get_by_label("Ngày sinh *").fill("2019-11-30")
    page.get_by_label("Giới tính *").select_option("M")
    page.locator("main button[type=submit]").click()
    page.locator(".field-page h1", has_text="A Khánh").wait_for()
    page.evaluate("""async () => {
      const db = await new Promise(ok => { const r = indexedDB.open('vitreem-field'); r.onsuccess = () => ok(r.result); });
      const store = db.transaction('meta', 'readwrite').objectStore('meta');
      const state = await new Promise(ok => { const r = store.get('state'); r.onsuccess = () => ok(r.result); });
      state.lastSync = Date.now() - 15 * 86400000;
      await new Promise(ok => { const r = store.put(state, 'state'); r.onsuccess = ok; });
      db.close();
    }""")
    page.reload()
    assert "14 ngày không đồng bộ" in page.locator(".field-status").inner_text()
    _unlock(page)
    assert page.evaluate("window.FieldApp.state.data.children.length") == 0  # the commune's data is gone
    assert _statuses(page) == ["waiting"]  # her unsent change is kept
    page.context.set_offline(False)
    _synced(page)
    assert _statuses(page) == ["sent"] and Child.objects.filter(full_name="A Khánh").exists()
    assert "Nguyễn Thị Hoa" in page.evaluate("window.FieldApp.state.data.children.map(c => c.full_name).join()")

    # Another worker logs in on this phone (her session ended without a logout): nothing of the first stays.
    page.context.clear_cookies()
    browser_login(page, "commune-b")
    page.wait_for_url("**/")
    page.goto("/field/")
    page.locator("#f-pin").fill(PIN)  # the phone still holds the first worker's lock
    page.locator("main button[type=submit]").click()
    page.locator("#f-pin2").wait_for()  # erased, the notebook starts over for the new account
    assert "Dữ liệu của tài khoản trước đã được xoá" in page.locator(".field-status").inner_text()
    names = page.evaluate("""async () => {
      const db = await new Promise(ok => { const r = indexedDB.open('vitreem-field'); r.onsuccess = () => ok(r.result); });
      const n = await new Promise(ok => { const r = db.transaction('vault').objectStore('vault').count(); r.onsuccess = () => ok(r.result); });
      const lock = await new Promise(ok => { const r = db.transaction('meta').objectStore('meta').get('lock'); r.onsuccess = () => ok(r.result); });
      db.close();
      return {n, lock: lock || null};
    }""")
    assert names == {"n": 0, "lock": None}
