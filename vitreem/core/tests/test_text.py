"""vitreem.core.text: folding, Vietnamese number and date formats, legacy encodings (TCVN3, VNI).

Plain functions: no database. The legacy tables are checked against code points from the published
charts, letter by letter, and by round trips over random strings with hypothesis.
"""

from __future__ import annotations

import datetime as dt
import string
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vitreem.core.text import (
    detect_column_encoding,
    detect_encoding,
    fold,
    fold_words,
    format_date,
    format_number,
    format_percent,
    from_tcvn3,
    from_vni,
    nfc,
    parse_number,
    to_tcvn3,
    to_unicode,
    to_vni,
    unit_key,
)

# --- The Vietnamese alphabet, built independently of the module under test.

TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # none, grave, hook, tilde, acute, dot
VOWELS = "aăâeêioôơuưy"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# The 67 lowercase letters that are not plain ASCII: 12 vowels × 6 tones, less a e i o u y, plus đ.
VI_LOWER = "".join(sorted({_nfc(v + t) for v in VOWELS for t in TONES} - set("aeiouy") | {"đ"}))
VI_UPPER = VI_LOWER.upper()
VIETNAMESE = VI_LOWER + VI_UPPER
ASCII = string.ascii_letters + string.digits + " "
# TCVN3 has capitals only for the letters without a tone.
TCVN3_CAPITALS = "ĂÂÊÔƠƯĐ"
TCVN3_LETTERS = VI_LOWER + TCVN3_CAPITALS

# Real names and places, in the spelling a province's files use.
PHRASES = [
    "Nguyễn Thị Hoa",
    "Trần Văn Đức",
    "Lê Hà",
    "Phạm Hồng Ngọc",
    "Huỳnh Thị Mỹ Lệ",
    "Võ Thành Trung",
    "Đặng Quốc Bảo",
    "Bùi Thị Thuỷ",
    "Dương Ngọc Hân",
    "Thị trấn Đắk Hà, huyện Đắk Hà, tỉnh Kon Tum",
    "Trường Tiểu học Nguyễn Văn Trỗi",
    "Xã Ngọc Wang",
    "Phường Quyết Thắng, thành phố Kon Tum",
    "trẻ em có hoàn cảnh đặc biệt",
    "Ban chỉ đạo Chương trình hành động vì trẻ em",
    "số liệu năm 2023: 27.678 trẻ, tỷ lệ 34,8%",
]

words = st.text(alphabet=st.sampled_from(VIETNAMESE + ASCII), max_size=40)
tcvn3_words = st.text(alphabet=st.sampled_from(TCVN3_LETTERS + ASCII), max_size=40)


# --- nfc, fold, fold_words, unit_key


def test_nfc_composes_and_collapses_whitespace():
    assert nfc(_nfd("  Nguyễn \t Thị\nHoa ")) == "Nguyễn Thị Hoa"
    assert nfc(_nfd("Nguyễn")) == "Nguyễn" != _nfd("Nguyễn")
    assert nfc(None) == "" == nfc("")


def test_fold():
    assert fold("Nguyễn Thị Hoa") == "nguyen thi hoa"
    assert fold("NGUYỄN VĂN AN") == fold("nguyen van an") == "nguyen van an"
    assert fold("Đắk Hà") == "dak ha"
    assert fold("đ Đ") == "d d"
    assert fold(_nfd("Nguyễn Thị Hoà")) == fold("Nguyễn Thị Hoà") == "nguyen thi hoa"
    assert fold("  Trần   Văn \t Đức ") == "tran van duc"
    assert fold(None) == "" == fold("")


def test_fold_words_drops_punctuation():
    assert fold_words("Đắk-Hà, (Kon Tum)!") == "dak ha kon tum"
    assert fold_words("TP. Kon Tum") == "tp kon tum"


@pytest.mark.parametrize(
    "name",
    [
        "Xã Đắk Hà",
        "Phường Đắk Hà",
        "Thị trấn Đắk Hà",
        "Thị xã Đắk Hà",
        "Huyện Đắk Hà",
        "Tỉnh Đắk Hà",
        "Thành phố Đắk Hà",
        "TP. Đắk Hà",
        "thị trấn đắk hà",
        "Đắk Hà",
    ],
)
def test_unit_key_strips_the_unit_type(name):
    assert unit_key(name) == "dak ha"


