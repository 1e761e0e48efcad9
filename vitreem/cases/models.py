"""Child-protection cases following Decree 56/2017/NĐ-CP, chapter III.

A case is a report about one child (form 01) carried through the legal steps: verification and
initial assessment (form 02), emergency intervention or temporary isolation when the child is in
danger, specific assessment and case meeting (form 03), the support and intervention plan
(form 04) approved by the commune chairman's decision (form 05), implementation, review (form 06),
closure. The status only moves through the services in services.py, each of which records an event.

Deadlines are stored on the case (`next_due_at`) so the overdue lists are one indexed query.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from vitreem.places.fields import ProvinceCodeField
from vitreem.places.models import AdminUnit


class Status(models.TextChoices):
    RECEIVED = "received", _("Đã tiếp nhận")
    VERIFIED = "verified", _("Đã xác minh, đánh giá ban đầu")
    EMERGENCY = "emergency", _("Can thiệp khẩn cấp / cách ly tạm thời")
    ASSESSED = "assessed", _("Đã đánh giá chi tiết, chờ lập kế hoạch")
    PLANNED = "planned", _("Kế hoạch chờ phê duyệt")
    IMPLEMENTING = "implementing", _("Đang thực hiện kế hoạch")
    TO_CLOSE = "to_close", _("Chờ quyết định đóng")
    CLOSED = "closed", _("Đã đóng")


OPEN_STATUSES = [s for s in Status.values if s != Status.CLOSED]


class Channel(models.TextChoices):
    HOTLINE = "hotline_111", _("Tổng đài 111")
    POLICE = "police", _("Công an")
    SCHOOL = "school", _("Nhà trường")
    HEALTH = "health", _("Cơ sở y tế")
    COMMUNE = "commune", _("UBND xã")
    COMMUNITY = "community", _("Cộng đồng báo tin")
    SELF = "self", _("Trẻ tự báo")


class Concern(models.TextChoices):
    PHYSICAL_VIOLENCE = "physical_violence", _("Bạo lực thể chất")
    PSYCHOLOGICAL_VIOLENCE = "psychological_violence", _("Bạo lực tinh thần")
    SEXUAL_ABUSE = "sexual_abuse", _("Xâm hại tình dục")
    EXPLOITATION = "exploitation", _("Bóc lột, lao động trẻ em")
    TRAFFICKING = "trafficking", _("Mua bán trẻ em")
    NEGLECT = "neglect", _("Bỏ rơi, bỏ mặc")
    CHILD_MARRIAGE = "child_marriage", _("Tảo hôn")
    CONSANGUINEOUS_MARRIAGE = "consanguineous", _("Hôn nhân cận huyết thống")
    INJURY = "injury", _("Tai nạn, thương tích, đuối nước")
    CONFLICT_WITH_LAW = "conflict_with_law", _("Vi phạm pháp luật")
    OTHER = "other", _("Khác")


# Law on Children 2016, Art. 4: violence includes physical, psychological and sexual abuse;
# these feed the National Action Programme's "abused children" indicator.
VIOLENCE_CONCERNS = [Concern.PHYSICAL_VIOLENCE, Concern.PSYCHOLOGICAL_VIOLENCE, Concern.SEXUAL_ABUSE]


class Perpetrator(models.TextChoices):
    UNKNOWN = "unknown", _("Chưa rõ")
    PARENT = "parent", _("Cha/mẹ")
    STEP_PARENT = "step_parent", _("Cha/mẹ kế")
    RELATIVE = "relative", _("Người thân trong gia đình")
    TEACHER = "teacher", _("Giáo viên, nhà trường")
    NEIGHBOUR = "neighbour", _("Hàng xóm, người quen")
    STRANGER = "stranger", _("Người lạ")
    EMPLOYER = "employer", _("Chủ sử dụng lao động")
    PEER = "peer", _("Bạn bè, trẻ khác")
    NONE = "none", _("Không có (tai nạn, tự gây)")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Đã loại bỏ nguy cơ, trẻ an toàn")
    UNFOUNDED = "unfounded", _("Xác minh không có sự việc")
    TRANSFERRED = "transferred", _("Chuyển nơi khác quản lý")
    AGED_OUT = "aged_out", _("Trẻ đã đủ 16 tuổi")
    OTHER = "other", _("Khác")


class Rating(models.TextChoices):
    HIGH = "high", _("Cao")
    MEDIUM = "medium", _("Trung bình")
    LOW = "low", _("Thấp")


class CaseRules(models.Model):
    """Deadlines a province sets for its communes. Decree 56/2017 Art. 28(1) gives 5 working days for
    the plan; some commune procedures say 7: the figure is data, defaulting to the setting
    VITREEM_CASE_PLAN_WORKING_DAYS."""

    province_code = models.CharField(max_length=4, unique=True, help_text="Province code (legacy or 2025)")
    plan_working_days = models.PositiveSmallIntegerField(default=5)
    due_soon_hours = models.PositiveSmallIntegerField(default=48)

    class Meta:
        verbose_name = _("quy định thời hạn vụ việc")
        verbose_name_plural = _("quy định thời hạn vụ việc")


class WorkdayOverride(models.Model):
    """Days that differ from the holiday library: a Saturday made a working day to make up for a
    bridge holiday, or an extra day off decided by the Prime Minister or the province."""

    day = models.DateField(unique=True)
    is_working = models.BooleanField()
    note = models.CharField(max_length=200, blank=True)


class Case(models.Model):
    code = models.CharField(max_length=20, unique=True)
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+",
                             help_text="The commune managing the case; scope filters on it")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_cases")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.RECEIVED, db_index=True)

    # Form 01: the report.
    received_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=15, choices=Channel.choices)
    reporter_anonymous = models.BooleanField(default=False)
    reporter_name = models.CharField(max_length=150, blank=True)
    reporter_phone = models.CharField(max_length=20, blank=True)
    reporter_relation = models.CharField(max_length=100, blank=True)
    place = models.CharField(max_length=255, help_text="Where it happened")
    concern = models.CharField(max_length=25, choices=Concern.choices, db_index=True)
    perpetrator = models.CharField(max_length=15, choices=Perpetrator.choices, default=Perpetrator.UNKNOWN)
    in_danger = models.BooleanField(default=False, help_text="Life, health or dignity seriously at risk")
    summary = models.TextField()

    # Form 02.
    verified_on = models.DateField(null=True, blank=True)
    verification = models.TextField(blank=True)
    # Emergency intervention (Decree 56/2017, Arts. 26(3), 31) and temporary isolation (Art. 32).
    emergency_due_at = models.DateTimeField(null=True, blank=True)
    emergency_done_at = models.DateTimeField(null=True, blank=True)
    emergency_action = models.TextField(blank=True)
    isolation_place = models.CharField(max_length=255, blank=True)
    isolation_start = models.DateField(null=True, blank=True)
    isolation_until = models.DateField(null=True, blank=True)
    isolation_decision = models.CharField(max_length=60, blank=True)
    isolation_ended_on = models.DateField(null=True, blank=True)
    # Decree 56/2017, Art. 32(3): isolation past 15 days only at a competent authority's written request.
    isolation_request_number = models.CharField(max_length=60, blank=True,
                                                help_text="Number of the competent authority's written request")
    isolation_request_date = models.DateField(null=True, blank=True)
    isolation_request_body = models.CharField(max_length=200, blank=True, help_text="The authority that asked")
    # Form 03 and the case meeting.
    assessed_on = models.DateField(null=True, blank=True)
    assessment = models.TextField(blank=True)
    meeting_minutes = models.TextField(blank=True)
    plan_due_on = models.DateField(null=True, blank=True)
    plan_drafted_on = models.DateField(null=True, blank=True)
    # Decree 56/2017, Art. 28(4): the chairman decides on the submitted plan within 2 working days.
    approval_due_on = models.DateField(null=True, blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    # Closure.
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    deadlines_missed = models.PositiveSmallIntegerField(default=0, help_text="Deadlines this case has missed")

    # The next deadline (denormalised by services.case_due_refresh) so overdue lists are one query.
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_due_kind = models.CharField(max_length=15, blank=True)

    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        indexes = [models.Index(fields=["unit", "status"]), models.Index(fields=["owner", "next_due_at"])]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    @property
    def isolation_active(self) -> bool:
        return self.isolation_start is not None and self.isolation_ended_on is None

    @property
    def is_violence(self) -> bool:
        return self.concern in VIOLENCE_CONCERNS

    @property
    def current_plan(self) -> Plan | None:
        return self.plans.exclude(status=Plan.State.SUPERSEDED).order_by("-number").first()


class CaseEvent(models.Model):
    """The timeline: every transition, visit, note and document of a case."""

    class Kind(models.TextChoices):
        INTAKE = "intake", _("Tiếp nhận thông tin")
        UPDATE = "update", _("Sửa thông tin")
        VERIFY = "verify", _("Xác minh, đánh giá ban đầu")
        EMERGENCY = "emergency", _("Can thiệp khẩn cấp")
        ISOLATE = "isolate", _("Cách ly tạm thời")
        ISOLATION_EXTEND = "isolation_extend", _("Gia hạn cách ly")
        ISOLATION_END = "isolation_end", _("Kết thúc cách ly")
        ASSESS = "assess", _("Đánh giá chi tiết, họp")
        PLAN = "plan", _("Lập kế hoạch")
        APPROVE = "approve", _("Phê duyệt kế hoạch")
        ITEM = "item", _("Cập nhật hoạt động hỗ trợ")
        VISIT = "visit", _("Thăm gia đình, ghi chú")
        REFERRAL = "referral", _("Chuyển gửi")
        REFERRAL_CLOSE = "referral_close", _("Kết thúc chuyển gửi")
        REVIEW = "review", _("Rà soát, đánh giá")
        CLOSE = "close", _("Đóng vụ việc")
        REOPEN = "reopen", _("Mở lại")
        ATTACHMENT = "attachment", _("Đính kèm tệp")
        REASSIGN = "reassign", _("Giao lại vụ việc")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    province_code = ProvinceCodeField(source="case")  # the child's 2025 province (places/fields.py)

    class Meta:
        ordering = ["-at", "-pk"]

    @property
    def to_status_label(self) -> str:
        """The step the case moved to, as the page says it (the stored value is a code)."""
        return str(Status(self.to_status).label) if self.to_status in Status.values else self.to_status


class Plan(models.Model):
    """Form 04, approved by the commune chairman's decision (form 05)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Dự thảo")
        APPROVED = "approved", _("Đã phê duyệt")
        SUPERSEDED = "superseded", _("Đã thay thế")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    number = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    drafted_on = models.DateField()
    goal = models.TextField()
    review_on = models.DateField(help_text="Review date set by the plan")
    decision_number = models.CharField(max_length=60, blank=True)
    approved_on = models.DateField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    province_code = ProvinceCodeField(source="case")  # the child's 2025 province (places/fields.py)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="plan_case_number")]


