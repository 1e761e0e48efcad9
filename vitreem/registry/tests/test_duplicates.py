"""Duplicate detection and merge: scoring rules, the scan, registration warnings, merge/distinct
services with every refusal, and the review-queue pages with scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import include, path

from conftest import login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from vitreem.core.models import AuditEntry
from vitreem.core.text import fold
from vitreem.places.selectors import unit_resolve
from vitreem.registry import services
from vitreem.registry.duplicates import (
    CERTAIN,
    NEW_THRESHOLD,
    SCAN_THRESHOLD,
    Rec,
    duplicates_find,
    duplicates_scan,
    pair_score,
    reason_text,
)
from vitreem.registry.models import (
    Child,
    ChildRisk,
    DuplicateCandidate,
    DuplicateDecision,
    Guardian,
    Household,
    Residence,
    RiskAssessment,
    RiskFactor,
    SpecialEpisode,
    SpecialGroup,
)
from vitreem.registry.selectors import candidates_for_new
from vitreem.registry.services_duplicates import child_merge, duplicate_mark_distinct
from vitreem.registry.validation import split_name

# The review queue is mounted by the registry's URLs at /registry/duplicates/ (namespace
# "registry:duplicates"). This module is its own URLconf with the same mount, plus what base.html
# needs, so these tests do not depend on every other app's URLs and API importing cleanly.
urlpatterns = [
    path("registry/", include(([path("duplicates/", include("vitreem.registry.urls_duplicates"))], "registry"))),
    path("accounts/", include("vitreem.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("vitreem.core.urls")),
]
pytestmark = pytest.mark.urls(__name__)

BASE = "/registry/duplicates/"


# ---------------------------------------------------------------- helpers

def rec(name: str, born: dt.date, *, sex: str = "M", pid: str = "", household: int | None = None,
        unit: int | None = 1, precision: str = "day", guardians: tuple[str, ...] = (), id: int = 1) -> Rec:
    key = fold(name)
    return Rec(id=id, full_name=name, name_key=key, given_key=key.rsplit(" ", 1)[-1], birth_date=born,
               precision=precision, sex=sex, personal_id=pid, household_id=household, unit_id=unit,
               guardians=tuple(fold(g) for g in guardians))


def kid(unit, name: str, born: dt.date, *, sex: str = "M", pid: str = "", household: Household | None = None,
        precision: str = "day", guardians: tuple[str, ...] = (), source: str = "test") -> Child:
    family, middle, given = split_name(name)
    child = Child.objects.create(family_name=family, middle_name=middle, given_name=given, full_name=name,
                                 name_key=fold(name), given_key=fold(given), birth_date=born,
                                 birth_precision=precision, sex=sex, personal_id=pid, household=household,
                                 unit=unit, source=source)
    Residence.objects.create(child=child, unit=unit, start=born)
    for g in guardians:
        Guardian.objects.create(child=child, full_name=g, name_key=fold(g), relationship="mother")
    return child


def pair_of(a: Child, b: Child) -> tuple[int, int]:
    return (min(a.pk, b.pk), max(a.pk, b.pk))


def candidate(a: Child, b: Child, score: float = 0.95) -> DuplicateCandidate:
    lo, hi = (a, b) if a.pk < b.pk else (b, a)
    return DuplicateCandidate.objects.create(child_a=lo, child_b=hi, score=score, reasons=["name_same", "birth_same"],
                                             source="scan", unit=lo.unit)


D = dt.date(2015, 3, 8)


# ---------------------------------------------------------------- scoring rules (no database)

def test_identical_records_are_certain():
    score, reasons = pair_score(rec("Nguyễn Văn An", D), rec("Nguyễn Văn An", D))
    assert score >= CERTAIN
    assert "name_same" in reasons and "birth_same" in reasons and "same_unit" in reasons


def test_dropped_diacritics_still_certain():
    score, reasons = pair_score(rec("Nguyễn Thị Hoà", D, sex="F"), rec("Nguyen Thi Hoa", D, sex="F"))
    assert score >= CERTAIN
    assert "name_folded" in reasons
    assert reason_text("name_folded") == "Trùng họ tên khi bỏ dấu"


def test_swapped_day_and_month():
    score, reasons = pair_score(rec("Nguyễn Văn An", D), rec("Nguyễn Văn An", dt.date(2015, 8, 3)))
    assert score >= SCAN_THRESHOLD
    assert "birth_swapped" in reasons
    assert reason_text("birth_swapped") == "Ngày/tháng sinh đảo"


def test_year_off_by_one_same_day_month():
    score, reasons = pair_score(rec("Y Linh", D, sex="F"), rec("Y Linh", dt.date(2014, 3, 8), sex="F"))
    assert score >= SCAN_THRESHOLD
    assert "birth_year_off" in reasons
    far, _ = pair_score(rec("Y Linh", D, sex="F"), rec("Y Linh", dt.date(2012, 3, 8), sex="F"))
    assert far < SCAN_THRESHOLD


def test_typo_in_name():
    score, reasons = pair_score(rec("Trần Thị Thanh", D, sex="F"), rec("Trần Thị Thang", D, sex="F"))
    assert score >= SCAN_THRESHOLD
    similar = [r for r in reasons if r.startswith("name_similar:")]
    assert similar and int(similar[0].split(":")[1]) >= 85
    assert reason_text(similar[0]).startswith("Tên gần giống (")


def test_missing_id_on_one_record():
    score, _ = pair_score(rec("Lê Văn Bình", D, pid="062215001234"), rec("Lê Văn Bình", D))
    assert score >= CERTAIN


def test_same_id_is_certain_even_with_other_differences():
    score, reasons = pair_score(rec("Lê Văn Bình", D, pid="062215001234"),
                                rec("Lê Minh Bảo", dt.date(2015, 5, 1), pid="062215001234", unit=2))
    assert score >= CERTAIN
    assert reasons[0] == "same_id"
    assert reason_text("same_id") == "Cùng số định danh"


def test_two_different_ids_lower_the_score():
    same, _ = pair_score(rec("Lê Văn Bình", D), rec("Lê Văn Bình", D))
    other, reasons = pair_score(rec("Lê Văn Bình", D, pid="062215001234"), rec("Lê Văn Bình", D, pid="062215009999"))
    assert other < same and other < SCAN_THRESHOLD
    assert "id_differs" in reasons


def test_different_sex_lowers_the_score():
    same, _ = pair_score(rec("Đinh Văn Hải", D), rec("Đinh Văn Hải", D))
    other, reasons = pair_score(rec("Đinh Văn Hải", D), rec("Đinh Văn Hải", D, sex="F"))
    assert other < same and other < SCAN_THRESHOLD
    assert "sex_differs" in reasons


def test_twins_in_one_household_are_not_duplicates():
    score, reasons = pair_score(rec("Nguyễn Văn Phúc", D, household=7), rec("Nguyễn Văn Lộc", D, household=7))
    assert score < SCAN_THRESHOLD
    assert "given_differs" in reasons


def test_a_pair_sharing_only_a_given_name_is_not_proposed():
    """Issue 21 item 9: "Đặng Văn Sơn" / "Phan Hữu Sơn", same day, same commune, scored 80%."""
    score, reasons = pair_score(rec("Đặng Văn Sơn", D), rec("Phan Hữu Sơn", D))
    assert score < NEW_THRESHOLD and "only_given_same" in reasons
    # A family name alone may change (the other parent's): that pair is still proposed.
    kept, reasons = pair_score(rec("Nguyễn Thị Lan", D), rec("Trần Thị Lan", D))
    assert kept >= SCAN_THRESHOLD and "only_given_same" not in reasons
    # A mistyped family name is not "another family".
    typo, reasons = pair_score(rec("Nguyễn Văn Sơn", D), rec("Nguyễm Hữu Sơn", D))
    assert "only_given_same" not in reasons and typo > score


def test_context_raises_the_score():
    far, _ = pair_score(rec("Hồ Văn Nam", D, unit=1), rec("Hồ Văn Nam", dt.date(2014, 3, 8), unit=2))
    home, reasons = pair_score(rec("Hồ Văn Nam", D, unit=1, guardians=("Y Hoa",)),
                               rec("Hồ Văn Nam", dt.date(2014, 3, 8), unit=2, guardians=("Y Hòa",)))
    assert home > far
    assert "guardian_similar" in reasons


def test_year_only_precision_matches_the_year():
    score, reasons = pair_score(rec("A Thắng", dt.date(2012, 1, 1), precision="year"), rec("A Thắng", dt.date(2012, 9, 14)))
    assert score >= SCAN_THRESHOLD
    assert "birth_year" in reasons
    other, _ = pair_score(rec("A Thắng", dt.date(2012, 1, 1), precision="year"), rec("A Thắng", dt.date(2010, 9, 14)))
    assert other < SCAN_THRESHOLD


def test_unrelated_children_score_low():
    score, _ = pair_score(rec("Nguyễn Văn An", D), rec("Phạm Thị Mai", dt.date(2011, 7, 21), sex="F"))
    assert score < 0.5


# ---------------------------------------------------------------- the scan

@pytest.fixture
def planted(units):
    """Originals and near-duplicates of commune A (2025 unit), and look-alikes that are not duplicates."""
    a = units.commune_a_2025
    hh = Household.objects.create(unit=a, head_name="Nguyễn Văn Tám", head_key="nguyen van tam")
    originals = {
        "folded": kid(a, "Nguyễn Thị Hoà", D, sex="F"),
        "swap": kid(a, "Trần Văn Bảo", dt.date(2013, 4, 9)),
        "year": kid(a, "Y Linh", dt.date(2016, 11, 2), sex="F"),
        "typo": kid(a, "Lê Thị Thanh", dt.date(2012, 6, 30), sex="F"),
        "noid": kid(a, "A Thắng", dt.date(2014, 2, 17), pid="062214001111"),
        "id": kid(a, "Hồ Văn Nam", dt.date(2011, 5, 5), pid="062211002222"),
    }
    copies = {
        "folded": kid(a, "Nguyen Thi Hoa", D, sex="F"),
        "swap": kid(a, "Trần Văn Bảo", dt.date(2013, 9, 4)),
        "year": kid(a, "Y Linh", dt.date(2015, 11, 2), sex="F"),
        "typo": kid(a, "Lê Thị Thang", dt.date(2012, 6, 30), sex="F"),
        "noid": kid(a, "A Thắng", dt.date(2014, 2, 17)),
        "id": kid(units.commune_b_2025, "Hồ Văn Nem", dt.date(2011, 5, 5), pid="062211002222"),
    }
    noise = [
        kid(a, "Nguyễn Văn Phúc", dt.date(2017, 1, 20), household=hh),
        kid(a, "Nguyễn Văn Lộc", dt.date(2017, 1, 20), household=hh),  # twins
        kid(a, "Đinh Văn Hải", dt.date(2010, 10, 10)),
        kid(a, "Đinh Thị Hải", dt.date(2010, 10, 10), sex="F"),
        kid(a, "Hoàng Văn Một", dt.date(2012, 1, 1), precision="year"),  # alone in its block: no pair with itself
    ]
    return originals, copies, noise


def test_scan_finds_the_planted_pairs_and_nothing_else(planted):
    originals, copies, _noise = planted
    created = duplicates_scan(threshold=SCAN_THRESHOLD)
    truth = {pair_of(originals[k], copies[k]) for k in originals}
    found = {pair_of(c.child_a, c.child_b) for c in DuplicateCandidate.objects.all()}
    assert found == truth
    assert created == len(truth)
    assert set(DuplicateCandidate.objects.values_list("source", flat=True)) == {"scan"}
    cand = DuplicateCandidate.objects.get(child_a=min(originals["id"].pk, copies["id"].pk))
    assert cand.reasons[0] == "same_id" and cand.score >= CERTAIN
    assert AuditEntry.objects.filter(action="duplicates.scan").exists()
    # A second scan adds nothing.
    assert duplicates_scan() == 0


def test_scan_of_one_unit(planted, units):
    originals, copies, _ = planted
    duplicates_scan(unit=units.commune_b_2025)
    assert DuplicateCandidate.objects.count() == 0  # commune B has only one record of the pair
    # The legacy district (communes A and B) reaches its children through the 2025 successors.
    assert duplicates_scan(unit=units.district) == 6


def test_decided_pairs_are_never_proposed_again(planted, officer):
    originals, copies, _ = planted
    duplicates_scan()
    duplicate_mark_distinct(actor=officer, child_a=originals["swap"], child_b=copies["swap"], reason="khác cha mẹ")
    child_merge(actor=officer, survivor=originals["typo"], merged=copies["typo"])
    DuplicateCandidate.objects.all().delete()
    duplicates_scan()
    found = {pair_of(c.child_a, c.child_b) for c in DuplicateCandidate.objects.all()}
    assert pair_of(originals["swap"], copies["swap"]) not in found
    assert pair_of(originals["typo"], copies["typo"]) not in found
    assert len(found) == 4


def test_scan_refuses_a_bad_threshold(planted):
    with pytest.raises(DomainError):
        duplicates_scan(threshold=1.5)
    assert not DuplicateCandidate.objects.exists()


def test_find_duplicates_command(planted, capsys, units):
    call_command("find_duplicates", "--threshold", "0.8")
    assert "6 new candidate pair(s)" in capsys.readouterr().out
    call_command("find_duplicates", "--unit", "2025:23512")
    assert "0 new" in capsys.readouterr().out


def test_duplicates_find_reports_pairs_compared(planted):
    result = duplicates_find()
    assert result.pairs_compared >= len(result.found) == 6


# ---------------------------------------------------------------- at registration

def _data(name: str, born: dt.date, **extra) -> dict:
    return {"full_name": name, "name_key": fold(name), "given_key": fold(name).rsplit(" ", 1)[-1],
            "birth_date": born, "birth_precision": "day", "sex": "M", "personal_id": "", **extra}


def test_candidates_for_new_within_scope(planted, units, worker_a, worker_b):
    originals, copies, _ = planted
    data = _data("Tran Van Bao", dt.date(2013, 9, 4))
    found = candidates_for_new(data, unit=units.commune_a_2025, user=worker_a)
    # The copy with the same date first, then the original with day and month swapped.
    assert [c["id"] for c in found] == [copies["swap"].pk, originals["swap"].pk]
    assert set(found[0]) == {"id", "full_name", "birth_date", "unit", "score", "reasons"}
    assert found[0]["score"] > found[1]["score"] and "Ngày/tháng sinh đảo" in found[1]["reasons"]
    assert candidates_for_new(data, unit=units.commune_b_2025, user=worker_b) == []


def test_candidates_with_a_shared_name_count_give_the_same_answers_and_count_each_name_once(planted, units, worker_a):
    """An import's chunk shares one count of each name (`freq_memo`): the scores are those of rows
    asked one by one, and a name counted for one row is not counted again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vitreem.registry.selectors import FreqMemo

    rows = [_data("Tran Van Bao", dt.date(2013, 9, 4)), _data("Tran Van Bao", dt.date(2013, 4, 9)),
            _data("Y Linh", dt.date(2016, 11, 2), sex="F")]
    alone = [candidates_for_new(d, unit=units.commune_a_2025, user=worker_a) for d in rows]
    assert alone[0]
    memo = FreqMemo()
    with CaptureQueriesContext(connection) as queries:
        shared = [candidates_for_new(d, unit=units.commune_a_2025, user=worker_a, freq_memo=memo) for d in rows]
    assert shared == alone
    given_counts = [q for q in queries.captured_queries if q["sql"].startswith('SELECT "registry_child"."given_key"')]
    assert len(given_counts) == 2  # "bao" once for the two rows, then "linh"


