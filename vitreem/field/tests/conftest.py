"""Helpers of the field sync tests: changes as a phone makes them, and the sync request."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.utils import timezone

from conftest import COMMUNE_A
from vitreem.accounts.models import Role
from vitreem.registry.models import Child
from vitreem.registry.services import child_register
from vitreem.testing.factories import UserFactory


def change(kind: str, *, target: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
           base: dict[str, Any] | None = None, base_version: int | None = None,
           recorded_at: dt.datetime | None = None, id: str | None = None) -> dict[str, Any]:
    """A change as the phone sends it (recorded_at by the phone's clock, ISO)."""
    return {"id": id or str(uuid.uuid4()), "kind": kind, "recorded_at": (recorded_at or timezone.now()).isoformat(),
            "base_version": base_version, "target": target or {}, "data": data or {}, "base": base or {}}


def push(client, changes: list[dict[str, Any]], *, device_time: dt.datetime | None = None, status: int = 200):
    body = {"device_id": "phone-1", "device_time": (device_time or timezone.now()).isoformat(), "changes": changes}
    response = client.post("/api/field/sync", json.dumps(body), content_type="application/json")
    assert response.status_code == status, response.content[:500]
    return response.json()


def results(answer: dict[str, Any]) -> list[str]:
    return [r["status"] for r in answer["results"]]


@pytest.fixture
def officer_a(db):
    """A provincial officer logged in without the second factor is refused by the API; the edits an
    officer makes online are made here through the same service the screens call."""
    return UserFactory(username="officer_a", role=Role.PROVINCE_OFFICER, units=("legacy:62", "2025:51"))


@pytest.fixture
def child_a(worker_a, units) -> Child:
    return child_register(actor=worker_a, data={"full_name": "Nguyễn Thị Hoa", "birth_date": dt.date(2014, 3, 2),
                                                "sex": "F", "village": "Thôn 1"},
                          unit=units.commune_a_2025, confirm_not_duplicate=True,
                          guardians=[{"full_name": "Nguyễn Văn Bình", "relationship": "father", "phone": "0905123456"}])


@pytest.fixture
def child_b(worker_b, units) -> Child:
    return child_register(actor=worker_b, data={"full_name": "Y Blin", "birth_date": dt.date(2016, 5, 6), "sex": "M"},
                          unit=units.commune_b_2025, confirm_not_duplicate=True)


__all__ = ["COMMUNE_A", "change", "push", "results"]