def test_unit_key_keeps_a_bare_type_word():
    assert unit_key("Xã") == "xa"
    assert unit_key("Phường 1") == "1"
    assert unit_key(None) == ""


# --- numbers and dates


def test_format_number():
    assert format_number(27678) == "27.678"
    assert format_number(1234567) == "1.234.567"
    assert format_number(999) == "999"
    assert format_number(0) == "0"
    assert format_number(-27678) == "-27.678"
    assert format_number(34.8, 1) == "34,8"
    assert format_number(Decimal("1234.567"), 2) == "1.234,57"
    assert format_number(2.5) == "3"  # half up, not to even
    assert format_number(None) == ""


def test_format_percent():
    assert format_percent(0.348) == "34,8%"
    assert format_percent(Decimal("0.5"), 0) == "50%"
    assert format_percent(1) == "100,0%"
    assert format_percent(None) == ""


def test_format_date():
    assert format_date(dt.date(2023, 2, 17)) == "17/02/2023"
    assert format_date(dt.datetime(2023, 2, 17, 8, 30)) == "17/02/2023"
    assert format_date(None) == ""


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("27.678", Decimal(27678)),
        ("27678", Decimal(27678)),
        ("1.234.567", Decimal(1234567)),
        ("34,8", Decimal("34.8")),
        ("34,8%", Decimal("34.8")),
        ("1.234,5", Decimal("1234.5")),
        (" 12.5 ", Decimal("12.5")),
        ("-27.678", Decimal(-27678)),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_number_reads_format_number_integers(n):
    assert parse_number(format_number(n)) == n


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=3),
)
def test_parse_number_reads_format_number_decimals(value, decimals):
    expected = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    assert parse_number(format_number(value, decimals)) == expected


# --- the alphabet and fold properties


def test_alphabet_has_134_letters():
    assert len(set(VIETNAMESE)) == 134
    assert all(unicodedata.is_normalized("NFC", ch) for ch in VIETNAMESE)


@given(words)
def test_fold_is_ascii_and_idempotent(s):
    folded = fold(s)
    assert folded.isascii()
    assert fold(folded) == folded


@given(words)
def test_fold_ignores_normalization_form(s):
    assert fold(_nfd(s)) == fold(s)
    assert fold(s) == fold(s.upper()) == fold(s.lower())


# --- TCVN3: code points from the TCVN 5712:1993 VN3 chart

TCVN3_CODES = {
    "à": 0xB5, "ả": 0xB6, "ã": 0xB7, "á": 0xB8, "ạ": 0xB9,
    "ă": 0xA8, "ằ": 0xBB, "ẳ": 0xBC, "ẵ": 0xBD, "ắ": 0xBE, "ặ": 0xC6,
    "â": 0xA9, "ầ": 0xC7, "ẩ": 0xC8, "ẫ": 0xC9, "ấ": 0xCA, "ậ": 0xCB,
    "è": 0xCC, "ẻ": 0xCE, "ẽ": 0xCF, "é": 0xD0, "ẹ": 0xD1,
    "ê": 0xAA, "ề": 0xD2, "ể": 0xD3, "ễ": 0xD4, "ế": 0xD5, "ệ": 0xD6,
    "ì": 0xD7, "ỉ": 0xD8, "ĩ": 0xDC, "í": 0xDD, "ị": 0xDE,
    "ò": 0xDF, "ỏ": 0xE1, "õ": 0xE2, "ó": 0xE3, "ọ": 0xE4,
    "ô": 0xAB, "ồ": 0xE5, "ổ": 0xE6, "ỗ": 0xE7, "ố": 0xE8, "ộ": 0xE9,
    "ơ": 0xAC, "ờ": 0xEA, "ở": 0xEB, "ỡ": 0xEC, "ớ": 0xED, "ợ": 0xEE,
    "ù": 0xEF, "ủ": 0xF1, "ũ": 0xF2, "ú": 0xF3, "ụ": 0xF4,
    "ư": 0xAD, "ừ": 0xF5, "ử": 0xF6, "ữ": 0xF7, "ứ": 0xF8, "ự": 0xF9,
    "ỳ": 0xFA, "ỷ": 0xFB, "ỹ": 0xFC, "ý": 0xFD, "ỵ": 0xFE,
    "đ": 0xAE,
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
}  # fmt: skip


