"""Test data through factory_boy, made by the services (so a test user is made the way a real one is:
memberships, audit row). Tests import from here, not from the root conftest's helpers."""

from __future__ import annotations

from typing import Any

import factory

from vitreem.accounts.models import Role, User

PASSWORD = "a-long-test-password"  # noqa: S105 — test accounts only


class UserFactory(factory.django.DjangoModelFactory):
    """`UserFactory(username="worker_a", role=Role.COMMUNE_WORKER, units=("legacy:23500", "2025:23500"))`:
    `units` are unit references (`legacy:<code>`, `2025:<code>`), resolved when the user is made."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.COMMUNE_WORKER
    units: Any = ("legacy:23500", "2025:23500")
    full_name = factory.LazyAttribute(lambda o: o.username.title())
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from vitreem.accounts.services import user_create
        from vitreem.places.selectors import unit_resolve

        refs = kwargs.pop("units")
        return user_create(units=[unit_resolve(r) for r in refs], **kwargs)
