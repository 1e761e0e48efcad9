"""Reading an indicator's registration: the list behind one key of a breakdown. The breakdowns
themselves are registered by the apps that own their records (registry.indicators: by sex, age band,
ethnicity, group); the engine and this module import no domain app."""

from __future__ import annotations

from django.utils import translation

from .engine import Params, indicators


def drilldown_key(code: str, params: Params, key: str) -> str | None:
    fn = indicators()[code].key_drilldown
    return fn(params, key) if fn is not None else None


def key_labels(code: str, language: str | None = None) -> dict[str, str]:
    """{key: label} of a breakdown, in the reader's language or `language` (official documents are
    Vietnamese); empty when the indicator gives none."""
    fn = indicators()[code].key_labels
    if fn is None:
        return {}
    if language is None:
        return fn()
    with translation.override(language):
        return fn()
