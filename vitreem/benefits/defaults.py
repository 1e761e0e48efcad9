"""The rule tables as the law set them, loaded by a data migration (administrators edit them later,
with history: a change is a new dated row, see services.base_level_set / coefficient_set)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

JULY_2021 = dt.date(2021, 7, 1)
JULY_2024 = dt.date(2024, 7, 1)

# Decree 20/2021, Art. 4: 360,000 VND from 1 July 2021; Decree 76/2024: 500,000 VND from 1 July 2024.
BASE_LEVELS = [
    (360_000, JULY_2021, dt.date(2024, 6, 30), "Nghị định 20/2021/NĐ-CP, Điều 4"),
    (500_000, JULY_2024, None, "Nghị định 76/2024/NĐ-CP (sửa đổi Điều 4 Nghị định 20/2021)"),
]

# Decree 20/2021, Art. 5(7) (issue 14 item 1): "Trẻ em dưới 3 tuổi thuộc diện hộ nghèo, hộ cận nghèo không
# thuộc đối tượng quy định tại các khoản 1, 3 và 6 Điều này đang sống tại địa bàn các xã, thôn vùng đồng bào
# dân tộc thiểu số và miền núi đặc biệt khó khăn"; coefficient 1.5 (Art. 6(1)(g)). Added to existing
# installations by migration benefits/0007.
UNDER3_DIFFICULT_AREA = (
    "under3_difficult_area",
    "Trẻ em dưới 3 tuổi thuộc hộ nghèo, hộ cận nghèo sống tại xã, thôn đặc biệt khó khăn vùng đồng bào dân tộc "
    "thiểu số và miền núi",
    "Children under 3 of poor or near-poor households in extremely difficult ethnic-minority and mountainous "
    "communes or villages", "Nghị định 20/2021, Điều 5 khoản 7", None, 65)
UNDER3_COEFFICIENT = ("under3_difficult_area", 0, 3, Decimal("1.5"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm g")

# (code, name, English, article, continues_as, order)
GROUPS = [
    ("no_nurture", "Trẻ em dưới 16 tuổi không có nguồn nuôi dưỡng", "Children under 16 without a source of nurture",
     "Nghị định 20/2021, Điều 5 khoản 1", "no_nurture_student", 10),
    ("no_nurture_student", "Người từ đủ 16 đến dưới 22 tuổi không có nguồn nuôi dưỡng đang đi học",
     "Young people 16–22 without a source of nurture, in school", "Nghị định 20/2021, Điều 5 khoản 2", None, 20),
    ("hiv_poor", "Trẻ em nhiễm HIV/AIDS thuộc hộ nghèo", "Children with HIV/AIDS in poor households",
     "Nghị định 20/2021, Điều 5 khoản 3", None, 30),
    ("single_parent_poor", "Người đơn thân thuộc hộ nghèo, hộ cận nghèo đang nuôi con (tính theo từng con)",
     "Single parent of a poor or near-poor household raising children (per child)",
     "Nghị định 20/2021, Điều 5 khoản 4", None, 40),
    ("disability_particularly_severe", "Trẻ em khuyết tật đặc biệt nặng", "Children with a particularly severe disability",
     "Nghị định 20/2021, Điều 5 khoản 6", None, 50),
    ("disability_severe", "Trẻ em khuyết tật nặng", "Children with a severe disability",
     "Nghị định 20/2021, Điều 5 khoản 6", None, 60),
    UNDER3_DIFFICULT_AREA,
]

# (group, age_from, age_to, value, confirmed, legal basis) — all from 1 July 2021 (Decree 20/2021, Art. 6).
# Decree 20/2021, Art. 6(1)(e): from 16 a person with a disability is paid at the adult coefficient
# (2.0 particularly severe, 1.5 severe); the allowance carries on (issue 14 item 3). Added to existing
# installations by migration benefits/0005.
ADULT_DISABILITY = [
    ("disability_particularly_severe", 16, None, Decimal("2.0"), True,
     "Nghị định 20/2021, Điều 6 khoản 1 điểm e (người khuyết tật đặc biệt nặng)"),
    ("disability_severe", 16, None, Decimal("1.5"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm e (người khuyết tật nặng)"),
]
COEFFICIENTS = [
    ("no_nurture", 0, 4, Decimal("2.5"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm a (dưới 4 tuổi)"),
    ("no_nurture", 4, 16, Decimal("1.5"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm a (từ đủ 4 đến dưới 16 tuổi)"),
    ("no_nurture_student", 16, 22, Decimal("1.5"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm b"),
    ("hiv_poor", 0, 4, Decimal("2.5"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm c"),
    ("hiv_poor", 4, 16, Decimal("2.0"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm c"),
    ("single_parent_poor", 0, 22, Decimal("1.0"), True, "Nghị định 20/2021, Điều 6 khoản 1 (mỗi con)"),
    ("disability_particularly_severe", 0, 16, Decimal("2.5"), True,
     "Nghị định 20/2021, Điều 6 khoản 1 điểm e (trẻ em khuyết tật đặc biệt nặng)"),
    ("disability_severe", 0, 16, Decimal("2.0"), True, "Nghị định 20/2021, Điều 6 khoản 1 điểm e (trẻ em khuyết tật nặng)"),
    *ADULT_DISABILITY,
    UNDER3_COEFFICIENT,
]


def rules_load(apps=None) -> None:
    """Create the groups, coefficients and national base levels if missing (idempotent)."""
    from django.apps import apps as global_apps

    registry = apps or global_apps
    group_model = registry.get_model("benefits", "BeneficiaryGroup")
    coefficient_model = registry.get_model("benefits", "Coefficient")
    base_model = registry.get_model("benefits", "BaseLevel")
    groups = {}
    for code, name, name_en, article, _next, order in GROUPS:
        groups[code], _created = group_model.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "article": article, "order": order})
    for code, _name, _en, _article, nxt, _order in GROUPS:
        if nxt and groups[code].continues_as_id is None:
            groups[code].continues_as = groups[nxt]
            groups[code].save(update_fields=["continues_as"])
    if not coefficient_model.objects.exists():
        coefficient_model.objects.bulk_create([
            coefficient_model(group=groups[g], age_from=a, age_to=b, value=v, valid_from=JULY_2021, confirmed=ok,
                              legal_basis=basis) for g, a, b, v, ok, basis in COEFFICIENTS])
    if not base_model.objects.filter(unit__isnull=True).exists():
        base_model.objects.bulk_create([base_model(amount=amt, valid_from=start, valid_to=end, legal_basis=basis)
                                        for amt, start, end, basis in BASE_LEVELS])
