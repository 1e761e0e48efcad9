"""Code tables: the 54 ethnic groups, the special-circumstance groups, the risk factors.

Loaded by a data migration so every database has them; administrators edit them in the admin.
"""

from __future__ import annotations

from typing import Any

from vitreem.core.text import fold_words

# General Statistics Office list of ethnic groups (code, name, spelling variants seen in lists).
ETHNICITIES = [
    ("01", "Kinh", ["Việt"]), ("02", "Tày", []), ("03", "Thái", []), ("04", "Hoa", []),
    ("05", "Khơ-me", ["Khmer", "Khơ me"]), ("06", "Mường", []), ("07", "Nùng", []),
    ("08", "Mông", ["H'Mông", "Hmông", "Mèo"]), ("09", "Dao", []), ("10", "Gia-rai", ["Jrai", "Gia Lai", "Gia rai"]),
    ("11", "Ngái", []), ("12", "Ê-đê", ["Ê Đê", "Rhade"]), ("13", "Ba-na", ["Bahnar", "Ba Na"]),
    ("14", "Xơ-đăng", ["Xê Đăng", "Sedang", "Xơ Đăng", "Xo Dang"]), ("15", "Sán Chay", ["Cao Lan", "Sán Chỉ"]),
    ("16", "Cơ-ho", ["K'Ho", "Cơ Ho"]), ("17", "Chăm", ["Chàm"]), ("18", "Sán Dìu", []), ("19", "Hrê", ["H're"]),
    ("20", "Mnông", ["M'Nông"]), ("21", "Ra-glai", ["Raglai"]), ("22", "Xtiêng", ["Stiêng"]),
    ("23", "Bru-Vân Kiều", ["Vân Kiều", "Bru"]), ("24", "Thổ", []), ("25", "Giáy", []), ("26", "Cơ-tu", ["Katu"]),
    ("27", "Gié-Triêng", ["Giẻ Triêng", "Gié Triêng", "Giẻ", "Triêng", "Ve"]), ("28", "Mạ", []),
    ("29", "Khơ-mú", ["Khmu"]), ("30", "Co", ["Cor"]), ("31", "Tà-ôi", ["Tà Ôi", "Pa Cô"]), ("32", "Chơ-ro", []),
    ("33", "Kháng", []), ("34", "Xinh-mun", []), ("35", "Hà Nhì", []), ("36", "Chu-ru", []), ("37", "Lào", []),
    ("38", "La Chí", []), ("39", "La Ha", []), ("40", "Phù Lá", []), ("41", "La Hủ", []), ("42", "Lự", []),
    ("43", "Lô Lô", []), ("44", "Chứt", []), ("45", "Mảng", []), ("46", "Pà Thẻn", []), ("47", "Cờ Lao", []),
    ("48", "Cống", []), ("49", "Bố Y", []), ("50", "Si La", []), ("51", "Pu Péo", []),
    ("52", "Brâu", []), ("53", "Ơ-đu", ["Ơ Đu"]), ("54", "Rơ-măm", ["Rơ Măm", "Romam"]),
]

