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

# Law on Children 2016, Art. 10 (groups 1–14); sub-groups after Decree 56/2017 (editable data).
SPECIAL_GROUPS = [
    ("1", 1, "Trẻ em mồ côi cả cha và mẹ", "Orphaned of both parents", None),
    ("2", 2, "Trẻ em bị bỏ rơi", "Abandoned", None),
    ("3", 3, "Trẻ em không nơi nương tựa", "With no one to rely on", None),
    ("3.1", 3, "Mồ côi cha hoặc mẹ, người còn lại mất tích hoặc không đủ năng lực nuôi dưỡng", "One parent dead, the other missing or unable", "3"),
    ("3.2", 3, "Cha, mẹ đang chấp hành án phạt tù hoặc biện pháp xử lý hành chính", "Parents in prison or an administrative facility", "3"),
    ("3.3", 3, "Cha, mẹ mất tích hoặc không đủ năng lực nuôi dưỡng", "Parents missing or unable to care", "3"),
    ("4", 4, "Trẻ em khuyết tật", "With disabilities", None),
    ("4.1", 4, "Khuyết tật đặc biệt nặng", "Particularly severe disability", "4"),
    ("4.2", 4, "Khuyết tật nặng", "Severe disability", "4"),
    ("4.3", 4, "Khuyết tật nhẹ", "Mild disability", "4"),
    ("5", 5, "Trẻ em nhiễm HIV/AIDS", "Living with HIV/AIDS", None),
    ("6", 6, "Trẻ em vi phạm pháp luật", "In conflict with the law", None),
    ("7", 7, "Trẻ em nghiện ma túy", "Drug-addicted", None),
    ("8", 8, "Trẻ em phải bỏ học kiếm sống chưa hoàn thành phổ cập giáo dục trung học cơ sở",
     "Dropped out of school to earn a living before lower secondary", None),
    ("9", 9, "Trẻ em bị tổn hại nghiêm trọng về thể chất và tinh thần do bị bạo lực", "Seriously harmed by violence", None),
    ("9.1", 9, "Bạo lực thể chất", "Physical violence", "9"),
    ("9.2", 9, "Bạo lực tinh thần", "Psychological violence", "9"),
    ("10", 10, "Trẻ em bị bóc lột", "Exploited", None),
    ("10.1", 10, "Lao động trái quy định của pháp luật về lao động", "Child labour against the labour law", "10"),
    ("10.2", 10, "Bóc lột khác", "Other exploitation", "10"),
    ("11", 11, "Trẻ em bị xâm hại tình dục", "Sexually abused", None),
    ("12", 12, "Trẻ em bị mua bán", "Trafficked", None),
    ("13", 13, "Trẻ em mắc bệnh hiểm nghèo hoặc bệnh phải điều trị dài ngày thuộc hộ nghèo, cận nghèo",
     "Seriously or long-term ill in a poor or near-poor household", None),
    ("14", 14, "Trẻ em di cư, lánh nạn, tị nạn chưa xác định được cha mẹ hoặc không có người chăm sóc",
     "Migrant, displaced or refugee without known parents or caregiver", None),
]

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
