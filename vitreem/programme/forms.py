"""Forms of the programme pages. They only render and read fields; services validate and decide."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vitreem.accounts.forms import limit_member_units
from vitreem.accounts.models import MemberUnit
from vitreem.accounts.selectors import member_units_during, member_units_on
from vitreem.core.params import IdChoiceField, IdMultipleChoiceField, IntField
from vitreem.places.models import AdminUnit, Level

from .models import (
    DataElement,
    Direction,
    Measure,
    PeriodType,
    Plan,
    Rating,
    Severity,
    Source,
    TaskStatus,
    ValidationRule,
)

DATE_INPUT = {"placeholder": "dd/mm/yyyy"}


class TargetForm(forms.Form):
    year = IntField(label=_("Năm"), min_value=2021, max_value=2030)
    value = forms.CharField(label=_("Mục tiêu"), max_length=30, help_text=_("Ví dụ: 97 hoặc 6,5"))
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)


class ExplanationForm(forms.Form):
    causes = forms.CharField(label=_("Nguyên nhân"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    solutions = forms.CharField(label=_("Giải pháp"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ReviewForm(forms.Form):
    comment = forms.CharField(label=_("Ý kiến"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PlanForm(forms.Form):
    year = IntField(label=_("Năm"), min_value=2021, max_value=2030)
    kind = forms.ChoiceField(label=_("Loại"), choices=Plan.Kind.choices)
    title = forms.CharField(label=_("Tên kế hoạch"), max_length=300, required=False)
    member_unit = IdChoiceField(label=_("Đơn vị thành viên"), queryset=MemberUnit.objects.none(),
                                         required=False)
    document_ref = forms.CharField(label=_("Số, ký hiệu văn bản"), max_length=200, required=False)

    def __init__(self, *args, member_units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_unit"].queryset = member_units if member_units is not None else MemberUnit.objects.all()


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Nhiệm vụ"), max_length=400, required=False)
    lead_unit = IdChoiceField(label=_("Đơn vị chủ trì"), queryset=MemberUnit.objects.none(), required=False)
    supporting_units = IdMultipleChoiceField(label=_("Đơn vị phối hợp"), required=False,
                                             queryset=MemberUnit.objects.none())
    deadline = forms.DateField(label=_("Thời hạn"), input_formats=["%d/%m/%Y", "%Y-%m-%d"], required=False,
                               widget=forms.DateInput(attrs=DATE_INPUT))

    def __init__(self, *args, year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # A plan's tasks go to the units that are members during the plan's year.
        units = (member_units_during(dt.date(year, 1, 1), dt.date(year, 12, 31)) if year
                 else member_units_on(timezone.localdate()))
        for name in ("lead_unit", "supporting_units"):
            self.fields[name].queryset = units  # type: ignore[attr-defined]  # a ModelChoiceField


class TaskUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), choices=TaskStatus.choices)
    done_on = forms.DateField(label=_("Ngày hoàn thành"), input_formats=["%d/%m/%Y", "%Y-%m-%d"], required=False,
                              widget=forms.DateInput(attrs=DATE_INPUT))
    result = forms.CharField(label=_("Kết quả"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RatingForm(forms.Form):
    rating = forms.ChoiceField(label=_("Xếp loại"), choices=Rating.choices)
    comment = forms.CharField(label=_("Nhận xét"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


# ---------------------------------------------------------------- settings screens (standing agency)
# Numbers are read as text: the services parse Vietnamese numbers ("6,5") and name the bad field.

DISAGGREGATION_CHOICES = [("sex", _("Giới tính")), ("age", _("Nhóm tuổi")), ("ethnicity", _("Dân tộc")),
                          ("unit", _("Đơn vị hành chính"))]
TARGET_YEARS = range(2021, 2031)


def _blank(choices):
    return [("", "—"), *choices]


class IndicatorForm(forms.Form):
    code = forms.CharField(label=_("Mã chỉ tiêu"), max_length=60, required=False,
                           help_text=_("Chữ không dấu, số, '-' và '_'; không đổi được sau khi tạo."))
    name = forms.CharField(label=_("Tên chỉ tiêu"), max_length=300, required=False)
    name_en = forms.CharField(label=_("Tên tiếng Anh"), max_length=300, required=False)
    definition = forms.CharField(label=_("Định nghĩa"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    objective = forms.CharField(label=_("Mục tiêu (1–4)"), max_length=3, required=False)
    measure = forms.ChoiceField(label=_("Đơn vị đo"), choices=_blank(Measure.choices), required=False)
    direction = forms.ChoiceField(label=_("Chiều đánh giá"), choices=_blank(Direction.choices), required=False)
    disaggregations = forms.MultipleChoiceField(label=_("Phân tổ"), choices=DISAGGREGATION_CHOICES, required=False,
                                                widget=forms.CheckboxSelectMultiple)
    source = forms.ChoiceField(label=_("Nguồn số liệu"), choices=_blank(Source.choices), required=False)
    owner = IdChoiceField(label=_("Đơn vị phụ trách"), queryset=MemberUnit.objects.none(), required=False)
    numerator_code = forms.CharField(label=_("Mã tử số (tính từ dữ liệu)"), max_length=60, required=False)
    denominator_code = forms.CharField(label=_("Mã mẫu số (tính từ dữ liệu)"), max_length=60, required=False)
    numerator_element = IdChoiceField(label=_("Tử số (chỉ tiêu báo cáo)"), required=False,
                                               queryset=DataElement.objects.none())
    denominator_element = IdChoiceField(label=_("Mẫu số (chỉ tiêu báo cáo)"), required=False,
                                                 queryset=DataElement.objects.none())
    national_2025 = forms.CharField(label=_("Mục tiêu quốc gia 2025"), max_length=30, required=False)
    national_2030 = forms.CharField(label=_("Mục tiêu quốc gia 2030"), max_length=30, required=False)
    national_note = forms.CharField(label=_("Ghi chú mục tiêu quốc gia"), max_length=200, required=False)
    baseline_year = forms.CharField(label=_("Năm cơ sở"), max_length=4, required=False)
    baseline_value = forms.CharField(label=_("Giá trị cơ sở"), max_length=30, required=False)
    order = forms.CharField(label=_("Thứ tự"), max_length=4, required=False)
    active = forms.BooleanField(label=_("Đang sử dụng"), required=False, initial=True)

    def __init__(self, *args, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        elements = DataElement.objects.filter(active=True, form__active=True).select_related("form")
        for name in ("numerator_element", "denominator_element"):
            self.fields[name].queryset = elements  # type: ignore[attr-defined]  # a ModelChoiceField
            self.fields[name].label_from_instance = lambda e: f"{e.form.name} — {e.name}"  # type: ignore[attr-defined]
        if not creating:
            del self.fields["code"]
        limit_member_units(self, "owner")
        for year in TARGET_YEARS:
            self.fields[f"target_{year}"] = forms.CharField(label=_("Mục tiêu năm %(y)s") % {"y": year},
                                                            max_length=30, required=False)
            self.fields[f"target_note_{year}"] = forms.CharField(label=_("Ghi chú năm %(y)s") % {"y": year},
                                                                 max_length=300, required=False)

    def indicator_data(self) -> dict:
        skip = {"code"} | {n for n in self.cleaned_data if n.startswith("target_")}
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}

    def target_values(self) -> dict[int, tuple[str, str]]:
        return {y: (self.cleaned_data.get(f"target_{y}", ""), self.cleaned_data.get(f"target_note_{y}", ""))
                for y in TARGET_YEARS}

    def target_rows(self):
        return [(y, self[f"target_{y}"], self[f"target_note_{y}"]) for y in TARGET_YEARS]

    def main_fields(self):
        return [f for f in self if not f.name.startswith("target_")]


class ReportFormForm(forms.Form):
    code = forms.CharField(label=_("Mã biểu mẫu"), max_length=60, required=False,
                           help_text=_("Chữ không dấu, số, '-' và '_'; không đổi được sau khi tạo."))
    name = forms.CharField(label=_("Tên biểu mẫu"), max_length=300, required=False)
    name_en = forms.CharField(label=_("Tên tiếng Anh"), max_length=300, required=False)
    period_type = forms.ChoiceField(label=_("Kỳ báo cáo"), choices=PeriodType.choices)
    deadline_days = forms.CharField(label=_("Hạn nộp (số ngày sau kỳ)"), max_length=4, required=False, initial=15)
    remind_days_before = forms.CharField(label=_("Nhắc trước (số ngày)"), max_length=4, required=False, initial=5)
    member_units = IdMultipleChoiceField(label=_("Đơn vị thành viên báo cáo"), required=False,
                                                  queryset=MemberUnit.objects.none(),
                                                  widget=forms.CheckboxSelectMultiple)
    for_communes = forms.BooleanField(label=_("Mọi xã, phường của tỉnh báo cáo"), required=False)
    province = IdChoiceField(label=_("Tỉnh"), required=False,
                                      queryset=AdminUnit.objects.filter(level=Level.PROVINCE))
    active = forms.BooleanField(label=_("Đang sử dụng"), required=False, initial=True)

    def __init__(self, *args, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["active"]
        else:
            del self.fields["code"]
        limit_member_units(self, "member_units")


class ElementForm(forms.Form):
    code = forms.CharField(label=_("Mã"), max_length=60, required=False)
    name = forms.CharField(label=_("Tên chỉ tiêu báo cáo"), max_length=300, required=False)
    name_en = forms.CharField(label=_("Tên tiếng Anh"), max_length=300, required=False)
    measure = forms.ChoiceField(label=_("Đơn vị đo"), choices=Measure.choices)
    disaggregations = forms.MultipleChoiceField(label=_("Phân tổ"), choices=DISAGGREGATION_CHOICES[:3],
                                                required=False, widget=forms.CheckboxSelectMultiple)
    part_of = IdChoiceField(label=_("Là một phần của"), required=False, queryset=DataElement.objects.none())
    required = forms.BooleanField(label=_("Bắt buộc nhập"), required=False, initial=True)
    order = forms.CharField(label=_("Thứ tự"), max_length=4, required=False)

    def __init__(self, *args, report_form, element=None, **kwargs):
        super().__init__(*args, **kwargs)
        wholes = report_form.elements.filter(active=True)
        if element is not None:
            wholes = wholes.exclude(pk=element.pk)
        self.fields["part_of"].queryset = wholes  # type: ignore[attr-defined]  # a ModelChoiceField


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại quy tắc"), choices=ValidationRule.Kind.choices)
    severity = forms.ChoiceField(label=_("Mức độ"), choices=Severity.choices)
    left = IdChoiceField(label=_("Chỉ tiêu được kiểm tra"), queryset=DataElement.objects.none(),
                                  required=False)
    right = IdChoiceField(label=_("Không vượt quá chỉ tiêu"), queryset=DataElement.objects.none(),
                                   required=False)
    minimum = forms.CharField(label=_("Giá trị nhỏ nhất"), max_length=30, required=False)
    maximum = forms.CharField(label=_("Giá trị lớn nhất"), max_length=30, required=False)
    threshold = forms.CharField(label=_("Ngưỡng thay đổi so với kỳ trước"), max_length=10, required=False,
                                help_text=_("0,5 = chênh lệch quá ±50% thì báo"))
    message = forms.CharField(label=_("Thông báo khi vi phạm"), max_length=300, required=False)

    def __init__(self, *args, report_form, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("left", "right"):
            self.fields[name].queryset = report_form.elements.all()  # type: ignore[attr-defined]