# Law on Children 2016, Art. 10 (groups 1–14) and the sub-groups of Decree 56/2017/NĐ-CP, Arts. 3–16, as
# the decree lists them (read in the codified text, Bộ pháp điển items 8.1.NĐ.1.3–16; docs/en/legal-basis.md).
# Groups 5 (HIV, Art. 7) and 9 (violence, Art. 11) have no sub-groups in the decree. Editable data.
SPECIAL_GROUPS = [
    ("1", 1, "Trẻ em mồ côi cả cha và mẹ", "Orphaned of both parents", None),
    ("1.1", 1, "Mồ côi cả cha và mẹ không có người chăm sóc", "Both parents dead, no caregiver", "1"),
    ("1.2", 1, "Mồ côi cả cha và mẹ được nuôi dưỡng trong cơ sở cung cấp dịch vụ bảo vệ trẻ em hoặc cơ sở trợ giúp xã hội",
     "Both parents dead, in a child-protection or social-assistance facility", "1"),
    ("1.3", 1, "Mồ côi cả cha và mẹ sống với người thân thích", "Both parents dead, living with relatives", "1"),
    ("1.4", 1, "Mồ côi cả cha và mẹ được nhận chăm sóc thay thế bởi cá nhân, gia đình không phải người thân thích, "
     "trừ trường hợp được nhận làm con nuôi", "Both parents dead, in alternative care by non-relatives (not adopted)", "1"),
    ("2", 2, "Trẻ em bị bỏ rơi", "Abandoned", None),
    ("2.1", 2, "Bị bỏ rơi chưa được chăm sóc thay thế", "Abandoned, not yet in alternative care", "2"),
    ("2.2", 2, "Bị bỏ rơi được chăm sóc thay thế", "Abandoned, in alternative care", "2"),
    ("3", 3, "Trẻ em không nơi nương tựa", "With no one to rely on", None),
    ("3.1", 3, "Mồ côi cha hoặc mẹ và người còn lại mất tích theo quy định của pháp luật",
     "One parent dead, the other declared missing", "3"),
    ("3.2", 3, "Mồ côi cha hoặc mẹ và người còn lại đang hưởng chế độ chăm sóc, nuôi dưỡng tại cơ sở trợ giúp xã hội "
     "hoặc không còn khả năng chăm sóc, nuôi dưỡng",
     "One parent dead, the other in a social-assistance facility or no longer able to care", "3"),
    ("3.3", 3, "Mồ côi cha hoặc mẹ và người còn lại đang chấp hành án phạt tù tại trại giam hoặc đang chấp hành quyết định "
     "đưa vào cơ sở giáo dục bắt buộc, cơ sở cai nghiện bắt buộc",
     "One parent dead, the other in prison or a compulsory education or rehabilitation facility", "3"),
    ("3.4", 3, "Có cả cha và mẹ mất tích theo quy định của pháp luật", "Both parents declared missing", "3"),
    ("3.5", 3, "Có cha hoặc mẹ mất tích theo quy định của pháp luật và người còn lại đang hưởng chế độ chăm sóc, "
     "nuôi dưỡng tại cơ sở trợ giúp xã hội", "One parent missing, the other in a social-assistance facility", "3"),
    ("3.6", 3, "Có cha hoặc mẹ mất tích theo quy định của pháp luật và người còn lại đang chấp hành án phạt tù tại trại "
     "giam hoặc đang chấp hành quyết định đưa vào cơ sở giáo dục bắt buộc, cơ sở cai nghiện bắt buộc",
     "One parent missing, the other in prison or a compulsory facility", "3"),
    ("3.7", 3, "Có cả cha và mẹ không còn khả năng chăm sóc trẻ em", "Both parents no longer able to care", "3"),
    ("3.8", 3, "Có cả cha và mẹ đang hưởng chế độ chăm sóc, nuôi dưỡng tại cơ sở trợ giúp xã hội",
     "Both parents in a social-assistance facility", "3"),
    ("3.9", 3, "Có cả cha và mẹ đang chấp hành án phạt tù tại trại giam hoặc đang chấp hành quyết định đưa vào cơ sở "
     "giáo dục bắt buộc, cơ sở cai nghiện bắt buộc", "Both parents in prison or a compulsory facility", "3"),
    ("3.10", 3, "Có cha hoặc mẹ đang hưởng chế độ chăm sóc, nuôi dưỡng tại cơ sở trợ giúp xã hội và người còn lại đang "
     "chấp hành án phạt tù tại trại giam hoặc đang chấp hành quyết định đưa vào cơ sở giáo dục bắt buộc, cơ sở cai "
     "nghiện bắt buộc", "One parent in a social-assistance facility, the other in prison or a compulsory facility", "3"),
    ("3.11", 3, "Sống trong gia đình có cả cha và mẹ trong độ tuổi trẻ em", "Both parents are themselves children", "3"),
    ("3.12", 3, "Có cả cha và mẹ bị hạn chế quyền làm cha mẹ hoặc tạm thời cách ly khỏi cha hoặc mẹ theo quy định "
     "của pháp luật", "Both parents' parental rights restricted, or temporarily separated from them by law", "3"),
    ("4", 4, "Trẻ em khuyết tật", "With disabilities", None),
    ("4.1", 4, "Khuyết tật đặc biệt nặng", "Particularly severe disability", "4"),
    ("4.2", 4, "Khuyết tật nặng", "Severe disability", "4"),
    ("4.3", 4, "Khuyết tật nhẹ", "Mild disability", "4"),
    ("5", 5, "Trẻ em nhiễm HIV/AIDS", "Living with HIV/AIDS", None),
    ("6", 6, "Trẻ em vi phạm pháp luật", "In conflict with the law", None),
    ("6.1", 6, "Đang bị áp dụng biện pháp xử lý hành chính giáo dục tại xã, phường, thị trấn hoặc đưa vào trường giáo "
     "dưỡng; biện pháp thay thế quản lý tại gia đình",
     "Under an administrative measure (education in the commune, reformatory, management at home)", "6"),
    ("6.2", 6, "Chưa xác định được nơi cư trú ổn định, đang chấp hành biện pháp giáo dục tại xã, phường, thị trấn, tại "
     "cơ sở cung cấp dịch vụ bảo vệ trẻ em, cơ sở trợ giúp xã hội",
     "No stable residence, under education in the commune or in a facility", "6"),
    ("6.3", 6, "Đang bị áp dụng biện pháp tư pháp giáo dục tại xã, phường, thị trấn hoặc đưa vào trường giáo dưỡng; "
     "hình phạt cải tạo không giam giữ, tù có thời hạn hoặc tù cho hưởng án treo",
     "Under a judicial measure or sentence (non-custodial reform, prison, suspended)", "6"),
    ("6.4", 6, "Đã chấp hành xong hình phạt tù có thời hạn hoặc biện pháp đưa vào trường giáo dưỡng",
     "Has served a prison sentence or a reformatory measure", "6"),
    ("7", 7, "Trẻ em nghiện ma túy", "Drug-addicted", None),
    ("7.1", 7, "Nghiện ma túy trong cơ sở cai nghiện", "In a rehabilitation facility", "7"),
    ("7.2", 7, "Nghiện ma túy đang áp dụng biện pháp cai nghiện, điều trị nghiện tại gia đình, cộng đồng",
     "In rehabilitation or treatment at home or in the community", "7"),
    ("8", 8, "Trẻ em phải bỏ học kiếm sống chưa hoàn thành phổ cập giáo dục trung học cơ sở",
     "Dropped out of school to earn a living before lower secondary", None),
    ("8.1", 8, "Không có người chăm sóc", "With no caregiver", "8"),
    ("8.2", 8, "Sống cùng cha, mẹ hoặc người chăm sóc", "Living with parents or a caregiver", "8"),
    ("9", 9, "Trẻ em bị tổn hại nghiêm trọng về thể chất và tinh thần do bị bạo lực", "Seriously harmed by violence", None),
    ("10", 10, "Trẻ em bị bóc lột", "Exploited", None),
    ("10.1", 10, "Bị bắt buộc tham gia lao động trái quy định của pháp luật về lao động",
     "Forced into work against the labour law", "10"),
    ("10.2", 10, "Bị lôi kéo, ép buộc tham gia hoạt động trình diễn hoặc bị sử dụng trong sản xuất sản phẩm khiêu dâm",
     "Drawn into performances or used to produce pornography", "10"),
    ("10.3", 10, "Bị lôi kéo, ép buộc tham gia hoạt động du lịch mà bị xâm hại tình dục; bị cho, nhận hoặc cung cấp để "
     "hoạt động mại dâm", "Sexually abused through tourism; given or supplied for prostitution", "10"),
    ("10.4", 10, "Bị lôi kéo, ép buộc tham gia vận chuyển, mua bán, sản xuất, tàng trữ chất gây nghiện và hàng hóa cấm",
     "Drawn into carrying, selling, producing or keeping drugs or banned goods", "10"),
    ("10.5", 10, "Bị lôi kéo, ép buộc tham gia các hoạt động trục lợi khác", "Drawn into other profiteering", "10"),
    ("11", 11, "Trẻ em bị xâm hại tình dục", "Sexually abused", None),
    ("11.1", 11, "Bị hiếp dâm", "Raped", "11"),
    ("11.2", 11, "Bị cưỡng dâm", "Coerced into sex", "11"),
    ("11.3", 11, "Bị giao cấu", "Subjected to intercourse", "11"),
    ("11.4", 11, "Bị dâm ô", "Molested", "11"),
    ("11.5", 11, "Bị sử dụng vào mục đích mại dâm, khiêu dâm dưới mọi hình thức",
     "Used for prostitution or pornography in any form", "11"),
    ("12", 12, "Trẻ em bị mua bán", "Trafficked", None),
    ("12.1", 12, "Bị mua bán trở về sống với cha, mẹ", "Trafficked, returned to live with parents", "12"),
    ("12.2", 12, "Bị mua bán trở về được nhận chăm sóc thay thế", "Trafficked, returned into alternative care", "12"),
    ("13", 13, "Trẻ em mắc bệnh hiểm nghèo hoặc bệnh phải điều trị dài ngày thuộc hộ nghèo, cận nghèo",
     "Seriously or long-term ill in a poor or near-poor household", None),
    ("13.1", 13, "Thuộc hộ nghèo", "In a poor household", "13"),
    ("13.2", 13, "Thuộc hộ cận nghèo", "In a near-poor household", "13"),
    ("14", 14, "Trẻ em di cư, lánh nạn, tị nạn chưa xác định được cha mẹ hoặc không có người chăm sóc",
     "Migrant, displaced or refugee without known parents or caregiver", None),
    ("14.1", 14, "Công dân Việt Nam di cư, lánh nạn trong nước chưa xác định được cha mẹ hoặc không có người chăm sóc",
     "Vietnamese citizen displaced within the country, parents unknown or no caregiver", "14"),
    ("14.2", 14, "Có quốc tịch nước ngoài di cư, lánh nạn, tị nạn không có người chăm sóc",
     "Foreign national, migrant or refugee, with no caregiver", "14"),
    ("14.3", 14, "Chưa xác định được quốc tịch, chưa xác định được cha mẹ hoặc không có người chăm sóc di cư, lánh nạn, "
     "tị nạn vào Việt Nam", "Nationality or parents unknown, or no caregiver, migrant or refugee into Viet Nam", "14"),
]