def test_tcvn3_chart_is_complete():
    assert set(TCVN3_CODES) == set(TCVN3_LETTERS)
    assert len(set(TCVN3_CODES.values())) == len(TCVN3_CODES)


@pytest.mark.parametrize(("letter", "code"), TCVN3_CODES.items())
def test_tcvn3_letter(letter, code):
    legacy = bytes([code]).decode("cp1252")
    assert to_tcvn3(letter) == legacy
    assert from_tcvn3(legacy) == letter


def test_tcvn3_examples():
    assert to_tcvn3("Nguyễn Thị Hoa") == "NguyÔn ThÞ Hoa"
    assert to_tcvn3("Đắk Hà") == "§¾k Hµ"
    assert from_tcvn3("NguyÔn ThÞ Hoa") == "Nguyễn Thị Hoa"
    assert from_tcvn3("§¾k Hµ") == "Đắk Hà"
    assert from_tcvn3("Tr\xadêng") == "Trường"
    assert from_tcvn3(" a\xa0b  ") == " a\xa0b  "  # whitespace is kept; to_unicode() collapses it


def test_tcvn3_has_no_toned_capitals():
    for letter in set(VI_UPPER) - set(TCVN3_CAPITALS):
        with pytest.raises(ValueError):
            to_tcvn3(letter)
    with pytest.raises(ValueError):
        to_tcvn3("garçon")
    # Text typed with a capitals-only .VnTimeH font is stored in the lowercase slots.
    assert from_tcvn3("NGUYÔN") == "NGUYễN"


def test_to_tcvn3_accepts_nfd():
    assert to_tcvn3(_nfd("Nguyễn")) == "NguyÔn"


@given(tcvn3_words)
def test_tcvn3_round_trip(s):
    assert from_tcvn3(to_tcvn3(s)) == s


# --- VNI: the VNI-Windows chart

VNI_CODES = {
    "á": "aù", "à": "aø", "ả": "aû", "ã": "aõ", "ạ": "aï",
    "ă": "aê", "ắ": "aé", "ằ": "aè", "ẳ": "aú", "ẵ": "aü", "ặ": "aë",
    "â": "aâ", "ấ": "aá", "ầ": "aà", "ẩ": "aå", "ẫ": "aã", "ậ": "aä",
    "é": "eù", "è": "eø", "ẻ": "eû", "ẽ": "eõ", "ẹ": "eï",
    "ê": "eâ", "ế": "eá", "ề": "eà", "ể": "eå", "ễ": "eã", "ệ": "eä",
    "í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò",
    "ó": "où", "ò": "oø", "ỏ": "oû", "õ": "oõ", "ọ": "oï",
    "ô": "oâ", "ố": "oá", "ồ": "oà", "ổ": "oå", "ỗ": "oã", "ộ": "oä",
    "ơ": "ô", "ớ": "ôù", "ờ": "ôø", "ở": "ôû", "ỡ": "ôõ", "ợ": "ôï",
    "ú": "uù", "ù": "uø", "ủ": "uû", "ũ": "uõ", "ụ": "uï",
    "ư": "ö", "ứ": "öù", "ừ": "öø", "ử": "öû", "ữ": "öõ", "ự": "öï",
    "ý": "yù", "ỳ": "yø", "ỷ": "yû", "ỹ": "yõ", "ỵ": "î",
    "đ": "ñ",
}  # fmt: skip


def test_vni_chart_is_complete():
    assert set(VNI_CODES) == set(VI_LOWER)


