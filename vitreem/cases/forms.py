"""Forms of the case screens. They only parse types; every rule is checked by the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vitreem.accounts.forms import limit_member_units
from vitreem.accounts.models import MemberUnit
from vitreem.core.params import IdChoiceField, IntField
from vitreem.privacy.models import EXCEPTIONS
from vitreem.registry.models import Sex

from .models import Channel, Concern, Outcome, Perpetrator, PlanItem, Rating

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def date_field(label, required=True):
    return forms.DateField(label=label, required=required, input_formats=DATE_FORMATS, widget=DateInput())


def datetime_field(label):
    return forms.DateTimeField(label=label, input_formats=DATETIME_FORMATS, widget=DateTimeInput())


def text(label, required=True, rows=3):
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}))


class VersionedForm(forms.Form):
    version = IntField(widget=forms.HiddenInput, required=False)


class IntakeForm(forms.Form):
    received_at = datetime_field(_("Thời điểm tiếp nhận"))
    channel = forms.ChoiceField(label=_("Kênh tiếp nhận"), choices=Channel.choices)
    child = IntField(required=False, widget=forms.HiddenInput)
    new_full_name = forms.CharField(label=_("Họ và tên trẻ (trẻ chưa có trong danh sách)"), required=False)
    new_birth_date = date_field(_("Ngày sinh"), required=False)
    new_sex = forms.ChoiceField(label=_("Giới tính"), choices=[("", "—"), *Sex.choices], required=False)
    new_village = forms.CharField(label=_("Thôn, tổ dân phố"), required=False)
    confirm_not_duplicate = forms.BooleanField(label=_("Tôi đã kiểm tra: đây không phải trẻ đã có"), required=False)
    concern = forms.ChoiceField(label=_("Loại vụ việc"), choices=Concern.choices)
    in_danger = forms.BooleanField(label=_("Trẻ đang gặp nguy hiểm (can thiệp trong 12 giờ)"), required=False)
    place = forms.CharField(label=_("Nơi xảy ra"))
    perpetrator = forms.ChoiceField(label=_("Người gây hại là"), choices=Perpetrator.choices)
    summary = text(_("Nội dung sự việc"), rows=4)
    reporter_anonymous = forms.BooleanField(label=_("Người báo tin ẩn danh"), required=False)
    reporter_name = forms.CharField(label=_("Tên người báo tin"), required=False)
    reporter_phone = forms.CharField(label=_("Điện thoại"), required=False)
    reporter_relation = forms.CharField(label=_("Quan hệ với trẻ"), required=False)


class EditForm(VersionedForm):
    channel = forms.ChoiceField(label=_("Kênh tiếp nhận"), choices=Channel.choices)
    concern = forms.ChoiceField(label=_("Loại vụ việc"), choices=Concern.choices)
    in_danger = forms.BooleanField(label=_("Trẻ đang gặp nguy hiểm"), required=False)
    place = forms.CharField(label=_("Nơi xảy ra"))
    perpetrator = forms.ChoiceField(label=_("Người gây hại là"), choices=Perpetrator.choices)
    summary = text(_("Nội dung sự việc"), rows=4)
    reporter_anonymous = forms.BooleanField(label=_("Người báo tin ẩn danh"), required=False)
    reporter_name = forms.CharField(label=_("Tên người báo tin"), required=False)
    reporter_phone = forms.CharField(label=_("Điện thoại"), required=False)
    reporter_relation = forms.CharField(label=_("Quan hệ với trẻ"), required=False)


class VerifyForm(VersionedForm):
    verified_on = date_field(_("Ngày xác minh"))
    findings = text(_("Kết quả xác minh, đánh giá ban đầu (mẫu 02)"))
    founded = forms.TypedChoiceField(label=_("Kết luận"), coerce=lambda v: v == "1",
                                     choices=[("1", _("Có sự việc, tiếp tục")), ("0", _("Không có sự việc"))])


class EmergencyForm(VersionedForm):
    done_at = datetime_field(_("Thời điểm can thiệp"))
    action = text(_("Biện pháp can thiệp khẩn cấp"))


class AuthorityRequestFields(forms.Form):
    """Decree 56/2017, Art. 32(3): isolation past 15 days only at a competent authority's written
    request, recorded with its number and date."""

    request_number = forms.CharField(label=_("Văn bản đề nghị của cơ quan có thẩm quyền (nếu quá 15 ngày): số"),
                                     required=False)
    request_date = date_field(_("Ngày văn bản đề nghị"), required=False)
    request_body = forms.CharField(label=_("Cơ quan đề nghị"), required=False)


class IsolateForm(VersionedForm, AuthorityRequestFields):
    start = date_field(_("Cách ly từ ngày"))
    until = date_field(_("Đến ngày (tối đa 15 ngày kể cả gia hạn)"))
    place = forms.CharField(label=_("Nơi chăm sóc tạm thời"))
    decision_number = forms.CharField(label=_("Số quyết định (mẫu 07)"), required=False)
    field_order = ["start", "until", "place", "decision_number", "request_number", "request_date", "request_body"]


class ExtendForm(VersionedForm, AuthorityRequestFields):
    until = date_field(_("Gia hạn đến ngày"))
    decision_number = forms.CharField(label=_("Số quyết định gia hạn"), required=False)
    reason = forms.CharField(label=_("Lý do"), required=False)
    field_order = ["until", "decision_number", "reason", "request_number", "request_date", "request_body"]


class IsolationEndForm(VersionedForm):
    ended_on = date_field(_("Ngày kết thúc cách ly"))
    note = forms.CharField(label=_("Ghi chú"), required=False)


class AssessForm(VersionedForm):
    assessed_on = date_field(_("Ngày đánh giá chi tiết"))
    assessment = text(_("Đánh giá chi tiết (mẫu 03)"))
    meeting_minutes = text(_("Biên bản họp về trường hợp"))


PLAN_ROWS = 5


class PlanForm(VersionedForm):
    drafted_on = date_field(_("Ngày lập kế hoạch"))
    goal = text(_("Mục tiêu"))
    review_on = date_field(_("Ngày rà soát"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, PLAN_ROWS + 1):
            self.fields[f"item_{i}_kind"] = forms.ChoiceField(label=_("Loại hỗ trợ"), required=False,
                                                              choices=[("", "—"), *PlanItem.Kind.choices])
            self.fields[f"item_{i}_description"] = forms.CharField(label=_("Nội dung"), required=False)
            self.fields[f"item_{i}_responsible"] = forms.CharField(label=_("Người/cơ quan thực hiện"), required=False)
            self.fields[f"item_{i}_due_on"] = date_field(_("Thời hạn"), required=False)

    def rows(self):
        return [[self[f"item_{i}_{name}"] for name in ("kind", "description", "responsible", "due_on")]
                for i in range(1, PLAN_ROWS + 1)]

    def items(self) -> list[dict]:
        out = []
        for i in range(1, PLAN_ROWS + 1):
            row = {name: self.cleaned_data.get(f"item_{i}_{name}") for name in
                   ("kind", "description", "responsible", "due_on")}
            if any(row.values()):
                out.append(row)
        return out


class ApproveForm(VersionedForm):
    decision_number = forms.CharField(label=_("Số quyết định phê duyệt"), required=False)
    approved_on = date_field(_("Ngày phê duyệt"))


class ItemForm(VersionedForm):
    item_id = IntField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Tình trạng"), choices=PlanItem.ItemStatus.choices)
    outcome = forms.CharField(label=_("Kết quả"), required=False)


class NoteForm(VersionedForm):
    text = text(_("Nội dung thăm, ghi chú"), rows=2)
    on = date_field(_("Ngày"), required=False)


class ReferralForm(VersionedForm):
    # Only the units that are members today: a unit that left the committee takes no new referrals
    # (an old referral to it still shows it, from the record).
    member_unit = IdChoiceField(label=_("Chuyển gửi tới"), queryset=MemberUnit.objects.none())
    reason = text(_("Lý do, nội dung chuyển gửi"), rows=2)
    guardian_consent = forms.BooleanField(label=_("Cha mẹ/người chăm sóc đã đồng ý chia sẻ thông tin"),
                                          required=False)
    child_consent = forms.BooleanField(label=_("Trẻ (từ đủ 7 tuổi) đã đồng ý"), required=False)
    # Without consent only under Law 91/2025/QH15 Art. 19(1), stated with its facts (privacy.services).
    exception = forms.ChoiceField(label=_("Chuyển gửi không cần đồng ý (ngoại lệ)"), required=False,
                                  choices=[("", "—")] + [(b.value, b.label) for b in EXCEPTIONS])
    exception_note = forms.CharField(label=_("Sự việc làm ngoại lệ được áp dụng"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_member_units(self, "member_unit")


class ReferralCloseForm(VersionedForm):
    referral_id = IntField(widget=forms.HiddenInput)
    result = forms.CharField(label=_("Kết quả"), required=False)


class ReviewForm(VersionedForm):
    reviewed_on = date_field(_("Ngày rà soát"))
    harm = forms.ChoiceField(label=_("Mức độ tổn hại"), choices=Rating.choices)
    perpetrator_access = forms.ChoiceField(label=_("Khả năng tiếp cận của người gây hại"), choices=Rating.choices)
    care_obstacles = forms.ChoiceField(label=_("Trở ngại trong môi trường chăm sóc"), choices=Rating.choices)
    recommend_close = forms.BooleanField(label=_("Đề xuất đóng vụ việc"), required=False)
    note = forms.CharField(label=_("Nhận xét"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(VersionedForm):
    outcome = forms.ChoiceField(label=_("Kết quả"), choices=Outcome.choices)
    note = forms.CharField(label=_("Ghi chú"), required=False)


class ReopenForm(VersionedForm):
    reason = forms.CharField(label=_("Lý do mở lại"))


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Tệp (pdf, jpg, png, docx, xlsx)"))
    description = forms.CharField(label=_("Mô tả"), required=False)


class ReassignForm(VersionedForm):
    # Typed as an integer, not a choice: the service names the refusal (not a worker, not of
    # this commune) in its own words instead of a generic "not one of the choices".
    owner = IntField(label=_("Giao cho"), required=False, widget=forms.Select)
    reason = text(_("Lý do giao lại"), required=False, rows=2)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].widget.choices = [("", "—")] + [
            (u.pk, u.display_name) for u in candidates]