# Decree 20/2021/NĐ-CP, Art. 5(1): a child under 16 has "no source of nurture" (and the monthly allowance)
# in exactly these cases, points a–l (the codified text, Bộ pháp điển item 6.1.NĐ.5). "dd" is point đ.
NURTURE_CASES = [
    ("a", "a", "Bị bỏ rơi chưa có người nhận làm con nuôi", "Abandoned and not adopted"),
    ("b", "b", "Mồ côi cả cha và mẹ", "Both parents dead"),
    ("c", "c", "Mồ côi cha hoặc mẹ và người còn lại bị tuyên bố mất tích",
     "One parent dead, the other declared missing"),
    ("d", "d", "Mồ côi cha hoặc mẹ và người còn lại đang hưởng chế độ chăm sóc, nuôi dưỡng tại cơ sở trợ giúp xã hội, "
     "nhà xã hội", "One parent dead, the other cared for in a social-assistance facility or social house"),
    ("dd", "đ", "Mồ côi cha hoặc mẹ và người còn lại đang chấp hành án phạt tù hoặc quyết định đưa vào trường giáo dưỡng, "
     "cơ sở giáo dục bắt buộc, cơ sở cai nghiện bắt buộc", "One parent dead, the other serving a prison sentence or "
     "held in a reformatory or compulsory facility"),
    ("e", "e", "Cả cha và mẹ bị tuyên bố mất tích", "Both parents declared missing"),
    ("g", "g", "Cả cha và mẹ đang hưởng chế độ chăm sóc, nuôi dưỡng tại cơ sở trợ giúp xã hội, nhà xã hội",
     "Both parents in a social-assistance facility or social house"),
    ("h", "h", "Cả cha và mẹ đang chấp hành án phạt tù hoặc quyết định đưa vào trường giáo dưỡng, cơ sở giáo dục bắt "
     "buộc, cơ sở cai nghiện bắt buộc", "Both parents in prison or a reformatory or compulsory facility"),
    ("i", "i", "Cha hoặc mẹ bị tuyên bố mất tích và người còn lại đang ở cơ sở trợ giúp xã hội, nhà xã hội",
     "One parent declared missing, the other in a social-assistance facility or social house"),
    ("k", "k", "Cha hoặc mẹ bị tuyên bố mất tích và người còn lại đang chấp hành án phạt tù hoặc quyết định đưa vào "
     "trường giáo dưỡng, cơ sở giáo dục bắt buộc, cơ sở cai nghiện bắt buộc",
     "One parent declared missing, the other in prison or a reformatory or compulsory facility"),
    ("l", "l", "Cha hoặc mẹ đang ở cơ sở trợ giúp xã hội và người còn lại đang chấp hành án phạt tù hoặc quyết định đưa "
     "vào trường giáo dưỡng, cơ sở giáo dục bắt buộc, cơ sở cai nghiện bắt buộc",
     "One parent in a social-assistance facility, the other in prison or a reformatory or compulsory facility"),
]
NURTURE_CASE_CODES = tuple(code for code, *_rest in NURTURE_CASES)

