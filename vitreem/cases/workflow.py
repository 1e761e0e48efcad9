"""The case workflow, written once: which ability may take which action in which status.

Decree 56/2017/NĐ-CP, chapter III (Arts. 25–32): the commune child-protection worker receives,
verifies and assesses, drafts the plan and reviews it (Arts. 25–30); the commune chairman decides —
temporary isolation and its end (Art. 32(2)–(3)), the plan's approval (Art. 28(4)) and the end of
the plan (Art. 30(1)(b)). The services (`services.case_for_action`) refuse what this table does not allow, and
the case page and the API show exactly what `case_actions_for` returns from the same table, so a
button is never shown for a step the service would refuse (tests/test_workflow.py walks every
status × persona).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from vitreem.accounts.models import (
    CASE_DECIDER_ROLES,
    CASE_WORKER_ROLES,
    CASELOAD_MANAGER_ROLES,
    Role,
)
from vitreem.core.scope import scope_for

from .models import Case, Plan, Status

# Who does what, by ability. The roles behind each ability are grouped in accounts/models.py, and the
# user's abilities come from the one Scope (core/scope.py).
WORKS_CASE = "works_case"  # the commune worker (and the administrator, who stands in)
DECIDES_CASE = "decides_case"  # the commune chairman: Decree 56/2017, Arts. 28(4), 30(1), 32(2)–(3)
MANAGES_CASELOAD = "manages_caseload"  # the provincial supervisor and the standing agency: reassignment
RECEIVES_REFERRAL = "receives_referral"  # an agency a case is referred to (only its own open referral)

ABILITY_ROLES: dict[str, frozenset[str]] = {
    WORKS_CASE: CASE_WORKER_ROLES,
    DECIDES_CASE: CASE_DECIDER_ROLES,
    MANAGES_CASELOAD: CASELOAD_MANAGER_ROLES,
    RECEIVES_REFERRAL: frozenset({Role.REFERRAL_AGENCY}),
}

OPEN = frozenset(s for s in Status.values if s != Status.CLOSED)
ANY = frozenset(Status.values)


@dataclass(frozen=True)
class Transition:
    """One action: the abilities that may take it, the statuses it starts from and, where the status
    alone does not say it, a condition on the case (`when`) with the message given when it fails."""

    action: str
    abilities: frozenset[str]
    statuses: frozenset[str]
    label: object
    when: Callable[[Case], bool] | None = None
    refusal: object = ""
    # The message when the status is not one of `statuses` ("%(s)s": the case's step); default: generic.
    wrong_step: object = ""


def _has_draft_plan(case: Case) -> bool:
    return case.plans.filter(status=Plan.State.DRAFT).exists()


def _has_approved_items(case: Case) -> bool:
    return case.plans.filter(status=Plan.State.APPROVED, items__isnull=False).exists()


def _has_open_referral(case: Case) -> bool:
    return case.referrals.filter(closed_at__isnull=True).exists()


TRANSITIONS: dict[str, Transition] = {t.action: t for t in [
    Transition("edit", frozenset({WORKS_CASE}), OPEN, _("Sửa thông tin tiếp nhận")),
    # Decree 56/2017, Art. 26(2): the worker makes the initial assessment (form 02).
    Transition("verify", frozenset({WORKS_CASE}), frozenset({Status.RECEIVED, Status.EMERGENCY}),
               _("Xác minh, đánh giá ban đầu (mẫu 02)"), when=lambda c: c.verified_on is None,
               refusal=_("Vụ việc đã được xác minh.")),
    # Decree 56/2017, Arts. 26(3) and 31(2): emergency intervention within 12 hours.
    Transition("emergency", frozenset({WORKS_CASE}),
               frozenset({Status.RECEIVED, Status.VERIFIED, Status.EMERGENCY}), _("Can thiệp khẩn cấp")),
    # Decree 56/2017, Art. 32(2): the commune chairman decides temporary isolation (form 07).
    Transition("isolate", frozenset({DECIDES_CASE}), OPEN - {Status.TO_CLOSE},
               _("Quyết định tạm thời cách ly (mẫu 07)"), when=lambda c: not c.isolation_active,
               refusal=_("Trẻ đang được cách ly tạm thời; hãy gia hạn hoặc kết thúc cách ly.")),
    # Decree 56/2017, Art. 32(3): extended by the chairman's decision, 15 days at most in total.
    Transition("isolation_extend", frozenset({DECIDES_CASE}), ANY, _("Gia hạn cách ly"),
               when=lambda c: c.isolation_active, refusal=_("Trẻ không đang được cách ly tạm thời.")),
    # Decree 56/2017, Art. 32(3): only the commune chairman cancels the isolation decision.
    Transition("isolation_end", frozenset({DECIDES_CASE}), ANY, _("Kết thúc cách ly"),
               when=lambda c: c.isolation_active, refusal=_("Trẻ không đang được cách ly tạm thời.")),
    # Decree 56/2017, Art. 27: specific assessment (form 03) after the initial one.
    Transition("assess", frozenset({WORKS_CASE}), frozenset({Status.VERIFIED, Status.EMERGENCY}),
               _("Đánh giá chi tiết và họp (mẫu 03)"), when=lambda c: c.verified_on is not None,
               refusal=_("Cần xác minh, đánh giá ban đầu (mẫu 02) trước khi đánh giá chi tiết.")),
    # Decree 56/2017, Art. 28(1): the worker drafts the plan (form 04) within 5 working days.
    Transition("plan", frozenset({WORKS_CASE}), frozenset({Status.ASSESSED, Status.PLANNED}),
               _("Lập kế hoạch hỗ trợ, can thiệp (mẫu 04)")),
    # Decree 56/2017, Art. 28(4): the chairman approves it within 2 working days (form 05).
    Transition("approve", frozenset({DECIDES_CASE}), frozenset({Status.PLANNED}),
               _("Phê duyệt kế hoạch (mẫu 05)"), when=_has_draft_plan,
               wrong_step=_("Không có kế hoạch nào chờ phê duyệt (vụ việc đang ở bước “%(s)s”)."),
               refusal=_("Không có kế hoạch nào chờ phê duyệt.")),
    # Decree 56/2017, Art. 29(1)(a): the worker follows up each service of the plan.
    Transition("item", frozenset({WORKS_CASE}), frozenset({Status.IMPLEMENTING}),
               _("Cập nhật hoạt động của kế hoạch"), when=_has_approved_items,
               refusal=_("Kế hoạch đang thực hiện không có hoạt động nào.")),
    # Decree 56/2017, Art. 30: review after the plan (form 06).
    Transition("review", frozenset({WORKS_CASE}), frozenset({Status.IMPLEMENTING}), _("Rà soát, đánh giá (mẫu 06)")),
    # Decree 56/2017, Art. 30(1)(b): the chairman ends the plan when the review proposes it.
    Transition("close", frozenset({DECIDES_CASE}), frozenset({Status.TO_CLOSE}), _("Đóng vụ việc"),
               wrong_step=_("Chưa thể đóng vụ việc: cần rà soát (mẫu 06) đề xuất đóng trước "
                            "(vụ việc đang ở bước “%(s)s”)."),
               when=lambda c: not c.isolation_active,
               refusal=_("Trẻ đang được cách ly tạm thời: kết thúc cách ly trước khi đóng vụ việc.")),
    Transition("reopen", frozenset({WORKS_CASE, DECIDES_CASE}), frozenset({Status.CLOSED}), _("Mở lại vụ việc"),
               wrong_step=_("Chỉ mở lại được vụ việc đã đóng.")),
    Transition("note", frozenset({WORKS_CASE, DECIDES_CASE}), OPEN, _("Thăm gia đình, ghi chú")),
    Transition("attach", frozenset({WORKS_CASE, DECIDES_CASE}), ANY, _("Đính kèm tệp")),
    Transition("referral", frozenset({WORKS_CASE}), OPEN, _("Chuyển gửi tới cơ quan khác")),
    # The agency may end its own referral (and with it its access); the worker any open one.
    Transition("referral_close", frozenset({WORKS_CASE, RECEIVES_REFERRAL}), ANY, _("Kết thúc chuyển gửi"),
               when=_has_open_referral, refusal=_("Không tìm thấy lượt chuyển gửi đang mở.")),
    Transition("reassign", frozenset({MANAGES_CASELOAD}), OPEN, _("Giao lại vụ việc cho người khác")),
]}


def abilities_of(user) -> frozenset[str]:
    scope = scope_for(user)
    held = {WORKS_CASE: scope.works_cases, DECIDES_CASE: scope.decides_cases,
            MANAGES_CASELOAD: scope.manages_caseload, RECEIVES_REFERRAL: scope.referral_agency}
    return frozenset(ability for ability, has in held.items() if has)


def roles_of(action: str) -> frozenset[str]:
    """The roles that may take `action` (for messages and the docs)."""
    return frozenset().union(*(ABILITY_ROLES[a] for a in TRANSITIONS[action].abilities))


def refusal(action: str, case: Case, user) -> tuple[str, object] | None:
    """Why `user` may not take `action` on `case` now: ("role", message), ("status", message) or
    None when the table allows it. Whether the user may see the case at all is the caller's gate."""
    from django.utils.translation import gettext

    t = TRANSITIONS[action]
    mine = abilities_of(user) & t.abilities
    if not mine:
        return "role", gettext("Vai trò của bạn không được %(w)s.") % {"w": str(t.label).lower()}
    if mine == {RECEIVES_REFERRAL}:
        from .selectors import referral_open_for

        if referral_open_for(case, user) is None:
            return "role", gettext("Vai trò của bạn không được %(w)s.") % {"w": str(t.label).lower()}
    elif not _in_scope(user, case):
        return "scope", gettext("Vụ việc thuộc đơn vị ngoài phạm vi của bạn.")
    if case.status not in t.statuses:
        template = str(t.wrong_step) if t.wrong_step else gettext("Không thể %(w)s khi vụ việc đang ở bước “%(s)s”.")
        return "status", template.replace("%(w)s", str(t.label).lower()) % {"s": Status(case.status).label} \
            if "%(s)s" in template else template
    if t.when is not None and not t.when(case):
        return "status", str(t.refusal)
    return None


def _in_scope(user, case: Case) -> bool:
    return scope_for(user).sees_unit(case.unit_id)


def case_actions_for(user, case: Case) -> list[str]:
    """The actions `user` may take on `case` now, in the table's order: what the case page shows
    as forms and buttons, and what the API lists under `actions`. The caller has checked that the
    user may see the case (`cases_for_user`)."""
    return [action for action in TRANSITIONS if refusal(action, case, user) is None]
