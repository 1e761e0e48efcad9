"""Every write of the programme: catalogue, targets, report submissions, plans, evaluations.

Each service is keyword-only, runs in one transaction, checks who may do it, validates (nothing is
half-saved) and writes an audit row (the history of a target or a report is its audit rows).

A package by section: catalogue (indicators, targets), forms, submissions, plans, evaluation,
reminders.
"""

from ._common import (
    MAX_VALUE,
)
from .catalogue import (
    indicator_create,
    indicator_update,
    target_set,
    targets_set,
)
from .evaluation import (
    evaluation_finalise,
    explanation_write,
    member_evaluation_confirm,
)
from .forms import (
    element_add,
    element_remove,
    element_restore,
    element_update,
    element_used,
    form_create,
    form_update,
    form_used,
    rule_add,
    rule_remove,
    rule_restore,
    rule_update,
    rule_used,
)
from .plans import (
    plan_create,
    task_create,
    task_update,
)
from .reminders import (
    reminders_send,
)
from .submissions import (
    DISAGG_LABELS,
    Checked,
    assignee_key,
    assignee_require_write,
    submission_accept,
    submission_check,
    submission_open,
    submission_reopen,
    submission_return,
    submission_save,
    submission_submit,
)

__all__ = [
    "Checked",
    "DISAGG_LABELS",
    "MAX_VALUE",
    "assignee_key",
    "assignee_require_write",
    "element_add",
    "element_remove",
    "element_restore",
    "element_update",
    "element_used",
    "evaluation_finalise",
    "explanation_write",
    "form_create",
    "form_update",
    "form_used",
    "indicator_create",
    "indicator_update",
    "member_evaluation_confirm",
    "plan_create",
    "reminders_send",
    "rule_add",
    "rule_remove",
    "rule_restore",
    "rule_update",
    "rule_used",
    "submission_accept",
    "submission_check",
    "submission_open",
    "submission_reopen",
    "submission_return",
    "submission_save",
    "submission_submit",
    "target_set",
    "targets_set",
    "task_create",
    "task_update",
]