def test_candidates_for_new_by_personal_id(planted, units, officer):
    originals, _, _ = planted
    found = candidates_for_new({"personal_id": "062214001111"}, unit=None, user=officer)
    assert [c["id"] for c in found] == [originals["noid"].pk]
    found = candidates_for_new(_data("Khác Hẳn Tên", dt.date(2014, 2, 17), personal_id="062214001111"),
                               unit=units.commune_a_2025, user=officer)
    assert found[0]["id"] == originals["noid"].pk and found[0]["score"] >= CERTAIN


def test_candidates_for_new_ignores_ended_records(planted, units, officer):
    originals, copies, _ = planted
    Child.objects.filter(pk__in=[originals["year"].pk, copies["year"].pk]).update(ended_on=dt.date(2025, 1, 1), end_reason="left")
    assert candidates_for_new(_data("Y Linh", dt.date(2016, 11, 2), sex="F"), unit=units.commune_a_2025,
                              user=officer) == []


def test_registration_warns_before_saving(planted, units, worker_a):
    before = Child.objects.count()
    with pytest.raises(services.PossibleDuplicate) as exc:
        services.child_register(actor=worker_a, data={"full_name": "Nguyen Thi Hoa", "birth_date": D, "sex": "F"},
                                unit=units.commune_a_2025)
    assert exc.value.candidates and exc.value.candidates[0]["score"] >= CERTAIN
    assert Child.objects.count() == before


