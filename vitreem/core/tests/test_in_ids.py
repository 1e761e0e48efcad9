"""core.db.InIds (`__in_ids`): the rows of `__in`, with the ids as one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from vitreem.places.models import AdminUnit, UnitSuccession

pytestmark = pytest.mark.django_db


def test_the_rows_of_in_on_a_column_a_key_and_a_relation(units):
    ids = frozenset(AdminUnit.objects.filter(province_code="62").values_list("pk", flat=True)[:500])
    assert len(ids) > 100
    for field in ("pk", "parent", "parent_id", "parent__parent"):
        by_in = set(AdminUnit.objects.filter(**{f"{field}__in": ids}).values_list("pk", flat=True))
        by_ids = set(AdminUnit.objects.filter(**{f"{field}__in_ids": ids}).values_list("pk", flat=True))
        assert by_in == by_ids and by_in, field
    merged = UnitSuccession.objects.filter(new_id__in_ids=[units.commune_a_2025.pk]).values_list("old_id", flat=True)
    assert units.commune_a.pk in set(merged)


def test_no_ids_no_rows_and_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert list(AdminUnit.objects.filter(pk__in_ids=[])) == []
    assert AdminUnit.objects.filter(pk__in_ids=set()).count() == 0


def test_one_parameter_on_postgresql():
    qs = AdminUnit.objects.filter(parent__in_ids={3, 1, 2})
    sql, params = qs.query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s::bigint[])" in sql and list(params) == [[1, 2, 3]]
    else:
        assert list(params) == [1, 2, 3]
