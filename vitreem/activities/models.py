"""Activities and money: communication, training, campaigns, recreation, play points, partners, budgets.

One `Activity` table holds the four kinds of activity (communication, training, campaign, recreation)
with the fields specific to each kind: the kinds share dates, place, organiser, partners, budget line
and status, and the lists, calendar and report read them together. A multi-table layout would cost a
join on every list for a handful of integer columns. The service validates which fields a kind uses.

Money is integer VND everywhere.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vitreem.places.fields import ProvinceCodeField
from vitreem.places.models import AdminUnit


class Kind(models.TextChoices):
    COMMUNICATION = "communication", _("Truyền thông")
    TRAINING = "training", _("Tập huấn")
    CAMPAIGN = "campaign", _("Phong trào, chiến dịch")
    RECREATION = "recreation", _("Vui chơi, giải trí")


class Status(models.TextChoices):
    PLANNED = "planned", _("Kế hoạch")
    DONE = "done", _("Đã thực hiện")
    CANCELLED = "cancelled", _("Đã huỷ")


class CommunicationForm(models.TextChoices):
    CONFERENCE = "conference", _("Hội nghị, hội thảo")
    SCHOOL_TALK = "school_talk", _("Nói chuyện chuyên đề tại trường học")
    BROADCAST = "broadcast", _("Loa truyền thanh, phát thanh, truyền hình")
    PRINT = "print", _("Tờ rơi, áp phích, pa-nô")
    SOCIAL_MEDIA = "social_media", _("Mạng xã hội, trang tin điện tử")
    COMPETITION = "competition", _("Hội thi, cuộc thi")
    COMMUNITY = "community", _("Sinh hoạt cộng đồng, họp thôn")


class Topic(models.TextChoices):
    LAW = "law", _("Luật Trẻ em và pháp luật về quyền trẻ em")
    VIOLENCE = "violence", _("Phòng, chống bạo lực, xâm hại trẻ em")
    CHILD_MARRIAGE = "child_marriage", _("Phòng, chống tảo hôn, hôn nhân cận huyết thống")
    INJURY = "injury", _("Phòng, chống đuối nước, tai nạn thương tích")
    ONLINE = "online", _("An toàn cho trẻ em trên môi trường mạng")
    SCHOOLING = "schooling", _("Vận động trẻ em đến trường")
    PARTICIPATION = "participation", _("Quyền tham gia của trẻ em")
    CASE_MANAGEMENT = "case_management", _("Quản lý trường hợp, kỹ năng bảo vệ trẻ em")
    OTHER = "other", _("Khác")


class Audience(models.TextChoices):
    STAFF = "staff", _("Cán bộ làm công tác trẻ em")
    COLLABORATORS = "collaborators", _("Cộng tác viên thôn, tổ dân phố")
    VOLUNTEERS = "volunteers", _("Tình nguyện viên")
    TEACHERS = "teachers", _("Giáo viên")
    PARENTS = "parents", _("Cha mẹ, người chăm sóc trẻ em")
    CHILDREN = "children", _("Trẻ em")


class Occasion(models.TextChoices):
    CHILDRENS_DAY = "childrens_day", _("Ngày Quốc tế Thiếu nhi 1/6")
    MID_AUTUMN = "mid_autumn", _("Tết Trung thu")
    SUMMER = "summer", _("Hoạt động hè")
    SPORTS = "sports", _("Thể dục, thể thao")
    READING = "reading", _("Đọc sách, văn hoá")
    TET = "tet", _("Tết Nguyên đán")
    OTHER = "other", _("Khác")


class PartnerKind(models.TextChoices):
    UN = "un", _("Tổ chức Liên hợp quốc")
    INTL_NGO = "intl_ngo", _("Tổ chức phi chính phủ quốc tế")
    LOCAL_NGO = "local_ngo", _("Tổ chức trong nước")
    BUSINESS = "business", _("Doanh nghiệp")
    OTHER = "other", _("Khác")


class ModelType(models.TextChoices):
    COUNSELLING_POINT = "counselling_point", _("Điểm tư vấn, tham vấn bảo vệ trẻ em")
    COMMUNITY_PROTECTION = "community_protection", _("Mô hình bảo vệ trẻ em dựa vào cộng đồng")
    CHILD_FRIENDLY = "child_friendly", _("Xã, phường phù hợp với trẻ em")
    PLAY_SPACE = "play_space", _("Điểm vui chơi cho trẻ em")
    CHILD_CLUB = "child_club", _("Câu lạc bộ quyền tham gia của trẻ em")
    OTHER = "other", _("Khác")


class Source(models.TextChoices):
    PROVINCIAL = "provincial", _("Ngân sách tỉnh")
    DISTRICT = "district", _("Ngân sách huyện")
    COMMUNE = "commune", _("Ngân sách xã")
    MOBILISATION = "mobilisation", _("Xã hội hoá, vận động")
    INTERNATIONAL = "international", _("Tài trợ quốc tế")


class Purpose(models.TextChoices):
    ALLOWANCES = "allowances", _("Trợ cấp xã hội hằng tháng")
    CASE_SUPPORT = "case_support", _("Hỗ trợ trường hợp trẻ em")
    COMMUNICATION = "communication", _("Truyền thông")
    TRAINING = "training", _("Tập huấn")
    RECREATION = "recreation", _("Vui chơi, giải trí")
    FACILITIES = "facilities", _("Cơ sở vật chất")


class PlayPointType(models.TextChoices):
    PLAYGROUND = "playground", _("Sân chơi ngoài trời")
    COMMUNITY_HOUSE = "community_house", _("Góc vui chơi tại nhà văn hoá")
    LIBRARY = "library", _("Thư viện, góc đọc sách")
    SPORTS = "sports", _("Sân thể thao")
    SCHOOL = "school", _("Khu vui chơi trong trường học")
    OTHER = "other", _("Khác")


class Condition(models.TextChoices):
    GOOD = "good", _("Tốt")
    FAIR = "fair", _("Trung bình")
    POOR = "poor", _("Xuống cấp")


class Partner(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=12, choices=PartnerKind.choices, default=PartnerKind.INTL_NGO)
    country = models.CharField(max_length=80, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("đối tác")
        verbose_name_plural = _("đối tác")

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """A partner's project or protection model: its period, the communes covered, funding and results."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+",
                             help_text="The unit that manages the project (province, district or commune); scope reads it")
    model_type = models.CharField(max_length=24, choices=ModelType.choices, default=ModelType.OTHER)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    funding = models.BigIntegerField(default=0, help_text="VND")
    communes = models.ManyToManyField(AdminUnit, blank=True, related_name="+")
    results = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "name"]
        verbose_name = _("dự án, mô hình")
        verbose_name_plural = _("dự án, mô hình")

    def __str__(self) -> str:
        return f"{self.name} ({self.partner})"

    def active_in(self, start: dt.date, end: dt.date) -> bool:
        return self.start_date <= end and (self.end_date is None or self.end_date >= start)