# ---------------------------------------------------------------- merge and distinct

@pytest.fixture
def rich_pair(units):
    """Two records of one child, each with its own guardians, episodes, risks and residence."""
    a = units.commune_a_2025
    survivor = kid(a, "Nguyễn Văn An", D, guardians=("Y Hoa",))
    merged = kid(a, "Nguyen Van An", D, guardians=("Y Hoa", "A Blưm"))
    merged.residences.update(start=dt.date(2024, 1, 1))
    survivor.residences.update(start=D, end=dt.date(2023, 12, 31))
    group = SpecialGroup.objects.filter(parent__isnull=True).first()
    SpecialEpisode.objects.create(child=merged, group=group, start=dt.date(2024, 2, 1))
    factor = RiskFactor.objects.first()
    assessment = RiskAssessment.objects.create(child=merged, assessed_on=dt.date(2024, 3, 1))
    ChildRisk.objects.create(child=merged, factor=factor, start=dt.date(2024, 3, 1), assessment=assessment)
    candidate(survivor, merged)
    return survivor, merged


def test_merge_moves_everything_and_audits(rich_pair, officer):
    survivor, merged = rich_pair
    child_merge(actor=officer, survivor=survivor, merged=merged, reason="cùng một trẻ")
    merged.refresh_from_db()
    assert merged.ended_on == dt.date.today() and merged.end_reason == "merged" and merged.merged_into == survivor
    assert survivor.special_episodes.count() == 1 and survivor.risk_assessments.count() == 1
    assert survivor.risks.count() == 1
    # The guardian already on the survivor stays with the merged record; the new one moves.
    assert sorted(survivor.guardians.values_list("full_name", flat=True)) == ["A Blưm", "Y Hoa"]
    assert merged.guardians.count() == 1
    assert survivor.residences.count() == 2  # the merged record's later residence did not overlap
    assert DuplicateDecision.objects.get().verdict == "merged"
    assert DuplicateCandidate.objects.get().status == "merged"
    merge_rows = AuditEntry.objects.filter(action__in=["child.merge", "child.merged_into"])
    assert {(r.action, r.object_id) for r in merge_rows} == {("child.merge", str(survivor.pk)),
                                                             ("child.merged_into", str(merged.pk))}
    moved = merge_rows.get(action="child.merge").changes["moved"]
    assert moved["registry.specialepisode"] == 1 and moved["registry.riskassessment"] == 1


