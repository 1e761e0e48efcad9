"""A child's history in words and a merged record's link to the kept one (issue 21 item 6). The pair comes
from the duplicates tests, whose module serves its own URLs: these pages need the project's."""

from __future__ import annotations

from conftest import login
from vitreem.registry.services_duplicates import child_merge
from vitreem.registry.tests.test_duplicates import candidate, kid, rich_pair  # noqa: F401, F811 — the fixture and its helpers


def test_the_pages_say_what_happened_in_words_and_link_the_kept_record(rich_pair, officer, worker_a):  # noqa: F811
    """Issue 21 item 6: the history showed "child.merge {'merged': 254528, …}", and a merged record had no
    link to the record that kept it."""
    survivor, merged = rich_pair
    child_merge(actor=officer, survivor=survivor, merged=merged, reason="cùng một trẻ")
    client = login(worker_a)  # the commune's worker reads both records
    kept = client.get(f"/registry/children/{survivor.pk}/").content.decode()
    assert "Gộp hồ sơ trùng vào hồ sơ này" in kept and "child.merge" not in kept and "{&#x27;merged" not in kept
    gone = client.get(f"/registry/children/{merged.pk}/").content.decode()
    assert "Hồ sơ giữ lại:" in gone and f'href="/registry/children/{survivor.pk}/"' in gone
    assert "child.merged_into" not in gone
