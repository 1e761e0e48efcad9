"""Entry forms: quick for a commune worker (the unit defaults to their commune, most fields optional).
Forms only parse; the rules live in services.activity_clean, whose errors are put back on the fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vitreem.accounts.forms import limit_member_units
from vitreem.accounts.models import MemberUnit
from vitreem.core.errors import DomainError, ValidationFailed
from vitreem.core.params import IdChoiceField, IdMultipleChoiceField, IntField, month_param, year_param
from vitreem.places.models import AdminUnit

from .models import (
    Audience,
    BudgetAllocation,
    CommunicationForm,
    Condition,
    Kind,
    ModelType,
    Occasion,
    Partner,
    PartnerKind,
    PlayPointType,
    Project,
    Purpose,
    Source,
    Status,
    Topic,
)
from .selectors import allocations_for_user, units_for_entry

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _day_of(form: forms.Form, name: str) -> dt.date | None:
    """The date a form is for: the posted one when it parses, else the record's."""
    raw = form.data.get(name) if form.is_bound else None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(str(raw), fmt).date() if raw else None  # noqa: DTZ007 — a date only
        except ValueError:
            continue
    value = form.initial.get(name)
    return value if isinstance(value, dt.date) else None


def _date_field(label, required=True):
    return forms.DateField(label=label, required=required, input_formats=DATE_FORMATS, widget=DateInput())


def _count(label):
    return IntField(label=label, required=False, min_value=0, initial=0)


def _blank(choices):
    return [("", "—"), *choices]


class UnitChoice(IdChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.ref})"


def _set_queryset(form: forms.Form, name: str, qs) -> None:
    form.fields[name].queryset = qs  # type: ignore[attr-defined]  # a ModelChoiceField


def put_errors(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the fields it names (or on top of the form)."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": str(exc.message)}
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, message)


