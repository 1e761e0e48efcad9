"""Matching rows against the register: the same personal ID, the very same record, or duplicate
detection's candidates (registry.selectors.candidates_for_new) decide whether a row updates a child,
creates one, or creates one and goes to the duplicate review queue; then the file's own rows are
scanned for near-duplicates of each other."""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _

from vitreem.registry.models import Child, DuplicateCandidate

from .cells import CellReader
from .state import Prepared, RowIssue

# Duplicate-detection scores (registry.duplicates): at or above MATCH the row is that child;
# between REVIEW and MATCH an officer decides in the duplicate review queue.
MATCH_SCORE = 0.9
REVIEW_SCORE = 0.6


class Matcher(CellReader):
    def _near_duplicates_in_file(self, *, write: bool) -> None:
        """Two rows of the file that are probably one child written twice (a typo, dropped diacritics,
        day and month swapped) but not the very same record, which `_run` refuses: both are
        created and the pair goes to the duplicate review queue, scored as the register's scan scores
        (registry.duplicates.pairs_among), from the score at which registration warns."""
        from vitreem.registry.duplicates import NEW_THRESHOLD, pairs_among

        recs = [r for r in self._file_recs if r.id in self._made]
        self._file_recs = []
        if len(recs) < 2:
            return
        _compared, found = pairs_among(recs, threshold=NEW_THRESHOLD)
        if not found:
            return
        by_row = {r.id: r for r in recs}
        for a, b, score, _reasons in found:
            for row, other in ((a, b), (b, a)):
                self.out.warnings.append(RowIssue(
                    row, self.header("full_name"), by_row[row].full_name, "duplicate_in_file_possible",
                    _("Có thể trùng với dòng %(r)s của tệp (điểm %(s)s): cả hai được ghi và đưa vào danh sách "
                      "chờ xét trùng.") % {"r": other, "s": f"{score:.2f}"}))
        rows = {a for a, *_ in found} | {b for _a, b, *_ in found}
        self.out.review += len(rows - self._review_rows)
        if not write:
            return
        made = {row: child for row, child in self._made.items() if child is not None}
        candidates = []
        for a, b, score, reasons in found:
            low, high = sorted((made[a], made[b]))
            candidates.append(DuplicateCandidate(child_a_id=low, child_b_id=high, score=score, reasons=reasons,
                                                 source=self.source, unit_id=cast(int, by_row[a].unit_id)))
        DuplicateCandidate.objects.bulk_create(candidates, ignore_conflicts=True)

    def _may_have_any(self) -> bool:
        if self._any is None:
            from vitreem.registry.selectors import children_for_user

            self._any = children_for_user(user=self.actor).exists()
        return self._any

    @property
    def _threshold(self) -> dict[str, Any]:
        """Ask duplicate detection down to the review score when it takes a threshold."""
        import inspect

        from vitreem.registry.selectors import candidates_for_new

        return {"threshold": REVIEW_SCORE} if "threshold" in inspect.signature(candidates_for_new).parameters else {}

    def _may_match(self, p: Prepared) -> bool:
        """Cheap pre-check before asking duplicate detection, which looks for candidates sharing a given
        name, a full name, or a commune and an (unordered) day and month of birth: when no child in
        scope shares any of these, there is nothing to ask. An empty register skips matching at once.
        (Children created earlier in the same file are not in these sets: in-file duplicates are
        caught by their exact key only.)"""
        if self._keys is None:
            from vitreem.registry.selectors import children_for_user

            keys: set[tuple[Any, ...]] = set()
            for given, name, unit_id, born in children_for_user(user=self.actor).values_list(
                    "given_key", "name_key", "unit_id", "birth_date").iterator(chunk_size=5000):
                keys.update((("g", given), ("n", name), ("d", unit_id, frozenset((born.day, born.month)))))
            self._keys = keys
        if not self._keys:
            return False
        d = p.data
        born = d["birth_date"]
        return bool({("g", d["given_key"]), ("n", d["name_key"]),
                     ("d", p.unit.pk, frozenset((born.day, born.month)))} & self._keys)

    def _match(self, chunk: list[Prepared]) -> tuple[list[Prepared], list[tuple[Prepared, int]],
                                                      list[tuple[Prepared, list[dict]]]]:
        """(rows to create, rows matching child id, rows to create and send to review)."""
        from vitreem.core.scope import scope_for
        from vitreem.registry.selectors import FreqMemo, candidates_for_new

        scope = scope_for(self.actor)
        # Nothing is written while a chunk is matched: its rows share one count of each name.
        freq_memo = FreqMemo()
        ids = [p.data["personal_id"] for p in chunk if p.data.get("personal_id")]
        by_id: dict[str, tuple[int, int]] = {}
        self._before()
        if ids and self._had_ids:
            for pk, pid, unit_id in Child.objects.filter(personal_id__in=ids, ended_on__isnull=True).values_list(
                    "pk", "personal_id", "unit_id"):
                by_id.setdefault(pid, (pk, unit_id))
        # The very same record (same folded name, birth date and precision, sex, commune) is that
        # child: re-importing a list, or an export, must change nothing whatever the scores say.
        from vitreem.registry.selectors import children_for_user

        same: dict[tuple[Any, ...], list[int]] = {}
        names = [p.data["name_key"] for p in chunk if not by_id.get(p.data.get("personal_id") or "")]
        if names and self._may_have_any():
            for row in children_for_user(user=self.actor).filter(name_key__in=names).values_list(
                    "pk", "name_key", "birth_date", "birth_precision", "sex", "unit_id"):
                same.setdefault(row[1:], []).append(row[0])
        create, update, review = [], [], []
        for p in chunk:
            exact = same.get((p.data["name_key"], p.data["birth_date"], p.data["birth_precision"], p.data["sex"],
                              p.unit.pk), [])
            if len(exact) == 1 and not p.data.get("personal_id"):
                update.append((p, exact[0]))
                continue
            hit = by_id.get(p.data.get("personal_id") or "")
            if hit:
                if not scope.sees_unit(hit[1]):
                    self._reject(p, "personal_id", p.data["personal_id"], "id_elsewhere",
                                 _("Số định danh này đã được đăng ký cho một trẻ ở đơn vị ngoài phạm vi của bạn; "
                                   "liên hệ cán bộ tỉnh."))
                    continue
                update.append((p, hit[0]))
                continue
            if not self._may_match(p):
                create.append(p)
                continue
            found = candidates_for_new({**p.data, "unit_id": p.unit.pk, "ethnicity_id": p.ethnicity_id,
                                        "guardians": p.guardians},
                                       unit=p.unit, user=self.actor, freq_memo=freq_memo,
                                       **self._threshold)  # type: ignore[arg-type]
            found = sorted(found, key=lambda c: -float(c.get("score", 0)))
            if found and float(found[0]["score"]) >= MATCH_SCORE:
                update.append((p, int(found[0]["id"])))
            elif found and float(found[0]["score"]) >= REVIEW_SCORE:
                review.append((p, [c for c in found if float(c["score"]) >= REVIEW_SCORE]))
            else:
                create.append(p)
        return create, update, review

    def _reject(self, p: Prepared, name: str, value: str, code: str, message: str) -> None:
        self.out.valid -= 1
        self.out.invalid += 1
        self.out.error_rows.add(p.row)
        self.out.errors.append(RowIssue(p.row, self.header(name), value, code, message))
