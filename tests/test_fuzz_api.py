"""Fuzzing the API from its OpenAPI schema (issue 15 item 3), with Schemathesis, in-process.

Every operation of the schema is called with requests Schemathesis generates from it (valid ones and
invalid ones), as the demo's commune worker, province officer and member-unit reporter, through the
project's own WSGI application (no server, no network), with a personal API token made after the second
factor. Each answer must be no 5xx, a status the operation documents, with a body that matches the schema
documented for that status; a request the schema says is invalid must not be accepted. Path parameters
come from three sources: the persona's own records, records outside her scope (the privacy sweep's
`Records`), and whatever the generator makes up; JSON bodies also from the sweep's `_example`. After the
commune worker's run, nothing of another commune has changed.

The bounded run (CI) tries VITREEM_FUZZ_EXAMPLES examples per operation and persona (default 5), with
a fixed seed; `make fuzz` runs the long one (more examples, its own time bound).
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import IntegrityError, close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.test_scope_sweep import Records, _example, _schema, _values
from vitreem.core.errors import DomainError

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("VITREEM_FUZZ_EXAMPLES", "5"))
# Each persona's run starts no new operation after a third of this many seconds (the one under way
# finishes); an operation left out fails the test, so a long run that ran out of time says so.
TIME_LIMIT = float(os.environ.get("VITREEM_FUZZ_SECONDS", "900"))
PERSONAS = ("commune", "province", "reporter")
# To replay one failure: only the operations whose label holds this text ("PATCH /api/activities/").
ONLY = os.environ.get("VITREEM_FUZZ_ONLY", "")
# No 5xx; a status the operation documents, with its content type and body schema; and a request the
# schema says is invalid is never accepted.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


class App:
    """The project's WSGI application, as the test client runs it: the request signals do not close
    the test's database connection (it holds the test's transaction), and the body is read before the
    call returns so `request_finished` fires while the signals are still disconnected."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.errors: list[str] = []
        self.distinct: set[str] = set()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        got_request_exception.connect(self._record)
        try:
            result = self.handler(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                result.close()
            return [body]
        finally:
            got_request_exception.disconnect(self._record)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    def _record(self, sender, request=None, **kwargs) -> None:
        self.errors.append(f"{request.method} {request.get_full_path()}\n{traceback.format_exc()}")
        self.distinct.add(f"{request.method} {request.path}: {traceback.format_exc().strip().splitlines()[-1]}")


def _token(user) -> str:
    """A personal token made the way the profile page makes it: with the second factor verified in the
    session when the role needs one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from vitreem.accounts.services import token_create

    device = TOTPDevice.objects.create(user=user, name="fuzz", confirmed=True)
    return token_create(user=user, name="fuzz", otp_device=device)[1]


def _path_values(user, other) -> dict[str, list[Any]]:
    """For each path parameter, real ids: of the persona's own records and of records outside her scope,
    the privacy sweep's choices (a parameter the demo has no record for is left to the generator)."""
    found: dict[str, list[Any]] = {}
    for records in (Records(user, other, inside=True), Records(user, other)):
        for (segment, name), make in _values(records).items():
            if make is None:
                continue
            try:
                with transaction.atomic():
                    value = make()
            except (AssertionError, AttributeError, IntegrityError, DomainError):
                continue  # nothing of this kind in (or outside) her scope, or not hers to make
            found.setdefault(f"{segment}:{name}", []).append(value)
    return found


def _strategy(operation, values: dict[str, list[Any]]):
    """Generated requests, valid and invalid, with generated path parameters and with real ids; and the
    privacy sweep's body for the operation (every property, plausible values), which passes the schema
    and reaches the view's own checks where generated bodies mostly stop at the domain's validation."""
    segment = operation.path.split("/")[2]
    names = [p.name for p in operation.path_parameters]
    known = [values.get(f"{segment}:{n}") for n in names]
    fixed = st.fixed_dictionaries({n: st.sampled_from(v) for n, v in zip(names, known, strict=True) if v})
    choices = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    choices += [fixed.flatmap(_with_path(operation, generation_mode=mode)) for mode in GenerationMode]
    content = (_schema()["paths"][operation.path][operation.method.lower()].get("requestBody") or {}).get("content", {})
    if "application/json" in content:
        body = _example(content["application/json"]["schema"])
        choices.append(fixed.flatmap(_with_path(operation, body=body, media_type="application/json")))
    return st.one_of(choices)


def _with_path(operation, **kwargs):
    return lambda params: operation.as_strategy(path_parameters=params or None, **kwargs)


def _snapshot(units: set[int]) -> dict[str, list]:
    """What a commune worker could have written, outside `units`: records and their versions."""
    from vitreem.activities.models import Activity
    from vitreem.benefits.models import Allowance
    from vitreem.cases.models import Case
    from vitreem.core.models import AuditEntry
    from vitreem.registry.models import Child, Guardian, Household, RiskAssessment, SpecialEpisode

    def rows(qs, *fields):
        return list(qs.order_by("pk").values_list("pk", *fields))

    return {
        "children": rows(Child.objects.exclude(unit__in=units), "version", "unit_id", "ended_on"),
        "cases": rows(Case.objects.exclude(unit__in=units), "version", "status", "owner_id"),
        "guardians": rows(Guardian.objects.exclude(child__unit__in=units), "full_name", "phone"),
        "episodes": rows(SpecialEpisode.objects.exclude(child__unit__in=units), "end"),
        "risk": rows(RiskAssessment.objects.exclude(child__unit__in=units)),
        "households": rows(Household.objects.exclude(unit__in=units), "head_name"),
        "allowances": rows(Allowance.objects.exclude(unit__in=units), "version", "status"),
        "activities": rows(Activity.objects.exclude(unit__in=units), "version"),
        "audit": rows(AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).exclude(unit__in=units)
                      .exclude(unit=None), "action"),
    }