def test_merge_keeps_overlapping_residences_on_the_merged_record(units, officer):
    a = units.commune_a_2025
    survivor, merged = kid(a, "Lò Văn Tùng", D), kid(units.commune_b_2025, "Lo Van Tung", D)
    child_merge(actor=officer, survivor=survivor, merged=merged)
    assert survivor.residences.count() == 1
    assert merged.residences.get().end == dt.date.today()


def test_merge_repoints_a_third_copy(units, officer):
    a = units.commune_a_2025
    one, two, three = (kid(a, n, D) for n in ("Hà Văn Sơn", "Ha Van Son", "Hà Văn Sơn"))
    candidate(one, two)
    candidate(two, three)
    child_merge(actor=officer, survivor=one, merged=two)
    open_pairs = {pair_of(c.child_a, c.child_b) for c in DuplicateCandidate.objects.filter(status="open")}
    assert open_pairs == {pair_of(one, three)}


def _nothing_written(*children: Child) -> None:
    assert not DuplicateDecision.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="child.merge").exists()
    for child in children:
        child.refresh_from_db()
        assert child.ended_on is None and child.merged_into_id is None


def test_merge_refuses_itself(rich_pair, officer):
    survivor, merged = rich_pair
    with pytest.raises(DomainError) as exc:
        child_merge(actor=officer, survivor=survivor, merged=survivor)
    assert exc.value.code == "same_record" and "chính nó" in exc.value.message
    _nothing_written(survivor, merged)


