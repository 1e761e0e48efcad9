"""Every child-data table carries the child's 2025 province code (issue 13 item 6, places/fields.py),
filled by the services, the demo seed and the import, and refused when a raw COPY leaves it out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from vitreem.core.bulk import insert_rows
from vitreem.demo.services import demo_seed
from vitreem.imports.tests.conftest import run_import  # noqa: F401 — fixture
from vitreem.imports.tests.files import commune_list, xlsx
from vitreem.places.fields import province_fields
from vitreem.registry.models import (
    Child,
    ChildRisk,
    DuplicateCandidate,
    DuplicateDecision,
    Guardian,
    Household,
    HouseholdPoverty,
    Residence,
    RiskAssessment,
    SpecialEpisode,
)
from vitreem.registry.tests.screens_fixtures import register, today, world_fixture, years_ago  # noqa: F401

pytestmark = pytest.mark.django_db

TABLES = [Household, HouseholdPoverty, Child, Residence, Guardian, SpecialEpisode, RiskAssessment, ChildRisk,
          DuplicateCandidate, DuplicateDecision]


def codes() -> dict[str, set[str]]:
    return {m.__name__: set(m._default_manager.values_list("province_code", flat=True)) for m in TABLES
            if m._default_manager.exists()}


def test_every_registry_table_has_the_column():
    assert all(province_fields(model) for model in TABLES)


def test_services_fill_it(world):
    # Commune A of Kon Tum (legacy 62) is in Quảng Ngãi (51) since 2025-07-01: 51 everywhere.
    found = codes()
    assert {"Household", "HouseholdPoverty", "Child", "Residence", "Guardian", "SpecialEpisode", "RiskAssessment",
            "ChildRisk"} <= set(found)
    assert all(v == {"51"} for v in found.values()), found


def test_a_legacy_unit_gives_its_2025_province(worker_a, units):
    child = register(worker_a, "Đinh Văn Tơ", dt.date(2015, 5, 5), "M", units.commune_a, on=dt.date(2024, 1, 10))
    assert child.unit.version == "legacy"
    assert child.province_code == "51"
    assert child.residences.get().province_code == "51"


def test_import_fills_it(worker_a, units, run_import):  # noqa: F811
    rows = [["Nguyễn Văn An", years_ago(5).strftime("%d/%m/%Y"), "Nam", "Kinh", "", "Thôn 1", "Xã Đăk Hà",
             "Nguyễn Văn Bình", "Hộ nghèo", "", "Đang đi học", ""],
            ["Y Hoa", years_ago(8), "Nữ", "Xơ Đăng", "", "Thôn 2", "Đăk Hà", "A Blong", "CN", "1", "Tiểu học", ""]]
    _batch, result = run_import(worker_a, "ds.xlsx", xlsx(commune_list(rows)))
    assert result["created"] == 2, result["errors"]
    found = codes()
    assert {"Household", "HouseholdPoverty", "Child", "Residence", "Guardian", "SpecialEpisode"} <= set(found)
    assert all(v == {"51"} for v in found.values()), found


def _all_tables():
    from django.apps import apps

    return [m for m in apps.get_models(include_auto_created=True) if province_fields(m)]


def test_every_table_that_hangs_on_a_child_s_data_has_it():
    """Found from the models, not from a list: a table added later with a row per child (a foreign key to
    the child or to a row of its data) without the column fails here. The link tables Django makes for
    a many-to-many field count too (the children a single parent raises were one, without it)."""
    from django.apps import apps

    coded = set(_all_tables())
    missing = sorted(m._meta.label for m in apps.get_models(include_auto_created=True) if m not in coded
                     and any(f.concrete and (f.many_to_one or f.one_to_one) and f.related_model in coded
                             for f in m._meta.get_fields()))
    assert missing == []


def test_every_child_data_table_has_it():
    names = {m._meta.label for m in _all_tables()}
    assert {"cases.Case", "cases.CaseEvent", "cases.Plan", "cases.PlanItem", "cases.Review", "cases.Referral",
            "cases.Attachment", "cases.Notification", "benefits.Allowance", "benefits.Decision",
            "benefits.AllowancePeriod", "benefits.PaidLine", "benefits.Adjustment", "benefits.AllowanceChild",
            "activities.RecreationChild", "field.FieldChange", "privacy.Consent", "privacy.SubjectRequest",
            "privacy.Restriction"} <= names
    assert {m._meta.label for m in TABLES} <= names


def test_demo_seed_fills_it_and_the_migrations_would_too():
    from vitreem.benefits.models import Allowance, AllowanceChild

    demo_seed(children=1500, seed=3, parts=["registry", "cases", "benefits", "activities", "privacy"],
              log=lambda *_: None)
    # The demo enrols no single parent: one link, so that its migration's SQL is exercised below too.
    allowance = Allowance.objects.order_by("pk").first()
    AllowanceChild.objects.create(allowance=allowance, child=allowance.child)
    found = {m._meta.label: set(m._default_manager.values_list("province_code", flat=True)) for m in _all_tables()
             if m._default_manager.exists()}
    assert {"registry.Child", "cases.Case", "cases.CaseEvent", "cases.Plan", "benefits.Allowance",
            "benefits.AllowancePeriod", "benefits.PaidLine", "benefits.AllowanceChild", "privacy.Consent",
            "privacy.SubjectRequest"} <= set(found)
    assert all(v == {"51"} for v in found.values()), found

    # What the migrations do to rows written before them: blank them, run their SQL, get the same codes.
    from importlib import import_module

    for model in _all_tables():
        model._default_manager.update(province_code="")
    with connection.cursor() as cur:
        for name in ("registry.migrations.0005_province_code", "cases.migrations.0004_province_code",
                     "benefits.migrations.0003_province_code", "activities.migrations.0002_province_code",
                     "field.migrations.0002_province_code", "benefits.migrations.0011_allowance_child_province_code",
                     "privacy.migrations.0003_province_code"):
            for sql in import_module(f"vitreem.{name}").FILL:
                cur.execute(sql)
    assert {m._meta.label: set(m._default_manager.values_list("province_code", flat=True)) for m in _all_tables()
            if m._default_manager.exists()} == found


def test_a_raw_copy_without_it_is_refused(world):
    with pytest.raises(ValueError, match="province_code"):
        insert_rows(Residence, ["child_id", "unit_id", "start"], [(world.an.pk, world.an.unit_id, today())])
    assert Residence.objects.filter(child=world.an).count() == 1
