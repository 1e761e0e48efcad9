"""The Content-Security-Policy in a real browser: every page, as every persona, without one violation.

The test logs in as each demo persona and walks every link it finds from the home page (one page per
URL shape, like the phone test), so a page added later is walked too. Chromium fires a
`securitypolicyviolation` event for every script, style, image or frame the policy refuses — in
report-only mode as in enforce mode — and an init script records them before any page script runs.
Any recorded violation fails the test, with its page, directive and source.

It also checks that the things the policy could break still work under it: htmx (the child list's
filters replace the table; the intake form's child search fills its options; the job progress polls
itself) and the dashboard's charts (SVG drawn).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from conftest import browser_login

pytestmark = pytest.mark.e2e

SKIP = re.compile(r"^/(static|media|i18n)/|logout|/export|download|\.(xlsx|csv|docx|pdf|json)(\?|$)"
                  r"|/xlsx/|/docx/|/pdf/|/admin/.+/(delete|history)/")

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push({
  directive: e.violatedDirective, blocked: e.blockedURI, source: (e.sourceFile || '') + ':' + e.lineNumber,
  sample: e.sample || ''}));
"""


def _shape(url: str) -> str:
    return re.sub(r"\d+", "N", url.split("?")[0].split("#")[0])


def _second_factor(page, username: str) -> None:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from vitreem.accounts.models import User

    device = TOTPDevice.objects.create(user=User.objects.get(username=username), name="e2e", confirmed=True)
    page.wait_for_url("**/accounts/otp/**")
    page.get_by_label("Mã xác thực").fill(f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}")
    page.get_by_role("button", name="Xác nhận").click()


def _violations(page) -> list[dict]:
    try:
        return page.evaluate("window.__csp || []")
    except PlaywrightError:
        return []


def _walk(page, start: str, limit: int) -> tuple[list[str], list[str]]:
    """Open every page reachable from `start`; return (pages opened, violations found)."""
    seen: set[str] = set()
    queue, failures, opened = [start], [], []
    while queue and len(opened) < limit:
        url = queue.pop(0)
        shape = _shape(url)
        if shape in seen or SKIP.search(url):
            continue
        seen.add(shape)
        try:
            response = page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" in str(exc):
                continue
            raise
        if response is None or "html" not in (response.headers.get("content-type") or ""):
            continue
        headers = response.headers
        if response.status < 500 and not (headers.get("content-security-policy")
                                          or headers.get("content-security-policy-report-only")):
            failures.append(f"{url}: no Content-Security-Policy header")
        page.wait_for_load_state("load")
        opened.append(url)
        failures.extend(f"{url}: {v['directive']} refused {v['blocked']} at {v['source']} {v['sample'][:60]}"
                        for v in _violations(page))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            if href.startswith("/") and _shape(href) not in seen:
                queue.append(href)
    return opened, failures


@pytest.fixture
def demo(transactional_db):
    from vitreem.demo.services import demo_seed

    demo_seed(children=1500, seed=3, log=lambda *_: None)


PERSONAS = ["commune", "province", "admin", "reporter", "leader", "chairman", "supervisor"]


def test_every_page_of_every_persona_loads_without_a_policy_violation(browser_page, demo):
    page = browser_page
    page.context.add_init_script(RECORD_VIOLATIONS)
    failures, walked = [], {}
    for username in PERSONAS:
        page.context.clear_cookies()
        browser_login(page, username, "vitreem-demo")
        if username in {"province", "admin"}:
            _second_factor(page, username)
        page.wait_for_url("**/")
        opened, found = _walk(page, "/", limit=150)
        if username == "admin":
            for start, limit in (("/admin/", 60), ("/api/docs", 1)):  # Swagger UI from vitreem's own files
                more, more_found = _walk(page, start, limit=limit)
                opened += more
                found += more_found
        failures += [f"{username} {f}" for f in found]
        walked[username] = len(opened)
    assert not failures, "\n".join(failures[:40])
    # The walk really opened each persona's pages (a login that failed would open one or two).
    assert all(n >= 5 for n in walked.values()), walked
    assert sum(walked.values()) >= 150, walked


def test_htmx_and_charts_work_under_the_policy(browser_page, demo):
    from vitreem.core.models import TaskStatus

    page = browser_page
    page.context.add_init_script(RECORD_VIOLATIONS)
    browser_login(page, "commune", "vitreem-demo")
    page.wait_for_url("**/")

    # htmx: the child list's search replaces the rows without reloading the page.
    page.goto("/registry/children/")
    page.evaluate("window.__marker = 1")
    assert page.locator("#results tbody a[href^='/registry/children/']").count() > 0
    before = page.locator("#results").inner_text()
    page.locator("#id_q").fill("zzzz khong co ai")
    page.locator("#id_q").press("Enter")  # the form's submit, which htmx takes over
    page.wait_for_url("**q=zzzz*")  # hx-push-url
    page.wait_for_function("before => document.querySelector('#results').innerText !== before", arg=before)
    assert page.evaluate("window.__marker") == 1  # the same page: htmx swapped the rows, nothing reloaded
    assert page.locator("#results tbody a[href^='/registry/children/']").count() == 0

    # htmx on the intake form: the child search (was an eval'd hx-vals) fills the options.
    page.goto("/cases/new/")
    page.locator("#child-q").fill("Thị")
    page.wait_for_function("() => document.querySelector('#child-options').children.length > 0")

    # The job progress polls itself (htmx every 1s) and stops at the end.
    from vitreem.accounts.models import User

    status = TaskStatus.objects.create(kind="export", owner=User.objects.get(username="commune"),
                                       state=TaskStatus.State.RUNNING, progress=1, total=4)
    page.goto(f"/tasks/{status.pk}/")
    assert page.locator("progress").get_attribute("value") == "25"
    TaskStatus.objects.filter(pk=status.pk).update(progress=3)
    page.wait_for_function("() => document.querySelector('progress').value === 75")

    # Charts: the commune dashboard draws its SVG charts.
    page.goto("/stats/")
    assert page.locator("svg.chart").count() > 0
    assert page.locator("svg.chart rect, svg.chart circle, svg.chart polyline").count() > 0

    assert _violations(page) == []


def test_an_injected_inline_script_is_refused(browser_page, demo, settings):
    """The policy itself: a page that carried an inline script and a style attribute would have both
    refused (the events the walk above counts are real)."""
    page = browser_page
    page.context.add_init_script(RECORD_VIOLATIONS)
    browser_login(page, "commune", "vitreem-demo")
    page.wait_for_url("**/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                             document.body.appendChild(s);
                             const d = document.createElement('div'); d.innerHTML = '<p style="color:red">x</p>';
                             document.body.appendChild(d); }""")
    page.wait_for_function("() => window.__csp.length >= 2")
    directives = {v["directive"] for v in _violations(page)}
    assert any(d.startswith("script-src") for d in directives)
    assert any(d.startswith("style-src") for d in directives)
    if settings.CSP_MODE == "enforce":
        assert page.evaluate("window.__ran") is None  # refused, not only reported