@pytest.mark.parametrize(("letter", "code"), VNI_CODES.items())
def test_vni_letter(letter, code):
    assert to_vni(letter) == code
    assert to_vni(letter.upper()) == code.upper()  # capitals use the capital marks: Á is "AÙ"
    assert from_vni(code) == letter
    assert from_vni(code.upper()) == letter.upper()


def test_vni_examples():
    assert to_vni("Nguyễn") == "Nguyeãn"
    assert to_vni("Đắk Hà") == "Ñaék Haø"
    assert to_vni("Trường") == "Tröôøng"
    assert from_vni("Nguyeãn") == "Nguyễn"
    assert from_vni("Ñaék Haø") == "Đắk Hà"
    assert from_vni("NGUYEÃN") == "NGUYỄN"
    assert from_vni("Aù") == "Aù"  # a mark joins only a base of the same case
    with pytest.raises(ValueError):
        to_vni("€")


@given(words)
def test_vni_round_trip(s):
    assert from_vni(to_vni(s)) == s


def test_vni_round_trip_every_pair_of_letters():
    # VNI decoding looks at neighbours, so check every letter next to every other one.
    letters = VIETNAMESE + string.ascii_letters
    for a in letters:
        for b in letters:
            assert from_vni(to_vni(a + b)) == a + b


@pytest.mark.parametrize("phrase", PHRASES)
def test_round_trip_real_phrases(phrase):
    assert from_vni(to_vni(phrase)) == phrase
    assert from_tcvn3(to_tcvn3(phrase)) == phrase


# --- detection

# TCVN3 codes that are symbols, not letters, in Windows-1252: inside a word they are a sure sign.
TCVN3_SIGNS = set("¡¢£¤¥¦§¨©ª«¬\xad®µ¶·¸¹»¼½¾×÷")
# VNI marks that no Western language writes after a vowel (French has où, naïf, Raphaël …);
# o + à/á/ã is left out because "hoà", "toán" are also Unicode Vietnamese.
VNI_SURE_MARKS = set("øõåãäâáàê")


def _tcvn3_sure_signs(s: str) -> int:
    """Letters TCVN3 writes as a symbol, in the middle of a word (so "Hµ", not a lone "µ")."""
    return sum(to_tcvn3(ch) in TCVN3_SIGNS for word in s.split() for ch in word[1:-1])


def _vni_sure_pairs(s: str) -> int:
    """Letters VNI writes as a vowel + an unmistakable mark ("eã" for ễ, "aø" for à)."""
    count = 0
    for ch in s:
        code = to_vni(ch).lower()
        if len(code) == 2 and code[1] in VNI_SURE_MARKS and not (code[0] == "o" and code[1] in "àáã"):
            count += 1
    return count


def _sentences(letters: str, cases: list) -> st.SearchStrategy[str]:
    """Random words of two or more letters, each in one case style, separated by spaces."""
    word = st.text(alphabet=st.sampled_from(letters), min_size=2, max_size=8)
    styled = st.tuples(word, st.sampled_from(cases)).map(lambda pair: pair[1](pair[0]))
    return st.lists(styled, min_size=1, max_size=6).map(" ".join)


@given(_sentences(VI_LOWER + string.ascii_lowercase, [str.lower]))
def test_detect_tcvn3(s):
    # TCVN3 has no toned capitals, so the words are lower case.
    assume(_tcvn3_sure_signs(s) >= 1)
    assert detect_encoding(to_tcvn3(s)) == "tcvn3"
    assert to_unicode(to_tcvn3(s)) == nfc(s)


@given(_sentences(VI_LOWER + string.ascii_lowercase, [str.lower, str.title, str.upper]))
def test_detect_vni(s):
    assume(_vni_sure_pairs(s) >= 1)
    assert detect_encoding(to_vni(s)) == "vni"
    assert to_unicode(to_vni(s)) == nfc(s)


@given(words)
def test_detect_unicode(s):
    # Any text made of Windows-1252 characters is valid TCVN3 and VNI too, so random strings are only
    # unambiguous with a letter beyond Latin-1 — as nearly every Vietnamese phrase has (ă đ ơ ư ạ …).
    assume(any(ord(ch) > 0xFF for ch in s))
    assert detect_encoding(s) == "unicode"
    assert detect_encoding(_nfd(s)) == "unicode"
    assert to_unicode(s) == nfc(s)