class PlanItem(models.Model):
    class Kind(models.TextChoices):
        MEDICAL = "medical", _("Chăm sóc y tế")
        PSYCHOLOGICAL = "psychological", _("Hỗ trợ tâm lý")
        LEGAL = "legal", _("Trợ giúp pháp lý")
        ALTERNATIVE_CARE = "alternative_care", _("Chăm sóc thay thế")
        EDUCATION = "education", _("Hỗ trợ giáo dục")
        FAMILY_COUNSELLING = "family_counselling", _("Tư vấn gia đình")
        MATERIAL = "material", _("Hỗ trợ vật chất")
        REFERRAL = "referral", _("Chuyển gửi")

    class ItemStatus(models.TextChoices):
        PLANNED = "planned", _("Chưa thực hiện")
        IN_PROGRESS = "in_progress", _("Đang thực hiện")
        DONE = "done", _("Đã hoàn thành")
        CANCELLED = "cancelled", _("Huỷ")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=500)
    responsible = models.CharField(max_length=200, help_text="Person or agency responsible")
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default=ItemStatus.PLANNED)
    outcome = models.TextField(blank=True)
    province_code = ProvinceCodeField(source="plan")  # the child's 2025 province (places/fields.py)

    class Meta:
        ordering = ["due_on", "pk"]