KIND_FORM_FIELDS = {
    Kind.COMMUNICATION: ["comm_form", "reached_total", "reached_children", "reached_adults", "reached_male",
                         "reached_female", "materials"],
    Kind.TRAINING: ["audience", "days", "topics"],
    Kind.CAMPAIGN: ["targets", "units_taking_part"],
    Kind.RECREATION: ["occasion", "children_total", "children_male", "children_female", "age_0_5", "age_6_10",
                      "age_11_15", "special_children"],
}


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("Tên hoạt động"), max_length=255)
    status = forms.ChoiceField(label=_("Trạng thái"), choices=Status.choices, initial=Status.DONE)
    start_date = _date_field(_("Ngày bắt đầu"))
    end_date = _date_field(_("Ngày kết thúc"), required=False)
    unit = UnitChoice(label=_("Đơn vị (nơi tổ chức)"), queryset=AdminUnit.objects.none())
    topic = forms.ChoiceField(label=_("Chủ đề"), choices=_blank(Topic.choices), required=False)
    organiser = IdChoiceField(label=_("Đơn vị thành viên chủ trì"), required=False,
                                       queryset=MemberUnit.objects.none())
    partners = IdMultipleChoiceField(label=_("Đối tác"), required=False, queryset=Partner.objects.all())
    budget_line = IdChoiceField(label=_("Dòng dự toán kinh phí"), required=False,
                                         queryset=BudgetAllocation.objects.none())
    cost = IntField(label=_("Kinh phí đã chi (đồng)"), required=False, min_value=0, initial=0)
    plan_task = forms.CharField(label=_("Nhiệm vụ trong kế hoạch"), required=False, max_length=120)
    note = forms.CharField(label=_("Ghi chú, kết quả"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # communication
    comm_form = forms.ChoiceField(label=_("Hình thức"), choices=_blank(CommunicationForm.choices), required=False)
    reached_total = _count(_("Tổng số người được truyền thông"))
    reached_children = _count(_("Trong đó trẻ em"))
    reached_adults = _count(_("Người lớn"))
    reached_male = _count(_("Nam"))
    reached_female = _count(_("Nữ"))
    materials = _count(_("Tài liệu, tờ rơi đã phát"))
    # training
    audience = forms.ChoiceField(label=_("Đối tượng"), choices=_blank(Audience.choices), required=False)
    days = forms.DecimalField(label=_("Số ngày"), required=False, min_value=0, max_digits=4, decimal_places=1,
                              initial=1)
    topics = forms.CharField(label=_("Nội dung tập huấn"), required=False, max_length=255)
    # campaign
    targets = forms.CharField(label=_("Chỉ tiêu trẻ em được lồng ghép"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    units_taking_part = IdMultipleChoiceField(label=_("Đơn vị tham gia"), required=False,
                                                       queryset=AdminUnit.objects.none())
    # recreation
    occasion = forms.ChoiceField(label=_("Dịp tổ chức"), choices=_blank(Occasion.choices), required=False)
    children_total = _count(_("Tổng số trẻ em tham gia"))
    children_male = _count(_("Trẻ em trai"))
    children_female = _count(_("Trẻ em gái"))
    age_0_5 = _count(_("Dưới 6 tuổi"))
    age_6_10 = _count(_("Từ 6 đến 10 tuổi"))
    age_11_15 = _count(_("Từ 11 đến 15 tuổi"))
    special_children = _count(_("Trong đó trẻ em có hoàn cảnh đặc biệt"))

    def __init__(self, *args, user, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        keep = set(KIND_FORM_FIELDS[Kind(kind)])
        for other in KIND_FORM_FIELDS.values():
            for name in other:
                if name not in keep:
                    self.fields.pop(name, None)
        units = units_for_entry(user=user)
        _set_queryset(self, "unit", units)
        if "units_taking_part" in self.fields:
            _set_queryset(self, "units_taking_part", units)
        _set_queryset(self, "budget_line", allocations_for_user(user=user))
        if not self.is_bound and "unit" not in self.initial:
            current = units_for_entry(user=user, on=timezone.localdate()).order_by("-level").first()
            if current is not None:
                self.initial["unit"] = current.pk
        if not self.is_bound:
            self.initial.setdefault("start_date", timezone.localdate())
        # The organiser is a member on the activity's day (its start; today for a new one).
        limit_member_units(self, "organiser", day=_day_of(self, "start_date"))

    def kind_fields(self):
        return [self[name] for name in KIND_FORM_FIELDS[Kind(self.kind)]]

    def common_fields(self):
        return [self[name] for name in ("title", "status", "start_date", "end_date", "unit", "topic")]

    def more_fields(self):
        return [self[name] for name in ("organiser", "partners", "budget_line", "cost", "plan_task", "note")]

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data["partners"] = list(data.get("partners") or [])
        if "units_taking_part" in data:
            data["units_taking_part"] = list(data["units_taking_part"] or [])
        return data


class ParticipantForm(forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150)
    unit_name = forms.CharField(label=_("Đơn vị công tác"), required=False, max_length=200)
    role = forms.CharField(label=_("Chức vụ"), required=False, max_length=120)
    sex = forms.ChoiceField(label=_("Giới tính"), choices=[("M", _("Nam")), ("F", _("Nữ"))])
    ethnicity = forms.CharField(label=_("Dân tộc"), required=False, max_length=60)
    pre_score = forms.CharField(label=_("Điểm trước"), required=False, max_length=8)
    post_score = forms.CharField(label=_("Điểm sau"), required=False, max_length=8)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Tệp danh sách (.xlsx)"))
    replace = forms.BooleanField(label=_("Thay thế danh sách hiện có"), required=False)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Tệp (ảnh, danh sách ký, biên bản)"))
    title = forms.CharField(label=_("Mô tả"), required=False, max_length=200)


class ChildLinkForm(forms.Form):
    child_id = IntField(label=_("Mã trẻ em trong hệ thống"), min_value=1)
    gift = forms.CharField(label=_("Quà tặng"), required=False, max_length=200)
    gift_value = IntField(label=_("Giá trị (đồng)"), required=False, min_value=0, initial=0)


class PlayPointForm(forms.Form):
    name = forms.CharField(label=_("Tên điểm vui chơi"), max_length=200)
    unit = UnitChoice(label=_("Xã, phường"), queryset=AdminUnit.objects.none())
    point_type = forms.ChoiceField(label=_("Loại"), choices=PlayPointType.choices)
    opened_on = _date_field(_("Ngày đưa vào sử dụng"))
    closed_on = _date_field(_("Ngày ngừng sử dụng"), required=False)
    condition = forms.ChoiceField(label=_("Tình trạng"), choices=Condition.choices)
    note = forms.CharField(label=_("Ghi chú"), required=False, max_length=255)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _set_queryset(self, "unit", units_for_entry(user=user).filter(level="commune"))


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Tên đối tác"), max_length=200)
    kind = forms.ChoiceField(label=_("Loại"), choices=PartnerKind.choices)
    country = forms.CharField(label=_("Quốc gia"), required=False, max_length=80)
    contact = forms.CharField(label=_("Liên hệ"), required=False, max_length=200)


class ProjectForm(forms.Form):
    partner = IdChoiceField(label=_("Đối tác"), queryset=Partner.objects.all())
    name = forms.CharField(label=_("Tên dự án, mô hình"), max_length=200)
    model_type = forms.ChoiceField(label=_("Loại mô hình"), choices=ModelType.choices)
    unit = UnitChoice(label=_("Đơn vị quản lý"), queryset=AdminUnit.objects.none())
    start_date = _date_field(_("Ngày bắt đầu"))
    end_date = _date_field(_("Ngày kết thúc"), required=False)
    funding = IntField(label=_("Kinh phí tài trợ (đồng)"), min_value=0, required=False, initial=0)
    communes = IdMultipleChoiceField(label=_("Xã, phường thực hiện"), required=False,
                                              queryset=AdminUnit.objects.none())
    results = forms.CharField(label=_("Kết quả"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_for_entry(user=user)
        _set_queryset(self, "unit", units)
        _set_queryset(self, "communes", units.filter(level="commune"))


class AllocationForm(forms.Form):
    year = IntField(label=_("Năm"), min_value=2000, max_value=2100)
    unit = UnitChoice(label=_("Đơn vị"), queryset=AdminUnit.objects.none())
    member_unit = IdChoiceField(label=_("Sở, ngành (nếu có)"), required=False,
                                         queryset=MemberUnit.objects.none())
    source = forms.ChoiceField(label=_("Nguồn"), choices=Source.choices)
    purpose = forms.ChoiceField(label=_("Mục đích"), choices=Purpose.choices)
    amount = IntField(label=_("Số tiền (đồng)"), min_value=1)
    note = forms.CharField(label=_("Ghi chú"), required=False, max_length=255)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _set_queryset(self, "unit", units_for_entry(user=user))
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)
        limit_member_units(self, "member_unit")


class SpendingForm(forms.Form):
    allocation = IdChoiceField(label=_("Dòng dự toán"), queryset=BudgetAllocation.objects.none(),
                                        empty_label=_("— chọn dòng dự toán —"), required=False)
    spent_on = _date_field(_("Ngày chi"))
    amount = IntField(label=_("Số tiền (đồng)"), min_value=1)
    description = forms.CharField(label=_("Nội dung chi"), required=False, max_length=255)

    def __init__(self, *args, user, year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        _set_queryset(self, "allocation", allocations_for_user(user=user, year=year))


def parse_year(value, default: int | None = None) -> int:
    """The year of a query (this year when absent); a malformed one is a 400 (core.params)."""
    return year_param(value, default=default or timezone.localdate().year) or timezone.localdate().year


def parse_month(value) -> dt.date:
    """The month of a query, YYYY-MM (this month when absent); a malformed one is a 400."""
    return month_param(value, default=timezone.localdate().replace(day=1)) or timezone.localdate().replace(day=1)


class PartnerEditForm(PartnerForm):
    active = forms.BooleanField(label=_("Còn hợp tác"), required=False)


class AllocationEditForm(AllocationForm):
    project = IdChoiceField(label=_("Dự án (nếu có)"), required=False, queryset=Project.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        from .selectors import projects_for_user

        _set_queryset(self, "project", projects_for_user(user=user))


def initial_of(obj, names) -> dict:
    """A form's initial values from a record (many-to-many as lists)."""
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = list(value.all()) if hasattr(value, "all") else value
    return out
