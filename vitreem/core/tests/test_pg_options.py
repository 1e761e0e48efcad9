"""The settings of the application's PostgreSQL connections (config.settings.base.pg_options): no JIT,
and a random page read priced for data in memory or on an SSD unless the operator says otherwise."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.settings.base import pg_options


def test_the_options_turn_jit_off_and_price_a_random_page_at_1_1_by_default():
    assert pg_options({}) == "-c jit=off -c random_page_cost=1.1"
    assert pg_options({"VITREEM_PG_RANDOM_PAGE_COST": " 4 "}) == "-c jit=off -c random_page_cost=4.0"
    # empty: the server's own setting
    assert pg_options({"VITREEM_PG_RANDOM_PAGE_COST": ""}) == "-c jit=off"


@pytest.mark.parametrize("value", ["fast", "0", "-1", "1e9"])
def test_a_page_cost_that_is_not_a_sensible_number_is_refused_by_name(value):
    with pytest.raises(ImproperlyConfigured, match="VITREEM_PG_RANDOM_PAGE_COST"):
        pg_options({"VITREEM_PG_RANDOM_PAGE_COST": value})


@pytest.mark.django_db
def test_the_application_s_postgresql_connections_use_them(settings):
    if connection.vendor != "postgresql":  # SQLite has its own pragmas, and no such options
        assert "options" not in settings.DATABASES["default"].get("OPTIONS", {})
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW random_page_cost")
        assert float(cursor.fetchone()[0]) == 1.1