class Review(models.Model):
    """Form 06: harm, the perpetrator's access and obstacles in the care environment, each rated."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    harm = models.CharField(max_length=6, choices=Rating.choices)
    perpetrator_access = models.CharField(max_length=6, choices=Rating.choices)
    care_obstacles = models.CharField(max_length=6, choices=Rating.choices)
    recommend_close = models.BooleanField()
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    province_code = ProvinceCodeField(source="case")  # the child's 2025 province (places/fields.py)

    class Meta:
        ordering = ["-reviewed_on", "-pk"]


class Referral(models.Model):
    """A referral to another agency; while it is open that agency's users see the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    member_unit = models.ForeignKey("accounts.MemberUnit", on_delete=models.PROTECT, related_name="case_referrals")
    reason = models.TextField()
    # Law on Children 2016 Art. 33 and Decree 56/2017: consent of the child aged 7+ and the guardian.
    child_consent = models.BooleanField(null=True, help_text="None when the child is under 7")
    guardian_consent = models.BooleanField()
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)
    province_code = ProvinceCodeField(source="case")  # the child's 2025 province (places/fields.py)

    class Meta:
        indexes = [models.Index(fields=["member_unit", "closed_at"])]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _attachment_path(instance: Attachment, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"cases/{instance.case_id}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    """A scan or photo, stored on disk under MEDIA_ROOT (never served directly: see views.attachment)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    description = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="case")  # the child's 2025 province (places/fields.py)


class Notification(models.Model):
    """An in-app notice that a deadline is near or missed (also e-mailed when configured)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=15)  # due_soon, overdue
    due_kind = models.CharField(max_length=15)
    due_at = models.DateTimeField()
    message = models.CharField(max_length=300)  # as written (the server's language): e-mails, old notices
    params = models.JSONField(default=dict, blank=True)  # its facts, worded when shown (notifications.notice_text)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)
    province_code = ProvinceCodeField(source="case")  # the child's 2025 province (places/fields.py)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "case", "kind", "due_kind", "due_at"],
                                               name="case_notification_once")]
        ordering = ["-created_at"]

    @property
    def text(self) -> str:
        from .notifications import notice_text

        return notice_text(self)


def end_of_day(day: dt.date) -> dt.datetime:
    """A date deadline falls due at the end of that day (local time): overdue from the next midnight."""
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
