"""Forms of the benefit screens. They only parse input; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vitreem.core.params import IdChoiceField, IntField

from .models import BeneficiaryGroup, SingleReason, StopReason


class MonthField(forms.CharField):
    """A month written 2024-07 or 07/2024."""

    def clean(self, value):
        from vitreem.core.errors import DomainError

        from .rules import month_parse

        value = super().clean(value)
        if not value:
            return None
        try:
            return month_parse(value)
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from None


class DecisionForm(forms.Form):
    number = forms.CharField(label=_("Số quyết định"), max_length=60)
    decided_on = forms.DateField(label=_("Ngày quyết định"), widget=forms.DateInput(attrs={"type": "date"}))
    signed_by = forms.CharField(label=_("Người ký"), max_length=150, required=False)


class EnrolForm(DecisionForm):
    child = IntField(widget=forms.HiddenInput)
    # A single parent's allowance is the parent's own: SingleParentForm (Decree 20/2021, Art. 5(4)).
    group = IdChoiceField(label=_("Nhóm đối tượng"), to_field_name="code",
                          queryset=BeneficiaryGroup.objects.filter(active=True).exclude(code="single_parent_poor"))
    arrears_from = MonthField(label=_("Truy lĩnh từ tháng (nếu có)"), required=False, help_text="YYYY-MM")
    arrears_reason = forms.CharField(label=_("Lý do truy lĩnh"), required=False)
    certified_on = forms.DateField(label=_("Ngày cấp giấy xác nhận mức độ khuyết tật (trẻ khuyết tật)"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    exception_reason = forms.CharField(label=_("Ngoại lệ điều kiện (cán bộ tỉnh, ghi lý do)"), required=False)


class SingleParentForm(DecisionForm):
    """A single parent's own allowance (Decree 20/2021, Art. 5(4)): the parent among a child's father and
    mother, the children raised among the household's children the user may see."""

    guardian = forms.ChoiceField(label=_("Cha hoặc mẹ đơn thân"))
    single_reason = forms.ChoiceField(label=_("Là người đơn thân vì"), choices=SingleReason.choices)
    children = forms.MultipleChoiceField(label=_("Các con đang nuôi (dưới 16 tuổi, hoặc từ 16 đến dưới 22 tuổi đang đi học)"),
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, guardians, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].choices = [(g.pk, f"{g.full_name} ({g.get_relationship_display()})") for g in guardians]
        self.fields["children"].choices = [(c.pk, f"{c.full_name} ({c.birth_date:%d/%m/%Y})") for c in children]


class HealthCardForm(forms.Form):
    health_card_issued_on = forms.DateField(label=_("Ngày cấp thẻ bảo hiểm y tế"),
                                            widget=forms.DateInput(attrs={"type": "date"}))
    # Typed with spaces as printed on the card; the service keeps the letters and digits (15 at most).
    health_card_number = forms.CharField(label=_("Mã số thẻ bảo hiểm y tế"), max_length=30, required=False)


class StopForm(DecisionForm):
    reason = forms.ChoiceField(label=_("Lý do thôi hưởng"), choices=StopReason.choices)
    last_month = MonthField(label=_("Tháng cuối được hưởng (để trống: tự tính)"), required=False)
    transfer_to = forms.CharField(label=_("Nơi chuyển đến"), required=False)
    note = forms.CharField(label=_("Ghi chú"), required=False)


class SuspendForm(DecisionForm):
    from_month = MonthField(label=_("Tạm dừng từ tháng"))
    reason = forms.CharField(label=_("Lý do"))


class ResumeForm(DecisionForm):
    from_month = MonthField(label=_("Tiếp tục từ tháng"))


class ChangeGroupForm(DecisionForm):
    group = IdChoiceField(label=_("Nhóm mới"), queryset=BeneficiaryGroup.objects.filter(active=True),
                                   to_field_name="code")
    from_month = MonthField(label=_("Áp dụng từ tháng (để trống: tháng quyết định)"), required=False)
    exception_reason = forms.CharField(label=_("Ngoại lệ điều kiện (ghi lý do)"), required=False)


class AdjustForm(forms.Form):
    for_month = MonthField(label=_("Tháng đã chi cần điều chỉnh"))
    amount = IntField(label=_("Số tiền (đồng, âm để thu hồi)"))
    reason = forms.CharField(label=_("Lý do"), max_length=255)


class BaseLevelForm(forms.Form):
    amount = IntField(label=_("Mức chuẩn (đồng/tháng)"), min_value=1)
    valid_from = MonthField(label=_("Áp dụng từ tháng"))
    legal_basis = forms.CharField(label=_("Căn cứ"), required=False)


class CoefficientForm(forms.Form):
    group = IdChoiceField(label=_("Nhóm"), queryset=BeneficiaryGroup.objects.all(), to_field_name="code")
    age_from = IntField(label=_("Tuổi từ"), min_value=0)
    age_to = IntField(label=_("Đến dưới"), min_value=1, required=False)
    value = forms.DecimalField(label=_("Hệ số"), max_digits=5, decimal_places=2)
    valid_from = MonthField(label=_("Áp dụng từ tháng"))
    legal_basis = forms.CharField(label=_("Căn cứ"), required=False)