@pytest.mark.parametrize("phrase", PHRASES)
def test_detect_real_phrases(phrase):
    assert detect_encoding(phrase) == "unicode"
    assert detect_encoding(to_tcvn3(phrase)) == "tcvn3"
    assert detect_encoding(to_vni(phrase)) == "vni"
    assert to_unicode(to_tcvn3(phrase)) == phrase
    assert to_unicode(to_vni(phrase)) == phrase


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("NguyÔn ThÞ Hoa", "tcvn3"),
        ("NguyÔn", "tcvn3"),
        ("§¾k Hµ", "tcvn3"),
        ("Ph¹m Hång Ngäc", "tcvn3"),
        ("Nguyeãn Thò Hoa", "vni"),
        ("Nguyeãn", "vni"),
        ("Ñaék Haø", "vni"),
        ("Nguyễn Thị Hoa", "unicode"),
        (_nfd("Nguyễn Thị Hoa"), "unicode"),
        # Vietnamese that fits in Latin-1.
        ("Lê Hà", "unicode"),
        ("Tô Hoài", "unicode"),
        ("Cà Mau, Tây Ninh, Hà Giang", "unicode"),
        ("LÊ HÀ", "unicode"),
        # Not Vietnamese at all.
        ("Hello world", "ascii"),
        ("", "ascii"),
        ("Le café où l'élève naïf a écrit « bonjour » à Noël", "unicode"),
        ("Müller, Straße über", "unicode"),
        ("José Núñez, señor niño", "unicode"),
        ("Søren Kierkegård", "unicode"),
        ("naïf", "unicode"),
        ("où", "unicode"),
        ("«Bonjour»", "unicode"),
        ("¡Hola!", "unicode"),
        ("5 µg", "unicode"),
        ("Giá: 20 €", "unicode"),
        ("Москва", "unicode"),
    ],
)
def test_detect_examples(text, encoding):
    assert detect_encoding(text) == encoding


def test_detect_column():
    # One cell alone is ambiguous ("Hång" is also a Unicode string); the column settles it.
    assert detect_encoding("Hång") == "unicode"
    assert detect_column_encoding(["Hång", "", None, "Ph¹m V¨n An", "NguyÔn ThÞ Hoa", "123"]) == "tcvn3"
    assert detect_column_encoding(["Hoa", "Nguyeãn Thò Hoa", "Ñaëng Vaên Ñöùc"]) == "vni"
    assert detect_column_encoding(PHRASES) == "unicode"
    assert detect_column_encoding([to_tcvn3(p) for p in PHRASES]) == "tcvn3"
    assert detect_column_encoding([to_vni(p) for p in PHRASES]) == "vni"
    assert detect_column_encoding(["Lê Hà", "Tô Hoài"]) == "unicode"
    assert detect_column_encoding(["An", "", None]) == "ascii"
    assert detect_column_encoding([]) == "ascii"
    # A tie leaves the text alone.
    assert detect_column_encoding(["NguyÔn", "Nguyễn"]) == "unicode"


def test_to_unicode():
    assert to_unicode("  NguyÔn   ThÞ Hoa ") == "Nguyễn Thị Hoa"
    assert to_unicode("Nguyeãn Thò Hoa") == "Nguyễn Thị Hoa"
    assert to_unicode(_nfd("Nguyễn  Thị Hoa")) == "Nguyễn Thị Hoa"
    assert to_unicode("Hello") == "Hello"
    # An explicit encoding overrides detection, whatever the text looks like.
    assert to_unicode("Hång", "tcvn3") == "Hồng"
    assert to_unicode("Hång", "TCVN3") == "Hồng"
    assert to_unicode("Hoaø", "vni") == "Hoà"
    assert to_unicode("NguyÔn", "unicode") == "NguyÔn"
    with pytest.raises(ValueError):
        to_unicode("x", "viscii")
