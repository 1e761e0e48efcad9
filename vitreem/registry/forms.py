"""Forms of the registry screens. They only parse and present: every rule lives in
validation.child_clean and the services, whose errors are put back next to the field here."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from functools import cached_property
from typing import Any, cast

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from vitreem.core.errors import DomainError, ValidationFailed
from vitreem.core.params import IntField
from vitreem.places.models import AdminUnit, Level

from .codes import nurture_case_choices
from .models import (
    BirthPrecision,
    Child,
    Disability,
    EndReason,
    Ethnicity,
    Guardian,
    PovertyStatus,
    RiskFactor,
    Schooling,
    SchoolLevel,
    Sex,
    SpecialGroup,
)
from .selectors import AGE_BANDS, households_for_user, units_for_user

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]


class DateInput(forms.DateInput):
    """The browser's date picker (it shows dd/mm/yyyy in Vietnamese); typed dd/mm/yyyy also works."""

    input_type = "date"

    def __init__(self, **kwargs: Any):
        super().__init__(format="%Y-%m-%d", **kwargs)


class FastSelect(forms.Select):
    """A <select> built in Python: the unit filter of a province-wide user has hundreds of options,
    and Django's per-option widget templates took most of the list page's time. Its choices are flat
    (value, label) pairs kept as given: Django's widget normalises them again whenever they are set,
    and a form's every copy sets them (see FilterChoiceField)."""

    @property  # type: ignore[override]
    def choices(self):  # type: ignore[no-untyped-def]
        return self._choices

    @choices.setter
    def choices(self, value):  # type: ignore[no-untyped-def]
        self._choices = value

    def __deepcopy__(self, memo):  # type: ignore[no-untyped-def]
        obj = copy.copy(self)  # the choices are shared: nothing changes them in place
        obj.attrs = self.attrs.copy()
        memo[id(self)] = obj
        return obj

    def render(self, name, value, attrs=None, renderer=None):  # type: ignore[no-untyped-def]
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value[0] if isinstance(value, (list, tuple)) and value else value)
        return format_html("<select{}>{}</select>", flatatt(final), options_html(self.choices, selected))


class Options(tuple):
    """Flat (value, label) pairs whose <option> tags are escaped once, for choices kept per process
    (a province's ~400 units of the child list's filter, `_unit_choices`): escaping them on every
    visit was 2–3 ms of the province's list (profiled). Labels must be plain text, not lazy: the tags
    are kept in the language they were built in."""

    @cached_property
    def tags(self) -> list[tuple[str, str, str]]:
        return [(str(key), f'<option value="{conditional_escape(str(key))}"', f">{conditional_escape(label)}</option>")
                for key, label in self]


def options_html(choices: Iterable[tuple[Any, Any]], selected: str) -> SafeString:
    """The <option> tags of `choices` (value, label), escaped, the one whose value is `selected` marked:
    built in Python for the selects with hundreds of options (FastSelect, the case list's filters,
    the reports page's units)."""
    if isinstance(choices, Options):
        return mark_safe("".join(  # noqa: S308 — escaped when the tags were built
            f"{head}{' selected' if value == selected else ''}{tail}" for value, head, tail in choices.tags))
    parts = []
    for key, label in choices:
        value = str(key)
        # conditional_escape as format_html would, without its per-call cost (hundreds of options a page)
        parts.append(f'<option value="{conditional_escape(value)}"{" selected" if value == selected else ""}>'
                     f"{conditional_escape(label)}</option>")
    return mark_safe("".join(parts))  # noqa: S308 — every value and label is escaped above


class FilterChoiceField(forms.ChoiceField):
    """A list filter's select (FastSelect): flat (value, label) choices, kept as the tuple given and
    shared by every copy of the form. A ChoiceField normalises its choices when they are set, its
    widget again, and both are copied for every form built: for the province's child list that was
    about 7 ms of its 30 ms of CPU (profiled, stop 40)."""

    widget = FastSelect

    def __deepcopy__(self, memo):  # type: ignore[no-untyped-def]
        return forms.Field.__deepcopy__(self, memo)  # _choices shared, not deep-copied

    @property  # type: ignore[override]
    def choices(self):  # type: ignore[no-untyped-def]
        return self._choices

    @choices.setter
    def choices(self, value):  # type: ignore[no-untyped-def]
        self._choices = self.widget.choices = value if isinstance(value, tuple) else tuple(value)

    def valid_value(self, value: Any) -> bool:
        text = str(value)
        return any(text == str(key) for key, _label in self._choices)


