"""Vietnamese text: the one place that normalises, folds and formats it.

Search, duplicate matching and import all call these functions, so "nguyen van an",
"NGUYỄN VĂN AN" and an NFD "Nguyễn Văn An" meet on the same key.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def nfc(text: str | None) -> str:
    """Unicode NFC with whitespace collapsed and trimmed."""
    if not text:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text))).strip()


def fold(text: str | None) -> str:
    """Diacritic-free search key: lower case, đ→d, marks removed, spaces collapsed.

    fold("Nguyễn Thị Hoà") == fold("NGUYEN THI HOA") == "nguyen thi hoa"
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def fold_words(text: str | None) -> str:
    """fold() with punctuation removed: for matching headers and unit names."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()


# Prefixes of unit names that people write or omit at will.
_UNIT_PREFIXES = (
    "thanh pho",
    "thi tran",
    "thi xa",
    "dac khu",
    "tinh",
    "huyen",
    "quan",
    "phuong",
    "xa",
    "tp",
    "tt",
    "tx",
)
_UNIT_PREFIX_RE = re.compile(r"^(?:" + "|".join(re.escape(p) for p in _UNIT_PREFIXES) + r")\.?\s+")


def unit_key(name: str | None) -> str:
    """Folded unit name without its type prefix: "Thị trấn Đắk Hà" → "dak ha"."""
    key = fold_words(name)
    stripped = _UNIT_PREFIX_RE.sub("", key)
    return stripped or key


# --- Vietnamese number and date formats: "." for thousands, "," for decimals, dd/mm/yyyy.


def format_number(value: int | float | Decimal | None, decimals: int = 0) -> str:
    """27678 → "27.678"; 34.8 with decimals=1 → "34,8"."""
    if value is None:
        return ""
    quant = Decimal(1).scaleb(-decimals)
    number = Decimal(str(value)).quantize(quant, rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    integer, _, fraction = f"{abs(number):f}".partition(".")
    groups = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    text = sign + ".".join(groups)
    return f"{text},{fraction}" if decimals > 0 else text


def format_percent(fraction: float | Decimal | None, decimals: int = 1) -> str:
    """0.348 → "34,8%"."""
    if fraction is None:
        return ""
    return format_number(Decimal(str(fraction)) * 100, decimals) + "%"


def format_date(value: dt.date | dt.datetime | None) -> str:
    """dd/mm/yyyy, the way Vietnamese documents write dates."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def parse_number(text: str) -> Decimal:
    """Read "27.678" or "34,8" (Vietnamese) — and plain "27678" — into a Decimal."""
    cleaned = str(text).strip().replace(" ", "").replace("%", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif cleaned.count(".") >= 1 and all(len(part) == 3 for part in cleaned.split(".")[1:]):
        cleaned = cleaned.replace(".", "")
    return Decimal(cleaned)
