"""Sync: the changes a worker made on her phone, applied through the same services as the screens.

Nothing here validates, scopes or audits on its own: each change calls `child_register`,
`child_update`, `guardian_update`, `risk_assess`, `case_intake`, `case_note`, `participant_add`…, so
the rules, the scope (`core.scope`) and the audit rows are the screens' own. What sync adds:

- **idempotency**: a `FieldChange` row keyed by the phone's change id is written first, in the
  change's own transaction; an id seen before gets its stored answer and changes nothing;
- **the recorded time**: every audit row of a synced change carries the time the worker recorded
  it, the time it was synced and the phone's clock offset (`audit_context`), and services that take a
  time (`case_intake(received_at=)`, `case_note(at=)`, `risk_assess(assessed_on=)`) get the recorded one;
- **no silent overwrite**: an edit carries the values the worker saw (`base`) and the record's
  version; a field changed on the server since is a conflict the worker resolves (nothing of the
  change is applied until she does); fields changed on one side only merge;
- **duplicates**: a registration that looks like a child already registered waits in the review
  queue instead of becoming a second record;
- **the clock**: the phone sends its clock with each sync; an offset beyond the tolerance flags the
  changes and corrects their times by it.

Each change is applied in its own transaction: one refused change does not undo the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, audit_context
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.scope import require_unit, scope_for
from vitreem.core.text import nfc

from .models import FieldChange, Kind

# A time up to this far ahead of the server's clock is taken as the same moment (network, rounding).
FUTURE_SLACK = dt.timedelta(minutes=5)
REGISTER_FIELDS = ("full_name", "birth_date", "birth_precision", "sex", "personal_id", "village", "schooling",
                   "school_level", "dropout_date", "disability", "birth_registered", "note")
INTAKE_FIELDS = ("channel", "place", "concern", "summary", "reporter_anonymous", "reporter_name", "reporter_phone",
                 "reporter_relation", "perpetrator", "in_danger")
GUARDIAN_KEYS = ("full_name", "relationship", "phone", "is_primary")


class Deferred(Exception):  # noqa: N818 — not an error: the change waits on the phone for another one
    """The change depends on another that is not in the register yet (a registration waiting for
    review, or not sent): it stays on the phone, waiting, and is sent again at the next sync."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Clock:
    offset_seconds: int
    suspect: bool

    @classmethod
    def measure(cls, device_time: dt.datetime | None, now: dt.datetime) -> Clock:
        if device_time is None:
            return cls(0, False)
        if timezone.is_naive(device_time):
            device_time = timezone.make_aware(device_time, dt.UTC)
        offset = round((now - device_time).total_seconds())
        return cls(offset, abs(offset) > settings.VITREEM_FIELD_CLOCK_TOLERANCE_MINUTES * 60)

    def correct(self, at: dt.datetime) -> dt.datetime:
        """A time by the phone's clock, as the server's clock would have said it."""
        return at + dt.timedelta(seconds=self.offset_seconds) if self.suspect else at


@dataclass
class Ctx:
    """One change being applied."""

    actor: User
    row: FieldChange
    data: dict[str, Any]
    target: dict[str, Any]
    base: dict[str, Any]
    clock: Clock
    confirm_not_duplicate: bool = False
    duplicate_of: int | None = None  # set by a review decision "same child"

    @property
    def at(self) -> dt.datetime:
        return self.row.effective_at

    @property
    def day(self) -> dt.date:
        return timezone.localdate(self.row.effective_at)


@dataclass
class Outcome:
    """The answer for one change, as the phone shows it."""

    id: str
    status: str  # applied | conflict | review | failed | waiting
    message: str = ""
    field: str | None = None
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    result: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "message": self.message, "field": self.field,
                "errors": self.errors, "result": self.result}


# ---------------------------------------------------------------- reading the phone's values

