"""The name search's index of words (ChildNameWord, migration 0018): the database keeps it in step with
the register on PostgreSQL, and a search through it finds exactly what the register's own search finds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vitreem.registry import services
from vitreem.registry.models import Child, ChildNameWord
from vitreem.registry.selectors import children_filter, children_for_user, word_search_keys
from vitreem.registry.tests.screens_fixtures import register, today, world_fixture, years_ago  # noqa: F401

pytestmark = pytest.mark.django_db

COLUMNS = ("child_id", "word", "province_code", "unit_id", "household_id", "given_key", "name_key", "ended_on")
POSTGRESQL = connection.vendor == "postgresql"


def _expected() -> set[tuple]:
    """What the index must hold: a row per distinct word of each child's folded name."""
    out = set()
    for c in Child.objects.values("id", "name_key", "province_code", "unit_id", "household_id", "given_key",
                                  "ended_on"):
        for word in set(c["name_key"].split(" ")) - {""}:
            out.add((c["id"], word, c["province_code"], c["unit_id"], c["household_id"], c["given_key"],
                     c["name_key"], c["ended_on"]))
    return out


def _held() -> set[tuple]:
    return set(ChildNameWord.objects.values_list(*COLUMNS))


def _by_register(user, **filters) -> list[int]:
    """The matches' keys in the list's order, read from the register (children_filter's query)."""
    return list(children_filter(children_for_user(user=user), user=user, **filters).values_list("pk", flat=True))


