import datetime as dt

import pytest

from vitreem.core.errors import DomainError, NotFound
from vitreem.places.models import AdminUnit, Level, UnitSuccession, Version
from vitreem.places.selectors import (
    unit_current,
    unit_predecessors,
    unit_resolve,
    unit_successors,
    units_search,
)
from vitreem.places.services import places_load

pytestmark = pytest.mark.django_db


def test_both_versions_are_loaded_with_expected_sizes():
    count = AdminUnit.objects.filter
    assert count(version=Version.LEGACY, level=Level.PROVINCE).count() == 63
    assert 690 <= count(version=Version.LEGACY, level=Level.DISTRICT).count() <= 710
    assert 10_000 <= count(version=Version.LEGACY, level=Level.COMMUNE).count() <= 10_100
    assert count(version=Version.V2025, level=Level.PROVINCE).count() == 34
    assert count(version=Version.V2025, level=Level.COMMUNE).count() == 3321
    assert not count(version=Version.V2025, level=Level.DISTRICT).exists()


def test_loading_twice_changes_nothing():
    before = list(AdminUnit.objects.order_by("pk").values_list("pk", "version", "code", "name", "parent_id"))
    pairs = UnitSuccession.objects.count()
    report = places_load()
    assert report.created == 0 and report.updated == 0
    assert report.unchanged == len(before)
    assert list(AdminUnit.objects.order_by("pk").values_list("pk", "version", "code", "name", "parent_id")) == before
    assert UnitSuccession.objects.count() == pairs


def test_same_code_means_different_units_in_each_version():
    old = unit_resolve("legacy:23500")
    new = unit_resolve("2025:23500")
    assert old.pk != new.pk
    assert old.name == "Thị trấn Đăk Hà" and old.parent.name == "Huyện Đăk Hà"
    assert new.name == "Xã Đăk Hà" and new.parent.code == "51"


def test_bare_code_resolves_to_the_version_in_force_on_the_date():
    assert unit_resolve("23500", on=dt.date(2022, 12, 31)).version == Version.LEGACY
    assert unit_resolve("23500", on=dt.date(2025, 7, 1)).version == Version.V2025


def test_unit_of_the_wrong_version_for_a_date_is_refused():
    with pytest.raises(DomainError) as err:
        unit_resolve("2025:23500", on=dt.date(2022, 5, 1))
    assert err.value.code == "unit_wrong_version" and err.value.field == "unit"
    assert "01/05/2022" in str(err.value.message)


@pytest.mark.parametrize("ref", ["legacy:99999", "2025:00000"])
def test_unknown_code_is_not_found(ref):
    with pytest.raises(NotFound):
        unit_resolve(ref)


@pytest.mark.parametrize("ref", ["v3:23500", "legacy:abc"])
def test_malformed_reference_is_refused(ref):
    with pytest.raises(DomainError):
        unit_resolve(ref)


def test_crosswalk_old_to_new_and_back():
    ha_mon = unit_resolve("legacy:23521")  # Xã Hà Mòn merged into Xã Đăk Hà
    assert [s.new.code for s in unit_successors(ha_mon)] == ["23500"]
    dak_ha_2025 = unit_resolve("2025:23500")
    olds = {s.old.name for s in unit_predecessors(dak_ha_2025)}
    assert {"Thị trấn Đăk Hà", "Xã Hà Mòn", "Xã Đăk La"} <= olds
    # Kon Tum province as a whole went into Quảng Ngãi.
    assert {u.province_code for u in [s.new for s in unit_successors(unit_resolve("legacy:62"))]} == {"51"}


def test_a_split_commune_has_several_successors_one_default():
    split_old_ids = (UnitSuccession.objects.values("old").annotate().values_list("old", flat=True))
    old = next(
        AdminUnit.objects.get(pk=pk) for pk in split_old_ids
        if UnitSuccession.objects.filter(old_id=pk).count() > 1
    )
    current = unit_current(old)
    assert len(current) > 1
    assert UnitSuccession.objects.get(old=old, new=current[0]).is_default


def test_search_ignores_diacritics_and_type_prefixes():
    found = {u.name for u in units_search(q="dak ha", version="2025")}
    assert "Xã Đăk Hà" in found
    assert {u.code for u in units_search(q="Thị trấn Đăk Hà", version="legacy")} == {"23500"}
    assert {u.code for u in units_search(q="huyen dak ha", version="legacy", level="district")} == {"615"}
    kon_tum = unit_resolve("legacy:62")
    assert all(u.province_code == "62" for u in units_search(q="ha", parent=kon_tum))


def test_a_load_that_changes_the_tree_is_audited_and_marks_every_stored_figure_stale(
        django_capture_on_commit_callbacks):
    """The stored figures sum communes as the tree was when they were computed: a load that corrects a
    unit or a crosswalk link writes one audit row, and the statistics' listener marks every stored
    figure stale, as a unit edited in the admin does. A load that changes nothing records nothing."""
    from vitreem.core.models import AuditEntry
    from vitreem.stats.models import UnitStamp

    loads = AuditEntry.objects.filter(action="places.load")
    seen = set(loads.values_list("pk", flat=True))  # the test database's own first load
    commune = unit_resolve("legacy:23500")
    AdminUnit.objects.filter(pk=commune.pk).update(name="Tên cũ")
    links = UnitSuccession.objects.filter(old=commune).count()
    UnitSuccession.objects.filter(old=commune).delete()
    with django_capture_on_commit_callbacks(execute=True):
        report = places_load()
    assert (report.updated, report.successions_changed) == (1, links) and links > 0
    entry = loads.exclude(pk__in=seen).get()
    assert entry.changes == {"created": 0, "updated": 1, "crosswalk_changed": links}
    assert UnitStamp.objects.filter(key="all").exists()
    assert unit_resolve("legacy:23500").name == "Thị trấn Đăk Hà"

    UnitStamp.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        report = places_load()
    assert (report.created, report.updated, report.successions_changed) == (0, 0, 0)
    assert loads.exclude(pk__in=seen).count() == 1
    assert not UnitStamp.objects.exists()