class BudgetAllocation(models.Model):
    """A budget line: money allocated to a unit (and, for a department, its member unit) for a year,
    from a source, for a purpose. Spending must name one of these lines."""

    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+")
    member_unit = models.ForeignKey("accounts.MemberUnit", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="A department or organisation holding the line")
    source = models.CharField(max_length=14, choices=Source.choices)
    purpose = models.CharField(max_length=14, choices=Purpose.choices)
    amount = models.BigIntegerField(help_text="VND")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["year", "unit__code", "source", "purpose"]
        indexes = [models.Index(fields=["year", "unit"])]
        verbose_name = _("dự toán kinh phí")
        verbose_name_plural = _("dự toán kinh phí")

    def __str__(self) -> str:
        return f"{self.year} · {self.unit} · {self.get_source_display()} · {self.get_purpose_display()}"


class Activity(models.Model):
    kind = models.CharField(max_length=14, choices=Kind.choices, db_index=True)
    title = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    start_date = models.DateField(db_index=True)
    end_date = models.DateField()
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+",
                             help_text="Where it took place (province, district or commune); scope reads it")
    organiser = models.ForeignKey("accounts.MemberUnit", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    partners = models.ManyToManyField(Partner, blank=True, related_name="activities")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    plan_task = models.CharField(max_length=120, blank=True, help_text="Reference of the programme plan task")
    budget_line = models.ForeignKey(BudgetAllocation, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="activities")
    cost = models.BigIntegerField(default=0, help_text="VND spent from the budget line")
    topic = models.CharField(max_length=16, choices=Topic.choices, blank=True)
    note = models.TextField(blank=True)

    # communication
    comm_form = models.CharField(max_length=14, choices=CommunicationForm.choices, blank=True)
    reached_total = models.PositiveIntegerField(default=0)
    reached_children = models.PositiveIntegerField(default=0)
    reached_adults = models.PositiveIntegerField(default=0)
    reached_male = models.PositiveIntegerField(default=0)
    reached_female = models.PositiveIntegerField(default=0)
    materials = models.PositiveIntegerField(default=0, help_text="Leaflets, posters, booklets distributed")

    # training
    audience = models.CharField(max_length=14, choices=Audience.choices, blank=True)
    days = models.DecimalField(max_digits=4, decimal_places=1, default=0)
    topics = models.CharField(max_length=255, blank=True)

    # campaign
    targets = models.TextField(blank=True, help_text="The child targets the campaign integrates")
    units_taking_part = models.ManyToManyField(AdminUnit, blank=True, related_name="+")

    # recreation
    occasion = models.CharField(max_length=14, choices=Occasion.choices, blank=True)
    children_total = models.PositiveIntegerField(default=0)
    children_male = models.PositiveIntegerField(default=0)
    children_female = models.PositiveIntegerField(default=0)
    age_0_5 = models.PositiveIntegerField(default=0)
    age_6_10 = models.PositiveIntegerField(default=0)
    age_11_15 = models.PositiveIntegerField(default=0)
    special_children = models.PositiveIntegerField(default=0, help_text="Children in special circumstances")
    linked_children = models.ManyToManyField("registry.Child", through="RecreationChild", blank=True,
                                             related_name="+")

    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-pk"]
        indexes = [models.Index(fields=["kind", "status", "start_date"]), models.Index(fields=["unit", "start_date"])]
        verbose_name = _("hoạt động")
        verbose_name_plural = _("hoạt động")

    def __str__(self) -> str:
        return self.title


class RecreationChild(models.Model):
    """A named child from the registry who took part in a recreation event (e.g. received a gift)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="child_links")
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="+")
    gift = models.CharField(max_length=200, blank=True)
    gift_value = models.BigIntegerField(default=0, help_text="VND")
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "child"], name="recreation_child_unique")]


class Participant(models.Model):
    """A person on a training's participants list. A course's trainees are its distinct people
    (same folded name, sex and unit): a person listed on several days counts once per course."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participants")
    full_name = models.CharField(max_length=150)
    name_key = models.CharField(max_length=150, db_index=True)
    unit_name = models.CharField(max_length=200, blank=True, help_text="Workplace or commune, as written")
    role = models.CharField(max_length=120, blank=True)
    sex = models.CharField(max_length=1, choices=[("M", _("Nam")), ("F", _("Nữ"))])
    ethnicity = models.CharField(max_length=60, blank=True)
    pre_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    post_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    person_key = models.CharField(max_length=400, help_text="name_key|sex|folded unit: who counts as one trainee")

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["activity", "person_key"])]

    def __str__(self) -> str:
        return self.full_name


class Attachment(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="activities/%Y/")
    title = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)


class PlayPoint(models.Model):
    """A place for children to play. Open on a day D when opened_on <= D and (no closed_on or D < closed_on)."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+", help_text="The commune")
    name = models.CharField(max_length=200)
    point_type = models.CharField(max_length=16, choices=PlayPointType.choices, default=PlayPointType.PLAYGROUND)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    condition = models.CharField(max_length=5, choices=Condition.choices, default=Condition.GOOD)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="play_points")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit__code", "name"]
        verbose_name = _("điểm vui chơi")
        verbose_name_plural = _("điểm vui chơi")

    def __str__(self) -> str:
        return self.name

    def open_on(self, day: dt.date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day < self.closed_on)


class Spending(models.Model):
    """Money spent from a budget line (an activity's cost, a payment, a purchase)."""

    allocation = models.ForeignKey(BudgetAllocation, on_delete=models.PROTECT, related_name="spendings")
    spent_on = models.DateField()
    amount = models.BigIntegerField(help_text="VND")
    activity = models.OneToOneField(Activity, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="spending")
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-spent_on", "-pk"]
        verbose_name = _("khoản chi")
        verbose_name_plural = _("khoản chi")
