"""Content-Security-Policy (issue 15 item 2): the browser runs only the scripts and styles vitreem serves.

The policy (config/settings/base.py, sent by django-csp's middleware) has no 'unsafe-inline' and no
'unsafe-eval': an injected `<script>`, an `onclick=`, a `style="…"` attribute, htmx's `hx-on`/`js:`
values and htmx's own injected indicator `<style>` are all refused. So pages keep their JavaScript in
static files (core/static/vitreem/site.js and the scripts apps register in core/nav.py); htmx is told
not to inject its style nor to evaluate strings (the `htmx-config` meta tag in base.html; the indicator
rules are in site.css); charts are SVG whose presentation attributes (fill, font-size) are not styles.

`VITREEM_CSP` chooses how the header is sent: `enforce` (the default), `report-only` (the browser only
reports) or `off`. Browsers post violations to /csp-report/, which logs them (logger `vitreem.csp`).
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

REPORT_PATH = "/csp-report/"
# A browser's report is a few hundred bytes; anything much bigger is not one.
REPORT_MAX_BYTES = 16 * 1024

logger = logging.getLogger("vitreem.csp")


@csrf_exempt  # browsers post reports without a token; the view only writes a log line
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log one violation report (application/csp-report or application/reports+json)."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = REPORT_MAX_BYTES + 1
    if length > REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        report = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponse(status=400)
    if isinstance(report, dict):
        report = report.get("csp-report", report)
    if not isinstance(report, (dict, list)):
        return HttpResponse(status=400)
    logger.warning("CSP violation: %s", json.dumps(report, ensure_ascii=False)[:2000])
    return HttpResponse(status=204)