def fast_selects(form: forms.Form) -> None:
    for field in form.fields.values():
        if type(field) is forms.ChoiceField:
            widget = FastSelect()
            widget.choices = cast(Any, field.choices)
            field.widget = widget


def date_field(label, *, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, input_formats=DATE_FORMATS, widget=DateInput(),
                           error_messages={"invalid": _l("Ngày không hợp lệ (dd/mm/yyyy).")})


def set_choices(field: forms.Field, choices: list[tuple[str, Any]] | tuple[tuple[str, Any], ...]) -> None:
    if isinstance(field, forms.ChoiceField):
        field.choices = choices


def _blank(label) -> list[tuple[str, Any]]:
    return [("", label)]


def unit_label(unit: AdminUnit, *, indent_level: bool = True) -> str:
    indent = {"province": "", "district": "— ", "commune": "—— "}.get(unit.level, "") if indent_level else ""
    year = _("trước 7/2025") if unit.version == "legacy" else _("từ 7/2025")
    return f"{indent}{unit.name} ({year})"


class ServiceErrorsMixin:
    """Puts a DomainError from a service back on the form: next to the field it names."""

    field_map: dict[str, str] = {}

    def add_domain_error(self, exc: DomainError) -> None:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": str(exc.message)}
        for name, message in errors.items():
            name = self.field_map.get(name, name)
            self.add_error(name if name in self.fields else None, message)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the list filters

# {(the scope's units, language): (the unit tree's stamp, ({ref: unit}, [(ref, label)]))}: a province's
# filter lists its ~400 units, read and labelled on every visit of the child list (a fifth of the
# province's name search, profiled). Kept per process while the unit tree does not change, like the
# scope's units (places.selectors.kept_while_tree_unchanged, against the stamp read once per request).
_UNIT_CHOICES: dict[tuple[frozenset[int], str], Any] = {}


def _unit_choices(user) -> tuple[dict[str, AdminUnit], Options]:
    from django.utils.translation import get_language

    from vitreem.core.scope import scope_for
    from vitreem.places.selectors import kept_while_tree_unchanged

    def read() -> tuple[dict[str, AdminUnit], Options]:
        units = {u.ref: u for u in units_for_user(user=user).only("version", "code", "level", "name")}
        return units, Options([("", _("Tất cả trong phạm vi")), *((ref, unit_label(u)) for ref, u in units.items())])

    return kept_while_tree_unchanged(_UNIT_CHOICES, (scope_for(user).unit_ids, get_language() or ""), read,
                                     limit=1000)