def test_merge_refuses_across_provinces(units, db):
    both = user_create(username="both", password="x-long-password-1", role=Role.PROVINCE_OFFICER,
                       units=[unit_resolve("2025:51"), unit_resolve("2025:01")])
    here = kid(units.commune_a_2025, "Nguyễn Văn An", D)
    hanoi = kid(unit_resolve("2025:00004"), "Nguyễn Văn An", D)
    with pytest.raises(DomainError) as exc:
        child_merge(actor=both, survivor=here, merged=hanoi)
    assert exc.value.code == "other_province" and "hai tỉnh" in exc.value.message
    _nothing_written(here, hanoi)


def test_merge_accepts_a_legacy_unit_of_the_same_province(units, officer):
    old = kid(units.commune_a, "Nguyễn Văn An", D)  # a record still on the legacy unit
    new = kid(units.commune_a_2025, "Nguyen Van An", D)
    child_merge(actor=officer, survivor=new, merged=old)
    old.refresh_from_db()
    assert old.merged_into == new


def test_merge_refuses_an_ended_record(rich_pair, officer, units):
    survivor, merged = rich_pair
    third = kid(units.commune_a_2025, "Nguyễn Văn An", D)
    child_merge(actor=officer, survivor=survivor, merged=merged)
    with pytest.raises(Conflict) as exc:
        child_merge(actor=officer, survivor=third, merged=merged)
    assert exc.value.code == "record_ended"
    Child.objects.filter(pk=third.pk).update(ended_on=dt.date(2025, 5, 1), end_reason="died")
    with pytest.raises(Conflict):
        duplicate_mark_distinct(actor=officer, child_a=survivor, child_b=third)


