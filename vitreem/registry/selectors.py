"""Every read of children and households goes through here, and through core.scope (the candidates
for a possible duplicate and the duplicate review queue too)."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_access
from vitreem.core.errors import NotFound
from vitreem.core.scope import get_in_scope, scope_filter, scope_for

from .duplicates import (
    NEW_THRESHOLD,
    Freq,
    Rec,
    _attach_guardians,
    _recs,
    pair_score,
    reasons_text,
    rec_from_data,
)
from .models import BirthPrecision, Child, ChildNameWord, DuplicateCandidate, Household


def children_for_user(*, user: User, include_ended: bool = False) -> QuerySet[Child]:
    qs = scope_filter(Child.objects.all(), user)
    if not include_ended:
        qs = qs.filter(ended_on__isnull=True)
    return qs


def child_get_for_user(*, user: User, child_id: int, audit: bool = True) -> Child:
    """One child the user may see (404 otherwise); opening it writes an access row to the audit log."""
    child = get_in_scope(Child.objects.select_related("unit", "household", "ethnicity"), user, pk=child_id)
    if audit:
        audit_access(actor=user, obj=child, unit=child.unit_id)
    return child


def households_for_user(*, user: User) -> QuerySet[Household]:
    return scope_filter(Household.objects.all(), user)


def household_get_for_user(*, user: User, household_id: int, audit: bool = False) -> Household:
    """One household the user may see (404 otherwise); with `audit`, opening its page (the children
    in it, its poverty by year) writes an access row."""
    household = get_in_scope(Household.objects.select_related("unit"), user, pk=household_id)
    if audit:
        audit_access(actor=user, obj=household, unit=household.unit_id)
    return household


@dataclass(frozen=True)
class ReviewRow:
    unit: Any
    in_force: Any  # the PovertyReview in force on the day (its own, or its predecessor's), or None
    latest: Any  # the latest recorded for the unit itself, or None


def poverty_review_in_force(*, unit_id: int, day: dt.date) -> Any:
    """The PovertyReview in force on `day` for a commune (its own or its predecessor's), or None."""
    from django.db.models import Q

    from vitreem.places.models import UnitSuccession

    from .models import PovertyReview
    from .rules import poverty_years_on

    year = poverty_years_on(day).get(unit_id)
    if year is None:
        return None
    linked = UnitSuccession.objects.filter(Q(new_id=unit_id) | Q(old_id=unit_id), is_default=True)
    units = {unit_id, *linked.values_list("old_id", flat=True), *linked.values_list("new_id", flat=True)}
    return (PovertyReview.objects.filter(unit_id__in=units, year=year, decided_on__lte=day).select_related("unit")
            .order_by("decided_on").first())


def poverty_reviews_for_user(*, user: User, day: dt.date) -> list[ReviewRow]:
    """The communes in the user's scope in force on `day`, each with the poverty review in force there
    (rules.poverty_years_on) and its own latest recorded one. Unit-level records, not child data."""
    from vitreem.places.models import Level, UnitSuccession

    from .models import PovertyReview
    from .rules import poverty_years_on

    communes = list(units_for_user(user=user, level=Level.COMMUNE, on=day).order_by("name", "code"))
    ids = [u.pk for u in communes]
    linked = dict(UnitSuccession.objects.filter(new_id__in=ids, is_default=True).values_list("old_id", "new_id"))
    reviews: dict[tuple[int, int], Any] = {}
    latest: dict[int, Any] = {}
    for r in (PovertyReview.objects.filter(unit_id__in=[*ids, *linked]).select_related("unit")
              .order_by("year", "-decided_on")):
        if r.decided_on <= day:  # the first decided of the year (its predecessors' decide on different days)
            reviews[(linked.get(r.unit_id, r.unit_id), r.year)] = r
        if r.unit_id in ids:
            latest[r.unit_id] = r
    years = poverty_years_on(day)
    return [ReviewRow(u, reviews.get((u.pk, years[u.pk])) if u.pk in years else None, latest.get(u.pk))
            for u in communes]


def age_band_bounds(band: str, on: dt.date) -> tuple[dt.date, dt.date] | None:
    """Birth-date bounds for an age band "a-b" (inclusive ages) on a date."""
    try:
        low, high = (int(x) for x in band.split("-"))
    except ValueError:
        return None
    def years_before(n: int) -> dt.date:
        try:
            return on.replace(year=on.year - n)
        except ValueError:
            return on.replace(year=on.year - n, day=28)
    # age >= low  ⇔ born on or before on-low years; age <= high ⇔ born after on-(high+1) years
    return years_before(high + 1) + dt.timedelta(days=1), years_before(low)


# ---------------------------------------------------------------- the child list (page, API, export share it)

AGE_BANDS = ("0-2", "3-5", "6-10", "11-15")


def _word_prefix(field: str, key: str):
    """Q: `key` starts a word of the folded field ("van an" matches "nguyen van anh", not "tuan")."""
    from django.db.models import Q

    return Q(**{f"{field}__startswith": key}) | Q(**{f"{field}__contains": " " + key})


def list_day(as_of: dt.date | None) -> dt.date:
    from django.utils import timezone

    return as_of or timezone.localdate()


def _address_and_poverty(qs: QuerySet, *, user: User, day: dt.date, unit, poverty: str, poverty_year: int | None,
                         province: str | None) -> QuerySet:
    """The current address's filter (`unit`: its communes today) and the poverty filter, on rows with a
    child's `unit` and `household` — the register's (children_filter) or the word index's
    (word_search_keys), so both find the same children."""
    from vitreem.stats.engine import params_for

    from .rules import q_poverty, q_poverty_in_force

    if unit is not None:
        ids = params_for(as_of=day, unit=unit, user=user).commune_ids(day)
        if ids is not None:
            qs = qs.filter(unit_id__in=ids)
    if poverty:
        qs = qs.filter(q_poverty(poverty_year, poverty, province) if poverty_year
                       else q_poverty_in_force(day, poverty, province))
    return qs


def children_filter(qs: QuerySet[Child], *, user: User, as_of: dt.date | None = None, unit=None, age_band: str = "",
                    sex: str = "", ethnicity: str = "", poverty: str = "", poverty_year: int | None = None,
                    special: str = "", at_risk: bool = False, schooling: str = "", disability: str = "",
                    q: str = "", guardian: str = "") -> QuerySet[Child]:
    """Apply the child-list filters to `qs` (already scoped by children_for_user).

    With `as_of` the list is the one behind a dashboard figure "as of" that date: the children who
    counted on that day (rules.q_child_on) and lived in `unit` then (rules.q_lives_in, through the
    stats engine's unit → communes mapping), so the count equals the indicator's. Without it, `unit`
    filters the current address. Flags (poverty, special, at-risk, age) are evaluated on `as_of`
    (or today); poverty for `poverty_year` (default: the review in force that day in the
    household's commune, rules.q_poverty_in_force). Ordered by given name, then full name — the way Vietnamese lists are sorted.
    """
    from django.db.models import Exists, OuterRef, Q, Value
    from django.db.models.functions import Coalesce

    from vitreem.core.text import fold
    from vitreem.stats.engine import params_for

    from .models import Guardian, SpecialEpisode, SpecialGroup
    from .rules import covers, q_at_risk_on, q_child_on, q_lives_in, q_special_on

    day = list_day(as_of)
    # The user's province when the scope is within one: its rows carry its code (registry indexes lead with it).
    province = scope_for(user).province_code
    if as_of is not None:
        params = params_for(as_of=day, unit=unit, user=user)
        qs = qs.filter(q_child_on(day) & q_lives_in(day, params.commune_ids(day)))
    qs = _address_and_poverty(qs, user=user, day=day, unit=None if as_of is not None else unit, poverty=poverty,
                              poverty_year=poverty_year, province=province)
    if age_band:
        bounds = age_band_bounds(age_band, day)
        if bounds:
            qs = qs.filter(birth_date__range=bounds)
    if sex:
        qs = qs.filter(sex=sex)
    if ethnicity:
        qs = qs.filter(ethnicity__code=ethnicity)
    if special == "any":
        qs = qs.filter(q_special_on(day))
    elif special:
        group = SpecialGroup.objects.filter(code=special).only("parent_id").first()
        if group is not None and group.parent_id:
            qs = qs.filter(Exists(SpecialEpisode.objects.filter(covers(day), child=OuterRef("pk"),
                                                                subgroup__code=special)))
        else:
            qs = qs.filter(q_special_on(day, [special]))
    if at_risk:
        qs = qs.filter(q_at_risk_on(day))
    if schooling:
        qs = qs.filter(schooling=schooling)
    if disability:
        qs = qs.filter(disability=disability)
    text = (q or "").strip()
    digits = text.replace(" ", "")
    if digits.isdigit():
        # A personal identification number: 12 digits exactly, or the start of one.
        qs = qs.filter(personal_id=digits) if len(digits) == 12 else qs.filter(personal_id__startswith=digits)
    elif text:
        # Every word typed starts a word of the name, in any order: "nguyen an" finds "Nguyễn Văn An",
        # and so does the given name first ("An Nguyễn Văn", the way some lists write it).
        if province is not None:
            # The trigram index leads with the province (registry/0013): without it a province's search
            # read the whole country's matches (1,000,000 children: "thi" counted in 169 → 14 ms).
            qs = qs.filter(province_code=province)
        for word in fold(text).split(" "):
            qs = qs.filter(_word_prefix("name_key", word))
    if (guardian or "").strip():
        match = Q()
        for word in fold(guardian).split(" "):
            match &= _word_prefix("name_key", word)
        qs = qs.filter(Exists(Guardian.objects.filter(match, child=OuterRef("pk"))))
    if not is_name_search(q=q, guardian=guardian):
        # Browsing or a filter (a dashboard's drill-down): PostgreSQL walks the given_key index in
        # order and stops after one page; it estimates the filters' selectivity well and sorts instead
        # when they are rare (measured on the demo province: the 44,000 at-risk children of 2022,
        # 130 ms sorted → 10 ms walked; a sub-group of 17 children, 3 ms either way).
        return qs.order_by("given_key", "name_key", "pk")
    # A name search: the same order, through an expression no index provides, so the database
    # filters first and sorts the (few) rows found. It cannot estimate LIKE patterns: walking the
    # index and testing every row until a page is full takes seconds when the search finds fewer
    # than a page.
    return qs.order_by(Coalesce("given_key", Value("")), "name_key", "pk")


def listed_poverty(*, poverty: str = "", poverty_year: int | None = None, **_filters: Any) -> str | None:
    """The poverty status every child of a list filtered by `children_filter(**filters)` has in the
    review in force on the list's day — the poverty filter itself, unless it asked for a given year's
    classification — or None when the children's statuses differ."""
    return (poverty or None) if poverty_year is None else None


def children_flags(children: list[Child], *, day: dt.date, poverty: str | None = None) -> dict[int, dict[str, Any]]:
    """Badges for one page of the list, in a handful of queries whatever the page size: special
    circumstances and at-risk on `day`, the household's poverty status in the review in force.

    `poverty` (`listed_poverty`): the status every child has, known from the list's filter, so the
    households' classifications and their communes' reviews are not read again (two queries of the
    province's search with the poverty filter)."""
    from django.db.models import CharField, Value

    from .models import ChildRisk, SpecialEpisode
    from .rules import covers, poverty_status_of

    ids = [c.pk for c in children]
    # The episodes and the risk factors of the day in one query (UNION ALL): one round trip less on
    # every list and every child's page.
    rows = (SpecialEpisode.objects.filter(covers(day), child_id__in=ids)
            .values_list("child_id", Value("special", output_field=CharField()))
            .union(ChildRisk.objects.filter(covers(day), child_id__in=ids)
                   .values_list("child_id", Value("risk", output_field=CharField())), all=True))
    special: set[int] = set()
    risk: set[int] = set()
    for child_id, kind in rows:
        (special if kind == "special" else risk).add(child_id)
    risk -= special
    if poverty is not None:
        status = {c.household_id: poverty for c in children if c.household_id}
    else:
        status = poverty_status_of({c.household_id for c in children if c.household_id}, day)
    return {c.pk: {"special": c.pk in special, "at_risk": c.pk in risk,
                   "poverty": status.get(c.household_id) if c.household_id else None} for c in children}


def residences_overlapping(*, limit: int = 20) -> list[int]:
    """Ids of children with two residences whose dates overlap. None, as the database refuses them
    (migration registry/0010); a mass insert made with its checks set aside (core.bulk.indexes_deferred)
    is checked with this afterwards."""
    from django.db.models import Exists, OuterRef, Q, Value
    from django.db.models.functions import Coalesce

    from .models import Residence

    other = Residence.objects.filter(Q(end__isnull=True) | Q(end__gte=OuterRef("start")), child_id=OuterRef("child_id"),
                                     pk__gt=OuterRef("pk"), start__lte=Coalesce(OuterRef("end"), Value(dt.date.max)))
    return list(Residence.objects.filter(Exists(other)).order_by("child_id").values_list("child_id", flat=True)
                .distinct()[:limit])


def units_for_user(*, user: User, level: str | None = None, on: dt.date | None = None) -> QuerySet:
    """Administrative units within the user's scope (for the unit filter and the address select);
    with `on`, only those in force on that day."""
    from vitreem.core.scope import units_filter
    from vitreem.places.models import AdminUnit, version_on

    qs = units_filter(AdminUnit.objects.all(), user)
    if level:
        qs = qs.filter(level=level)
    if on is not None:
        qs = qs.filter(version=version_on(on))
    return qs.order_by("version", "code")


def guardian_get_for_user(*, user: User, guardian_id: int):
    from .models import Guardian

    return get_in_scope(Guardian.objects.select_related("child", "child__unit"), user, unit_field="child__unit",
                        pk=guardian_id)


def episode_get_for_user(*, user: User, episode_id: int):
    from .models import SpecialEpisode

    return get_in_scope(SpecialEpisode.objects.select_related("child", "child__unit", "group", "subgroup"), user,
                        unit_field="child__unit", pk=episode_id)


def household_members_for_user(*, user: User, household: Household) -> QuerySet[Child]:
    return scope_filter(Child.objects.filter(household=household), user).order_by("birth_date", "pk")


def is_name_search(*, q: str = "", guardian: str = "", **_filters: Any) -> bool:
    """Whether the child-list filters search a name (a child's, an ID, or a guardian's)."""
    return bool((q or "").strip() or (guardian or "").strip())


@dataclass(frozen=True)
class WordMatches:
    """A name search's matches read from the word index (`word_search_keys`)."""

    rows: QuerySet  # the child id of each matching word row, in the list's order

    def first(self, count: int) -> list[int]:
        """The keys of the first `count` children matched. A child whose name has two words that start
        alike ("Thị Thiện" for "thi") has two rows, side by side in that order: each is kept once, here
        rather than by the query (DISTINCT ON sorted every match where a LIMIT keeps the first
        `count` while reading: "lan", 37 → 12 ms). Rare, so one query almost always; another, reading
        further, when the duplicates left too few."""
        limit = count + 20
        while True:
            ids = list(self.rows[:limit])
            keys = list(dict.fromkeys(ids))
            if len(keys) >= count or len(ids) < limit:
                return keys[:count]
            limit *= 2

    def children(self, scope: QuerySet[Child]) -> QuerySet[Child]:
        """The matched children as a queryset of `scope`, in the list's order: what a list counts or pages
        when `first` did not tell (a page past the last one). Building children_filter's query as well
        cost the list a query and 4 ms it did not use (the poverty rule's reviews, read twice)."""
        return scope.filter(pk__in=self.rows.order_by()).order_by("given_key", "name_key", "pk")


_COMMON_WORDS: tuple[float, dict[str, float]] = (0.0, {})


def _common_words() -> dict[str, float]:
    """{word: its share of the word index's rows} for the names' most common words, from PostgreSQL's
    statistics of the table (ANALYZE's 100 most common values: "nguyen", "thi", "van"…), read at most
    once an hour a process. They choose which typed word drives a search, never what it finds."""
    global _COMMON_WORDS
    import time

    from django.db import connection

    read_at, words = _COMMON_WORDS
    if time.monotonic() - read_at > 3600 or not words:
        with connection.cursor() as cur:
            cur.execute("SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
                        "WHERE tablename = 'registry_childnameword' AND attname = 'word'")
            row = cur.fetchone()
        words = dict(zip(row[0], row[1], strict=True)) if row and row[0] else {}
        _COMMON_WORDS = (time.monotonic(), words)
    return words


def word_search_keys(*, user: User, as_of: dt.date | None = None, unit=None, poverty: str = "",
                     poverty_year: int | None = None, q: str = "", guardian: str = "",
                     **others: Any) -> WordMatches | None:
    """The keys of a name search's matches, in the list's order, read from the word index
    (ChildNameWord, migration 0018) — or None where that index does not serve the search, and the
    search reads the register (children_filter's own query, which finds the same children).

    It serves the child list's usual search on PostgreSQL: a name (not an ID number) within one
    province's scope, with or without the commune and poverty filters, today's list. The least
    common word typed drives it (one range of the index: its narrowest, `_common_words`); the other
    words are tested on the name the index carries. Same scope (core.scope.scope_filter on the child's commune), same rules
    (rules.q_poverty_in_force on the child's household), same order (given name, name, id) as
    children_filter. The other filters (age, sex, groups…) and a past date's list read the register."""
    from django.db import connection

    from vitreem.core.text import fold

    text = (q or "").strip()
    province = scope_for(user).province_code
    if (connection.vendor != "postgresql" or as_of is not None or (guardian or "").strip() or any(others.values())
            or not text or text.replace(" ", "").isdigit() or province is None):
        return None
    words = fold(text).split(" ")
    common = _common_words() if len(words) > 1 else {}
    # The word whose range is the narrowest: the least common by the table's statistics, the longest
    # among words as rare. "nguyen lan" reads "lan…" (9,000 rows on the demo) and tests "nguyen" on
    # the names, not the 48,000 "nguyen" rows (13.6–33 → 5.6–8.8 ms).
    drive = min(words, key=lambda w: (sum(f for v, f in common.items() if v.startswith(w)), -len(w)))
    words.remove(drive)
    rows = scope_filter(ChildNameWord.objects.filter(province_code=province, word__startswith=drive,
                                                     ended_on__isnull=True), user)
    for word in words:
        rows = rows.filter(_word_prefix("name_key", word))
    rows = _address_and_poverty(rows, user=user, day=list_day(None), unit=unit, poverty=poverty,
                                poverty_year=poverty_year, province=province)
    return WordMatches(rows.order_by("given_key", "name_key", "child_id").values_list("child_id", flat=True))


def page_rows(qs: QuerySet, *, offset: int, limit: int, keys_first: bool = False,
              cap: int | None = None, by_key: QuerySet | None = None,
              keys: WordMatches | None = None) -> tuple[list, int | None]:
    """One page of `qs` and, when this page is the last one, the total without a COUNT query.

    A name search on 200,000 children usually finds fewer rows than a page: the table is then
    scanned once instead of twice. Returns (rows, total or None when a count is still needed).

    `keys_first` (a name search, which no index orders): the matches are sorted by their keys alone,
    then the page's rows are read by key with their joins. Sorting the whole rows, each joined to its
    unit and ethnicity, cost twice as much: the 33,000 children of the province whose name has the word
    "thi", 70 → 35 ms. (Walking the list order's index instead is fast for a word spread over the
    alphabet, such as a middle name, but reads most of the index for a given name late in it: "xuyen",
    16 → 196 ms. Not used.) With `cap` (a count up to `cap` + 1 is all the caller needs) the sorted
    keys of up to `cap` + 1 matches come in that one query, which is then the count as well: a search
    that fills more than a page scans its matches once, not twice (a page and a COUNT).

    `by_key`: where the page's rows are read by key — the scope's queryset without the search's own
    filters, which the keys' query applied already. Read through `qs`, every name condition and the
    poverty filter's joins were compiled and tested again for 50 known rows (about 5 ms of the
    province's search with the poverty filter).

    `keys` (with `keys_first`): the matches' keys in the list's order from elsewhere than `qs` — the
    word index's (`word_search_keys`), which finds the same children."""
    if keys_first:
        end = offset + limit + 1 if cap is None else max(offset + limit + 1, cap + 1)
        found_keys = keys.first(end) if keys is not None else list(qs.values_list("pk", flat=True)[:end])
        wanted = found_keys[offset: offset + limit]
        found = (by_key if by_key is not None else qs).order_by().in_bulk(wanted)
        rows = [found[k] for k in wanted if k in found]
        if not rows and offset > 0:
            return rows, None  # beyond the last page: the caller shows the last one
        if len(found_keys) < end:  # every match seen
            return rows, len(found_keys) if cap is None else min(len(found_keys), cap + 1)
        return rows, cap + 1 if cap is not None else None
    rows = list(qs[offset: offset + limit + 1])
    if len(rows) <= limit and (rows or offset == 0):
        return rows, offset + len(rows)
    return rows[:limit], None


# ---------------------------------------------------------------- duplicates: candidates and the review queue
# Reads only; the scoring they use is duplicates.pair_score, the one scorer of the scan, registration
# and import.

def _freq_around(pool: models.QuerySet[Child], new: Rec, recs: list[Rec], memo: FreqMemo | None = None) -> Freq:
    """The name frequencies the scan would use, for the names in play only (two grouped queries).

    With `memo` (an import's chunk: the same pool for every row, nothing written in between) a name
    counted for one row is not counted again for the next: a 500-row import asked for the same common
    given names hundreds of times (16 ms each on the 200,000-child province)."""
    memo = memo if memo is not None else FreqMemo()
    names = {new.name_key, *(r.name_key for r in recs)} - memo.names.keys()
    given = {new.given_key, *(r.given_key for r in recs)} - memo.given.keys()
    if names:
        memo.names.update(dict.fromkeys(names, 0))
        rows = pool.filter(name_key__in=names).values_list("name_key", "unit_id").annotate(n=models.Count("pk"))
        for name_key, unit_id, n in rows:
            memo.in_unit.setdefault(name_key, {})[unit_id] = n
            memo.names[name_key] += n
    if given:
        memo.given.update(dict.fromkeys(given, 0))
        memo.given.update(pool.filter(given_key__in=given).values_list("given_key").annotate(n=models.Count("pk")))
    # Only the names in play, as before: a frequency of 0 is "not found", as an absent name was.
    in_play = {new.name_key, *(r.name_key for r in recs)}
    return Freq({k: n for k in in_play if (n := memo.names[k])},
                {(k, unit_id): n for k in in_play for unit_id, n in memo.in_unit.get(k, {}).items()},
                {k: n for k in {new.given_key, *(r.given_key for r in recs)} if (n := memo.given[k])})


@dataclass
class FreqMemo:
    """Name frequencies already counted in one pool (see `_freq_around`)."""

    names: dict[str, int] = field(default_factory=dict)
    in_unit: dict[str, dict[int | None, int]] = field(default_factory=dict)  # name -> {commune: n}
    given: dict[str, int] = field(default_factory=dict)


def candidates_for_new(data: dict[str, Any], *, unit, user: User | None = None, limit: int = 5,
                       threshold: float = NEW_THRESHOLD, freq_memo: FreqMemo | None = None) -> list[dict[str, Any]]:
    """Existing active children that may be the one described by `data` (cleaned registration data:
    full_name/name_key/given_key, birth_date, birth_precision, sex, personal_id; optionally
    household_id and guardians), within the user's scope (everything when `user` is None, for
    system jobs). Each: id, full_name, birth_date, unit, score (0–1), reasons (texts), best first."""
    if not data.get("birth_date") and not data.get("personal_id"):
        return []
    pool = Child.objects.filter(ended_on__isnull=True)
    if user is not None:
        pool = scope_filter(pool, user)
    q = Q()
    if data.get("personal_id"):
        q |= Q(personal_id=data["personal_id"])
    new: Rec | None = None
    if data.get("birth_date"):
        new = rec_from_data(data, unit)
        born, year = new.birth_date, new.birth_date.year
        years = (year - 1, year + 1)
        q |= Q(given_key=new.given_key, birth_date__year__gte=years[0], birth_date__year__lte=years[1])
        q |= Q(name_key=new.name_key)
        if new.unit_id is not None:
            dates = {born}
            for y in (year - 1, year, year + 1):
                for day, month in ((born.day, born.month), (born.month, born.day)):
                    with contextlib.suppress(ValueError):  # 30 February and the like
                        dates.add(dt.date(y, month, day))
            q |= Q(unit_id=new.unit_id, birth_date__in=sorted(dates))
    recs = _recs(pool.filter(q)[:500])
    if not recs:
        return []
    if new is None:  # an ID alone: the same ID is enough
        new = Rec(0, "", "", "", recs[0].birth_date, BirthPrecision.YEAR, "", data["personal_id"], None, None)
    by_id = {r.id: r for r in recs}
    _attach_guardians(by_id, by_id)
    freq = _freq_around(pool, new, recs, freq_memo)
    scored = []
    for rec in recs:
        score, reasons = pair_score(new, rec, freq)
        if score >= threshold:
            scored.append((score, rec.id, reasons))
    scored.sort(key=lambda row: (-row[0], row[1]))
    scored = scored[:limit]
    children = Child.objects.select_related("unit").in_bulk([pk for _s, pk, _r in scored])
    return [{"id": pk, "full_name": children[pk].full_name, "birth_date": children[pk].birth_date.isoformat(),
             "unit": children[pk].unit.name, "score": round(score, 2), "reasons": reasons_text(reasons)}
            for score, pk, reasons in scored]


def duplicate_candidates_for_user(*, user: User, status: str = DuplicateCandidate.Status.OPEN) -> models.QuerySet:
    """Candidates whose two records the user may both see (a commune worker never sees a child of
    another commune through the queue); open ones only list pairs of two active records."""
    qs = DuplicateCandidate.objects.filter(status=status)
    qs = scope_filter(scope_filter(qs, user, unit_field="child_a__unit"), user, unit_field="child_b__unit")
    if status == DuplicateCandidate.Status.OPEN:
        qs = qs.filter(child_a__ended_on__isnull=True, child_b__ended_on__isnull=True)
    return qs.select_related("child_a__unit", "child_b__unit", "child_a__household", "child_b__household",
                             "child_a__ethnicity", "child_b__ethnicity").order_by("-score", "pk")


def duplicate_candidate_get_for_user(*, user: User, candidate_id: int) -> DuplicateCandidate:
    try:
        return duplicate_candidates_for_user(user=user, status=DuplicateCandidate.Status.OPEN).get(pk=candidate_id)
    except (DuplicateCandidate.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None
