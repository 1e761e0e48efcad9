"""Every page the commune worker can open, on a 375 px phone screen, in a real browser.

The test logs in as the demo's `commune` worker and walks every link it finds from the home page
(one page per URL shape: /registry/children/12/ and /registry/children/40/ are the same page), so a
page added later is swept too. On each page it fails on sideways scrolling, a menu not folded behind
its one button, a list not shown as cards, form fields side by side, or a control smaller than 44 px.
An officer's pages on a desktop screen keep their table and their open menu.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from conftest import browser_login

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 740}
SKIP = re.compile(r"^/(static|media|admin|api|i18n)/|logout|export|download|\.(xlsx|csv|docx|pdf|json)(\?|$)|/xlsx/|/docx/|/pdf/")

# What one page is checked for, measured in the page itself.
CHECK_PAGE = """() => {
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const doc = document.documentElement;
  const out = {scrollWidth: Math.max(doc.scrollWidth, document.body.scrollWidth), width: window.innerWidth,
               problems: []};
  const toggles = [...document.querySelectorAll('.menu-toggle')].filter(visible);
  const navLinks = [...document.querySelectorAll('header nav a')].filter(visible);
  out.toggles = toggles.length; out.navVisible = navLinks.length;
  for (const row of document.querySelectorAll('main tbody tr')) {
    if (visible(row) && getComputedStyle(row).display === 'table-row') { out.problems.push('a table row, not a card'); break; }
  }
  for (const form of document.querySelectorAll('main form')) {
    const fields = [...form.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea')].filter(visible);
    for (let i = 0; i < fields.length; i++) for (let j = i + 1; j < fields.length; j++) {
      const a = fields[i].getBoundingClientRect(), b = fields[j].getBoundingClientRect();
      if (a.top < b.bottom - 1 && b.top < a.bottom - 1) out.problems.push('two fields side by side: ' + (fields[i].name || fields[i].id) + ', ' + (fields[j].name || fields[j].id));
    }
  }
  const targets = [...document.querySelectorAll('main button, main select, main textarea, main .button, main .pager a, ' +
      'main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main td a, .menu-toggle')].filter(visible);
  for (const el of targets) {
    const r = el.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) out.problems.push('tap target ' + Math.round(r.width) + '×' + Math.round(r.height) + ': ' + (el.textContent || el.name || el.tagName).trim().slice(0, 40));
  }
  for (const box of [...document.querySelectorAll('main input[type=checkbox], main input[type=radio]')].filter(visible)) {
    const label = box.closest('label') || (box.id && document.querySelector('label[for="' + box.id + '"]'));
    const h = (label || box).getBoundingClientRect().height;
    if (h < 44) out.problems.push('checkbox tap target ' + Math.round(h) + ' px high: ' + (box.name || box.id));
  }
  out.problems = [...new Set(out.problems)].slice(0, 8);
  return out;
}"""


def _shape(url: str) -> str:
    return re.sub(r"\d+", "N", url.split("?")[0].split("#")[0])


def test_every_page_of_the_commune_worker_fits_a_375px_phone(browser_page):
    from vitreem.demo.services import demo_seed

    demo_seed(children=3000, seed=5, log=lambda *_: None)
    page = browser_page
    page.set_viewport_size(PHONE)
    browser_login(page, "commune", "vitreem-demo")
    page.wait_for_url("**/")

    # The menu: folded behind one button, which opens it.
    assert page.locator("header nav a").first.is_hidden()
    page.locator(".menu-toggle").click()
    assert page.locator("header nav a").first.is_visible()
    assert page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"

    seen: set[str] = set()
    queue, failures, swept = ["/"], [], []
    while queue and len(seen) < 200:
        url = queue.pop(0)
        shape = _shape(url)
        if shape in seen or SKIP.search(url):
            continue
        seen.add(shape)
        try:
            response = page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" in str(exc):
                continue  # a link to a file, not a page
            raise
        if response is None or "html" not in (response.headers.get("content-type") or ""):
            continue
        result = page.evaluate(CHECK_PAGE)
        swept.append((url, response.status))
        where = f"{url} ({response.status})"
        if result["scrollWidth"] > result["width"]:
            failures.append(f"{where}: scrolls sideways, {result['scrollWidth']} px wide")
        if result["toggles"] != 1 or result["navVisible"]:
            failures.append(f"{where}: the menu is not folded behind one button")
        failures.extend(f"{where}: {p}" for p in result["problems"])
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            if href.startswith("/") and _shape(href) not in seen:
                queue.append(href)
    assert not failures, "\n".join(failures)
    # The sweep really walked her pages: lists, records, forms of every part she works in.
    shapes = {_shape(u) for u, status in swept if status == 200}
    for expected in ("/registry/children/", "/registry/children/N/", "/registry/children/new/", "/cases/",
                     "/cases/N/", "/cases/new/", "/benefits/", "/activities/", "/registry/duplicates/"):
        assert expected in shapes, f"{expected} was not reached"
    assert len(shapes) >= 40


def test_an_officers_pages_stay_as_they_are_on_a_desktop(browser_page):
    from vitreem.demo.services import demo_seed

    demo_seed(children=1000, seed=5, log=lambda *_: None)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, "leader", "vitreem-demo")  # a provincial leader: no second factor to pass here
    page.wait_for_url("**/")
    for url in ("/", "/stats/", "/registry/children/"):
        page.goto(url)
        assert page.locator(".menu-toggle").is_hidden()
        assert page.locator("header nav a").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    rows = page.locator("main tbody tr")
    assert rows.count() > 0
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "table-row"
    assert page.locator("main thead").first.is_visible()
