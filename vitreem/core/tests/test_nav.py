"""The navigation's entries: each app's, shown to whom its rule allows, the current one marked; their paths
resolved once per process, not on every page."""

from __future__ import annotations

import pytest

from vitreem.core import nav

pytestmark = pytest.mark.django_db


def test_entries_for_a_user_and_the_current_page(officer, monkeypatch):
    resolved: list[str] = []
    real = nav.reverse

    def counted(name, *args, **kwargs):
        resolved.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(nav, "reverse", counted)
    monkeypatch.setattr(nav, "_PATHS", {})
    items = nav.nav_for(officer, "/registry/children/12/")
    by_url = {item["url"]: item for item in items}
    assert by_url["/"]["active"] is False  # home is active on "/" only
    assert by_url["/registry/children/"]["active"] is True
    assert sum(item["active"] for item in items) == 1
    assert resolved and len(resolved) == len(set(resolved))

    resolved.clear()
    assert nav.nav_for(officer, "/")[0] == {"url": "/", "label": by_url["/"]["label"], "active": True}
    assert resolved == []  # every path already known


def test_an_entry_without_a_path_is_left_out(officer, monkeypatch):
    monkeypatch.setattr(nav, "_ITEMS", [*nav._ITEMS, nav.NavItem("no:such-page", "—", 99, lambda user: True)])
    monkeypatch.setattr(nav, "_PATHS", {})
    assert all(item["label"] != "—" for item in nav.nav_for(officer, "/"))
    assert nav._PATHS[(nav.get_script_prefix(), "no:such-page")] is None
