import pytest
from django.db import transaction

from vitreem.core.audit import audit_access, audit_change, diff, history_for, snapshot
from vitreem.core.errors import NotFound, PermissionDenied
from vitreem.core.models import AuditEntry
from vitreem.core.scope import get_in_scope, require_unit, scope_filter, scope_for
from vitreem.places.models import AdminUnit

pytestmark = pytest.mark.django_db


def test_commune_worker_sees_only_their_commune_in_both_versions(worker_a, units):
    scope = scope_for(worker_a)
    assert scope.sees_unit(units.commune_a.pk) and scope.sees_unit(units.commune_a_2025.pk)
    assert not scope.sees_unit(units.commune_b.pk) and not scope.sees_unit(units.commune_b_2025.pk)
    assert not scope.sees_unit(units.district.pk)
    assert scope.read_children and scope.write_children and not scope.province_wide


def test_officer_sees_every_unit_of_the_province_and_none_elsewhere(officer, units):
    scope = scope_for(officer)
    for unit in (units.commune_a, units.commune_b, units.district, units.commune_b_2025):
        assert scope.sees_unit(unit.pk)
    assert not scope.sees_unit(units.other_commune.pk)
    # Her legacy province (Kon Tum, 102 communes) and, through her 2025 province (Quảng Ngãi after the
    # merger), the legacy communes the reform merged into it — old Quảng Ngãi's 170: their records filed
    # before 1 July 2025 are now her province's (issue 21 item 2).
    visible = scope_filter(AdminUnit.objects.filter(version="legacy", level="commune"), officer, unit_field="pk")
    by_province = {code: visible.filter(province_code=code).count() for code in ("62", "51")}
    assert by_province == {"62": 102, "51": 170}
    assert visible.count() == 272


def test_reporter_and_anonymous_see_no_child_data(reporter, units):
    assert scope_filter(AdminUnit.objects.all(), reporter, unit_field="pk").count() == 0
    assert scope_filter(AdminUnit.objects.all(), None, unit_field="pk").count() == 0


def test_leader_reads_but_cannot_write(leader, units):
    scope = scope_for(leader)
    assert scope.read_children and not scope.write_children and not scope.read_case_details
    with pytest.raises(PermissionDenied):
        require_unit(leader, units.commune_a)


def test_require_unit_refuses_another_commune(worker_a, units):
    require_unit(worker_a, units.commune_a)
    with pytest.raises(PermissionDenied) as err:
        require_unit(worker_a, units.commune_b)
    assert "Xã Đăk Mar" in str(err.value.message)


def test_get_in_scope_hides_existence(worker_a, units):
    qs = AdminUnit.objects.all()
    assert get_in_scope(qs, worker_a, unit_field="pk", pk=units.commune_a.pk) == units.commune_a
    with pytest.raises(NotFound):
        get_in_scope(qs, worker_a, unit_field="pk", pk=units.commune_b.pk)


def test_audit_change_is_written_in_the_transaction_and_rolls_back_with_it(officer, units):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_change(actor=officer, action="test.fail", obj=units.commune_a, unit=units.commune_a)
        1 / 0  # noqa: B018
    assert not AuditEntry.objects.filter(action="test.fail").exists()
    with transaction.atomic():
        audit_change(actor=officer, action="test.ok", obj=units.commune_a, unit=units.commune_a,
                     changes={"name": ["A", "B"]})
    entry = history_for(units.commune_a).get(action="test.ok")
    assert entry.actor == officer and entry.changes == {"name": ["A", "B"]} and entry.unit == units.commune_a


def test_audit_rows_are_append_only(officer, units):
    entry = audit_access(actor=officer, obj=units.commune_a)
    entry.action = "tampered"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "view"


def test_snapshot_and_diff(units):
    before = snapshot(units.commune_a)
    units.commune_a.short_name = "Khác"
    assert diff(before, snapshot(units.commune_a)) == {"short_name": ["Đăk Hà", "Khác"]}


def test_a_scope_is_expanded_once_per_assignment_until_the_unit_tree_changes(officer, leader, units,
                                                                              django_assert_num_queries):
    """The units under an assignment are kept between requests (one small query checks the unit tree's
    stamp), and a unit added under the province is in the scope at once."""
    from vitreem.accounts.models import User
    from vitreem.places.models import Level, Version

    first = scope_for(User.objects.get(pk=officer.pk))
    fresh = User.objects.get(pk=leader.pk)  # another user, the same province: another request
    with django_assert_num_queries(2):  # her assigned units, the tree's stamp
        assert scope_for(fresh).unit_ids == first.unit_ids
    added = AdminUnit.objects.create(version=Version.V2025, code="99999", level=Level.COMMUNE, name="Xã Thử",
                                     short_name="Thử", parent=units.province_2025, province_code="51",
                                     search_key="thu")
    later = scope_for(User.objects.get(pk=officer.pk))
    assert later.sees_unit(added.pk) and later.unit_ids == first.unit_ids | {added.pk}
    added.delete()
    assert not scope_for(User.objects.get(pk=officer.pk)).sees_unit(added.pk)


def test_loading_the_official_list_stamps_the_tree_once(db):
    from vitreem.places.selectors import tree_stamp
    from vitreem.places.services import places_load

    before = tree_stamp()
    report = places_load()  # already loaded: nothing created or updated, the stamp moves all the same
    assert report.created == 0 and tree_stamp() is not None and tree_stamp() != before