def _date(value: Any, name: str, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed({name: _("Chưa nhập ngày (%(f)s).") % {"f": name}})
        return None
    day = parse_date(str(value)) if not isinstance(value, dt.date) else value
    if day is None:
        raise ValidationFailed({name: _("Ngày không hợp lệ: %(v)s.") % {"v": str(value)[:20]}})
    return day


def _datetime(value: Any, name: str) -> dt.datetime:
    at = value if isinstance(value, dt.datetime) else parse_datetime(str(value or ""))
    if at is None:
        raise ValidationFailed({name: _("Thời điểm không hợp lệ: %(v)s.") % {"v": str(value)[:30]}})
    return at if timezone.is_aware(at) else timezone.make_aware(at)


def _norm(value: Any) -> Any:
    """A value as compared between phone and server: text in NFC without outer spaces, dates in ISO,
    nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return nfc(value).strip()
    return value


def home_commune(actor: User, day: dt.date):
    """The worker's commune in force on `day` (a child registered offline lives there by default)."""
    from vitreem.places.models import Level

    units = [u for u in actor.units.all() if u.level == Level.COMMUNE]
    for unit in units:
        if unit.valid_on(day):
            return unit
    if units:
        return units[0]
    raise ValidationFailed({"unit": _("Tài khoản của bạn không phụ trách xã/phường nào.")})


def _unit(ctx: Ctx, value: Any):
    from vitreem.places.selectors import unit_resolve

    unit = unit_resolve(str(value), on=ctx.day) if value else home_commune(ctx.actor, ctx.day)
    require_unit(ctx.actor, unit)
    return unit


def _child(ctx: Ctx, ref: Any):
    """The child a change names: a register id, or "local:<change id>" for a child registered on the
    phone (the registration's change id), once that registration is in the register."""
    from vitreem.registry.selectors import child_get_for_user

    if isinstance(ref, str) and ref.startswith("local:"):
        try:
            reg_id = uuid.UUID(ref[6:])
        except ValueError:
            raise ValidationFailed({"child": _("Mã trẻ không hợp lệ.")}) from None
        registration = FieldChange.objects.filter(pk=reg_id, user=ctx.actor).first()
        if registration is None:
            raise Deferred(_("Chờ gửi được việc đăng ký trẻ này trước."))
        if registration.status == FieldChange.Status.REVIEW:
            raise Deferred(_("Chờ xét hồ sơ trùng của trẻ này."))
        ref = registration.result.get("child")
        if not ref:
            raise Deferred(_("Chờ gửi được việc đăng ký trẻ này trước."))
    try:
        child_id = int(ref)
    except (TypeError, ValueError):
        raise ValidationFailed({"child": _("Chưa chọn trẻ.")}) from None
    return child_get_for_user(user=ctx.actor, child_id=child_id, audit=False)


def _hold_for_review(ctx: Ctx, unit, candidates: list[dict[str, Any]], name: str) -> None:
    ctx.row.status = FieldChange.Status.REVIEW
    ctx.row.unit = unit
    ctx.row.result = {"candidates": candidates, "full_name": name}
    audit_change(actor=ctx.actor, action="field.registration_held", object_type="field.fieldchange",
                 object_id=ctx.row.pk, unit=unit,
                 changes={"kind": ctx.row.kind, "full_name": name, "candidates": [c["id"] for c in candidates]})


# ---------------------------------------------------------------- registration and additions

def _register_data(raw: dict[str, Any]) -> dict[str, Any]:
    data = {k: raw.get(k) for k in REGISTER_FIELDS if k in raw}
    data["birth_date"] = _date(raw.get("birth_date"), "birth_date", required=True)
    data["dropout_date"] = _date(raw.get("dropout_date"), "dropout_date")
    return data


def _guardians(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    return [{k: g.get(k) for k in GUARDIAN_KEYS if k in g} for g in raw if isinstance(g, dict)]


def _child_register(ctx: Ctx) -> None:
    from vitreem.registry.services import PossibleDuplicate, child_register

    data = _register_data(ctx.data)
    unit = _unit(ctx, ctx.data.get("unit"))
    if ctx.duplicate_of is not None:
        _link_to_existing(ctx, unit)
        return
    try:
        child = child_register(actor=ctx.actor, data=data, unit=unit, ethnicity=ctx.data.get("ethnicity") or None,
                               guardians=_guardians(ctx.data.get("guardians")), on=ctx.day, source="field",
                               confirm_not_duplicate=ctx.confirm_not_duplicate)
    except PossibleDuplicate as dup:
        _hold_for_review(ctx, unit, dup.candidates, nfc(data.get("full_name") or ""))
        return
    ctx.row.child, ctx.row.unit = child, child.unit
    ctx.row.result = {**ctx.row.result, "child": child.pk}


def _link_to_existing(ctx: Ctx, unit) -> None:
    """Review decided the registered child is one already in the register: no second record; what the
    worker recorded goes into that child's history so nothing she entered is lost."""
    from vitreem.registry.selectors import child_get_for_user

    child = child_get_for_user(user=ctx.actor, child_id=int(ctx.duplicate_of or 0), audit=False)
    audit_change(actor=ctx.actor, action="child.field_registration_linked", obj=child, unit=child.unit,
                 changes={"registration": ctx.data})
    ctx.row.child, ctx.row.unit = child, child.unit
    ctx.row.result = {**ctx.row.result, "child": child.pk, "linked": True}


def _guardian_add(ctx: Ctx) -> None:
    from vitreem.registry.services import guardian_add

    child = _child(ctx, ctx.target.get("child"))
    values = _guardians([ctx.data])[0]
    guardian = guardian_add(actor=ctx.actor, child=child, full_name=values.get("full_name") or "",
                            relationship=values.get("relationship") or "", phone=values.get("phone") or "",
                            is_primary=bool(values.get("is_primary", False)))
    ctx.row.child, ctx.row.unit = child, child.unit
    ctx.row.result = {"child": child.pk, "guardian": guardian.pk}


def _risk_assess(ctx: Ctx) -> None:
    from vitreem.registry.services import risk_assess

    child = _child(ctx, ctx.target.get("child"))
    factors = ctx.data.get("factors") or []
    if not isinstance(factors, list):
        raise ValidationFailed({"factors": _("Danh sách yếu tố nguy cơ không hợp lệ.")})
    assessed_on = _date(ctx.data.get("assessed_on"), "assessed_on") or ctx.day
    assessment = risk_assess(actor=ctx.actor, child=child, assessed_on=assessed_on, factors=[str(f) for f in factors],
                             note=str(ctx.data.get("note") or ""))
    ctx.row.child, ctx.row.unit = child, child.unit
    ctx.row.result = {"child": child.pk, "assessment": assessment.pk}


def _case_intake(ctx: Ctx) -> None:
    """Form 01 received in the field. Decree 56/2017, Art. 26 (and Arts. 31–32): emergency intervention
    within 12 hours of *receiving* the information — so the clock starts at the time the worker
    recorded, corrected when her phone's clock was off, never at the time of the sync."""
    from vitreem.cases.services import case_intake
    from vitreem.registry.services import PossibleDuplicate

    received = ctx.clock.correct(_datetime(ctx.data.get("received_at") or ctx.row.recorded_at, "received_at"))
    kwargs = {k: ctx.data[k] for k in INTAKE_FIELDS if k in ctx.data}
    child_ref = ctx.data.get("child")
    if ctx.duplicate_of is not None:
        child_ref = ctx.duplicate_of
    if child_ref:
        child = _child(ctx, child_ref)
        case = case_intake(actor=ctx.actor, received_at=received, child=child, **kwargs)
    else:
        raw = _dict(ctx.data.get("new_child"))
        new_child = _register_data(raw)
        unit = _unit(ctx, raw.get("unit"))
        new_child["unit"] = unit
        try:
            case = case_intake(actor=ctx.actor, received_at=received, new_child=new_child,
                               confirm_not_duplicate=ctx.confirm_not_duplicate, **kwargs)
        except PossibleDuplicate as dup:
            _hold_for_review(ctx, unit, dup.candidates, nfc(new_child.get("full_name") or ""))
            return
    ctx.row.child, ctx.row.unit = case.child, case.unit
    ctx.row.result = {**ctx.row.result, "case": case.pk, "code": case.code, "child": case.child_id,
                      "received_at": case.received_at.isoformat(),
                      "emergency_due_at": case.emergency_due_at.isoformat() if case.emergency_due_at else None}


def _case_note(ctx: Ctx) -> None:
    from vitreem.cases.services import case_note

    case_id = _id(ctx.target.get("case"), "case", _("Chưa chọn vụ việc."))
    event = case_note(actor=ctx.actor, case=case_id, expected_version=None, text=str(ctx.data.get("text") or ""),
                      at=ctx.at)
    ctx.row.child_id, ctx.row.unit_id = event.case.child_id, event.case.unit_id
    ctx.row.result = {"case": case_id, "event": event.pk}


def _activity_attend(ctx: Ctx) -> None:
    from vitreem.activities.models import Kind as ActivityKind
    from vitreem.activities.selectors import activity_get_for_user
    from vitreem.activities.services import participant_add, recreation_child_link

    activity_id = _id(ctx.target.get("activity"), "activity", _("Chưa chọn hoạt động."))
    activity = activity_get_for_user(user=ctx.actor, activity_id=activity_id)
    ctx.row.unit = activity.unit
    if activity.kind == ActivityKind.TRAINING:
        person = _dict(ctx.data.get("participant"))
        participant = participant_add(actor=ctx.actor, activity=activity, data=person)
        ctx.row.result = {"activity": activity.pk, "participant": participant.pk}
    elif activity.kind == ActivityKind.RECREATION:
        child = _child(ctx, ctx.data.get("child"))
        recreation_child_link(actor=ctx.actor, activity=activity, child_id=child.pk,
                              gift=nfc(str(ctx.data.get("gift") or ""))[:200])
        ctx.row.child = child
        ctx.row.result = {"activity": activity.pk, "child": child.pk}
    else:
        raise DomainError(_("Chỉ điểm danh được lớp tập huấn và hoạt động vui chơi, giải trí."), field="activity")


# ---------------------------------------------------------------- edits that may conflict

@dataclass
class Editable:
    """A record whose fields a phone edits: how to read its current values, how to write new ones."""

    fields: tuple[str, ...]
    lock: Callable[[Ctx | None, Any], Any]  # the record, locked for the transaction
    current: Callable[[Any], dict[str, Any]]  # its values, normalised as _norm does
    apply: Callable[[Any, Any, dict[str, Any], dt.date], None]  # (actor, record, values, day)
    child: Callable[[Any], Any]  # the child the record belongs to (history, scope)


def _lock_child(ctx: Ctx | None, ref: Any):
    from vitreem.registry.models import Child

    child = _child(ctx, ref) if ctx is not None else ref
    return Child.objects.select_for_update().select_related("unit").get(pk=child.pk)


def _values(fields: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    return lambda record: {f: _norm(getattr(record, f)) for f in fields}


def _child_apply(actor: User, child, values: dict[str, Any], day: dt.date) -> None:
    from vitreem.registry.services import child_update

    data = dict(values)
    if "dropout_date" in data:
        data["dropout_date"] = _date(data["dropout_date"], "dropout_date")
    child_update(actor=actor, child=child, data=data, expected_version=child.version, on=day)


def _lock_guardian(ctx: Ctx | None, ref: Any):
    from vitreem.registry.models import Guardian
    from vitreem.registry.selectors import guardian_get_for_user

    if ctx is not None:
        try:
            guardian_id = int(ref)
        except (TypeError, ValueError):
            raise ValidationFailed({"guardian": _("Chưa chọn người nuôi dưỡng.")}) from None
        ref = guardian_get_for_user(user=ctx.actor, guardian_id=guardian_id)
    return Guardian.objects.select_for_update().select_related("child__unit").get(pk=ref.pk)


def _guardian_apply(actor: User, guardian, values: dict[str, Any], day: dt.date) -> None:
    from vitreem.registry.services import guardian_update

    merged = {f: values.get(f, getattr(guardian, f)) for f in ("full_name", "relationship", "phone")}
    guardian_update(actor=actor, guardian=guardian, **merged)


SCHOOLING_FIELDS = ("schooling", "school_level", "dropout_date")
EDITABLE: dict[str, tuple[str, Editable]] = {
    # kind: (the target key naming the record, how to edit it)
    Kind.CHILD_ADDRESS: ("child", Editable(("village",), _lock_child, _values(("village",)), _child_apply,
                                           lambda c: c)),
    Kind.CHILD_SCHOOLING: ("child", Editable(SCHOOLING_FIELDS, _lock_child, _values(SCHOOLING_FIELDS),
                                             _child_apply, lambda c: c)),
    Kind.GUARDIAN_UPDATE: ("guardian", Editable(("full_name", "relationship", "phone"), _lock_guardian,
                                                _values(("full_name", "relationship", "phone")),
                                                _guardian_apply, lambda g: g.child)),
}


def _edit(ctx: Ctx) -> None:
    """Apply an edit made on the version the worker saw. For each field: unchanged on the server
    since (server = what she saw) → hers applies; the server already has her value → nothing to do;
    changed on both sides to different values → a conflict, and nothing of this change is applied
    until she chooses."""
    key, editable = EDITABLE[ctx.row.kind]
    record = editable.lock(ctx, ctx.target.get(key))
    child = editable.child(record)
    require_unit(ctx.actor, child.unit)
    device = {f: _norm(ctx.data[f]) for f in editable.fields if f in ctx.data}
    if not device:
        raise ValidationFailed({"data": _("Thay đổi không có trường nào để sửa.")})
    base = {f: _norm(ctx.base.get(f)) for f in device}
    server = editable.current(record)
    conflicts = {f: {"base": base[f], "server": server[f], "device": device[f]}
                 for f in device if server[f] != base[f] and server[f] != device[f]}
    ctx.row.child, ctx.row.unit = child, child.unit
    if conflicts:
        ctx.row.status = FieldChange.Status.CONFLICT
        ctx.row.result = {key: record.pk, "child": child.pk, "fields": conflicts, "child_name": child.full_name,
                          "pending": {f: v for f, v in device.items() if f not in conflicts}}
        # Both values go into the child's history now; the one she keeps is added when she chooses.
        audit_change(actor=ctx.actor, action="child.sync_conflict", obj=child, unit=child.unit,
                     changes={"record": key, "id": record.pk,
                              "fields": {f: {"server": c["server"], "device": c["device"]} for f, c in conflicts.items()}})
        return
    values = {f: v for f, v in device.items() if v != server[f]}
    # "merged": the record had changed on the server since her version, in other fields than hers.
    merged = ctx.row.base_version is not None and ctx.row.base_version != child.version
    if values:
        editable.apply(ctx.actor, record, values, ctx.day)
    else:
        audit_change(actor=ctx.actor, action="child.sync_unchanged", obj=child, unit=child.unit,
                     changes={"record": key, "id": record.pk, "fields": device})
    ctx.row.result = {key: record.pk, "child": child.pk, "applied": values, "merged": merged}


HANDLERS: dict[str, Callable[[Ctx], None]] = {
    Kind.CHILD_REGISTER: _child_register,
    Kind.CHILD_ADDRESS: _edit,
    Kind.CHILD_SCHOOLING: _edit,
    Kind.GUARDIAN_UPDATE: _edit,
    Kind.GUARDIAN_ADD: _guardian_add,
    Kind.RISK_ASSESS: _risk_assess,
    Kind.CASE_INTAKE: _case_intake,
    Kind.CASE_NOTE: _case_note,
    Kind.ACTIVITY_ATTEND: _activity_attend,
}


# ---------------------------------------------------------------- the sync

def _meta(row: FieldChange) -> dict[str, Any]:
    """What every audit row of a synced change carries."""
    meta: dict[str, Any] = {"change_id": str(row.pk), "kind": row.kind, "device_id": row.device_id,
                            "recorded_by": row.user_id, "recorded_at": row.recorded_at,
                            "synced_at": row.synced_at}
    if row.clock_suspect:
        meta.update(clock_suspect=True, clock_offset_seconds=row.clock_offset_seconds,
                    recorded_at_corrected=row.effective_at)
    return meta


def _stored(row: FieldChange, change_id: str) -> Outcome:
    status = {"applied": "applied", "resolved": "applied", "conflict": "conflict", "review": "review"}[str(row.status)]
    message = {"conflict": _("Hồ sơ đã được người khác sửa cùng trường này. Hãy chọn giá trị giữ lại."),
               "review": _("Trẻ này có thể đã có trong danh sách: đang chờ xét hồ sơ trùng.")}.get(status, "")
    return Outcome(change_id, status, message=message, result=row.result)


def _failed(change_id: str, exc: DomainError) -> Outcome:
    return Outcome(change_id, "failed", message=str(exc.message), field=exc.field,
                   errors=getattr(exc, "errors", {}) or {})


def _apply_one(*, actor: User, raw: dict[str, Any], device_id: str, clock: Clock, now: dt.datetime) -> Outcome:
    change_id = str(raw.get("id") or "")
    try:
        pk = uuid.UUID(change_id)
    except ValueError:
        return _failed(change_id, ValidationFailed({"id": _("Mã thay đổi không hợp lệ.")}))
    existing = FieldChange.objects.filter(pk=pk).first()
    if existing is not None:
        if existing.user_id != actor.pk:
            return _failed(change_id, ValidationFailed({"id": _("Mã thay đổi đã được dùng.")}))
        return _stored(existing, change_id)  # sent again: the first answer, nothing written
    kind = raw.get("kind")
    handler = HANDLERS.get(kind or "")
    try:
        if handler is None:
            raise ValidationFailed({"kind": _("Loại thay đổi không hợp lệ: %(k)s.") % {"k": str(kind)[:30]}})
        recorded = _datetime(raw.get("recorded_at"), "recorded_at")
        effective = clock.correct(recorded)
        if effective > now + FUTURE_SLACK:
            raise ValidationFailed({"recorded_at": _("Thời điểm ghi nhận (%(t)s) ở tương lai: hãy kiểm tra đồng hồ "
                                                     "của điện thoại.") % {"t": timezone.localtime(effective)
                                                                           .strftime("%H:%M %d/%m/%Y")}})
        base_version = raw.get("base_version")
        with transaction.atomic():
            # Written first: a second request with the same id waits here for this one, then finds it.
            row = FieldChange(id=pk, user=actor, device_id=device_id[:64], kind=str(kind),
                              status=FieldChange.Status.APPLIED, recorded_at=recorded, effective_at=effective,
                              clock_offset_seconds=clock.offset_seconds, clock_suspect=clock.suspect, synced_at=now,
                              base_version=int(base_version) if isinstance(base_version, int) else None,
                              payload=raw)
            row.save(force_insert=True)
            ctx = Ctx(actor=actor, row=row, data=_dict(raw.get("data")), target=_dict(raw.get("target")),
                      base=_dict(raw.get("base")), clock=clock)
            with audit_context(sync=_meta(row)):
                handler(ctx)
            row.save()
    except Deferred as wait:
        return Outcome(change_id, "waiting", message=wait.message)
    except DomainError as exc:
        return _failed(change_id, exc)
    except IntegrityError:
        existing = FieldChange.objects.filter(pk=pk, user=actor).first()
        if existing is None:
            raise
        return _stored(existing, change_id)  # the same change, sent twice at once: the first one won
    return _stored(row, change_id)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any, name: str, missing: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({name: missing}) from None


def sync_push(*, actor: User, changes: list[dict[str, Any]], device_id: str = "", device_time: dt.datetime | None = None,
              now: dt.datetime | None = None) -> dict[str, Any]:
    """Apply the phone's changes in the order it sends them (the order they were recorded, so a
    registration comes before the assessment of the same child). Each in its own transaction."""
    if not scope_for(actor).write_children:
        raise PermissionDenied(_("Tài khoản của bạn chỉ được xem, không được sửa dữ liệu."))
    now = now or timezone.now()
    clock = Clock.measure(device_time, now)
    results = [_apply_one(actor=actor, raw=raw if isinstance(raw, dict) else {}, device_id=device_id, clock=clock,
                          now=now).as_dict()
               for raw in changes]
    clock_message = ""
    if clock.suspect:
        hours = abs(clock.offset_seconds) / 3600
        clock_message = (_("Đồng hồ điện thoại chạy nhanh %(h)s giờ so với máy chủ; thời điểm ghi nhận đã được hiệu "
                           "chỉnh và đánh dấu.") if clock.offset_seconds < 0 else
                         _("Đồng hồ điện thoại chạy chậm %(h)s giờ so với máy chủ; thời điểm ghi nhận đã được hiệu "
                           "chỉnh và đánh dấu.")) % {"h": f"{hours:.1f}".replace(".", ",")}
    return {"server_time": now.isoformat(),
            "clock": {"offset_seconds": clock.offset_seconds, "suspect": clock.suspect, "message": clock_message},
            "results": results}


# ---------------------------------------------------------------- decisions on held changes

def _replay_ctx(actor: User, row: FieldChange) -> Ctx:
    payload = row.payload
    clock = Clock(row.clock_offset_seconds, row.clock_suspect)
    return Ctx(actor=actor, row=row, data=_dict(payload.get("data")), target=_dict(payload.get("target")),
               base=_dict(payload.get("base")), clock=clock)


def conflict_resolve(*, actor: User, change_id: Any, choices: dict[str, str]) -> FieldChange:
    """The worker chooses, for each field in conflict, the value that stands ("device": hers,
    "server": the one on the server); her fields that were not in conflict apply with hers. If the
    record changed again while she was choosing, the conflict is updated to the new value and kept,
    and ChangedAgain asks her to choose again."""
    row, changed_again = _conflict_resolve(actor=actor, change_id=change_id, choices=choices)
    if changed_again:
        raise ChangedAgain(row)
    return row


@transaction.atomic
def _conflict_resolve(*, actor: User, change_id: Any, choices: dict[str, str]) -> tuple[FieldChange, bool]:
    from .selectors import held_change_get_for_user

    row = held_change_get_for_user(user=actor, change_id=change_id, status=FieldChange.Status.CONFLICT)
    row = FieldChange.objects.select_for_update().get(pk=row.pk)
    if row.status != FieldChange.Status.CONFLICT:
        raise Conflict(_("Xung đột này đã được giải quyết."))
    fields: dict[str, dict[str, Any]] = dict(row.result.get("fields") or {})
    missing = {f: _("Hãy chọn giá trị giữ lại.") for f in fields if choices.get(f) not in ("device", "server")}
    if missing:
        raise ValidationFailed(missing)
    key, editable = EDITABLE[row.kind]
    record = editable.lock(None, _held_record(row, key))
    child = editable.child(record)
    require_unit(actor, child.unit)
    server = editable.current(record)
    pending: dict[str, Any] = dict(row.result.get("pending") or {})
    base = _dict(row.payload.get("base"))
    moved = {f for f in fields if server[f] != fields[f]["server"]}
    moved |= {f for f in pending if server[f] != _norm(base.get(f)) and server[f] != pending[f]}
    if moved:
        for f in moved:
            device = fields[f]["device"] if f in fields else pending.pop(f)
            fields[f] = {"base": _norm(base.get(f)), "server": server[f], "device": device}
        row.result = {**row.result, "fields": fields, "pending": pending}
        row.save(update_fields=["result"])
        return row, True
    values = {**pending, **{f: c["device"] for f, c in fields.items() if choices[f] == "device"}}
    values = {f: v for f, v in values.items() if v != server[f]}
    resolution = {f: {"server": c["server"], "device": c["device"], "kept": choices[f]} for f, c in fields.items()}
    with audit_context(sync=_meta(row), resolution=resolution):
        if values:
            editable.apply(actor, record, values, timezone.localdate(row.effective_at))
        else:
            audit_change(actor=actor, action="child.sync_conflict_resolved", obj=child, unit=child.unit,
                         changes={"record": key, "id": record.pk})
    row.status = FieldChange.Status.RESOLVED
    row.decided_by, row.decided_at = actor, timezone.now()
    row.result = {**row.result, "resolution": {f: choices[f] for f in fields}, "applied": values}
    row.save()
    return row, False


class ChangedAgain(Conflict):
    """The record changed again while the worker was choosing: the conflict now shows the new value."""

    def __init__(self, row: FieldChange):
        super().__init__(_("Hồ sơ vừa được sửa thêm một lần nữa. Hãy xem lại giá trị mới rồi chọn."), field="fields")
        self.row = row


def _held_record(row: FieldChange, key: str):
    from vitreem.registry.models import Child, Guardian

    model = Child if key == "child" else Guardian
    pk = row.result.get(key)
    record = model.objects.filter(pk=pk).first()
    if record is None:
        raise NotFound(_("Hồ sơ không còn trong hệ thống."))
    return record


def review_decide(*, actor: User, change_id: Any, decision: str, child_id: int | None = None) -> FieldChange:
    """Decide a registration made offline that looked like a child already registered: "different"
    registers it (with the worker's recorded time and data), "same" links it to `child_id`, one of the
    candidates (no second record; what she entered goes into that child's history)."""
    from .selectors import held_change_get_for_user

    row = held_change_get_for_user(user=actor, change_id=change_id, status=FieldChange.Status.REVIEW)
    if decision not in ("same", "different"):
        raise ValidationFailed({"decision": _("Hãy chọn: cùng một trẻ, hoặc trẻ khác.")})
    if decision == "same":
        candidates = {int(c["id"]) for c in row.result.get("candidates") or []}
        if child_id is None or int(child_id) not in candidates:
            raise ValidationFailed({"child": _("Hãy chọn hồ sơ trùng trong danh sách gợi ý.")})
    return _review_apply(actor=actor, row_id=row.pk, decision=decision, child_id=child_id)


@transaction.atomic
def _review_apply(*, actor: User, row_id, decision: str, child_id: int | None) -> FieldChange:
    row = FieldChange.objects.select_for_update().get(pk=row_id)
    if row.status != FieldChange.Status.REVIEW:
        raise Conflict(_("Việc đăng ký này đã được xét."))
    require_unit(actor, row.unit)
    ctx = _replay_ctx(actor, row)
    ctx.confirm_not_duplicate = decision == "different"
    ctx.duplicate_of = int(child_id) if decision == "same" and child_id is not None else None
    row.status = FieldChange.Status.RESOLVED
    with audit_context(sync=_meta(row), review={"decision": decision, "child": ctx.duplicate_of}):
        HANDLERS[row.kind](ctx)
    if row.status != FieldChange.Status.RESOLVED:  # cannot happen with confirm/duplicate_of set
        raise DomainError(_("Không ghi được việc đăng ký này."))
    row.decided_by, row.decided_at = actor, timezone.now()
    row.result = {**row.result, "decision": decision}
    row.save()
    return row
