"""Personal data protection (Law 91/2025/QH15 on Personal Data Protection, in force 1 January 2026).

- `Purpose`: the register of processing purposes and the legal basis of each (Art. 3(2): data only
  for a specific, clear purpose; Art. 19(1): processing without consent).
- `Consent`: a consent given for one purpose (Art. 9(4)(a)), by the child aged 7 or more and the legal
  representative where Art. 24(2) asks both, with who gave it, when, and who recorded it.
- `SubjectRequest`: a data subject's request (Art. 4(1)(c)–(d)) — access, correction, restriction,
  deletion — routed to the commune holding the record, with its deadline and its answer.
- `RequestDeadline`, `RetentionRule`: dated rules (data, not constants): the rule in force on a day
  is the latest whose `effective_from` is on or before it.
- `RetentionApplied`: one row per record a retention rule was applied to (with its audit row).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vitreem.places.fields import ProvinceCodeField


class Basis(models.TextChoices):
    """The legal ground a purpose rests on (Law 91/2025/QH15)."""

    CONSENT = "consent", _("Sự đồng ý của chủ thể dữ liệu (Điều 9; Điều 24 khoản 2)")
    VITAL = "19_1_a", _("Bảo vệ tính mạng, sức khỏe trong trường hợp cấp bách (Điều 19 khoản 1 điểm a)")
    EMERGENCY = "19_1_b", _("Phòng, chống tội phạm và vi phạm pháp luật (Điều 19 khoản 1 điểm b)")
    STATE = "19_1_c", _("Phục vụ hoạt động của cơ quan nhà nước, quản lý nhà nước theo quy định của pháp luật "
                        "(Điều 19 khoản 1 điểm c)")
    LAW = "19_1_dd", _("Trường hợp khác theo quy định của pháp luật (Điều 19 khoản 1 điểm đ)")


# The exceptions to consent a disclosing action may record instead of a consent (Art. 19(1)).
EXCEPTIONS = [Basis.VITAL, Basis.EMERGENCY, Basis.STATE, Basis.LAW]


class Purpose(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    basis = models.CharField(max_length=10, choices=Basis.choices)
    law = models.TextField(help_text="The laws that give the duty, article by article")
    data = models.TextField(help_text="Kinds of personal data processed")
    # A purpose that publishes or discloses a child's private information needs the consent of the
    # child aged 7 or more and of the legal representative (Art. 24(2)), whatever its basis for the rest.
    discloses = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("mục đích xử lý")
        verbose_name_plural = _("mục đích xử lý")

    def __str__(self) -> str:
        return self.name


class Consent(models.Model):
    class Method(models.TextChoices):
        # Art. 9(3): expressed clearly, specifically, in a form that can be printed or copied in writing.
        WRITTEN = "written", _("Văn bản có chữ ký")
        ELECTRONIC = "electronic", _("Điện tử, định dạng kiểm chứng được")

    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="consents")
    unit = models.ForeignKey("places.AdminUnit", on_delete=models.PROTECT, related_name="+",
                             help_text="The commune holding the record when the consent was recorded (scope)")
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="consents")
    child_age = models.PositiveSmallIntegerField(help_text="The child's age on the day of consent")
    child_agrees = models.BooleanField(null=True, help_text="None when the child was under 7")
    representative_name = models.CharField(max_length=150)
    representative_relationship = models.CharField(max_length=40)
    given_on = models.DateField()
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.WRITTEN)
    evidence = models.CharField(max_length=200, help_text="Where the signed or electronic consent is kept")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    withdrawal_note = models.CharField(max_length=255, blank=True)
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        ordering = ["-given_on", "-pk"]
        indexes = [models.Index(fields=["child", "purpose"])]
        verbose_name = _("sự đồng ý")
        verbose_name_plural = _("sự đồng ý")

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Xem, cung cấp dữ liệu")
    CORRECTION = "correction", _("Chỉnh sửa dữ liệu")
    RESTRICTION = "restriction", _("Hạn chế xử lý")
    DELETION = "deletion", _("Xóa dữ liệu")


class RequestDeadline(models.Model):
    """How long a request of a kind may take, from a date on (Art. 4(5): the Government sets the time)."""

    kind = models.CharField(max_length=12, choices=RequestKind.choices)
    effective_from = models.DateField()
    reply_working_days = models.PositiveSmallIntegerField(help_text="Working days to acknowledge the request")
    complete_days = models.PositiveSmallIntegerField(help_text="Days to carry it out")
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["kind", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["kind", "effective_from"], name="privacy_deadline_once")]
        verbose_name = _("thời hạn giải quyết yêu cầu")
        verbose_name_plural = _("thời hạn giải quyết yêu cầu")


class SubjectRequest(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Đã tiếp nhận")
        ACKNOWLEDGED = "acknowledged", _("Đã phản hồi, đang giải quyết")
        DONE = "done", _("Đã thực hiện")
        REFUSED = "refused", _("Không thực hiện (có lý do)")

    class Requester(models.TextChoices):
        REPRESENTATIVE = "representative", _("Người đại diện theo pháp luật")
        SUBJECT = "subject", _("Chính người được dữ liệu phản ánh (đã đủ 16 tuổi)")

    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="data_requests")
    unit = models.ForeignKey("places.AdminUnit", on_delete=models.PROTECT, related_name="+",
                             help_text="The commune holding the record: the request is routed to it")
    kind = models.CharField(max_length=12, choices=RequestKind.choices)
    requester = models.CharField(max_length=16, choices=Requester.choices, default=Requester.REPRESENTATIVE)
    requester_name = models.CharField(max_length=150)
    details = models.TextField(blank=True, help_text="What is asked (the fields to correct…)")
    received_on = models.DateField()
    reply_due_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    answer = models.TextField(blank=True)
    acknowledged_on = models.DateField(null=True, blank=True)
    answered_on = models.DateField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["unit", "status"])]
        verbose_name = _("yêu cầu của chủ thể dữ liệu")
        verbose_name_plural = _("yêu cầu của chủ thể dữ liệu")

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.RECEIVED, self.Status.ACKNOWLEDGED)


class Restriction(models.Model):
    """A restriction of processing a request obtained (Art. 10): disclosures that rest on consent stop;
    processing under Art. 19 goes on (Art. 10(1) excepts it)."""

    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="restrictions")
    request = models.OneToOneField(SubjectRequest, on_delete=models.PROTECT, related_name="restriction")
    start = models.DateField()
    end = models.DateField(null=True, blank=True, help_text="The day it was lifted (not in force from then on)")
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)


class RecordKind(models.TextChoices):
    CHILD = "child", _("Hồ sơ trẻ em (sổ theo dõi)")
    CASE = "case", _("Hồ sơ vụ việc đã đóng")


class Anchor(models.TextChoices):
    TURNS_16 = "turns_16", _("Từ ngày trẻ đủ 16 tuổi")
    CLOSED = "closed", _("Từ ngày đóng vụ việc")


class RetentionRule(models.Model):
    kind = models.CharField(max_length=10, choices=RecordKind.choices)
    effective_from = models.DateField()
    years = models.PositiveSmallIntegerField()
    anchor = models.CharField(max_length=10, choices=Anchor.choices, default=Anchor.TURNS_16)
    source = models.CharField(max_length=300, help_text="The decision that sets the period")

    class Meta:
        ordering = ["kind", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["kind", "effective_from"], name="privacy_retention_once")]
        verbose_name = _("quy định thời hạn lưu trữ")
        verbose_name_plural = _("quy định thời hạn lưu trữ")


class RetentionApplied(models.Model):
    rule = models.ForeignKey(RetentionRule, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=RecordKind.choices)
    object_id = models.PositiveBigIntegerField()
    unit = models.ForeignKey("places.AdminUnit", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    applied_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(SubjectRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The 2025 province of the record's commune (places/fields.py): a row about one child's record or case.
    province_code = ProvinceCodeField(source="unit")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="privacy_retention_applied_once")]
