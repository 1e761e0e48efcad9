"""The columns of a child list: the blank template's layout (also the export's) and the synonyms by
which a header written any of ten ways is recognised.

Headers are compared as multisets of folded words (case, diacritics, punctuation and word order do
not matter): "Ngày, tháng, năm sinh" and "NGAY THANG NAM SINH" are the same header.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from vitreem.core.text import fold_words, to_unicode

# Field → label shown in the mapping form. Order = the template's column order.
FIELDS: dict[str, object] = {
    "seq": _("STT"),
    "full_name": _("Họ và tên"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "ethnicity": _("Dân tộc"),
    "personal_id": _("Số định danh cá nhân"),
    "village": _("Thôn/Tổ dân phố"),
    "unit": _("Xã/Phường"),
    "unit_code": _("Mã xã"),
    "guardian": _("Họ tên cha/mẹ/người nuôi dưỡng"),
    "relationship": _("Quan hệ với trẻ"),
    "poverty": _("Hộ nghèo/cận nghèo"),
    "special": _("Nhóm HCĐB"),
    "risk": _("Nguy cơ"),
    "schooling": _("Tình trạng đi học"),
    "disability": _("Khuyết tật"),
    "note": _("Ghi chú"),
    # Columns some lists have instead of the ones above.
    "family_middle": _("Họ và tên đệm"),
    "given_name": _("Tên"),
    "sex_male": _("Nam (đánh dấu x)"),
    "sex_female": _("Nữ (đánh dấu x)"),
    "father": _("Họ tên cha"),
    "mother": _("Họ tên mẹ"),
    "poor": _("Hộ nghèo (đánh dấu x)"),
    "near_poor": _("Hộ cận nghèo (đánh dấu x)"),
}

# The blank template and every export: these headers, in this order (the first 17 fields).
TEMPLATE_FIELDS = list(FIELDS)[:17]
TEMPLATE_HEADERS = {
    "seq": "STT", "full_name": "Họ và tên", "birth_date": "Ngày sinh", "sex": "Giới tính", "ethnicity": "Dân tộc",
    "personal_id": "Số định danh cá nhân", "village": "Thôn/Tổ dân phố", "unit": "Xã/Phường", "unit_code": "Mã xã",
    "guardian": "Họ tên cha/mẹ/người nuôi dưỡng", "relationship": "Quan hệ với trẻ",
    "poverty": "Hộ nghèo/cận nghèo", "special": "Nhóm HCĐB", "risk": "Nguy cơ", "schooling": "Tình trạng đi học",
    "disability": "Khuyết tật", "note": "Ghi chú",
}
SYNONYMS: dict[str, list[str]] = {
    "seq": ["STT", "TT", "Số thứ tự", "Số TT"],
    "full_name": ["Họ và tên", "Họ tên", "Họ tên trẻ", "Họ và tên trẻ", "Họ tên trẻ em", "Họ và tên trẻ em",
                  "Tên trẻ em", "Tên trẻ", "Họ tên của trẻ"],
    "family_middle": ["Họ và tên đệm", "Họ đệm", "Họ và đệm", "Họ, tên đệm"],
    "given_name": ["Tên"],
    "birth_date": ["Ngày sinh", "Ngày tháng năm sinh", "NS", "Năm sinh", "Sinh ngày", "Ngày sinh trẻ",
                   "Ngày tháng năm sinh của trẻ", "NTNS"],
    "sex": ["Giới tính", "Nam/Nữ", "Giới", "GT", "Nam hay nữ"],
    "sex_male": ["Nam"],
    "sex_female": ["Nữ"],
    "ethnicity": ["Dân tộc", "DT", "Thành phần dân tộc"],
    "personal_id": ["Số định danh", "Số định danh cá nhân", "CCCD", "Mã định danh", "Số CCCD", "Căn cước",
                    "Mã số định danh", "ĐDCN", "Số ĐDCN", "Mã định danh cá nhân", "Số căn cước công dân"],
    "village": ["Thôn", "Tổ", "Thôn/Tổ", "Thôn, làng", "Tổ dân phố", "Thôn/Tổ dân phố", "Thôn/làng", "Làng",
                "Bản", "Buôn", "Thôn, tổ", "Địa chỉ", "Nơi ở", "Thôn xóm"],
    "unit": ["Xã/Phường", "Xã", "Phường", "Xã/Phường/Thị trấn", "Đơn vị", "Thị trấn", "Xã phường",
             "Tên xã", "Xã/Thị trấn", "Đơn vị hành chính"],
    "unit_code": ["Mã xã", "Mã đơn vị", "Mã xã/phường", "Mã ĐVHC"],
    "guardian": ["Họ tên cha/mẹ/người nuôi dưỡng", "Họ tên cha mẹ", "Cha mẹ", "Người nuôi dưỡng",
                 "Họ tên người nuôi dưỡng", "Người chăm sóc", "Họ tên chủ hộ", "Chủ hộ", "Phụ huynh",
                 "Họ tên bố mẹ", "Cha/mẹ", "Họ tên cha mẹ hoặc người nuôi dưỡng", "Cha mẹ/người nuôi dưỡng",
                 "Họ tên cha, mẹ hoặc người chăm sóc"],
    "father": ["Họ tên cha", "Cha", "Bố", "Họ tên bố", "Tên cha"],
    "mother": ["Họ tên mẹ", "Mẹ", "Tên mẹ"],
    "relationship": ["Quan hệ với trẻ", "Quan hệ", "Mối quan hệ"],
    "poverty": ["Hộ nghèo/cận nghèo", "Hộ nghèo, cận nghèo", "Phân loại hộ", "HN/HCN", "Nghèo/cận nghèo",
                "Hộ nghèo hoặc cận nghèo", "Diện hộ"],
    "poor": ["Hộ nghèo", "HN", "Nghèo"],
    "near_poor": ["Hộ cận nghèo", "HCN", "Cận nghèo"],
    "special": ["Hoàn cảnh đặc biệt", "Nhóm HCĐB", "HCĐB", "Trẻ em có hoàn cảnh đặc biệt",
                "Nhóm hoàn cảnh đặc biệt", "Thuộc nhóm", "Nhóm", "Đối tượng HCĐB", "Nhóm TE HCĐB"],
    "risk": ["Nguy cơ", "Nguy cơ rơi vào hoàn cảnh đặc biệt", "Yếu tố nguy cơ", "Trẻ em có nguy cơ",
             "Nhóm nguy cơ", "Có nguy cơ"],
    "schooling": ["Tình trạng đi học", "Đi học", "Học lớp", "Cấp học", "Tình trạng học tập", "Học sinh lớp",
                  "Đang học"],
    "disability": ["Khuyết tật", "Dạng tật", "Mức độ khuyết tật", "KT", "Trẻ khuyết tật"],
    "note": ["Ghi chú", "Chú thích", "Ghi chú khác"],
}

def header_words(text: object) -> Counter[str]:
    """The folded words of a header, in any encoding: "Ngày, tháng, năm sinh" → {ngay, thang, nam, sinh}."""
    if text is None or text == "":
        return Counter()
    return Counter(fold_words(to_unicode(str(text))).split())


_SYN_WORDS = [(field, Counter(fold_words(s).split())) for field, syns in SYNONYMS.items() for s in syns]


@dataclass(frozen=True)
class HeaderMatch:
    field: str
    score: float


def match_header(variants: list[str]) -> HeaderMatch | None:
    """The best field for a column whose header reads as any of `variants` (sub-header first).

    A synonym matches when all its words are in the header; the score is the share of the header's
    words it explains, so "Họ tên cha" prefers `father` to `full_name`. Earlier variants win ties.
    """
    best: HeaderMatch | None = None
    for rank, text in enumerate(variants):
        words = header_words(text)
        total = sum(words.values())
        if not total:
            continue
        for field, syn in _SYN_WORDS:
            if syn - words:  # a word of the synonym is missing from the header
                continue
            score = sum(syn.values()) / total - rank * 0.01
            if score >= 0.5 and (best is None or score > best.score):
                best = HeaderMatch(field, score)
    return best


def guess_mapping(columns: list[list[str]]) -> dict[int, str]:
    """Column index → field, each field to its best-scoring column."""
    matches = {i: m for i, variants in enumerate(columns) if (m := match_header(variants))}
    taken: dict[str, int] = {}
    for i, m in sorted(matches.items(), key=lambda kv: (-kv[1].score, kv[0])):
        taken.setdefault(m.field, i)
    return {i: f for f, i in sorted(taken.items(), key=lambda kv: kv[1])}


def header_set_key(headers: list[str]) -> str:
    """A stable key of a file's header row, to remember a confirmed mapping for files shaped the same."""
    import hashlib

    text = "|".join(" ".join(sorted(header_words(h).elements())) for h in headers)
    return hashlib.sha256(text.encode()).hexdigest()[:40]
