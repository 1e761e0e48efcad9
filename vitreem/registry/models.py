"""The register of children and households.

Everything is dated: residences, special-circumstance episodes, risk factors and poverty status
have start/end dates or a year, so "as of 31/12/2022" gives the figures as they were then.
Records are never deleted: a child's record ends (death, leaving the province, merged duplicate).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vitreem.core.text import LocalName
from vitreem.places.fields import ProvinceCodeField
from vitreem.places.models import AdminUnit

# Law on Children 2016, Art. 1: a child is a person under 16.
CHILD_AGE_LIMIT = 16


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")


class Ethnicity(models.Model):
    """The 54 ethnic groups (code table of the General Statistics Office); `aliases` holds spelling variants."""

    code = models.CharField(max_length=4, unique=True)
    name = models.CharField(max_length=60)
    aliases = models.JSONField(default=list, blank=True)
    search_key = models.CharField(max_length=60, db_index=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SpecialGroup(LocalName, models.Model):
    """Groups of children in special circumstances (Law on Children Art. 10) and the sub-groups of
    Decree 56/2017. A sub-group has `parent` set; episodes may name either."""

    code = models.CharField(max_length=10, unique=True, help_text="'1'…'14'; sub-groups '4.1', '9.2'…")
    number = models.PositiveSmallIntegerField(help_text="The Art. 10 group number (1–14)")
    # The decree's own wording: sub-group 3.10 of Decree 56/2017 Art. 5 is over 200 characters.
    name = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="subgroups")
    search_key = models.CharField(max_length=300, db_index=True)

    class Meta:
        ordering = ["number", "code"]

    def __str__(self) -> str:
        return f"{self.code}. {self.name}"


class RiskFactor(LocalName, models.Model):
    """Configurable risk factors of falling into special circumstances."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PovertyStatus(models.TextChoices):
    POOR = "poor", _("Hộ nghèo")
    NEAR_POOR = "near_poor", _("Hộ cận nghèo")
    NONE = "none", _("Không")


class Household(models.Model):
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="households",
                             help_text="Commune of residence (version in force today)")
    village = models.CharField(max_length=120, blank=True, help_text="Thôn, làng, tổ dân phố")
    head_name = models.CharField(max_length=120)
    head_key = models.CharField(max_length=120, db_index=True)
    address = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="unit")

    def __str__(self) -> str:
        return f"{self.head_name} — {self.village}"


class HouseholdPoverty(models.Model):
    """The commune's classification of a household for one year (Decree 07/2021 standard)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="poverty")
    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=PovertyStatus.choices)
    decision_number = models.CharField(max_length=60, blank=True)
    decision_date = models.DateField(null=True, blank=True)
    province_code = ProvinceCodeField(source="household")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="poverty_household_year")]
        indexes = [models.Index(fields=["year", "status"]),
                   # one province's classifications of a year, the households with them (rules.q_poverty_in_force)
                   models.Index(fields=["province_code", "year", "status", "household"],
                                name="poverty_province_year")]


class PovertyReview(models.Model):
    """A commune's annual poverty review, decided: the commune chairman's decision recognising its list
    of poor and near-poor households for `year` (Decision 24/2021/QĐ-TTg, Art. 4: the annual review runs
    from 1 September to 14 December and ends with that recognition). The classifications of a year count
    for a commune only from this decision on (registry.rules.poverty_years_on) — households classified
    one by one, or by an import, never put a year in force by themselves (issue 21 item 1).

    Not child data: one row per commune and year, so no province code column (a reference table)."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="poverty_reviews")
    year = models.PositiveSmallIntegerField(help_text="The year the list is for")
    decided_on = models.DateField(help_text="Date of the decision recognising the list")
    decision_number = models.CharField(max_length=60, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="poverty_review_unit_year")]
        indexes = [models.Index(fields=["year", "decided_on"])]

    def __str__(self) -> str:
        return f"{self.unit} — {self.year}"


class Schooling(models.TextChoices):
    IN_SCHOOL = "in_school", _("Đang đi học")
    DROPPED_OUT = "dropped_out", _("Bỏ học")
    NOT_SCHOOL_AGE = "not_school_age", _("Chưa đến tuổi đi học")
    UNKNOWN = "unknown", _("Chưa rõ")


class SchoolLevel(models.TextChoices):
    PRESCHOOL = "preschool", _("Mầm non")
    PRIMARY = "primary", _("Tiểu học")
    LOWER_SECONDARY = "lower_secondary", _("Trung học cơ sở")
    UPPER_SECONDARY = "upper_secondary", _("Trung học phổ thông")
    VOCATIONAL = "vocational", _("Giáo dục nghề nghiệp")
    HIGHER = "higher", _("Cao đẳng, đại học")