def test_every_write_of_the_register_keeps_the_index_in_step(world, worker_a, officer, units):
    if not POSTGRESQL:  # SQLite: no triggers; the table stays empty and the search reads the register
        assert not ChildNameWord.objects.exists() and Child.objects.exists()
        assert word_search_keys(user=worker_a, q="thi") is None
        return
    held = _held()
    assert held == _expected()
    assert (world.hoa.pk, "thi") in {row[:2] for row in held}
    # A change of name: the old words go, the new come (one row for the word written twice).
    services.child_update(actor=worker_a, child=world.hoa, data={"full_name": "Trần Thị Thị Hằng"})
    assert _held() == _expected()
    assert {w for c, w, *_ in _held() if c == world.hoa.pk} == {"tran", "thi", "hang"}
    # A move to another commune, and a household: the copied columns follow.
    household = services.household_create(actor=officer, unit=units.commune_b_2025, head_name="Phạm Văn Tư")
    services.child_move(actor=officer, child=Child.objects.get(pk=world.binh.pk), unit=units.commune_b_2025,
                        on=today(), household=household)
    assert _held() == _expected()
    assert {(u, h) for c, _w, _p, u, h, *_ in _held() if c == world.binh.pk} == {(units.commune_b_2025.pk,
                                                                                 household.pk)}
    # The record ended: its rows say so (the search leaves them out).
    services.child_end(actor=worker_a, child=Child.objects.get(pk=world.an.pk), on=today(), reason="left")
    assert _held() == _expected()
    # One statement over several rows, and one that changes none of the copied columns.
    Child.objects.filter(unit=units.commune_a_2025).update(given_key="x")
    Child.objects.update(note="—")
    assert _held() == _expected()
    # Pseudonymised (a data subject's erasure, Law 91/2025/QH15): none of the old name's words remains.
    from django.db import transaction

    from vitreem.privacy.erasure import child_pseudonymise

    with transaction.atomic():
        child_pseudonymise(actor=officer, child=world.hoa)
    assert _held() == _expected()
    assert not {"tran", "thi", "hang"} & {w for c, w, *_ in _held() if c == world.hoa.pk}
    # An import's rows: one COPY (core.bulk), one statement for the trigger.
    from vitreem.registry.services_bulk import BulkRegisterSession, NewChild, children_register_bulk
    from vitreem.registry.validation import child_clean

    rows = [NewChild(data=child_clean({"full_name": name, "birth_date": years_ago(5), "sex": "F"}, on=today()).data,
                     unit=units.commune_a_2025) for name in ("Hà Thị Thu", "Vi Thị Thơm")]
    ids = children_register_bulk(session=BulkRegisterSession(actor=officer, source="words-test", today=today()),
                                 rows=rows)
    assert _held() == _expected()
    assert {(c, w) for c, w, *_ in _held() if c in ids} == {(ids[0], "ha"), (ids[0], "thi"), (ids[0], "thu"),
                                                           (ids[1], "vi"), (ids[1], "thi"), (ids[1], "thom")}
    # Deleted, with the rows that refer to it: its words go.
    with connection.cursor() as cur:
        cur.execute("SELECT conrelid::regclass::text, a.attname FROM pg_constraint c JOIN pg_attribute a "
                    "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                    "WHERE c.contype = 'f' AND c.confrelid = 'registry_child'::regclass")
        for table, column in cur.fetchall():
            cur.execute(f"DELETE FROM {table} WHERE {column} = %s", [world.b_child.pk])  # noqa: S608 — names from the catalog
        cur.execute("DELETE FROM registry_child WHERE id = %s", [world.b_child.pk])
    assert _held() == _expected() and not any(c == world.b_child.pk for c, *_ in _held())


def test_a_search_through_the_index_finds_what_the_register_finds_in_the_same_order(world, worker_a, officer,
                                                                                     units):
    household = world.household_a
    for name in ("Nguyễn Thị Thiện", "Trần Thị Thu", "Lê Thị Hoa", "Thiều Văn An", "Nguyễn Thị Ánh"):
        register(worker_a, name, years_ago(5), "F", units.commune_a_2025, household=household)
    register(officer, "Hoàng Thị Thiện", years_ago(7), "F", units.commune_b_2025)
    ended = register(worker_a, "Đỗ Thị Thanh", years_ago(6), "F", units.commune_a_2025)
    services.child_end(actor=worker_a, child=ended, on=today(), reason="left")
    searches = [{"q": "thi"}, {"q": "Thị"}, {"q": "thi thien"}, {"q": "thien thi"}, {"q": "nguyen thi"},
                {"q": "thi", "poverty": "poor"}, {"q": "an", "poverty": "poor"}, {"q": "thi", "poverty": "near_poor"},
                {"q": "thi", "poverty": "poor", "poverty_year": today().year},
                {"q": "thi", "unit": units.commune_b_2025}, {"q": "hoa"}, {"q": "zzz"}, {"q": "thi thi"}]
    for user in (officer, worker_a):
        for filters in searches:
            keys = word_search_keys(user=user, **filters)
            if not POSTGRESQL:
                assert keys is None
                continue
            assert keys is not None, filters
            assert keys.first(1000) == _by_register(user, **filters), (user, filters)
    if not POSTGRESQL:
        return
    # "Nguyễn Thị Thiện" has two words starting "thi": listed once.
    thien = Child.objects.get(full_name="Nguyễn Thị Thiện").pk
    matches = word_search_keys(user=officer, q="thi")
    assert matches.first(1000).count(thien) == 1
    assert list(matches.rows).count(thien) == 2
    # Asked for fewer than the rows that hold them, it reads further: still each child once, in order.
    assert matches.first(3) == _by_register(officer, q="thi")[:3]
    assert all(matches.first(n) == _by_register(officer, q="thi")[:n] for n in range(1, 10))
    # The commune worker's scope: commune B's "Hoàng Thị Thiện" is the officer's only.
    assert len(word_search_keys(user=officer, q="thien").first(100)) == 2
    assert len(word_search_keys(user=worker_a, q="thien").first(100)) == 1
    # The searches it does not serve read the register.
    assert word_search_keys(user=officer, q="thi", sex="F") is None
    assert word_search_keys(user=officer, q="thi", as_of=today()) is None
    assert word_search_keys(user=officer, q="062") is None
    assert word_search_keys(user=officer, q="thi", guardian="lan") is None


def test_the_list_page_searches_through_the_index(client_for, world, officer):
    """PostgreSQL reads the word index; SQLite the register; the page lists the same children."""
    client = client_for(officer)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/registry/children/", {"q": "thi", "poverty": "poor"})
    assert page.status_code == 200 and "Nguyễn Văn An" not in page.content.decode()  # no "thi" in his name
    assert any("registry_childnameword" in q["sql"] for q in captured.captured_queries) == POSTGRESQL
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/registry/children/", {"q": "thi"})
    assert "Trần Thị Hoa" in page.content.decode() and "Phạm Thị Mai" in page.content.decode()
    assert "Nguyễn Văn An" not in page.content.decode()
    assert any("registry_childnameword" in q["sql"] for q in captured.captured_queries) == POSTGRESQL
    # Past the last page: the last one, counted from the matches (WordMatches.children on PostgreSQL).
    past = client.get("/registry/children/", {"q": "thi", "page": 9})
    assert past.status_code == 200 and past.context["page"].number == 1
    assert [r.child.full_name for r in past.context["rows"]] == ["Trần Thị Hoa", "Phạm Thị Mai"]
    api = client.get("/api/registry/children", {"q": "thi", "offset": 5, "limit": 2}).json()
    assert (api["total"], api["items"]) == (2, [])
    api = client.get("/api/registry/children", {"q": "thi", "limit": 1}).json()
    assert api["total"] == 2 and [c["full_name"] for c in api["items"]] == ["Trần Thị Hoa"]


def test_the_least_common_word_typed_drives_the_search(world, officer, units, monkeypatch):
    """Its range of the index is the narrowest; the other words are tested on the names it holds. The
    table's statistics say which is common (PostgreSQL's ANALYZE); without them, the longest word."""
    from vitreem.registry import selectors

    for given in ("Lâm", "Long", "Minh", "Nam", "Phúc", "Quân", "Sơn", "Tài", "Tùng", "Việt", "Vinh", "Vũ"):
        register(officer, f"Nguyễn Văn {given}", years_ago(5), "M", units.commune_b_2025)
    register(officer, "Nguyễn Thị Lan", years_ago(5), "F", units.commune_b_2025)
    if not POSTGRESQL:
        assert word_search_keys(user=officer, q="nguyen lan") is None
        return
    monkeypatch.setattr(selectors, "_COMMON_WORDS", (0.0, {}))
    with connection.cursor() as cur:
        cur.execute("ANALYZE registry_childnameword")
    matches = word_search_keys(user=officer, q="nguyen lan")
    sql, params = matches.rows.query.sql_with_params()
    assert '"registry_childnameword"."province_code" = %s AND "registry_childnameword"."word"::text LIKE %s' in sql
    assert "nguyen" in selectors._common_words() and params[:2] == ("51", "lan%")  # the range read
    assert matches.first(10) == _by_register(officer, q="nguyen lan")
    assert [Child.objects.get(pk=k).full_name for k in matches.first(10)] == ["Nguyễn Thị Lan"]
    # Neither word common: the longer one drives.
    monkeypatch.setattr(selectors, "_common_words", dict)
    assert word_search_keys(user=officer, q="nguyen lan").rows.query.sql_with_params()[1][:2] == ("51", "nguyen%")