class ChildFilterForm(forms.Form):
    q = forms.CharField(label=_l("Tìm theo tên hoặc số định danh"), required=False, max_length=100)
    guardian = forms.CharField(label=_l("Tên cha, mẹ, người nuôi dưỡng"), required=False, max_length=100)
    unit = FilterChoiceField(label=_l("Đơn vị"), required=False)
    age_band = FilterChoiceField(label=_l("Độ tuổi"), required=False,
                                 choices=_blank(_l("Tất cả")) + [(b, b.replace("-", "–")) for b in AGE_BANDS])
    sex = FilterChoiceField(label=_l("Giới tính"), required=False, choices=_blank(_l("Tất cả")) + list(Sex.choices))
    ethnicity = FilterChoiceField(label=_l("Dân tộc"), required=False)
    poverty = FilterChoiceField(label=_l("Hộ nghèo/cận nghèo"), required=False, choices=_blank(_l("Tất cả")) + [
        (PovertyStatus.POOR.value, PovertyStatus.POOR.label),
        (PovertyStatus.NEAR_POOR.value, PovertyStatus.NEAR_POOR.label)])
    poverty_year = IntField(label=_l("Năm xét hộ nghèo"), required=False, min_value=2000, max_value=2100)
    special = FilterChoiceField(label=_l("Hoàn cảnh đặc biệt"), required=False)
    at_risk = forms.BooleanField(label=_l("Có nguy cơ"), required=False)
    schooling = FilterChoiceField(label=_l("Đi học"), required=False,
                                  choices=_blank(_l("Tất cả")) + list(Schooling.choices))
    disability = FilterChoiceField(label=_l("Khuyết tật"), required=False,
                                   choices=_blank(_l("Tất cả")) + list(Disability.choices))
    as_of = forms.DateField(label=_l("Tính đến ngày"), required=False, input_formats=DATE_FORMATS, widget=DateInput())

    def __init__(self, data, *, user, **kwargs: Any):
        super().__init__(data, **kwargs)
        self.user = user
        self.units, choices = _unit_choices(user)
        set_choices(self.fields["unit"], choices)
        set_choices(self.fields["ethnicity"], _blank(_("Tất cả")) + list(
            Ethnicity.objects.order_by("code").values_list("code", "name")))
        set_choices(self.fields["special"], _blank(_("Tất cả")) + [("any", _("Bất kỳ nhóm nào"))] + [
            (g.code, f"{g.code}. {g.local_name}") for g in SpecialGroup.objects.order_by("number", "code")])

    def clean_at_risk(self) -> bool:
        # The drill-down links say at_risk=1; a hand-written at_risk=0 means "no filter", not "on".
        return bool(self.cleaned_data.get("at_risk")) and self.data.get("at_risk") not in ("0", "false", "")

    def filter_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"as_of": d.get("as_of"), "unit": self.units.get(d.get("unit") or ""), "age_band": d.get("age_band") or "",
                "sex": d.get("sex") or "", "ethnicity": d.get("ethnicity") or "", "poverty": d.get("poverty") or "",
                "poverty_year": d.get("poverty_year"), "special": d.get("special") or "",
                "at_risk": d.get("at_risk", False), "schooling": d.get("schooling") or "",
                "disability": d.get("disability") or "", "q": d.get("q") or "", "guardian": d.get("guardian") or ""}


# ---------------------------------------------------------------- a child