def test_merge_refuses_out_of_scope_and_read_only(rich_pair, worker_b, leader, reporter):
    survivor, merged = rich_pair
    with pytest.raises(NotFound):
        child_merge(actor=worker_b, survivor=survivor, merged=merged)
    with pytest.raises(PermissionDenied):
        child_merge(actor=leader, survivor=survivor, merged=merged)
    with pytest.raises(PermissionDenied):
        child_merge(actor=reporter, survivor=survivor, merged=merged)
    with pytest.raises(NotFound):
        duplicate_mark_distinct(actor=worker_b, child_a=survivor, child_b=merged)
    _nothing_written(survivor, merged)


def test_merge_by_commune_worker_of_both_records(rich_pair, worker_a):
    survivor, merged = rich_pair
    child_merge(actor=worker_a, survivor=survivor, merged=merged)
    assert Child.objects.get(pk=merged.pk).merged_into_id == survivor.pk


def test_mark_distinct_records_and_audits(rich_pair, officer):
    survivor, merged = rich_pair
    decision = duplicate_mark_distinct(actor=officer, child_a=merged, child_b=survivor, reason="hai trẻ")
    assert decision.verdict == "distinct" and decision.child_a_id < decision.child_b_id
    assert DuplicateCandidate.objects.get().status == "distinct"
    assert AuditEntry.objects.filter(action="child.duplicate_distinct").count() == 2
    with pytest.raises(Conflict):
        duplicate_mark_distinct(actor=officer, child_a=survivor, child_b=merged)
    with pytest.raises(Conflict):
        child_merge(actor=officer, survivor=survivor, merged=merged)
    with pytest.raises(DomainError):
        duplicate_mark_distinct(actor=officer, child_a=survivor, child_b=survivor)


# ---------------------------------------------------------------- pages

def test_queue_lists_pairs_for_officer_and_worker(rich_pair, officer, worker_a, django_assert_max_num_queries):
    survivor, _ = rich_pair
    for user in (officer, worker_a):
        client = login(user)
        with django_assert_max_num_queries(14):  # 12, the list read's audit row, the merged communes of her scope
            response = client.get(BASE)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Nguyễn Văn An" in body and "Trùng họ tên" in body


def test_queue_page_queries_do_not_grow(units, officer, django_assert_max_num_queries):
    for i in range(15):
        candidate(kid(units.commune_a_2025, f"Nguyễn Văn Số{i}", D), kid(units.commune_a_2025, f"Nguyen Van So{i}", D))
    client = login(officer)
    with django_assert_max_num_queries(14):  # 12, the list read's audit row, the merged communes of her scope
        assert client.get(BASE).status_code == 200
    assert client.get(BASE + "?min=0.9&page=1").status_code == 200
    assert client.get(BASE + "?min=abc").status_code == 200


def test_other_commune_cannot_see_or_act(rich_pair, worker_b):
    survivor, merged = rich_pair
    cand = DuplicateCandidate.objects.get()
    client = login(worker_b)
    body = client.get(BASE).content.decode()
    assert "Nguyễn Văn An" not in body
    assert client.get(f"{BASE}{cand.pk}/").status_code == 404
    assert client.post(f"{BASE}{cand.pk}/merge/", {"survivor": survivor.pk}).status_code == 404
    assert client.post(f"{BASE}{cand.pk}/distinct/").status_code == 404
    _nothing_written(survivor, merged)


