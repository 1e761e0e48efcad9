"""The child list on the demo province (200,000 children by default): the page and the API, each with
a filter and a name search, median and p95 over 100 requests.

Requests go through Django's test Client in-process (the whole stack: middleware, session, scope,
template or JSON), as the province-wide leader — the largest scope, so the slowest list. Each request
searches a different child's name (folded, without diacritics, as people type it) among the children
of poor households. Bounded: 100 requests or 120 s per figure.
"""

from __future__ import annotations

import os

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))
REQUESTS = 100


def _names(count: int) -> list[str]:
    """Searches people would type: family and given name of children spread over the table, folded."""
    from vitreem.core.text import fold
    from vitreem.registry.models import Child

    ids = list(Child.objects.filter(ended_on__isnull=True).order_by("pk").values_list("pk", flat=True))
    step = max(1, len(ids) // count)
    picked = Child.objects.filter(pk__in=ids[::step][:count]).order_by("pk")
    return [fold(f"{c.family_name} {c.given_name}") for c in picked]


def run(emit) -> None:
    from django.test import Client

    from bench.common import ensure_demo, p50_p95, timed
    from vitreem.accounts.models import User
    from vitreem.registry.models import Child

    ensure_demo(CHILDREN)
    total = Child.objects.filter(ended_on__isnull=True).count()
    if total < 1000:
        from vitreem.demo.services import demo_seed

        demo_seed(children=max(CHILDREN, 1000), log=lambda *_: None)
        total = Child.objects.filter(ended_on__isnull=True).count()
    emit("registry.children", total, "children")
    # The table as autovacuum would leave it after the bulk load (PostgreSQL: dead rows of the
    # seed's updates removed, planner statistics; SQLite: statistics). Without statistics PostgreSQL
    # guesses a few hundred rows and picks bad plans; the seed's updates leave one dead row per child.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    leader = User.objects.get(username="leader")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(leader)
    names = _names(REQUESTS)

    def requester(url: str, params_for):
        state = {"i": 0}

        def one() -> None:
            params = params_for(state["i"])
            state["i"] += 1
            response = client.get(url, params)
            if response.status_code != 200:
                raise RuntimeError(f"{url} {params} → {response.status_code}")

        return one

    cases = [
        ("registry.list_page.search_poor", "/registry/children/",
         lambda i: {"q": names[i % len(names)], "poverty": "poor"}),
        ("registry.api_list.search_poor", "/api/registry/children",
         lambda i: {"q": names[i % len(names)], "poverty": "poor"}),
        ("registry.list_page.search", "/registry/children/", lambda i: {"q": names[i % len(names)]}),
        ("registry.list_page.first_page", "/registry/children/", lambda i: {"page": 1 + i % 5}),
        ("registry.list_page.drilldown_at_risk_2022", "/registry/children/",
         lambda i: {"as_of": "2022-12-31", "at_risk": "1", "page": 1 + i % 5}),
    ]
    for name, url, params_for in cases:
        one = requester(url, params_for)
        one()  # warm caches (templates, the session, the unit mapping)
        samples = timed(one, repeat=REQUESTS, max_seconds=120.0)
        p50, p95 = p50_p95(samples)
        emit(f"{name}.p50", p50, "ms", requests=len(samples))
        emit(f"{name}.p95", p95, "ms", requests=len(samples))
