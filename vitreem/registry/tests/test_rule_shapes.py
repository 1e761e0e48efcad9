"""The counting rules' two shapes (core.db.HasRow): a correlated EXISTS by default, a set inside
`rows_as_sets()` — the same children either way, negated too, and with children who have no household.
And `child_counts` over many communes uses the sets on PostgreSQL only when their plan hashes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from vitreem.benefits.tests.factories import make_child
from vitreem.core.db import rows_as_sets
from vitreem.registry.models import Child, PovertyStatus
from vitreem.registry.rules import q_at_risk_on, q_poverty, q_poverty_in_force, q_special_on

pytestmark = pytest.mark.django_db
D = dt.date


def _ids(q) -> set[int]:
    return set(Child.objects.filter(q).values_list("pk", flat=True))


def _sql(q) -> str:
    return str(Child.objects.filter(q).values("pk").query)


def _both(q) -> tuple[set[int], set[int]]:
    by_probe = _ids(q)
    with rows_as_sets():
        by_set = _ids(q)
    return by_probe, by_set


@pytest.fixture
def children(units):
    special = make_child(units.commune_a, birth=D(2015, 1, 1), episodes=[("1", D(2020, 1, 1))])
    ended_episode = make_child(units.commune_a, birth=D(2015, 1, 1), episodes=[("1", D(2019, 1, 1), D(2020, 6, 1))])
    poor = make_child(units.commune_a, birth=D(2016, 1, 1), poverty={2021: PovertyStatus.POOR})
    near = make_child(units.commune_a, birth=D(2016, 1, 1), poverty={2021: PovertyStatus.NEAR_POOR})
    no_household = make_child(units.commune_a, birth=D(2017, 1, 1))
    assert no_household.household_id is None
    return {"special": special, "ended": ended_episode, "poor": poor, "near": near, "none": no_household}


def test_each_shape_selects_the_same_children(children):
    day = D(2021, 12, 31)
    everyone = {c.pk for c in children.values()}
    for q, expected in (
        (q_special_on(day), {children["special"].pk}),
        (q_poverty(2021, PovertyStatus.POOR), {children["poor"].pk}),
        (q_poverty_in_force(day, PovertyStatus.NEAR_POOR), {children["near"].pk}),
        (q_at_risk_on(day), set()),
        # negated: a child without a household has no poverty row, so "not poor" includes them (as
        # NOT EXISTS does, where NOT IN would give NULL and drop them)
        (~q_poverty(2021, PovertyStatus.POOR), everyone - {children["poor"].pk}),
        (~q_special_on(day), everyone - {children["special"].pk}),
    ):
        by_probe, by_set = _both(q)
        assert by_probe & everyone == expected
        assert by_set & everyone == expected


def test_the_shape_is_chosen_when_the_query_is_compiled(children):
    q = q_special_on(D(2021, 12, 31))
    assert "EXISTS" in _sql(q) and " IN (SELECT" not in _sql(q)
    with rows_as_sets():
        assert " IN (SELECT" in _sql(q) and "EXISTS" not in _sql(q)


def _counted_shape(communes: list[int]) -> tuple[dict, str]:
    from vitreem.registry import indicators as registry_indicators
    from vitreem.stats.engine import indicators, params_for

    indicators()
    codes = ["children", "special_circumstances", "poor_household_children", "at_risk"]
    with CaptureQueriesContext(connection) as queries:
        got = registry_indicators.child_counts(params_for(as_of=D(2021, 12, 31)), communes, codes)
    counted = [q["sql"] for q in queries.captured_queries if '"c_unit", COUNT' in q["sql"]
               and not q["sql"].startswith("EXPLAIN")]
    assert len(counted) == 1
    return got, counted[0]


def test_child_counts_over_many_communes_tests_sets_on_postgresql_and_gives_the_same_counts(
        children, units, monkeypatch):
    from vitreem.registry import indicators as registry_indicators

    communes = [units.commune_a.pk]
    few, few_sql = _counted_shape(communes)
    assert "EXISTS" in few_sql  # few communes: probes
    monkeypatch.setattr(registry_indicators, "SETS_ABOVE", 0)
    many, many_sql = _counted_shape(communes)
    assert many == few
    assert few["special_circumstances"][units.commune_a.pk] == 1
    assert few["poor_household_children"][units.commune_a.pk] == 1
    if connection.vendor == "postgresql":
        assert " IN (SELECT" in many_sql and "EXISTS" not in many_sql
        # a set too big for work_mem is not hashed (it would be scanned again for every child) ...
        sql = "SELECT id IN (SELECT generate_series(1, 100000)) FROM registry_child"
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
            assert registry_indicators._sets_hashed(sql, [])
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64kB'")
                cursor.execute("SET LOCAL hash_mem_multiplier = 1")
            assert not registry_indicators._sets_hashed(sql, [])
        # ... and then the counts keep the probes
        monkeypatch.setattr(registry_indicators, "_sets_hashed", lambda sql, params: False)
        fallback, fallback_sql = _counted_shape(communes)
        assert "EXISTS" in fallback_sql and fallback == few
    else:
        assert "EXISTS" in many_sql  # SQLite keeps the probes


def test_the_pass_counts_what_each_condition_selects_and_tests_a_shared_condition_once(children, units):
    """`child_counts` writes each count's condition as a formula over the pass's per-child columns
    (`_Atoms`): every count equals the plain filter of its condition (AND, OR, NOT, a child without a
    household), and the special circumstances, which four counts name, are one column of the pass."""
    from vitreem.registry import indicators as registry_indicators
    from vitreem.stats.engine import indicators, params_for

    indicators()
    day = D(2021, 12, 31)
    params = params_for(as_of=day)
    commune = units.commune_a.pk
    codes = list(registry_indicators.CHILD_COUNTS)
    with CaptureQueriesContext(connection) as queries:
        got = registry_indicators.child_counts(params, [commune], codes)
    counted = [q["sql"] for q in queries.captured_queries if '"c_unit", COUNT' in q["sql"]]
    assert len(counted) == 1
    base = registry_indicators.children_with_commune(day, {commune})
    checked = 0
    for code in codes:
        rule = registry_indicators.CHILD_COUNTS[code](params)
        for key, q in (rule.items() if isinstance(rule, dict) else [(None, rule)]):
            expected = base.filter(q).count() if q else base.count()
            value = got[code].get(commune, 0) if key is None else got[code].get(commune, {}).get(key, 0)
            assert value == expected, (code, key)
            checked += expected
    assert checked > 0  # the fixture's children are counted somewhere
    assert got["special_circumstances"][commune] == 1 and got["at_risk"].get(commune, 0) == 0
    named_by = [c for c in codes if "registry_specialepisode" in str(base.filter(_rule_q(c, params)).query)]
    assert len(named_by) >= 4
    assert counted[0].count('"registry_specialepisode"') == 1


def _rule_q(code, params):
    from functools import reduce
    from operator import and_

    from vitreem.registry import indicators as registry_indicators

    rule = registry_indicators.CHILD_COUNTS[code](params)
    return reduce(and_, rule.values()) if isinstance(rule, dict) else rule


def test_a_commune_s_residences_of_a_day_give_their_children_from_the_index_alone(children, units):
    """registry/0016: the (unit, start, end) index carries the child (INCLUDE on PostgreSQL), so one
    commune's figures read its residences of a day and their children without visiting the table."""
    from vitreem.registry.models import Residence
    from vitreem.registry.rules import covers

    with connection.cursor() as cur:
        found = connection.introspection.get_constraints(cur, "registry_residence")
    assert found["residence_unit_days"]["columns"][:3] == ["unit_id", "start", "end"]
    assert "registry_re_unit_id_b39992_idx" not in found  # replaced, not doubled
    day = D(2021, 12, 31)
    qs = Residence.objects.filter(covers(day), unit_id=units.commune_a.pk).values_list("child_id", flat=True)
    assert set(qs) == {c.pk for c in children.values()}
    if connection.vendor != "postgresql":
        return  # SQLite has no INCLUDE; the index is there on the same columns (above)
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cur:
        # a handful of test rows: without these settings a table scan is cheaper, whatever the index
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute(f"EXPLAIN {sql}", params)  # noqa: S608 — Django's own SQL
        plan = " ".join(str(row) for row in cur.fetchall())
    assert "Index Only Scan using residence_unit_days" in plan, plan


