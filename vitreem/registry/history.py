"""A child's change history in words (issue 21 item 6): the audit rows keep an action's code and the
changed values; the child's page shows what happened and which field went from what to what."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _l

from vitreem.core.audit import changes_text

ACTIONS = {
    "child.register": _l("Đăng ký trẻ"),
    "child.update": _l("Sửa thông tin"),
    "child.move": _l("Chuyển nơi cư trú"),
    "child.end": _l("Kết thúc hồ sơ"),
    "child.merge": _l("Gộp hồ sơ trùng vào hồ sơ này"),
    "child.merged_into": _l("Hồ sơ được gộp vào hồ sơ khác"),
    "child.duplicate_distinct": _l("Xác nhận không trùng"),
    "child.guardian_add": _l("Thêm người nuôi dưỡng"),
    "child.guardian_update": _l("Sửa người nuôi dưỡng"),
    "child.guardian_remove": _l("Bỏ người nuôi dưỡng"),
    "child.special_open": _l("Ghi nhận hoàn cảnh đặc biệt"),
    "child.special_close": _l("Kết thúc hoàn cảnh đặc biệt"),
    "child.risk_assess": _l("Đánh giá nguy cơ"),
    "child.sync_conflict": _l("Thay đổi từ điện thoại xung đột"),
    "child.sync_conflict_resolved": _l("Giải quyết xung đột từ điện thoại"),
    "child.sync_unchanged": _l("Thay đổi từ điện thoại (không đổi gì)"),
    "child.field_registration_linked": _l("Nối với đăng ký từ điện thoại"),
}

FIELDS = {
    "full_name": _l("Họ và tên"), "birth_date": _l("Ngày sinh"), "sex": _l("Giới tính"),
    "personal_id": _l("Số định danh cá nhân"), "village": _l("Thôn, tổ dân phố"), "schooling": _l("Tình trạng đi học"),
    "school_level": _l("Cấp học"), "disability": _l("Mức độ khuyết tật"), "household": _l("Hộ gia đình"),
    "note": _l("Ghi chú"), "unit": _l("Đơn vị"), "ethnicity": _l("Dân tộc"), "ended_on": _l("Ngày kết thúc"),
    "end_reason": _l("Lý do kết thúc"), "merged": _l("Hồ sơ gộp vào"), "survivor": _l("Hồ sơ giữ lại"),
    "reason": _l("Lý do"), "guardian": _l("Người nuôi dưỡng"),
}


def history_rows(entries: list[Any]) -> list[dict[str, Any]]:
    return [{"at": e.at, "actor": e.actor, "action": e.action, "label": str(ACTIONS.get(e.action, e.action)),
             "text": changes_text(e.changes if isinstance(e.changes, dict) else None, FIELDS), "changes": e.changes}
            for e in entries]
