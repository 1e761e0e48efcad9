"""The seed catalogue: the indicators of the National Action Programme for Children 2021–2030
(Decision 23/QĐ-TTg of 7 Jan 2021) with their national 2025 and 2030 targets, and the report forms
member units fill in for the reported ones. Loaded by `vitreem programme_load` and by the demo;
loading twice changes nothing that exists (the province may have edited it).

Engine codes of computed indicators that are not registered yet (other apps add them) make the
indicator's value "no data" until they are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from vitreem.accounts.models import MemberUnit

from .models import DataElement, Indicator, ReportForm, ValidationRule

D = Decimal

# (code, form name, period type, deadline days, member unit codes, elements)
# element: (code, name, measure, disaggregations, part_of code)
FORMS: list[tuple[str, str, str, int, list[str], list[tuple[str, str, str, list[str], str]]]] = [
    ("yte-tiem-chung", "Báo cáo tiêm chủng và dinh dưỡng trẻ em (quý)", "quarter", 15, ["so-yte"], [
        ("under1", "Số trẻ em dưới 1 tuổi trong kỳ", "number", ["sex"], ""),
        ("under1_immunised", "Số trẻ em dưới 1 tuổi được tiêm chủng đầy đủ", "number", ["sex"], "under1"),
    ]),
    ("yte-dinh-duong", "Báo cáo suy dinh dưỡng trẻ em dưới 5 tuổi (năm)", "year", 20, ["so-yte"], [
        ("under5_measured", "Số trẻ em dưới 5 tuổi được cân đo", "number", [], ""),
        ("under5_stunted", "Số trẻ em dưới 5 tuổi suy dinh dưỡng thể thấp còi", "number", ["sex"], "under5_measured"),
    ]),
    ("gddt-hoan-thanh", "Báo cáo hoàn thành cấp học (năm học)", "year", 30, ["so-gddt"], [
        ("primary_cohort", "Số học sinh trong độ tuổi hoàn thành tiểu học", "number", [], ""),
        ("primary_completed", "Số học sinh hoàn thành chương trình tiểu học", "number", ["sex", "ethnicity"],
         "primary_cohort"),
        ("lowsec_cohort", "Số học sinh trong độ tuổi hoàn thành THCS", "number", [], ""),
        ("lowsec_completed", "Số học sinh hoàn thành chương trình THCS", "number", ["sex", "ethnicity"],
         "lowsec_cohort"),
    ]),
    ("gddt-bo-hoc", "Báo cáo học sinh bỏ học (6 tháng)", "half", 15, ["so-gddt"], [
        ("pupils", "Tổng số học sinh phổ thông", "number", [], ""),
        ("dropouts", "Số học sinh bỏ học trong kỳ", "number", ["sex"], "pupils"),
    ]),
    ("tuphap-khai-sinh", "Báo cáo đăng ký khai sinh trẻ em (6 tháng)", "half", 15, ["so-tuphap"], [
        ("births", "Số trẻ em sinh ra trong kỳ", "number", [], ""),
        ("births_registered", "Số trẻ em được đăng ký khai sinh", "number", ["sex"], "births"),
    ]),
    # Decision 23/QĐ-TTg counts the under-5s registered (a stock): the justice department's figure is the
    # cross-check of vitreem's own count from the register.
    ("tuphap-khai-sinh-duoi-5", "Báo cáo trẻ em dưới 5 tuổi đã đăng ký khai sinh (năm)", "year", 20, ["so-tuphap"], [
        ("under5", "Số trẻ em dưới 5 tuổi (31/12)", "number", [], ""),
        ("under5_registered", "Số trẻ em dưới 5 tuổi đã được đăng ký khai sinh", "number", [], "under5"),
    ]),
    # Decision 23/QĐ-TTg, objective 2: injuries and injury deaths per 100,000 children (health statistics).
    ("yte-tai-nan-thuong-tich", "Báo cáo trẻ em bị tai nạn, thương tích (năm)", "year", 20, ["so-yte"], [
        ("children_injured", "Số trẻ em bị tai nạn, thương tích trong năm", "number", ["sex"], ""),
        ("injury_deaths", "Số trẻ em tử vong do tai nạn, thương tích", "number", ["sex"], "children_injured"),
    ]),
    ("ldtbxh-xa-phu-hop", "Báo cáo xã, phường phù hợp với trẻ em và lao động trẻ em (năm)", "year", 20,
     ["so-ldtbxh"], [
        ("communes", "Tổng số xã, phường, thị trấn", "number", [], ""),
        ("communes_child_friendly", "Số xã, phường đạt tiêu chuẩn phù hợp với trẻ em", "number", [], "communes"),
        ("child_labour_rate", "Tỷ lệ lao động trẻ em (5–17 tuổi) theo khảo sát", "percent", [], ""),
    ]),
    ("vhttdl-diem-vui-choi", "Báo cáo điểm vui chơi cho trẻ em (năm)", "year", 20, ["so-vhttdl"], [
        ("communes", "Tổng số xã, phường, thị trấn", "number", [], ""),
        ("communes_play_points", "Số xã có điểm vui chơi, giải trí cho trẻ em", "number", [], "communes"),
    ]),
    ("doan-tham-van", "Báo cáo trẻ em được lấy ý kiến (năm)", "year", 20, ["tinh-doan"], [
        ("children_7plus", "Số trẻ em từ 7 tuổi được khảo sát", "number", [], ""),
        ("children_consulted", "Số trẻ em từ 7 tuổi được lấy ý kiến về vấn đề liên quan", "number", ["sex"],
         "children_7plus"),
    ]),
]

# Warnings that ask for a confirmation: a value far from last period's.
CHANGE_RULES = [("yte-tiem-chung", "under1_immunised", "0.5"), ("tuphap-khai-sinh", "births_registered", "0.5"),
                ("gddt-bo-hoc", "dropouts", "1.0")]

# (code, name, name_en, objective, measure, direction, source, owner, numerator, denominator,
#  national 2025, national 2030, note[, extras]). Numerator/denominator are engine codes (computed) or
#  "form:element" (reported); a reported numerator may take an engine code as denominator. `extras`:
#  {"check": ("form:numerator", "form:denominator")} — a member unit's report of a computed figure.
# Objectives as Decision 23/QĐ-TTg of 7 January 2021 numbers them: 1 comprehensive development, health
# care and nutrition; 2 child protection; 3 education, culture, recreation and play; 4 children's
# participation.
INDICATORS: list[tuple[Any, ...]] = [
    ("xa-phu-hop-tre-em", "Tỷ lệ xã, phường đạt tiêu chuẩn phù hợp với trẻ em",
     "Child-friendly communes", 1, "percent", "up", "reported", "so-ldtbxh",
     "ldtbxh-xa-phu-hop:communes_child_friendly", "ldtbxh-xa-phu-hop:communes", D("65"), D("75"), ""),
    ("tiem-chung-day-du", "Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ",
     "Under-1 full immunisation", 1, "percent", "up", "reported", "so-yte",
     "yte-tiem-chung:under1_immunised", "yte-tiem-chung:under1", D("97"), D("98"), ""),
    ("suy-dinh-duong-thap-coi", "Tỷ lệ suy dinh dưỡng thể thấp còi ở trẻ em dưới 5 tuổi",
     "Under-5 stunting", 1, "percent", "down", "reported", "so-yte",
     "yte-dinh-duong:under5_stunted", "yte-dinh-duong:under5_measured", D("17"), D("15"), "17% / dưới 15%"),
    ("tre-em-hcdb", "Tỷ lệ trẻ em có hoàn cảnh đặc biệt trên tổng số trẻ em",
     "Children in special circumstances as a share of all children", 2, "percent", "down", "computed", "so-ldtbxh",
     "special_circumstances", "children", D("6.5"), D("6.0"), "dưới 6,5% / dưới 6%"),
    ("tre-em-hcdb-duoc-tro-giup", "Tỷ lệ trẻ em có hoàn cảnh đặc biệt được trợ giúp, chăm sóc",
     "Share of children in special circumstances who are assisted and cared for", 2, "percent", "up", "computed",
     "so-ldtbxh",
     # Every support vitreem records: the monthly allowance, a case's approved plan (health,
     # psychological, legal, education, care, material), recreation activities naming the child.
     "special_circumstances_assisted", "special_circumstances", D("90"), D("95"), ""),
    ("tro-cap-xa-hoi", "Số trẻ em có hoàn cảnh đặc biệt hưởng trợ cấp xã hội hằng tháng",
     "Children in special circumstances receiving a monthly allowance", 2, "number", "up", "computed", "so-ldtbxh",
     "allowance_recipients", "", None, None, "chỉ tiêu của tỉnh"),
    # Decision 23/QĐ-TTg states it as a share of all children: "Giảm tỷ lệ trẻ em bị xâm hại trên tổng
    # số trẻ em xuống dưới 4,5% vào năm 2025 và xuống dưới 4% vào năm 2030". Every form of abuse of the
    # Law on Children, Art. 4(5), counts (cases/rules.py).
    ("tre-em-bi-xam-hai", "Tỷ lệ trẻ em bị xâm hại trên tổng số trẻ em",
     "Abused children as a share of all children", 2, "percent", "down", "computed", "cong-an",
     "children_abused", "children", D("4.5"), D("4.0"), "dưới 4,5% / dưới 4%"),
    ("lao-dong-tre-em", "Tỷ lệ lao động trẻ em (5–17 tuổi)", "Child labour (aged 5–17)", 2, "percent", "down",
     "reported", "so-ldtbxh", "ldtbxh-xa-phu-hop:child_labour_rate", "", D("4.9"), D("4.5"), ""),
    ("tai-nan-thuong-tich", "Tỷ suất trẻ em bị tai nạn, thương tích trên 100.000 trẻ em",
     "Child injuries per 100,000 children", 2, "per_100000", "down", "reported", "so-yte",
     "yte-tai-nan-thuong-tich:children_injured", "children", D("550"), D("500"), "550 / 500 trên 100.000 trẻ em"),
    ("tu-vong-tai-nan-thuong-tich", "Tỷ suất trẻ em tử vong do tai nạn, thương tích trên 100.000 trẻ em",
     "Child injury deaths per 100,000 children", 2, "per_100000", "down", "reported", "so-yte",
     "yte-tai-nan-thuong-tich:injury_deaths", "children", D("16"), D("15"), "16 / 15 trên 100.000 trẻ em"),
    ("dang-ky-khai-sinh", "Tỷ lệ trẻ em dưới 5 tuổi được đăng ký khai sinh",
     "Under-5 birth registration", 2, "percent", "up", "computed", "so-tuphap",
     "under5_birth_registered", "under5_children", D("98.5"), D("100"), "",
     {"check": ("tuphap-khai-sinh-duoi-5:under5_registered", "tuphap-khai-sinh-duoi-5:under5")}),
    ("tao-hon", "Số trường hợp tảo hôn", "Child marriages recorded", 2, "number", "down", "computed", "ban-dantoc",
     "child_marriages_recorded", "", None, None, "giảm 2–3% mỗi năm"),
    ("hoan-thanh-tieu-hoc", "Tỷ lệ hoàn thành cấp tiểu học", "Primary completion", 3, "percent", "up",
     "reported", "so-gddt", "gddt-hoan-thanh:primary_completed", "gddt-hoan-thanh:primary_cohort",
     D("97"), D("99"), ""),
    ("hoan-thanh-thcs", "Tỷ lệ hoàn thành cấp trung học cơ sở", "Lower-secondary completion", 3, "percent", "up",
     "reported", "so-gddt", "gddt-hoan-thanh:lowsec_completed", "gddt-hoan-thanh:lowsec_cohort",
     D("88"), D("93"), ""),
    ("xa-co-diem-vui-choi", "Tỷ lệ xã có điểm vui chơi, giải trí cho trẻ em",
     "Communes with play points for children", 3, "percent", "up", "computed", "so-vhttdl",
     "play_point_communes_share", "", D("40"), D("45"), "",
     {"check": ("vhttdl-diem-vui-choi:communes_play_points", "vhttdl-diem-vui-choi:communes")}),
    ("tre-em-duoc-lay-y-kien", "Tỷ lệ trẻ em từ 7 tuổi được lấy ý kiến về vấn đề liên quan",
     "Children aged 7+ consulted on matters that concern them", 4, "percent", "up", "reported", "tinh-doan",
     "doan-tham-van:children_consulted", "doan-tham-van:children_7plus", D("30"), D("35"), ""),
]


def indicator_fields(spec: tuple[Any, ...], units: dict[str, MemberUnit],
                     elements: dict[str, DataElement]) -> tuple[str, dict[str, Any]]:
    """The model fields of one catalogue row (shared by the loader and the data migration's update)."""
    (code, name, name_en, objective, measure, direction, source, owner, num, den, n2025, n2030, note,
     *rest) = spec
    extras: dict[str, Any] = rest[0] if rest else {}
    fields: dict[str, Any] = {
        "name": name, "name_en": name_en, "objective": objective, "measure": measure, "direction": direction,
        "source": source, "owner": units.get(owner), "national_2025": n2025, "national_2030": n2030,
        "national_note": note, "disaggregations": ["unit"],
        "numerator_code": "", "denominator_code": "", "numerator_element": None, "denominator_element": None,
    }
    if source == "computed":
        fields.update(numerator_code=num, denominator_code=den, disaggregations=["sex", "unit"])
    else:
        fields.update(numerator_element=elements.get(num))
        if den and ":" not in den:
            fields["denominator_code"] = den  # vitreem's own denominator (children)
        else:
            fields["denominator_element"] = elements.get(den) if den else None
    check = extras.get("check")
    fields["check_numerator_element"] = elements.get(check[0]) if check else None
    fields["check_denominator_element"] = elements.get(check[1]) if check else None
    return code, fields


# English names of the seed forms ("form") and their elements ("form:element"), shown when the
# interface is English (core.text.LocalName). Officers give their own forms an English name on the
# settings screens.
NAMES_EN: dict[str, str] = {
    "yte-tiem-chung": "Child immunisation and nutrition report (quarterly)",
    "yte-tiem-chung:under1": "Children under 1 in the period",
    "yte-tiem-chung:under1_immunised": "Children under 1 fully immunised",
    "yte-dinh-duong": "Malnutrition of children under 5 report (yearly)",
    "yte-dinh-duong:under5_measured": "Children under 5 weighed and measured",
    "yte-dinh-duong:under5_stunted": "Children under 5 stunted",
    "gddt-hoan-thanh": "School completion report (school year)",
    "gddt-hoan-thanh:primary_cohort": "Pupils of primary completion age",
    "gddt-hoan-thanh:primary_completed": "Pupils completing primary school",
    "gddt-hoan-thanh:lowsec_cohort": "Pupils of lower-secondary completion age",
    "gddt-hoan-thanh:lowsec_completed": "Pupils completing lower-secondary school",
    "gddt-bo-hoc": "School drop-out report (half-yearly)",
    "gddt-bo-hoc:pupils": "Pupils in general education",
    "gddt-bo-hoc:dropouts": "Pupils who dropped out in the period",
    "tuphap-khai-sinh": "Child birth registration report (half-yearly)",
    "tuphap-khai-sinh:births": "Children born in the period",
    "tuphap-khai-sinh:births_registered": "Children whose birth was registered",
    "tuphap-khai-sinh-duoi-5": "Children under 5 with a registered birth report (yearly)",
    "tuphap-khai-sinh-duoi-5:under5": "Children under 5 (31/12)",
    "tuphap-khai-sinh-duoi-5:under5_registered": "Children under 5 whose birth is registered",
    "yte-tai-nan-thuong-tich": "Child accidents and injuries report (yearly)",
    "yte-tai-nan-thuong-tich:children_injured": "Children injured in accidents in the year",
    "yte-tai-nan-thuong-tich:injury_deaths": "Children who died of accidents and injuries",
    "ldtbxh-xa-phu-hop": "Child-friendly communes and child labour report (yearly)",
    "ldtbxh-xa-phu-hop:communes": "Communes, wards and townships",
    "ldtbxh-xa-phu-hop:communes_child_friendly": "Communes meeting the child-friendly standard",
    "ldtbxh-xa-phu-hop:child_labour_rate": "Child labour rate (ages 5–17), by survey",
    "vhttdl-diem-vui-choi": "Play points for children report (yearly)",
    "vhttdl-diem-vui-choi:communes": "Communes, wards and townships",
    "vhttdl-diem-vui-choi:communes_play_points": "Communes with a play point for children",
    "doan-tham-van": "Children consulted report (yearly)",
    "doan-tham-van:children_7plus": "Children aged 7 and over surveyed",
    "doan-tham-van:children_consulted": "Children aged 7 and over consulted on matters that concern them",
}


@transaction.atomic
def catalogue_load() -> dict[str, int]:
    """Create the seed forms and indicators that do not exist yet. Returns counts of what was created."""
    units = {mu.code: mu for mu in MemberUnit.objects.all()}
    created = {"forms": 0, "elements": 0, "indicators": 0}
    elements: dict[str, DataElement] = {}
    for code, name, period_type, deadline, unit_codes, element_specs in FORMS:
        form, new = ReportForm.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": NAMES_EN.get(code, ""), "period_type": period_type, "deadline_days": deadline})
        created["forms"] += new
        if not form.name_en and NAMES_EN.get(code):  # installed before the English names: fill, never overwrite
            ReportForm.objects.filter(pk=form.pk).update(name_en=NAMES_EN[code])
        if new:
            form.member_units.set([units[c] for c in unit_codes if c in units])
        for order, (ecode, ename, measure, disaggs, part_of) in enumerate(element_specs):
            element, enew = DataElement.objects.get_or_create(form=form, code=ecode, defaults={
                "name": ename, "name_en": NAMES_EN.get(f"{code}:{ecode}", ""), "measure": measure,
                "disaggregations": disaggs, "order": order,
                "part_of": elements.get(f"{code}:{part_of}") if part_of else None})
            created["elements"] += enew
            if not element.name_en and NAMES_EN.get(f"{code}:{ecode}"):
                DataElement.objects.filter(pk=element.pk).update(name_en=NAMES_EN[f"{code}:{ecode}"])
            elements[f"{code}:{ecode}"] = element
    for form_code, ecode, threshold in CHANGE_RULES:
        element = elements[f"{form_code}:{ecode}"]
        ValidationRule.objects.get_or_create(
            form=element.form, kind=ValidationRule.Kind.CHANGE, left=element,
            defaults={"severity": "warning", "threshold": D(threshold),
                      "message": "Số liệu khác nhiều so với kỳ trước"})
    for order, spec in enumerate(INDICATORS):
        code, fields = indicator_fields(spec, units, elements)
        _, new = Indicator.objects.get_or_create(code=code, defaults={**fields, "order": order})
        created["indicators"] += new
    return created


@transaction.atomic
def catalogue_update() -> dict[str, int]:
    """Bring the Decision 23/QĐ-TTg fields of the catalogue's indicators to what the decision says —
    objective, unit of measure, direction, source and formula, cross-check, national 2025/2030 targets —
    after loading what is missing. The province's own data (yearly targets, baselines, explanations,
    indicators it added) is left as it is. Returns counts of what was created and updated."""
    created = catalogue_load()
    units = {mu.code: mu for mu in MemberUnit.objects.all()}
    elements = {f"{e.form.code}:{e.code}": e for e in DataElement.objects.select_related("form")}
    updated = 0
    for spec in INDICATORS:
        code, fields = indicator_fields(spec, units, elements)
        indicator = Indicator.objects.filter(code=code).first()
        if indicator is None:
            continue
        changed = [name for name, value in fields.items() if getattr(indicator, name) != value]
        if changed:
            for name in changed:
                setattr(indicator, name, fields[name])
            indicator.save(update_fields=changed)
            updated += 1
    return {**created, "updated": updated}