def test_the_pass_s_formulas_share_equal_lookups_and_never_run_a_queryset_to_compare_it(children):
    from django.db.models import Q

    from vitreem.registry.indicators import _Atoms

    atoms = _Atoms()
    households = Child.objects.values("household_id")
    with CaptureQueriesContext(connection) as queries:
        first = atoms.formula(Q(sex="M") & ~(Q(birth_date__year=2016) | Q(household_id__in=households)))
        second = atoms.formula(Q(sex="M") | Q(household_id__in=households))
    assert not queries.captured_queries  # a queryset value is compared by identity, not by its rows
    a0, a1, a2 = (connection.ops.quote_name(f"a{i}") for i in range(3))
    assert first == f"({a0} AND (NOT ({a1} OR {a2})))"
    assert second.startswith(f"({a0} OR ")  # the same lookup and value: the same column
    assert len(atoms.columns) == 4  # sex, year, and two household lookups (equal querysets, two objects)


def test_a_province_s_list_reads_that_province_s_classifications_only(children, officer):
    """The poverty filter of a user whose scope is one province tests its households against that
    province's classifications (the `poverty_province_year` index, hashed once on the country) — the
    same children as the rule without it."""
    from vitreem.core.scope import scope_for
    from vitreem.registry.selectors import children_filter, children_for_user

    province = scope_for(officer).province_code
    assert province and children["near"].province_code == province
    listed = children_filter(children_for_user(user=officer), user=officer, poverty=PovertyStatus.NEAR_POOR)
    assert set(listed.values_list("pk", flat=True)) == {children["near"].pk}
    assert f'U0."province_code" = {province}' in str(listed.values("pk").query)  # str(): parameters unquoted
    by_year = children_filter(children_for_user(user=officer), user=officer, poverty=PovertyStatus.POOR,
                              poverty_year=2021)
    assert set(by_year.values_list("pk", flat=True)) == {children["poor"].pk}
    assert f'U0."province_code" = {province}' in str(by_year.values("pk").query)
    # the rule itself, as the statistics use it, reads every province's
    assert "province_code" not in _sql(q_poverty_in_force(D(2021, 12, 31), PovertyStatus.NEAR_POOR))
