"""Privacy sweep over every route of the project, on a small demo province.

Each page and API endpoint that names a record in its URL is requested by the demo's worker of
another commune ("commune2", commune 23512) with the id of a record of a commune outside her scope:
every one must answer 403 or 404, for GET and for POST, and nothing may change. The routes are found
by walking the URL resolver and the API schema, so a route added later is swept too; a URL parameter
this file does not know makes the test fail until someone says what record it names (or that it
names none), so no new route escapes the sweep by accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import login

pytestmark = pytest.mark.django_db

REFUSED = {403, 404, 405}  # 405: the route does not take this method at all


def _walk(patterns, prefix: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _params(route: str) -> list[str]:
    """Parameter names of a route, Django style (<int:child_id>) or ninja style (<child_id>)."""
    return [name.split(":")[-1] for name in re.findall(r"<([^>]+)>", route)]


class Records:
    """Records of the demo province outside `user`'s scope (inside=False) or inside it (inside=True);
    files, tasks and tokens are made for `other` outside, for the user herself inside."""

    def __init__(self, user, other, *, inside: bool = False) -> None:
        from vitreem.core.scope import scope_for

        self.user, self.inside = user, inside
        self.other = user if inside else other
        self.units = scope_for(user).unit_ids

    def pick(self, model: type[Model], unit_field: str = "unit", **extra: Any) -> int:
        manager = model._default_manager
        where = {f"{unit_field}__in": self.units}
        qs = (manager.filter(**where) if self.inside else manager.exclude(**where)).filter(**extra).order_by("pk")
        obj = qs.first()
        assert obj is not None, f"the demo has no {model.__name__} {'in' if self.inside else 'outside'} her scope"
        return int(obj.pk)

    def child(self) -> int:
        from vitreem.registry.models import Child

        return self.pick(Child)

    def case(self) -> int:
        from vitreem.cases.models import Case

        return self.pick(Case)

    def case_related(self, model_path: str) -> int:
        from django.apps import apps

        model = apps.get_model(model_path)
        row = model._default_manager.filter(case_id=self.case()).order_by("pk").first()
        return int(row.pk) if row else 1  # the case is refused first either way

    def activity(self) -> int:
        from vitreem.activities.models import Activity

        return self.pick(Activity)

    def participant(self) -> int:
        from vitreem.activities.models import Participant

        row = Participant.objects.filter(activity_id=self.activity()).order_by("pk").first()
        return int(row.pk) if row else 1

    def import_batch(self) -> int:
        from vitreem.imports.services import import_create

        return import_create(actor=self.other, filename="ds.csv", content="Họ và tên\nA Tin\n".encode()).pk

    def export(self) -> int:
        from vitreem.imports.services import export_file_save

        return export_file_save(actor=self.other, filename="ds.csv", data=b"x", filters={}, rows=0).pk

    def report(self) -> int:
        """A report of the commune of the other worker (generated reports are kept per unit)."""
        from vitreem.reports.models import GeneratedReport

        units = self.other.units.all()
        unit = units.filter(pk__in=self.units).first() if self.inside else units.exclude(pk__in=self.units).first()
        return GeneratedReport.objects.create(year=2022, unit=unit, format="xlsx", created_by=self.other).pk

    def task_status(self) -> str:
        from vitreem.core.models import TaskStatus

        return str(TaskStatus.objects.create(owner=self.other, kind="export").pk)

    def token(self) -> int:
        from vitreem.accounts.services import token_create

        return token_create(user=self.other, name="other")[0].pk

    def field_change(self) -> str:
        """A registration made offline by the other worker (the user herself inside), held for review
        with a child of that commune as its candidate."""
        from django.utils import timezone

        from vitreem.field.models import FieldChange
        from vitreem.registry.models import Child

        child = Child.objects.get(pk=self.child())
        now = timezone.now()
        return str(FieldChange.objects.create(
            user=self.other, unit_id=child.unit_id, kind="child.register", status=FieldChange.Status.REVIEW,
            recorded_at=now, effective_at=now, synced_at=now,
            payload={"data": {"full_name": child.full_name, "birth_date": child.birth_date.isoformat(), "sex": child.sex}},
            result={"full_name": child.full_name, "candidates": [{"id": child.pk, "score": 0.95, "reasons": []}]}).pk)

    def submission(self) -> int:
        from vitreem.programme.models import Submission

        mine = getattr(self.user, "member_unit_id", None)
        rows = Submission.objects.order_by("pk")
        rows = (rows.filter(unit_id__in=self.units) if self.inside
                else rows.exclude(member_unit_id=mine).exclude(unit_id__in=self.units))
        row = rows.first()
        assert row is not None
        return int(row.pk)


def _values(outside: Records) -> dict[tuple[str, str], Callable[[], Any] | None]:
    """(first path segment, parameter) → a value naming a record outside the scope; None for a
    parameter that names no record (a code, a year, a format, an action)."""
    from vitreem.registry.models import DuplicateCandidate, Guardian, Household, SpecialEpisode

    child_data: dict[tuple[str, str], Callable[[], Any] | None] = {
        ("registry", "child_id"): outside.child,
        ("registry", "episode_id"): lambda: outside.pick(SpecialEpisode, "child__unit"),
        ("registry", "household_id"): lambda: outside.pick(Household),
        ("registry", "guardian_id"): lambda: outside.pick(Guardian, "child__unit"),
        ("registry", "pk"): lambda: _candidate(outside, DuplicateCandidate),
        ("imports", "import_id"): outside.import_batch,
        ("imports", "export_id"): outside.export,
        ("cases", "case_id"): outside.case,
        ("cases", "attachment_id"): lambda: outside.case_related("cases.Attachment"),
        ("cases", "referral_id"): lambda: outside.case_related("cases.Referral"),
        ("cases", "item_id"): lambda: 1,
        ("benefits", "allowance_id"): lambda: outside.pick(_model("benefits.Allowance")),
        ("benefits", "child_id"): outside.child,
        ("activities", "pk"): outside.activity,
        ("activities", "activity_id"): outside.activity,
        ("activities", "participant_id"): outside.participant,
        ("reports", "report_id"): outside.report,
        ("tasks", "status_id"): outside.task_status,
        ("programme", "submission_id"): outside.submission,
        ("field", "change_id"): outside.field_change,
        ("privacy", "child_id"): outside.child,
        ("privacy", "request_id"): lambda: outside.pick(_model("privacy.SubjectRequest")),
        ("privacy", "consent_id"): lambda: outside.pick(_model("privacy.Consent")),
    }
    # Parameters that name no record of a child: the record, if any, is chosen by the user's own
    # scope inside the view (a payroll month is the worker's commune's), or the value is a code.
    codes = {("benefits", "month"), ("cases", "form"), ("cases", "fmt"), ("cases", "action"),
             ("benefits", "action"), ("activities", "kind"), ("programme", "code"), ("programme", "form_code"),
             ("programme", "period"), ("programme", "year"), ("programme", "action"), ("programme", "plan_id"),
             ("programme", "task_id"),
             # Settings of the programme (data elements, validation rules of report forms) and of the
             # activities' money (partners, projects, budget lines, spending): the province's own setup,
             # no child's data; only province officers and admins open them (their tests check the 403).
             ("programme", "element_id"), ("programme", "rule_id"), ("activities", "partner_id"),
             ("activities", "project_id"), ("activities", "allocation_id"), ("activities", "spending_id"),
             # A personal API token is no child's data; revoking another user's is checked below.
             ("accounts", "token_id")}
    return {**child_data, **dict.fromkeys(codes)}


def _model(path: str):
    from django.apps import apps

    return apps.get_model(path)


def _candidate(outside: Records, model) -> int:
    from vitreem.registry.duplicates import duplicates_scan

    if not model.objects.exists():
        duplicates_scan()
    return outside.pick(model)


def _fill(route: str, values: dict[str, Any]) -> str:
    def sub(match: re.Match) -> str:
        return str(values[match.group(1).split(":")[-1]])

    path = re.sub(r"<([^>]+)>", sub, route)
    return "/" + path.lstrip("^").rstrip("$")


# Links to records in a page: /registry/children/12/, /cases/3/, /benefits/recipients/5/ ...
LINKS = {
    "registry.Child": re.compile(r'href="/registry/children/(\d+)/'),
    "cases.Case": re.compile(r'href="/cases/(\d+)/'),
    "benefits.Allowance": re.compile(r'href="/benefits/recipients/(\d+)/'),
    "registry.Household": re.compile(r'href="/registry/households/(\d+)/'),
}


def _pages() -> list[str]:
    """Routes without parameters that are pages, not files or actions."""
    return sorted({"/" + r for r in _walk(get_resolver().url_patterns)
                   if "<" not in r and "(" not in r and not r.startswith(("admin/", "api/", "accounts/"))
                   and not r.endswith((".xlsx", ".csv", ".docx", ".pdf", ".json"))})


def _routes() -> list[str]:
    routes = [r for r in _walk(get_resolver().url_patterns) if "<" in r and not r.startswith("admin/")]
    return sorted(set(routes))


def test_another_communes_records_are_refused_on_every_route(demo_world):
    from vitreem.accounts.models import ApiToken, User
    from vitreem.accounts.services import token_create
    from vitreem.core.models import AuditEntry
    from vitreem.registry.models import Child

    user = User.objects.get(username="commune2")
    other = User.objects.get(username="commune")  # another commune's worker owns the files and tasks
    outside = Records(user, other)
    known = _values(outside)
    client = login(user)
    token = token_create(user=user, name="sweep")[1]
    api_headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    unknown, leaks, swept = [], [], 0
    before_children = list(Child.objects.order_by("pk").values_list("pk", "version"))
    last_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for route in _routes():
        segment = route.split("/")[1] if route.startswith("api/") else route.split("/")[0]
        names = _params(route)
        if any((segment, n) not in known for n in names):
            unknown.extend(f"{route} <{n}>" for n in names if (segment, n) not in known)
            continue
        record = [n for n in names if known[(segment, n)] is not None]
        if not record:
            continue  # nothing in the URL names a record; the page's own scope tests cover it
        values = {n: (known[(segment, n)]() if known[(segment, n)] else _code_for(n)) for n in names}
        url = _fill(route, values)
        headers = api_headers if route.startswith("api/") else {}
        got = client.get(url, **headers).status_code
        if got not in REFUSED:
            leaks.append(f"GET {url} → {got}")
        for method in ("post", "put", "patch", "delete"):
            if method != "post" and not route.startswith("api/"):
                continue
            status = _send(client, method, route, url, headers)
            if status not in REFUSED:
                leaks.append(f"{method.upper()} {url} → {status}")
        swept += 1
    # Nothing changed: no child record was touched, and every write was refused before any audit row.
    assert list(Child.objects.order_by("pk").values_list("pk", "version")) == before_children
    changes = AuditEntry.objects.filter(pk__gt=last_audit, actor=user, kind=AuditEntry.Kind.CHANGE)
    assert list(changes.values_list("action", flat=True)) == []

    # Every page of the site, as she sees it, links only to records of her own commune.
    linked = 0
    for page in _pages():
        response = client.get(page)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        for model_path, pattern in LINKS.items():
            ids = {int(i) for i in pattern.findall(html)}
            if not ids:
                continue
            model = _model(model_path)
            allowed = set(model._default_manager.filter(pk__in=ids, unit__in=outside.units)
                          .values_list("pk", flat=True))
            linked += len(ids)
            if ids - allowed:
                leaks.append(f"{page} links to {model_path} {sorted(ids - allowed)[:5]} of another commune")
    assert linked > 0  # the pages did list her own records

    mine = outside.token()
    client.post(f"/accounts/profile/tokens/{mine}/revoke/")
    assert ApiToken.objects.get(pk=mine).revoked_at is None  # another user's token: untouched
    assert not unknown, "routes with a parameter the sweep does not know (add it to _values):\n" + "\n".join(unknown)
    assert not leaks, "another commune's records reachable:\n" + "\n".join(leaks)
    assert swept >= 60  # the sweep really walked the routes (about 80 when this was written)


# Routes that name a record but are not its detail view, so opening them writes no access row. Every
# other route that answers a GET with a record's data must write one (tested below).
NOT_DETAIL = {
    "registry/children/<int:child_id>/end/": "a one-action form; it names the child only",
    "registry/children/<int:child_id>/move/": "a one-action form; it names the child only",
    "registry/children/<int:child_id>/episodes/new/": "a one-action form; it names the child only",
    "registry/children/<int:child_id>/guardians/new/": "a one-action form; it names the child only",
    "registry/children/<int:child_id>/risk/new/": "a one-action form; it names the child only",
    "registry/episodes/<int:episode_id>/close/": "a one-action form; it names the child only",
    "registry/guardians/<int:guardian_id>/edit/": "a one-action form about a guardian",
    "registry/guardians/<int:guardian_id>/remove/": "a one-action form about a guardian",
    "registry/households/<int:household_id>/poverty/": "a one-action form; it names the head only",
    "imports/<int:import_id>/": "the user's own uploaded file, before it is in the register",
    "imports/<int:import_id>/preview/": "the user's own uploaded file, before it is in the register",
    "imports/<int:import_id>/errors.xlsx": "the user's own uploaded file, before it is in the register",
    "api/imports/<import_id>": "the user's own uploaded file, before it is in the register",
    "tasks/<uuid:status_id>/": "the progress of the user's own job",
    "activities/<int:pk>/": "an event (course, campaign), not a child's record",
    "activities/<int:pk>/edit/": "an event (course, campaign), not a child's record",
    "api/activities/activities/<activity_id>": "an event (course, campaign), not a child's record",
    "api/activities/activities/<activity_id>/participants": "an event's participants, not a child's record",
}


def test_every_detail_view_of_her_own_records_is_audited(demo_world):
    """The worker opens each of her commune's records by every route: each answer with a record's data
    writes an access row to the audit log (who read which child's data, and when)."""
    from vitreem.accounts.models import User
    from vitreem.accounts.services import token_create
    from vitreem.core.models import AuditEntry

    user = User.objects.get(username="commune")
    records = Records(user, None, inside=True)
    known = _values(records)
    client = login(user)
    api_headers = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='sweep')[1]}"}
    silent, audited = [], 0
    for route in _routes():
        segment = route.split("/")[1] if route.startswith("api/") else route.split("/")[0]
        names = _params(route)
        if any((segment, n) not in known for n in names) or not any(known[(segment, n)] for n in names):
            continue  # the other test fails on unknown parameters
        if segment == "programme":
            continue  # member units' reports, not children's data
        url = _fill(route, {n: (known[(segment, n)]() if known[(segment, n)] else _code_for(n)) for n in names})
        last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = client.get(url, **(api_headers if route.startswith("api/") else {}))
        if response.status_code != 200 or route in NOT_DETAIL:
            continue
        if AuditEntry.objects.filter(pk__gt=last, actor=user, kind=AuditEntry.Kind.ACCESS).exists():
            audited += 1
        else:
            silent.append(url)
    assert not silent, "record pages read without an access row:\n" + "\n".join(silent)
    assert audited >= 12


