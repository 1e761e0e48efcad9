"""Every write of activities, play points, partners and budgets: validate, check scope, write, audit.

Each service is one transaction: bad input raises a DomainError before anything is kept.

A package by section: activities, play points, partners and budget.
"""

from ._common import COMMON_FIELDS, COUNT_FIELDS, KIND_FIELDS, MAX_COUNT
from .activities import (
    activity_clean,
    activity_create,
    activity_set_status,
    activity_update,
    attachment_add,
    participant_add,
    participant_remove,
    participants_import,
    recreation_child_link,
)
from .partners import (
    allocation_create,
    allocation_find,
    allocation_update,
    partner_create,
    partner_update,
    project_create,
    project_results_set,
    project_update,
    require_officer,
    spending_record,
    spending_update,
)
from .play_points import (
    play_point_create,
    play_point_update,
)

__all__ = [
    "COMMON_FIELDS",
    "COUNT_FIELDS",
    "KIND_FIELDS",
    "MAX_COUNT",
    "activity_clean",
    "activity_create",
    "activity_set_status",
    "activity_update",
    "allocation_create",
    "allocation_find",
    "allocation_update",
    "attachment_add",
    "participant_add",
    "participant_remove",
    "participants_import",
    "partner_create",
    "partner_update",
    "play_point_create",
    "play_point_update",
    "project_create",
    "project_results_set",
    "project_update",
    "recreation_child_link",
    "require_officer",
    "spending_record",
    "spending_update",
]
