"""Every Vietnamese string the code marks for translation has its English in the compiled catalogue.

`makemessages` does not see the `_l` alias (gettext_lazy) several apps use, so strings could slip
past it; this test reads the code itself. It checks the single-literal calls `_("…")` and `_l("…")`
(most of them); a string built from several literals is left to review.
"""

import gettext
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "vitreem"
CALL = re.compile(r'\b_l?\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]')
VIETNAMESE = re.compile(r"[À-ỹĐđ]")


def _marked() -> dict[str, str]:
    found = {}
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            if VIETNAMESE.search(text):
                found.setdefault(text, str(path.relative_to(ROOT)))
    return found


def test_every_marked_string_has_english():
    catalogue = gettext.translation("django", localedir=ROOT / "locale", languages=["en"])
    known = catalogue._catalog  # type: ignore[attr-defined]
    marked = _marked()
    missing = sorted(f"{where}: {text}" for text, where in marked.items() if not known.get(text))
    assert len(marked) > 500
    assert missing == [], "no English for:\n" + "\n".join(missing)


def test_every_indicator_label_has_english():
    """Indicator labels are registered as data (stats.engine.indicator), out of makemessages' reach."""
    from django.utils import translation

    from vitreem.stats.engine import indicators

    catalogue = gettext.translation("django", localedir=ROOT / "locale", languages=["en"])._catalog  # type: ignore[attr-defined]
    missing = [i.label_vi for i in indicators().values() if not catalogue.get(i.label_vi)]
    assert missing == [], "no English for:\n" + "\n".join(missing)
    with translation.override("en"):
        assert indicators()["children"].label == "Children under 16"
    with translation.override("vi"):
        assert indicators()["children"].label == "Số trẻ em dưới 16 tuổi"