def test_the_field_sync_and_download_never_reach_another_communes_records(demo_world):
    """The field notebook's API names records in its body, not its URL: each kind of change a phone
    sends, naming a record of another commune, is refused and changes nothing; her download holds her
    communes' records only."""
    import json

    from django.utils import timezone

    from vitreem.accounts.models import User
    from vitreem.activities.models import Activity
    from vitreem.cases.models import Case
    from vitreem.core.models import AuditEntry
    from vitreem.field.models import FieldChange
    from vitreem.registry.models import Child, Guardian

    user = User.objects.get(username="commune2")
    outside = Records(user, User.objects.get(username="commune"))
    child, case = outside.child(), outside.case()
    guardian = outside.pick(Guardian, "child__unit")
    training = outside.pick(Activity, kind="training")
    recreation = outside.pick(Activity, kind="recreation")
    other_unit = Child.objects.get(pk=child).unit.ref
    now = timezone.now().isoformat()

    def one(kind, target=None, data=None, base=None):
        import uuid

        return {"id": str(uuid.uuid4()), "kind": kind, "recorded_at": now, "base_version": 1, "target": target or {},
                "data": data or {}, "base": base or {}}

    changes = [
        one("child.register", data={"full_name": "Y Hờ", "birth_date": "2016-01-01", "sex": "F", "unit": other_unit}),
        one("child.address", {"child": child}, {"village": "Thôn X"}, {"village": ""}),
        one("child.schooling", {"child": child}, {"schooling": "in_school", "school_level": "primary", "dropout_date": ""}),
        one("guardian.update", {"guardian": guardian, "child": child}, {"full_name": "A B", "relationship": "other", "phone": ""}),
        one("guardian.add", {"child": child}, {"full_name": "A B", "relationship": "other"}),
        one("risk.assess", {"child": child}, {"factors": []}),
        one("case.intake", data={"child": child, "received_at": now, "channel": "community", "concern": "neglect",
                                 "place": "x", "summary": "x", "reporter_anonymous": True}),
        one("case.note", {"case": case}, {"text": "x"}),
        one("activity.attend", {"activity": training}, {"participant": {"full_name": "A B", "sex": "M"}}),
        one("activity.attend", {"activity": recreation}, {"child": child}),
    ]
    client = login(user)
    before = list(Child.objects.order_by("pk").values_list("pk", "version", "village"))
    cases_before = list(Case.objects.order_by("pk").values_list("pk", "version"))
    last_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.post("/api/field/sync", json.dumps({"changes": changes}), content_type="application/json")
    assert response.status_code == 200
    statuses = [(r["status"], r["message"]) for r in response.json()["results"]]
    assert all(status == "failed" for status, _m in statuses), statuses
    assert list(Child.objects.order_by("pk").values_list("pk", "version", "village")) == before
    assert list(Case.objects.order_by("pk").values_list("pk", "version")) == cases_before
    assert not AuditEntry.objects.filter(pk__gt=last_audit, actor=user, kind=AuditEntry.Kind.CHANGE).exists()
    assert not FieldChange.objects.filter(user=user).exists()

    snap = client.get("/api/field/snapshot").json()
    ids = [row[0] for row in snap["children"]]
    assert ids and set(Child.objects.filter(pk__in=ids).values_list("unit_id", flat=True)) <= outside.units
    assert set(Case.objects.filter(pk__in=[c["id"] for c in snap["cases"]]).values_list("unit_id", flat=True)) <= outside.units
    assert set(Activity.objects.filter(pk__in=[a["id"] for a in snap["activities"]])
               .values_list("unit_id", flat=True)) <= outside.units
    assert {u["id"] for u in snap["scope"]["units"]} <= outside.units


