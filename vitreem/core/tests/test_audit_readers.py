"""Who reads the audit log (issue 20 item 10): one rule, `Scope.can_read_audit` — administrators and
provincial officers. The page, its menu entry and the selector all ask it; every other role is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import COMMUNE_A, PROVINCE, login
from vitreem.accounts.models import Role
from vitreem.core.audit import audit_change
from vitreem.core.errors import PermissionDenied
from vitreem.core.scope import scope_for
from vitreem.core.selectors import audit_entries_for_user
from vitreem.testing.factories import UserFactory

READERS = {Role.ADMIN, Role.PROVINCE_OFFICER}


def _persona(role: str):
    if role == Role.REPORTER:
        from vitreem.accounts.models import MemberUnit

        unit, _ = MemberUnit.objects.get_or_create(code="so-gddt", defaults={"name": "Sở Giáo dục và Đào tạo"})
        return UserFactory(username=f"u_{role}", role=role, units=PROVINCE, member_unit=unit)
    refs = COMMUNE_A if role in {Role.COMMUNE_WORKER, Role.CHAIRMAN} else PROVINCE
    return UserFactory(username=f"u_{role}", role=role, units=refs)


@pytest.mark.parametrize("role", list(Role))
def test_one_rule_for_the_audit_log_readers(db, units, role):
    from django.db import transaction

    with transaction.atomic():
        audit_change(actor=None, action="test.mark", obj=units.commune_a, unit=units.commune_a)
    user = _persona(role)
    allowed = role in READERS
    assert scope_for(user).can_read_audit is allowed

    client = login(user)
    response = client.get(reverse("core:audit"))
    home = client.get(reverse("core:home"))
    if allowed:
        assert response.status_code == 200
        assert "test.mark" in response.content.decode()
        assert reverse("core:audit") in home.content.decode()
        assert audit_entries_for_user(user=user).filter(action="test.mark").exists()
    else:
        # The case supervisor reads every case of the province, but not who opened which record.
        assert response.status_code == 403
        assert "Chỉ quản trị viên và cán bộ cấp tỉnh" in response.content.decode()
        assert reverse("core:audit") not in home.content.decode()
        with pytest.raises(PermissionDenied):
            audit_entries_for_user(user=user)
