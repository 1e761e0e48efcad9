"""Forms of the programme pages. They only render and read fields; services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vitreem.accounts.models import MemberUnit

from .models import Plan, Rating, TaskStatus

DATE_INPUT = {"placeholder": "dd/mm/yyyy"}


class TargetForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"), min_value=2021, max_value=2030)
    value = forms.CharField(label=_("Mục tiêu"), max_length=30, help_text=_("Ví dụ: 97 hoặc 6,5"))
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)


class ExplanationForm(forms.Form):
    causes = forms.CharField(label=_("Nguyên nhân"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    solutions = forms.CharField(label=_("Giải pháp"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ReviewForm(forms.Form):
    comment = forms.CharField(label=_("Ý kiến"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PlanForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"), min_value=2021, max_value=2030)
    kind = forms.ChoiceField(label=_("Loại"), choices=Plan.Kind.choices)
    title = forms.CharField(label=_("Tên kế hoạch"), max_length=300, required=False)
    member_unit = forms.ModelChoiceField(label=_("Đơn vị thành viên"), queryset=MemberUnit.objects.none(),
                                         required=False)
    document_ref = forms.CharField(label=_("Số, ký hiệu văn bản"), max_length=200, required=False)

    def __init__(self, *args, member_units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_unit"].queryset = member_units if member_units is not None else MemberUnit.objects.all()


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Nhiệm vụ"), max_length=400, required=False)
    lead_unit = forms.ModelChoiceField(label=_("Đơn vị chủ trì"), queryset=MemberUnit.objects.filter(active=True),
                                       required=False)
    supporting_units = forms.ModelMultipleChoiceField(label=_("Đơn vị phối hợp"), required=False,
                                                      queryset=MemberUnit.objects.filter(active=True))
    deadline = forms.DateField(label=_("Thời hạn"), input_formats=["%d/%m/%Y", "%Y-%m-%d"], required=False,
                               widget=forms.DateInput(attrs=DATE_INPUT))


class TaskUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), choices=TaskStatus.choices)
    done_on = forms.DateField(label=_("Ngày hoàn thành"), input_formats=["%d/%m/%Y", "%Y-%m-%d"], required=False,
                              widget=forms.DateInput(attrs=DATE_INPUT))
    result = forms.CharField(label=_("Kết quả"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RatingForm(forms.Form):
    rating = forms.ChoiceField(label=_("Xếp loại"), choices=Rating.choices)
    comment = forms.CharField(label=_("Nhận xét"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