def _send(client, method: str, route: str, url: str, headers: dict[str, str]) -> int:
    """A write with a body the endpoint accepts (built from the API schema), so that the request
    reaches the view and its scope check rather than stopping at body validation."""
    if not route.startswith("api/"):
        return client.post(url, {}, **headers).status_code
    operation = _schema()["paths"].get("/" + re.sub(r"<([^>]+)>", r"{\1}", route), {}).get(method)
    if operation is None:
        return 405
    content = (operation.get("requestBody") or {}).get("content", {})
    if "multipart/form-data" in content:
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {}
        for name, prop in _example(content["multipart/form-data"]["schema"]).items():
            data[name] = SimpleUploadedFile("a.csv", b"x") if prop == "<file>" else prop
        return client.generic(method.upper(), url, **headers).status_code if method != "post" else \
            client.post(url, data, **headers).status_code
    body = _example(content["application/json"]["schema"]) if "application/json" in content else {}
    return getattr(client, method)(url, body, content_type="application/json", **headers).status_code


_SCHEMA: dict[str, Any] = {}


def _schema() -> dict[str, Any]:
    if not _SCHEMA:
        from vitreem.core.api import api

        _SCHEMA.update(api.get_openapi_schema())
    return _SCHEMA


def _example(node: dict[str, Any]) -> Any:
    """A value a JSON schema accepts: every property (an optimistic-lock `version` is optional in
    the schema but required by the endpoint), the first enum value."""
    if "$ref" in node:
        return _example(_schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"]
            return _example(options[0])
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return {name: _example(prop) for name, prop in props.items()}
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return 1
    if kind == "boolean":
        return False
    if node.get("format") == "binary":
        return "<file>"
    return {"date": "2025-01-01", "date-time": "2025-01-01T00:00:00Z"}.get(node.get("format", ""), "x")


def _code_for(name: str) -> str:
    return {"month": "2025-06", "form": "01", "fmt": "docx", "action": "close", "kind": "training",
            "code": "x", "form_code": "x", "period": "2025", "year": "2025", "plan_id": "1", "task_id": "1"}[name]