class ChildForm(ServiceErrorsMixin, forms.Form):
    field_map = {"guardian": "guardian_name", "relationship": "guardian_relationship", "phone": "guardian_phone"}

    full_name = forms.CharField(label=_l("Họ và tên"), max_length=150,
                                help_text=_l("Họ, tên đệm, tên — như trong giấy khai sinh."))
    birth_date = date_field(_l("Ngày sinh"))
    birth_precision = forms.ChoiceField(label=_l("Ngày sinh ghi"), choices=BirthPrecision.choices,
                                        initial=BirthPrecision.DAY,
                                        help_text=_l("Nếu chỉ biết năm sinh, nhập ngày 01/01 của năm đó."))
    sex = forms.ChoiceField(label=_l("Giới tính"), choices=_blank("—") + list(Sex.choices))
    ethnicity = forms.ChoiceField(label=_l("Dân tộc"), required=False)
    personal_id = forms.CharField(label=_l("Số định danh cá nhân"), required=False, max_length=20,
                                  help_text=_l("12 chữ số; để trống nếu chưa có."))
    birth_registered = forms.BooleanField(label=_l("Đã đăng ký khai sinh"), required=False, initial=True)
    unit = forms.ChoiceField(label=_l("Xã/phường nơi cư trú"))
    village = forms.CharField(label=_l("Thôn, làng, tổ dân phố"), required=False, max_length=120)
    schooling = forms.ChoiceField(label=_l("Tình trạng đi học"), choices=Schooling.choices, initial=Schooling.UNKNOWN)
    school_level = forms.ChoiceField(label=_l("Cấp học"), required=False,
                                     choices=_blank("—") + list(SchoolLevel.choices))
    dropout_date = date_field(_l("Ngày bỏ học"), required=False)
    disability = forms.ChoiceField(label=_l("Khuyết tật"), choices=Disability.choices, initial=Disability.NONE)
    note = forms.CharField(label=_l("Ghi chú"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    guardian_name = forms.CharField(label=_l("Họ tên cha, mẹ hoặc người nuôi dưỡng"), required=False, max_length=150)
    guardian_relationship = forms.ChoiceField(label=_l("Quan hệ với trẻ"), required=False,
                                              choices=_blank("—") + list(Guardian.Relationship.choices))
    guardian_phone = forms.CharField(label=_l("Điện thoại"), required=False, max_length=20)
    confirm_not_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)
    version = IntField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user, edit: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        set_choices(self.fields["ethnicity"], _blank("—") + [(e.code, e.name) for e in Ethnicity.objects.order_by("code")])
        if edit:
            for name in ("unit", "guardian_name", "guardian_relationship", "guardian_phone", "confirm_not_duplicate"):
                del self.fields[name]
        else:
            del self.fields["version"]
            communes = units_for_user(user=user, level=Level.COMMUNE, on=timezone.localdate())
            choices = [(u.ref, u.name) for u in communes]
            set_choices(self.fields["unit"], choices if len(choices) == 1 else _blank("—") + choices)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("guardian_name") and not d.get("guardian_relationship"):
            self.add_error("guardian_relationship", _("Hãy chọn quan hệ với trẻ."))
        return d

    def child_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        keys = ("full_name", "birth_date", "birth_precision", "sex", "personal_id", "birth_registered", "village",
                "schooling", "school_level", "dropout_date", "disability", "note")
        return {k: d.get(k) for k in keys}

    def guardians(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        if not d.get("guardian_name"):
            return []
        return [{"full_name": d["guardian_name"], "relationship": d["guardian_relationship"],
                 "phone": d.get("guardian_phone") or ""}]


# ---------------------------------------------------------------- episodes, risk, households

class EpisodeOpenForm(ServiceErrorsMixin, forms.Form):
    group = forms.ChoiceField(label=_l("Nhóm hoàn cảnh đặc biệt"))
    start = date_field(_l("Từ ngày"))
    end = date_field(_l("Đến ngày"), required=False)
    evidence = forms.CharField(label=_l("Căn cứ (quyết định, giấy xác nhận…)"), required=False, max_length=255)
    nurture_case = forms.ChoiceField(
        label=_l("Trường hợp không có nguồn nuôi dưỡng (khoản 1 Điều 5 Nghị định 20/2021)"), required=False,
        help_text=_l("Chỉ chọn với nhóm 2.2 (trẻ đã được nhận làm con nuôi thì không thuộc), 3.2 (cha/mẹ chỉ "
                     "không còn khả năng chăm sóc thì không thuộc) hoặc nhóm 2, 3 không ghi nhóm nhỏ; "
                     "các nhóm nhỏ khác tự xác định."))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        set_choices(self.fields["group"], _blank("—") + [
            (g.code, ("— " if g.parent_id else "") + f"{g.code}. {g.local_name}")
            for g in SpecialGroup.objects.order_by("number", "code")])
        set_choices(self.fields["nurture_case"], _blank(_("— không thuộc / tự xác định theo nhóm")) + nurture_case_choices())


class EpisodeCloseForm(ServiceErrorsMixin, forms.Form):
    end = date_field(_l("Ngày kết thúc"))


class RiskAssessForm(ServiceErrorsMixin, forms.Form):
    assessed_on = date_field(_l("Ngày đánh giá"))
    factors = forms.MultipleChoiceField(label=_l("Yếu tố nguy cơ hiện có"), required=False,
                                        widget=forms.CheckboxSelectMultiple,
                                        help_text=_l("Bỏ chọn hết nếu trẻ không còn yếu tố nguy cơ nào."))
    note = forms.CharField(label=_l("Ghi chú"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        set_choices(self.fields["factors"], [(f.code, f.local_name) for f in RiskFactor.objects.filter(active=True)])


class HouseholdForm(ServiceErrorsMixin, forms.Form):
    unit = forms.ChoiceField(label=_l("Xã/phường"))
    village = forms.CharField(label=_l("Thôn, làng, tổ dân phố"), required=False, max_length=120)
    head_name = forms.CharField(label=_l("Họ tên chủ hộ"), max_length=120)
    address = forms.CharField(label=_l("Địa chỉ"), required=False, max_length=255)

    def __init__(self, *args: Any, user, **kwargs: Any):
        super().__init__(*args, **kwargs)
        communes = units_for_user(user=user, level=Level.COMMUNE, on=timezone.localdate())
        set_choices(self.fields["unit"], [(u.ref, u.name) for u in communes])


class PovertyForm(ServiceErrorsMixin, forms.Form):
    year = IntField(label=_l("Năm"), min_value=2000, max_value=2100)
    status = forms.ChoiceField(label=_l("Phân loại"), choices=PovertyStatus.choices)
    decision_number = forms.CharField(label=_l("Số quyết định của xã"), required=False, max_length=60)
    decision_date = date_field(_l("Ngày quyết định"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)


class PovertyReviewForm(ServiceErrorsMixin, forms.Form):
    unit = forms.ChoiceField(label=_l("Xã/phường"))
    year = IntField(label=_l("Danh sách của năm"), min_value=2000, max_value=2100)
    decided_on = date_field(_l("Ngày quyết định công nhận"))
    decision_number = forms.CharField(label=_l("Số quyết định"), required=False, max_length=60)

    def __init__(self, *args: Any, user, **kwargs: Any):
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)
        # Both versions: a review decided before the 2025 reform was decided by the legacy commune.
        communes = units_for_user(user=user, level=Level.COMMUNE).order_by("-version", "name")
        set_choices(self.fields["unit"], [(u.ref, f"{u.name} ({u.ref})") for u in communes])


# ---------------------------------------------------------------- moving, ending, guardians

HOUSEHOLD_CHOICES_MAX = 500


class MoveForm(ServiceErrorsMixin, forms.Form):
    """Move a child to another commune. The communes offered are those of the user's scope in force
    today (the service refuses any other); the households offered are those of the chosen commune."""

    unit = forms.ChoiceField(label=_l("Chuyển đến xã/phường"))
    on = date_field(_l("Ngày chuyển đến"))
    household = forms.ChoiceField(label=_l("Hộ gia đình ở nơi mới"), required=False,
                                  help_text=_l("Để trống nếu chưa có hộ ở nơi mới."))
    village = forms.CharField(label=_l("Thôn, làng, tổ dân phố ở nơi mới"), required=False, max_length=120,
                              help_text=_l("Để trống để lấy theo hộ gia đình."))
    version = IntField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user, child: Child, url: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        communes = units_for_user(user=user, level=Level.COMMUNE, on=timezone.localdate()).exclude(pk=child.unit_id)
        self.units = {u.ref: u for u in communes}
        set_choices(self.fields["unit"], _blank("—") + [(ref, u.name) for ref, u in self.units.items()])
        # The household list follows the chosen commune (htmx reloads it when the commune changes).
        chosen = self.units.get(str(self.data.get("unit") or self.initial.get("unit") or ""))
        self.households: dict[str, Any] = {}
        if chosen is not None:
            rows = households_for_user(user=user).filter(unit=chosen).order_by("head_key", "pk")
            self.households = {str(h.pk): h for h in rows[:HOUSEHOLD_CHOICES_MAX]}
        set_choices(self.fields["household"], _blank("—") + [
            (pk, f"{h.head_name}{' — ' + h.village if h.village else ''}") for pk, h in self.households.items()])
        fast_selects(self)  # a provincial officer is offered every commune of the province
        if url:
            self.fields["unit"].widget.attrs.update({
                "hx-get": url, "hx-trigger": "change", "hx-target": "#id_household_field",
                "hx-select": "#id_household_field", "hx-swap": "outerHTML", "hx-include": "this"})

    def clean_unit(self) -> AdminUnit:
        return self.units[self.cleaned_data["unit"]]

    def clean_household(self):  # type: ignore[no-untyped-def]
        return self.households.get(self.cleaned_data.get("household") or "")


class EndForm(ServiceErrorsMixin, forms.Form):
    reason = forms.ChoiceField(label=_l("Lý do kết thúc"),
                               choices=_blank("—") + [c for c in EndReason.choices if c[0] != EndReason.MERGED])
    on = date_field(_l("Ngày kết thúc"), required=True)
    note = forms.CharField(label=_l("Căn cứ, ghi chú"), required=False, max_length=255,
                           help_text=_l("Ví dụ: số giấy báo tử, nơi chuyển đến."))
    version = IntField(required=False, widget=forms.HiddenInput)


class GuardianForm(ServiceErrorsMixin, forms.Form):
    field_map = {"guardian": "full_name"}

    full_name = forms.CharField(label=_l("Họ và tên"), max_length=150)
    relationship = forms.ChoiceField(label=_l("Quan hệ với trẻ"),
                                     choices=_blank("—") + list(Guardian.Relationship.choices))
    phone = forms.CharField(label=_l("Điện thoại"), required=False, max_length=20)


class GuardianRemoveForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_l("Lý do"), required=False, max_length=255,
                             help_text=_l("Ví dụ: ghi nhầm; không còn chăm sóc trẻ."))


def today() -> dt.date:
    return timezone.localdate()
