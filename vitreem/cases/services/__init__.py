"""Every write to a case: one service per step of Decree 56/2017, chapter III.

Each service is keyword-only, atomic, checks that the actor may see the case (`cases_for_user`)
and holds the right role, checks the optimistic lock (`expected_version`), validates the step and
its order, records a timeline event and an audit row. Bad input raises and writes nothing.

A package by the decree's steps: intake, protection (verification, emergency, isolation), plans,
referrals, closure, reassignment; _common holds what they share.
"""

from ._common import (
    CONSENT_AGE,
    EDITABLE_FIELDS,
    OutOfOrder,
    case_due_refresh,
    case_for_action,
)
from .closure import (
    case_close,
    case_reopen,
    case_review,
)
from .intake import (
    case_intake,
    case_update,
)
from .plans import (
    case_assess,
    case_note,
    plan_approve,
    plan_draft,
    plan_item_update,
)
from .protection import (
    case_emergency,
    case_isolate,
    case_isolation_end,
    case_isolation_extend,
    case_verify,
)
from .reassign import (
    case_reassign,
    owner_candidates,
)
from .referrals import (
    referral_close,
    referral_open,
)

__all__ = [
    "CONSENT_AGE",
    "EDITABLE_FIELDS",
    "OutOfOrder",
    "case_assess",
    "case_close",
    "case_due_refresh",
    "case_emergency",
    "case_for_action",
    "case_intake",
    "case_isolate",
    "case_isolation_end",
    "case_isolation_extend",
    "case_note",
    "case_reassign",
    "case_reopen",
    "case_review",
    "case_update",
    "case_verify",
    "owner_candidates",
    "plan_approve",
    "plan_draft",
    "plan_item_update",
    "referral_close",
    "referral_open",
]
