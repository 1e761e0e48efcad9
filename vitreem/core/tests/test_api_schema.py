"""The API's schema documents its errors (issue 15 item 3): the fuzzing found every operation answering
400/401/403/404/409 through core/api.py's handlers while the schema named only its success."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from conftest import login
from vitreem.core.api import ERROR_STATUSES, ErrorOut, api


def test_every_operation_documents_the_error_statuses_with_their_body():
    schema = api.get_openapi_schema()
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == ["code", "message"]
    undocumented = [f"{method.upper()} {path} {status}"
                    for path, operations in schema["paths"].items() for method, operation in operations.items()
                    for status in ERROR_STATUSES if status not in operation["responses"]]
    assert not undocumented, undocumented
    refused = schema["paths"]["/api/registry/children/{child_id}"]["get"]["responses"][404]
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


@pytest.mark.django_db
def test_the_error_bodies_are_what_the_schema_says(worker_a):
    client = login(worker_a)
    answers = [client.get("/api/registry/children/999999"), client.get("/api/registry/children?offset=-1"),
               client.get("/api/programme/indicators"), Client().get("/api/registry/children")]
    assert [r.status_code for r in answers] == [404, 400, 403, 401]
    for response in answers:
        ErrorOut.model_validate(json.loads(response.content))


def test_a_body_that_is_not_a_json_object_is_refused_and_changes_nothing(demo_world):
    """Found by the API fuzzing: PATCH with the body "x" set the activity's title to "X" ("x".title()), and
    [] or true answered 200; every JSON body of the API is an object, anything else is a 400."""
    from vitreem.accounts.models import User
    from vitreem.activities.models import Activity

    activity = Activity.objects.order_by("pk").first()
    before = (activity.title, activity.version)
    client = login(User.objects.get(username="province"))
    for body in ('"x"', "[]", "true", "[1]"):
        response = client.patch(f"/api/activities/activities/{activity.pk}", body, content_type="application/json")
        assert response.status_code == 400, (body, response.status_code, response.content[:200])
        ErrorOut.model_validate(json.loads(response.content))
    activity.refresh_from_db()
    assert (activity.title, activity.version) == before