class Disability(models.TextChoices):
    NONE = "none", _("Không")
    DISABLED = "disabled", _("Khuyết tật nhẹ")
    SEVERE = "severe", _("Khuyết tật nặng")
    PARTICULARLY_SEVERE = "particularly_severe", _("Khuyết tật đặc biệt nặng")


class EndReason(models.TextChoices):
    DIED = "died", _("Đã mất")
    LEFT_PROVINCE = "left", _("Chuyển khỏi tỉnh")
    MERGED = "merged", _("Hồ sơ trùng, đã gộp")
    OTHER = "other", _("Lý do khác (ghi rõ)")


class BirthPrecision(models.TextChoices):
    DAY = "day", _("Đủ ngày tháng năm")
    MONTH = "month", _("Chỉ tháng và năm")
    YEAR = "year", _("Chỉ năm")


class Child(models.Model):
    # Name as written: family, middle(s), given (the given name is last: people sort by it).
    family_name = models.CharField(max_length=40)
    middle_name = models.CharField(max_length=60, blank=True)
    given_name = models.CharField(max_length=40)
    full_name = models.CharField(max_length=150)
    # Indexed in Meta (plain b-tree): the name search is a word search no LIKE index serves, and
    # db_index=True would add a second, pattern-ops index on PostgreSQL to every write.
    name_key = models.CharField(max_length=150, help_text="Folded full name for search")
    given_key = models.CharField(max_length=40)

    birth_date = models.DateField(db_index=True, help_text="For partial dates: the 1st of the month/year")
    birth_precision = models.CharField(max_length=5, choices=BirthPrecision.choices, default=BirthPrecision.DAY)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    # Not indexed: 54 values over 200,000 children, never selective enough to be used (one index fewer
    # to maintain on every write; the same holds for merged_into, ended_on and created_by).
    ethnicity = models.ForeignKey(Ethnicity, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    personal_id = models.CharField(max_length=12, blank=True, db_index=True)
    personal_id_mismatch = models.BooleanField(default=False, help_text="ID structure contradicts birth year/sex")
    birth_registered = models.BooleanField(default=True)

    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Indexed through the two (unit, …) indexes of Meta, which serve unit lookups as well.
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+", db_index=False,
                             help_text="Current commune of residence; scope filters on it")
    village = models.CharField(max_length=120, blank=True)

    schooling = models.CharField(max_length=15, choices=Schooling.choices, default=Schooling.UNKNOWN)
    school_level = models.CharField(max_length=16, choices=SchoolLevel.choices, blank=True)
    dropout_date = models.DateField(null=True, blank=True)
    disability = models.CharField(max_length=20, choices=Disability.choices, default=Disability.NONE)

    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    db_index=False)

    note = models.TextField(blank=True)
    source = models.CharField(max_length=40, blank=True, help_text="form, api, import:<id>, demo…")
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock: incremented on every change")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", db_index=False)
    # The child's 2025 province (places/fields.py): every table of child data carries it.
    province_code = ProvinceCodeField(source="unit")

    class Meta:
        indexes = [
            models.Index(fields=["unit", "given_key", "name_key"]),
            models.Index(fields=["unit", "birth_date"]),
            models.Index(fields=["given_key", "name_key", "id"], name="child_list_order"),
            models.Index(fields=["name_key"], name="child_name_key"),
            # The open records of each unit (migration 0014): the child list's capped count and the home
            # pages' counts read this index alone, without a visit of each row to test ended_on.
            models.Index(fields=["unit"], condition=models.Q(ended_on__isnull=True), name="child_open_unit"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def age_on(self, day: dt.date) -> int:
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class ChildNameWord(models.Model):
    """One word of a child's folded name, with what a name search filters and sorts by: the name
    search's own index on PostgreSQL (issue 18, migration 0018). Written by the database itself —
    triggers on registry_child keep a row per distinct word of every child's `name_key` — so every way
    a child is written (forms, API, imports, merges, COPY) keeps it in step; nothing in Python writes it.

    Why a table: a word as common as "thi" (the middle name of most girls: 33,000 children of the demo
    province) matched through the trigram index made PostgreSQL visit and re-test every matching row
    of the register, that is every page of the province's children. Here the matches are one range of
    the (province, word) index, read from the index alone (`child_word_search` carries the columns).
    On SQLite (the embedded default, one province) the table stays empty and the search tests the
    names as before (selectors.word_search_keys)."""

    pk = models.CompositePrimaryKey("child_id", "word")
    child_id = models.BigIntegerField()
    word = models.CharField(max_length=150)
    province_code = ProvinceCodeField(source="unit")  # the child's: the triggers copy it
    # The child's current commune (the scope's filter: core.scope.scope_filter reads `unit`) and
    # household (the poverty filter's rules read `household`): plain ids, no constraint — the
    # triggers copy them from registry_child, whose own keys hold.
    unit = models.ForeignKey(AdminUnit, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                             related_name="+")
    household = models.ForeignKey(Household, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                  null=True, related_name="+")
    given_key = models.CharField(max_length=40)
    name_key = models.CharField(max_length=150)
    ended_on = models.DateField(null=True)


class Residence(models.Model):
    """Where a child lived, dated. The 2025 reform ends legacy residences on 2025-06-30 and opens
    the 2025 unit on 2025-07-01, so past figures keep their past units."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="residences")
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    province_code = ProvinceCodeField(source="child")

    class Meta:
        # A commune's residences on a day, with their children (`include`): the one pass's count of one
        # commune and its payroll's residents read them from the index alone (registry/0016).
        indexes = [models.Index(fields=["unit", "start", "end"], include=["child"], name="residence_unit_days"),
                   # "Does anyone still live in these communes on D?" (benefits.selectors: the legacy
                   # communes after the 2025 reform) asked as `end IS NULL` and `end >= D`: a seek per
                   # commune here; with (unit, start, end) it read every residence the communes ever had.
                   models.Index(fields=["unit", "end"], name="residence_unit_end"),
                   # Its open branch (`end IS NULL AND start <= D`) by the open residences alone: PostgreSQL
                   # still chose (unit, start, end) for it, 10 ms for 272 legacy communes (registry/0015).
                   models.Index(fields=["unit", "start"], condition=Q(end__isnull=True), name="residence_open_unit")]
        constraints = [models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                                              name="residence_dates")]


class Guardian(models.Model):
    class Relationship(models.TextChoices):
        FATHER = "father", _("Cha")
        MOTHER = "mother", _("Mẹ")
        GRANDPARENT = "grandparent", _("Ông/bà")
        SIBLING = "sibling", _("Anh/chị")
        RELATIVE = "relative", _("Họ hàng")
        FOSTER = "foster", _("Người nhận chăm sóc thay thế")
        OTHER = "other", _("Khác")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="guardians")
    full_name = models.CharField(max_length=150)
    name_key = models.CharField(max_length=150, db_index=True)
    relationship = models.CharField(max_length=12, choices=Relationship.choices)
    phone = models.CharField(max_length=20, blank=True)
    is_primary = models.BooleanField(default=True)
    province_code = ProvinceCodeField(source="child")


class SpecialEpisode(models.Model):
    """A period in which a child is in a special-circumstance group."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="special_episodes")
    group = models.ForeignKey(SpecialGroup, on_delete=models.PROTECT, related_name="+",
                              help_text="The Art. 10 group (top level)")
    subgroup = models.ForeignKey(SpecialGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    evidence = models.CharField(max_length=255, blank=True, help_text="Decision, certificate or record")
    # The Decree 20/2021 Art. 5(1) point this circumstance is ("" = none): what makes a child "without a
    # source of nurture" for the monthly allowance. Set from the sub-group where it tells
    # (codes.NURTURE_BY_SUBGROUP), chosen by the worker where it does not (2.2 adopted or not; 3.2 a parent
    # in a facility or only unable to care).
    nurture_case = models.CharField(max_length=2, blank=True, default="")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="child")

    class Meta:
        indexes = [models.Index(fields=["group", "start", "end"])]
        constraints = [models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                                              name="special_episode_dates")]


class RiskAssessment(models.Model):
    """A dated assessment of a child's risk factors. It opens the factors found and ends those no
    longer present (see services.risk_assess); `ChildRisk` rows are the resulting periods."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="risk_assessments")
    assessed_on = models.DateField()
    note = models.TextField(blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="child")


class ChildRisk(models.Model):
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="risks")
    factor = models.ForeignKey(RiskFactor, on_delete=models.PROTECT, related_name="+")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    assessment = models.ForeignKey(RiskAssessment, on_delete=models.CASCADE, related_name="risks")
    province_code = ProvinceCodeField(source="child")

    class Meta:
        indexes = [models.Index(fields=["start", "end"])]


class DuplicateDecision(models.Model):
    """An officer's verdict on a candidate pair: merged, or distinct (never proposed again)."""

    class Verdict(models.TextChoices):
        MERGED = "merged", _("Đã gộp")
        DISTINCT = "distinct", _("Khác nhau")

    child_a = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    child_b = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=255, blank=True)
    province_code = ProvinceCodeField(source="child_a")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child_a", "child_b"], name="duplicate_pair_unique")]


class DuplicateCandidate(models.Model):
    """A pair of records that may be the same child, waiting for an officer's review."""

    class Status(models.TextChoices):
        OPEN = "open", _("Chờ xem xét")
        MERGED = "merged", _("Đã gộp")
        DISTINCT = "distinct", _("Khác nhau")

    child_a = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    child_b = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    source = models.CharField(max_length=40, blank=True, help_text="scan, register, import:<id>")
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+",
                             help_text="Unit of child_a, for scoping the review queue")
    created_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="child_a")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child_a", "child_b"], name="duplicate_candidate_unique")]
        ordering = ["-score"]