# The documented mapping from a Decree 56 group or sub-group (what the registry records) to the Decree 20
# Art. 5(1) points it can be ("" = none: the circumstance gives no allowance under Art. 5(1)). One point:
# the episode takes it. Several: the worker says which (the sub-group alone does not tell — 2.2 includes
# adopted children, excluded by point a; 3.2 includes a parent "no longer able to care", which no point
# covers). Sub-groups absent here (groups 4–14) are not Art. 5(1) cases. docs/en/legal-basis.md.
_GROUP_3_POINTS = ("c", "d", "dd", "e", "g", "h", "i", "k", "l", "")
NURTURE_BY_SUBGROUP: dict[str, tuple[str, ...]] = {
    "1": ("b",), "1.1": ("b",), "1.2": ("b",), "1.3": ("b",), "1.4": ("b",),
    "2": ("a", ""), "2.1": ("a",), "2.2": ("a", ""),
    "3": _GROUP_3_POINTS,
    "3.1": ("c",), "3.2": ("d", ""), "3.3": ("dd",), "3.4": ("e",), "3.5": ("i",), "3.6": ("k",), "3.7": ("",),
    "3.8": ("g",), "3.9": ("h",), "3.10": ("l",), "3.11": ("",), "3.12": ("",),
}


def nurture_points(code: str) -> tuple[str, ...]:
    """The Decree 20/2021 Art. 5(1) points a Decree 56 group or sub-group `code` can be ("" = none)."""
    return NURTURE_BY_SUBGROUP.get(code, ("",))


