"""Navigation entries, registered by each app in its AppConfig.ready() so base.html never changes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str  # a lazy translation
    order: int
    visible: Callable[[Any], bool]


_ITEMS: list[NavItem] = []


def register_nav(url_name: str, label, *, order: int = 50, visible: Callable[[Any], bool] | None = None) -> None:
    if any(item.url_name == url_name for item in _ITEMS):
        return
    _ITEMS.append(NavItem(url_name, label, order, visible or (lambda user: True)))


# (script prefix, url name) -> the entry's path, or None when it has none: the URLconf does not change
# while the process runs, and every page drew a dozen entries with a reverse() each (about 0.3 ms a page).
_PATHS: dict[tuple[str, str], str | None] = {}


def _path(url_name: str) -> str | None:
    key = (get_script_prefix(), url_name)
    if key not in _PATHS:
        try:
            _PATHS[key] = reverse(url_name)
        except NoReverseMatch:
            _PATHS[key] = None
    return _PATHS[key]


def nav_for(user, current_path: str) -> list[dict]:
    items = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if not item.visible(user):
            continue
        url = _path(item.url_name)
        if url is None:
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"url": url, "label": item.label, "active": active})
    return items


@dataclass(frozen=True)
class HomePanel:
    """A block of the home page contributed by an app: a template and the dotted path of the function giving
    its context."""

    template: str
    context: str  # the dotted path of a function (request) -> dict | None, imported when the home page is drawn
    order: int


_PANELS: list[HomePanel] = []


def register_home_panel(template: str, context: str, *, order: int = 50) -> None:
    """`context` is a dotted path, not the function: importing an app's views from AppConfig.ready()
    pulled django-ninja and pydantic into every process start, a third of `django.setup()` for a
    command such as `vitreem stats --json` that draws no page."""
    if any(p.template == template for p in _PANELS):
        return
    _PANELS.append(HomePanel(template, context, order))


def home_panels(request) -> list[dict]:
    """Render-ready panels; a panel whose context function returns None is not shown to this user."""
    from .errors import DomainError

    panels = []
    for panel in sorted(_PANELS, key=lambda p: p.order):
        try:
            ctx = import_string(panel.context)(request)
        except DomainError:
            # A panel whose data is not set up yet (e.g. no rule in force) must not take the home page down.
            logging.getLogger("vitreem.nav").exception("home panel %s failed", panel.template)
            continue
        if ctx is not None:
            panels.append({"template": panel.template, "context": ctx})
    return panels


@dataclass(frozen=True)
class PageAsset:
    """A script or a <link> an app adds to every page for the users `visible` accepts (a static file,
    never inline JavaScript: the Content-Security-Policy forbids inline scripts)."""

    kind: str  # "script" or a link rel ("manifest", "icon", …)
    href: Callable[[], str]
    visible: Callable[[Any], bool]


_ASSETS: list[PageAsset] = []


def register_page_asset(kind: str, href: Callable[[], str], *, visible: Callable[[Any], bool] | None = None) -> None:
    """Add a script (kind "script") or a link (kind = its rel) to base.html for the users `visible` accepts
    (everyone by default, logged out included; `visible` gets None for an anonymous visitor)."""
    _ASSETS.append(PageAsset(kind, href, visible or (lambda user: True)))


def page_assets(user) -> tuple[list[str], list[dict[str, str]]]:
    """(script URLs, [{"rel", "href"}]) for this user."""
    scripts, links = [], []
    for asset in _ASSETS:
        if not asset.visible(user):
            continue
        try:
            href = asset.href()
        except NoReverseMatch:  # a test's own URLconf without the app that added it
            continue
        if asset.kind == "script":
            scripts.append(href)
        else:
            links.append({"rel": asset.kind, "href": href})
    return scripts, links