class Run:
    """One persona's run: the cases tried, the statuses answered, the operations that answered a success
    at least once, and the failures of the schema's checks."""

    def __init__(self, app: App, user, headers: dict[str, str]) -> None:
        self.app, self.user, self.headers = app, user, headers
        self.tried = 0
        self.statuses: Counter[int] = Counter()
        self.succeeded: set[str] = set()
        self.operations: set[str] = set()
        self.failures: list[str] = []

    def operation(self, operation, strategy) -> None:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case) -> None:
            self.tried += 1
            self.operations.add(operation.label)
            response = case.call(app=self.app, headers=self.headers)
            self.statuses[response.status_code] += 1
            if response.status_code < 300:
                self.succeeded.add(operation.label)
            try:
                case.validate_response(response, checks=CHECKS, headers=self.headers)
            except FailureGroup as exc:
                self.failures += [f"{self.user.username} {operation.label} → {response.status_code}: {f.title} — "
                                  f"{' '.join((f.message or '').split())} — {response.content[:300]!r}"
                                  for f in exc.exceptions]

        run()


def _fuzz(schema, run: Run, values: dict[str, list[Any]], deadline: float) -> None:
    for result in schema.get_all_operations():
        operation = result.ok()
        if ONLY not in operation.label:
            continue
        if time.monotonic() > deadline:
            run.failures.append(f"{run.user.username}: VITREEM_FUZZ_SECONDS reached before {operation.label}")
            break
        run.operation(operation, _strategy(operation, values))


def test_the_api_holds_under_generated_requests(demo_world):
    from vitreem.accounts.models import User
    from vitreem.core.api import api
    from vitreem.core.scope import scope_for

    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert len(operations) >= 80  # every app's router is in the schema (86 operations when this was written)
    app = App()
    other = User.objects.get(username="commune2")
    report: list[str] = []
    failures: list[str] = []
    for username in PERSONAS:
        user = User.objects.get(username=username)
        # Made before the snapshot: some of the ids are files and tasks made for the other worker.
        headers = {"Authorization": f"Bearer {_token(user)}"}
        values = _path_values(user, other)
        if username == "commune":
            units = set(scope_for(user).unit_ids)
            before = _snapshot(units)
        started = time.monotonic()
        run = Run(app, user, headers)
        _fuzz(schema, run, values, started + TIME_LIMIT / len(PERSONAS))
        report.append(f"{username}: {run.tried} cases in {time.monotonic() - started:.0f} s, "
                      f"{len(run.failures)} failures; statuses {dict(sorted(run.statuses.items()))}; "
                      f"{len(run.succeeded)} operations answered a success")
        failures += run.failures
        # The run reached every operation, and the real ids and the sweep's bodies took some past the checks.
        if not ONLY:
            assert run.operations == operations, sorted(operations - run.operations)
            assert len(run.succeeded) >= 15, sorted(run.succeeded)
        if username == "commune":
            after = _snapshot(units)
            changed = {k: sorted(set(after[k]) ^ set(before[k]))[:5] for k in before if before[k] != after[k]}
            assert not changed, f"the commune worker changed another commune's records: {changed}"
    print("\n".join(report))  # noqa: T201 — the cases tried, for the run's log
    assert not app.errors, (f"{len(app.errors)} server errors:\n" + "\n".join(sorted(app.distinct))
                            + "\nthe first:\n" + app.errors[0])
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
