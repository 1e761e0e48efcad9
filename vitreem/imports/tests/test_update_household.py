"""A matched child without a household whose row states a poverty status: the household is found or
made through the registry's bulk register (services_bulk.households_register_bulk) and the child joins it."""

from vitreem.core.models import AuditEntry
from vitreem.registry import services as reg
from vitreem.registry.models import Child, Household, HouseholdPoverty

from .conftest import years_ago
from .files import xlsx

HEADER = ["Họ và tên", "Ngày sinh", "Giới tính", "Thôn/Tổ", "Họ tên cha/mẹ/người nuôi dưỡng", "Hộ nghèo/cận nghèo"]


def test_a_matched_child_joins_the_household_its_row_names(worker_a, units, run_import):
    born = years_ago(7)
    child = reg.child_register(actor=worker_a, unit=units.commune_a_2025, data={
        "full_name": "A Thắng", "birth_date": born, "sex": "M", "village": "Thôn 3"})
    batch, r = run_import(worker_a, "ds.xlsx", xlsx([HEADER, ["A Thắng", born, "Nam", "Thôn 3", "A Phơi", "HN"]]),
                          unit=units.commune_a_2025)
    assert r["errors"] == [] and (r["created"], r["updated"]) == (0, 1), r
    household = Household.objects.get()
    assert (household.head_name, household.village) == ("A Phơi", "Thôn 3")
    assert Child.objects.get(pk=child.pk).household_id == household.pk
    assert HouseholdPoverty.objects.get().status == "poor"
    actions = sorted(AuditEntry.objects.filter(source=f"import:{batch.pk}").values_list("action", flat=True))
    assert {"household.create", "household.poverty_set", "child.update"} <= set(actions), actions