def nurture_case_choices() -> list[tuple[str, str]]:
    """The Art. 5(1) points for a form, in the reader's language."""
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    return [(code, f"{letter}) {en if english else vi}") for code, letter, vi, en in NURTURE_CASES]


def nurture_case_label(code: str) -> str:
    """"điểm đ khoản 1 Điều 5 …" — the point as the decree numbers it, in the reader's language."""
    from django.utils.translation import gettext as _

    letter = next((letter for c, letter, *_rest in NURTURE_CASES if c == code), code)
    return _("điểm %(p)s khoản 1 Điều 5 Nghị định 20/2021") % {"p": letter}


RISK_FACTORS = [
    ("parents_separated", "Cha mẹ ly hôn hoặc ly thân", "Parents divorced or separated"),
    ("parents_away", "Cha mẹ đi làm ăn xa, trẻ ở với người thân", "Both parents working away, child with relatives"),
    ("domestic_violence", "Gia đình có bạo lực", "Domestic violence in the family"),
    ("parent_drugs_prison", "Cha/mẹ nghiện ma túy hoặc đang chấp hành án", "Parent using drugs or in prison"),
    ("poor_ill_member", "Hộ nghèo có người ốm nặng", "Poor household with a seriously ill member"),
    ("out_of_school_working", "Trẻ không đi học hoặc phải lao động", "Child out of school or working"),
    ("single_parent_poor", "Cha hoặc mẹ đơn thân nghèo", "Poor single parent"),
    ("child_marriage_risk", "Nguy cơ tảo hôn", "Risk of child marriage"),
]


def codes_load(apps=None) -> None:
    """Create or refresh the code tables (idempotent). `apps` is the migration app registry."""
    from django.apps import apps as global_apps

    registry = apps or global_apps
    ethnicity = registry.get_model("registry", "Ethnicity")
    group = registry.get_model("registry", "SpecialGroup")
    factor = registry.get_model("registry", "RiskFactor")
    for code, name, aliases in ETHNICITIES:
        ethnicity.objects.update_or_create(code=code, defaults={
            "name": name, "aliases": aliases, "search_key": fold_words(name.replace("-", " "))})
    by_code: dict[str, Any] = {}
    for code, number, name, name_en, parent in SPECIAL_GROUPS:
        by_code[code], _ = group.objects.update_or_create(code=code, defaults={
            "number": number, "name": name, "name_en": name_en, "parent": by_code.get(parent) if parent else None,
            "search_key": fold_words(name)})
    for code, name, name_en in RISK_FACTORS:
        factor.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en})
