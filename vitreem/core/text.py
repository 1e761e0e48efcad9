"""Vietnamese text: the one place that normalises, folds and formats it.

Search, duplicate matching and import all call these functions, so "nguyen van an",
"NGUYỄN VĂN AN" and an NFD "Nguyễn Văn An" meet on the same key.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def nfc(text: str | None) -> str:
    """Unicode NFC with whitespace collapsed and trimmed."""
    if not text:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text))).strip()


# Characters no text a person types contains, refused wherever people's text is stored (issue 20 item 5):
# they hide or reorder what an officer reads — a zero-width space inside a name defeats search and
# duplicate matching, a right-to-left override shows a name backwards — or break files (NUL).
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad")
_BIDI = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A name: letters with their diacritics, spaces, apostrophes ("H'Hen", "Rơ Mah H’Yam") and hyphens.
_NAME_PUNCTUATION = frozenset(" '\u2019-")


def text_problem(text: str, *, label: object, max_length: int | None = None, name: bool = False) -> str | None:
    """Why `text` (as `nfc` gives it) cannot be stored in the field called `label`, or None: too long;
    an invisible, bidirectional or control character; a run of combining marks (after NFC Vietnamese has
    none, a minority letter such as Bahnar's ô̆ one); for a person's `name`, anything but letters, spaces,
    apostrophes and hyphens. The services call it, so forms, the API, imports and the phone's sync alike."""
    from django.utils.translation import gettext as _

    if max_length is not None and len(text) > max_length:
        return _("%(f)s dài quá %(n)s ký tự (%(m)s ký tự).") % {"f": label, "n": max_length, "m": len(text)}
    marks = 0
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _INVISIBLE or ch in _BIDI or (category[0] == "C" and ch not in "\t\n\r"):
            return _("%(f)s chứa ký tự ẩn hoặc ký tự điều khiển (U+%(c)04X): hãy gõ lại.") % {"f": label, "c": ord(ch)}
        marks = marks + 1 if category[0] == "M" else 0
        if marks > 1:
            return _("%(f)s có nhiều dấu chồng lên một chữ: hãy gõ lại bằng bộ gõ tiếng Việt.") % {"f": label}
        if name and category[0] not in "LM" and ch not in _NAME_PUNCTUATION:
            return _("%(f)s chỉ gồm chữ cái (có dấu), dấu cách, dấu nháy (') và gạch nối (-); không được có "
                     "“%(c)s”.") % {"f": label, "c": ch}
    if name and text and not any(ch.isalpha() for ch in text):
        return _("%(f)s phải có chữ cái.") % {"f": label}
    return None


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
    groups: list[str] = []
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


# --- Legacy Vietnamese encodings: TCVN3 (ABC) and VNI, read back into Unicode.
#
# Before Unicode, Vietnamese was typed with fonts that redraw the upper half of an 8-bit code page.
# Excel files from that time hold such text as Unicode strings whose characters are the Windows-1252
# reading of the legacy bytes: "Nguyễn" typed in .VnTime is stored as "NguyÔn", typed in VNI-Times as
# "Nguyeãn". Both encodings use only bytes 0xA0–0xFF, where Windows-1252 and Latin-1 agree, so the
# tables below are written with those characters.

# Tone marks in the order of the TCVN3 code chart: none, grave (huyền), hook (hỏi), tilde (ngã),
# acute (sắc), dot below (nặng). Every table row below follows this order.
_TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")


def _with_tone(vowel: str, tone: int) -> str:
    return unicodedata.normalize("NFC", vowel + _TONES[tone])


# TCVN 5712:1993 VN3 ("TCVN3", "ABC"; fonts .VnTime, .VnArial …): one character per letter.
_TCVN3_ROWS = {
    "a": "aµ¶·¸¹",
    "ă": "¨»¼½¾Æ",
    "â": "©ÇÈÉÊË",
    "e": "eÌÎÏÐÑ",
    "ê": "ªÒÓÔÕÖ",
    "i": "i×ØÜÝÞ",
    "o": "oßáâãä",
    "ô": "«åæçèé",
    "ơ": "¬êëìíî",
    "u": "uïñòóô",
    "ư": "\xadõö÷øù",  # ư alone is 0xAD, the (invisible) soft hyphen of Windows-1252
    "y": "yúûüýþ",
}
# VN3 has capitals only for letters without a tone. Toned capitals were typed with a second,
# capitals-only font (.VnTimeH, .VnArialH) that draws capitals in the lowercase slots: the bytes do not
# say which font was used, so such text comes back in lower case. VN2, which adds toned capitals in
# other slots, was rarely used and is not supported.
_TCVN3_OTHERS = {"đ": "®", "Ă": "¡", "Â": "¢", "Ê": "£", "Ô": "¤", "Ơ": "¥", "Ư": "¦", "Đ": "§"}

# VNI-Windows (VNI-Times, VNI-Helve …): the ASCII base letter, then one character for the marks.
# i and ỵ are single characters, so that a tone never collides with the dot of i / the tail of y.
# Capitals are the same strings in upper case ("AÙ" for Á, "Ñ" for Đ).
_VNI_ROWS = {
    "a": "a aø aû aõ aù aï",
    "ă": "aê aè aú aü aé aë",
    "â": "aâ aà aå aã aá aä",
    "e": "e eø eû eõ eù eï",
    "ê": "eâ eà eå eã eá eä",
    "i": "i ì æ ó í ò",
    "o": "o oø oû oõ où oï",
    "ô": "oâ oà oå oã oá oä",
    "ơ": "ô ôø ôû ôõ ôù ôï",
    "u": "u uø uû uõ uù uï",
    "ư": "ö öø öû öõ öù öï",
    "y": "y yø yû yõ yù î",
}


def _tcvn3_table() -> dict[str, str]:
    table = dict(_TCVN3_OTHERS)
    for vowel, row in _TCVN3_ROWS.items():
        for tone, legacy in enumerate(row):
            table[_with_tone(vowel, tone)] = legacy
    return table


def _vni_table() -> dict[str, str]:
    table = {"đ": "ñ", "Đ": "Ñ"}
    for vowel, row in _VNI_ROWS.items():
        for tone, legacy in enumerate(row.split()):
            letter = _with_tone(vowel, tone)
            table[letter] = legacy
            table[letter.upper()] = legacy.upper()
    return table


# Unicode letter → legacy string, and back. ASCII maps to itself and is left out of the reverse tables.
_TO_TCVN3 = _tcvn3_table()
_TO_VNI = _vni_table()
_FROM_TCVN3 = {legacy: letter for letter, legacy in _TO_TCVN3.items() if not legacy.isascii()}
_FROM_VNI = {legacy: letter for letter, legacy in _TO_VNI.items() if not legacy.isascii()}
# Longest first, so that "ôù" (ớ) wins over "ô" (ơ) and "oâ" (ô) over a lone "o".
_VNI_UNIT = re.compile("|".join(re.escape(k) for k in sorted(_FROM_VNI, key=len, reverse=True)))


def _encode(text: str, table: dict[str, str], name: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in table:
            out.append(table[ch])
        elif ch.isascii() or ch == "\xa0":  # both encodings keep ASCII and the no-break space
            out.append(ch)
        else:
            raise ValueError(f"{name} has no code for {ch!r}")
    return "".join(out)


def to_tcvn3(text: str) -> str:
    """Unicode → TCVN3 as Windows-1252 characters: "Nguyễn" → "NguyÔn". Mostly for building test input.

    Only ASCII and Vietnamese letters can be written; anything else raises ValueError — in particular
    toned capitals ("Ễ"), which TCVN3 lacks (they needed the capitals-only .VnTimeH fonts).
    """
    return _encode(text, _TO_TCVN3, "TCVN3")


def to_vni(text: str) -> str:
    """Unicode → VNI as Windows-1252 characters: "Nguyễn" → "Nguyeãn". Mostly for building test input.

    Every Vietnamese letter, capitals included, can be written; other non-ASCII characters raise
    ValueError.
    """
    return _encode(text, _TO_VNI, "VNI")


def from_tcvn3(text: str) -> str:
    """TCVN3 text (as Windows-1252 characters) → Unicode NFC: "NguyÔn ThÞ Hoa" → "Nguyễn Thị Hoa".

    Characters TCVN3 does not use pass through unchanged. Whitespace is kept as it is.
    """
    return unicodedata.normalize("NFC", "".join(_FROM_TCVN3.get(ch, ch) for ch in text))


def from_vni(text: str) -> str:
    """VNI text (as Windows-1252 characters) → Unicode NFC: "Nguyeãn" → "Nguyễn".

    A mark joins its base letter only when both have the same case, as VNI keyboards write them
    ("AÙ", "aù"); anything else passes through unchanged. Whitespace is kept as it is.
    """
    return unicodedata.normalize("NFC", _VNI_UNIT.sub(lambda m: _FROM_VNI[m.group()], text))


# --- Telling the encodings apart.
#
# Any text made of Windows-1252 characters is a valid string in all three encodings, so detection
# weighs evidence. Only signs that ordinary Unicode text — Vietnamese, or French, German, Spanish …
# — does not produce count for a legacy encoding; a letter the encoding has no code for counts
# against it; the text is left as Unicode unless a legacy reading has at least _ENOUGH points.
_SURE, _HINT, _AGAINST, _ENOUGH = 2, 1, 2, 2

# Everything a Windows-1252 (or Latin-1) reading of bytes can produce. A character outside this set —
# "ắ", "ơ", a combining accent, a Chinese character — proves the text is already Unicode.
_BYTE_CHARS = frozenset(bytes(range(256)).decode("latin-1")) | frozenset(
    bytes(range(256)).decode("cp1252", errors="ignore")
)
# TCVN3 letters that are punctuation or symbols in Windows-1252: glued to a word ("Hµ", "§¾k", "Lª")
# no Latin-script language writes them.
_TCVN3_SIGNS = frozenset("¡¢£¤¥¦§¨©ª«¬\xad®µ¶·¸¹»¼½¾×÷")
# VNI marks that French, Spanish … also put after a vowel (où, goût, naïf, Raphaël, Raúl, aéroport):
# only a hint. The other marks (ø õ å ã ä â á à ê after a vowel) are a sure sign.
_VNI_WESTERN_MARKS = frozenset("ùûïéèúüë")


def _in_word(ch: str) -> bool:
    return ch.isalpha() or ch in _FROM_TCVN3


def _glued_sign(text: str, i: int) -> bool:
    """Is text[i] a TCVN3 sign stuck to a word ("Hµ", "Lª", "§¾k"), not used as a symbol?"""
    ch = text[i]
    if ch not in _TCVN3_SIGNS:
        return False
    prev = text[i - 1] if i > 0 else " "
    nxt = text[i + 1] if i + 1 < len(text) else " "
    if ch == "»":  # ằ is followed by its final consonant; a closing guillemet is not
        return _in_word(nxt)
    if ch == "µ":  # à ends a syllable ("Hµ"); the micro sign starts a unit ("µg")
        return _in_word(prev)
    # "Lª", "§¾k", "¨n" — but not "¡Hola", "«Bonjour»" or a lone "©"
    return _in_word(prev) or (_in_word(nxt) and not nxt.isupper())


def _tcvn3_evidence(text: str) -> tuple[int, int]:
    """(points for TCVN3, letters TCVN3 has no code for)."""
    points = strays = 0
    for i, ch in enumerate(text):
        if ch.isascii():
            continue
        if ch not in _FROM_TCVN3:
            strays += ch.isalpha()  # "à", "Â", "Ä"; punctuation such as "–" or "°" is neutral
        elif _glued_sign(text, i):
            points += _SURE
        elif ch.isupper() and i > 0 and text[i - 1].islower():
            points += _SURE  # "NguyÔn", "TrÇn": a capital inside a lowercase word is a toned vowel
    return points, strays


def _vni_evidence(text: str) -> tuple[int, int]:
    """(points for VNI, characters VNI cannot explain: stray letters and glued TCVN3 signs)."""
    points = 0
    explained: set[int] = set()
    for m in _VNI_UNIT.finditer(text):
        explained.update(range(m.start(), m.end()))
        unit = m.group()
        if len(unit) == 2:
            base, mark = unit.lower()[0], unit.lower()[1]
            if base in "ôö":  # ơ / ư with a tone: "ôù", "öø"
                points += _SURE
            elif mark in _VNI_WESTERN_MARKS:
                points += _HINT
            elif not (base == "o" and mark in "àáã"):  # "hoà", "toán", "xoã" are Unicode Vietnamese too
                points += _SURE
        elif unit in "ñÑ" and not text[m.start() - 1 : m.start()].isalpha():
            points += _HINT  # đ starts words; Spanish ñ never does
        elif unit in "æÆ" or (unit in "öÖ" and text[m.end() : m.end() + 1] in ("ô", "Ô")):
            points += _HINT  # ỉ; "öô" is ươ
    strays = sum(
        1
        for i, ch in enumerate(text)
        if i not in explained and not ch.isascii() and (ch.isalpha() or _glued_sign(text, i))
    )
    return points, strays


def _detect(text: str) -> tuple[str, bool]:
    """The encoding of one text, and whether the evidence is firm (used for column votes)."""
    if text.isascii():
        return "ascii", False
    if any(ch not in _BYTE_CHARS for ch in text):
        return "unicode", True
    readings = {"tcvn3": _tcvn3_evidence(text), "vni": _vni_evidence(text)}
    scores = {enc: points - _AGAINST * strays for enc, (points, strays) in readings.items()}
    candidates = [enc for enc in readings if scores[enc] >= _ENOUGH]
    if candidates:
        # A reading that explains every character beats one that does not, then the stronger evidence
        # wins; min() keeps the first on a tie: TCVN3, the more common encoding.
        return min(candidates, key=lambda enc: (readings[enc][1], -scores[enc])), True
    # Unicode by default; firmly so when every legacy reading has characters it cannot explain.
    return "unicode", max(scores.values()) < 0


def detect_encoding(text: str) -> str:
    """Guess how a text is encoded: "unicode", "tcvn3", "vni" or "ascii" (nothing to convert).

    Text containing any character that no legacy byte produces (ắ, ơ, a combining accent …) is Unicode.
    Otherwise the TCVN3 and VNI readings collect evidence: TCVN3 symbols glued to words ("Hµ", "Lª"),
    capitals inside lowercase words ("NguyÔn"), VNI vowel + mark pairs ("Nguyeãn", "Haø"); letters an
    encoding has no code for count against it. Short texts may stay ambiguous ("Hång" is valid TCVN3
    and valid Unicode), and then the answer is "unicode"; detect_column_encoding() is more reliable.
    """
    return _detect(str(text))[0]


def detect_column_encoding(values: Iterable[str | None]) -> str:
    """The encoding of a column of cells: each cell with firm evidence votes; empty cells are skipped.

    Ties go to "unicode", since converting text that already is Unicode would garble it.
    """
    votes: Counter[str] = Counter()
    saw_text = False
    for value in values:
        if not value:
            continue
        encoding, firm = _detect(str(value))
        saw_text = saw_text or encoding != "ascii"
        if firm:
            votes[encoding] += 1
    if not votes:
        return "unicode" if saw_text else "ascii"
    return max(("unicode", "tcvn3", "vni"), key=votes.__getitem__)


def to_unicode(text: str, encoding: str | None = None) -> str:
    """Convert from `encoding` ("tcvn3", "vni", "unicode", "ascii"; detected when None), then nfc()."""
    encoding = detect_encoding(text) if encoding is None else encoding.lower()
    if encoding == "tcvn3":
        text = from_tcvn3(text)
    elif encoding == "vni":
        text = from_vni(text)
    elif encoding not in ("unicode", "ascii"):
        raise ValueError(f"unknown encoding {encoding!r}")
    return nfc(text)


class LocalName:
    """Mixin for code tables that carry a Vietnamese `name` and its English `name_en` (special
    groups, risk factors, beneficiary groups, programme indicators): `local_name` is the one of the
    request's language — English when the interface is English and the row has it. Official
    documents (payrolls, reports, forms) keep `name`."""

    name: str
    name_en: str

    @property
    def local_name(self) -> str:
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name