def test_read_only_roles_have_no_access(rich_pair, leader, reporter, client):
    cand = DuplicateCandidate.objects.get()
    for user in (leader, reporter):
        c = login(user)
        assert c.get(BASE).status_code == 403
        assert c.get(f"{BASE}{cand.pk}/").status_code == 403
        assert c.post(f"{BASE}{cand.pk}/merge/", {"survivor": cand.child_a_id}).status_code == 403
    assert client.get(BASE).status_code == 302  # anonymous: to the login page


def test_detail_shows_both_and_logs_access(rich_pair, officer):
    survivor, merged = rich_pair
    cand = DuplicateCandidate.objects.get()
    response = login(officer).get(f"{BASE}{cand.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "A Blưm" in body and f"#{merged.pk}" in body
    assert set(AuditEntry.objects.filter(kind="access", action="view_duplicate").values_list("object_id", flat=True)) \
        == {str(survivor.pk), str(merged.pk)}


def test_merge_page(rich_pair, officer):
    survivor, merged = rich_pair
    cand = DuplicateCandidate.objects.get()
    client = login(officer)
    assert client.get(f"{BASE}{cand.pk}/merge/").status_code == 405
    response = client.post(f"{BASE}{cand.pk}/merge/", {"survivor": "999999"})
    assert response.status_code == 400 and "Hãy chọn hồ sơ được giữ lại" in response.content.decode()
    _nothing_written(survivor, merged)
    response = client.post(f"{BASE}{cand.pk}/merge/", {"survivor": merged.pk, "reason": "giữ hồ sơ mới"})
    assert response.status_code == 302 and response["Location"] == BASE
    survivor.refresh_from_db()
    assert survivor.merged_into_id == merged.pk and survivor.end_reason == "merged"
    # The pair has left the queue.
    assert client.get(f"{BASE}{cand.pk}/").status_code == 404


def test_merge_page_shows_a_refusal(units, db):
    both = user_create(username="both", password="x-long-password-1", role=Role.PROVINCE_OFFICER,
                       units=[unit_resolve("2025:51"), unit_resolve("2025:01")])
    here = kid(units.commune_a_2025, "Nguyễn Văn An", D)
    hanoi = kid(unit_resolve("2025:00004"), "Nguyễn Văn An", D)
    cand = candidate(here, hanoi)
    response = login(both).post(f"{BASE}{cand.pk}/merge/", {"survivor": here.pk})
    assert response.status_code == 400 and "hai tỉnh khác nhau" in response.content.decode()
    _nothing_written(here, hanoi)


def test_distinct_page(rich_pair, worker_a):
    cand = DuplicateCandidate.objects.get()
    client = login(worker_a)
    assert client.get(f"{BASE}{cand.pk}/distinct/").status_code == 405
    response = client.post(f"{BASE}{cand.pk}/distinct/", {"reason": "khác cha mẹ"})
    assert response.status_code == 302
    assert DuplicateDecision.objects.get().verdict == "distinct"
    assert client.get(BASE).content.decode().count("Nguyễn Văn An") == 0


def test_check_endpoint(planted, worker_a, worker_b):
    originals, copies, _ = planted
    params = {"full_name": "Trần Văn Bảo", "birth_date": "04/09/2013", "sex": "M"}
    response = login(worker_a).get(BASE + "check/", params)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["candidates"]] == [copies["swap"].pk, originals["swap"].pk]
    assert login(worker_b).get(BASE + "check/", params).json() == {"candidates": []}
    partial = login(worker_a).get(BASE + "check/", params, HTTP_HX_REQUEST="true")
    assert "Trần Văn Bảo" in partial.content.decode() and "09/04/2013" in partial.content.decode()
    bad = login(worker_a).get(BASE + "check/", {"full_name": "A", "birth_date": "31/02/2013"})
    assert bad.status_code == 400 and bad.json()["field"] == "birth_date"
    assert login(worker_a).get(BASE + "check/", {}).status_code == 400
    assert login(worker_a).get(BASE + "check/", {**params, "sex": "X"}).json()["field"] == "sex"
    assert login(worker_a).post(BASE + "check/", params).status_code == 405
