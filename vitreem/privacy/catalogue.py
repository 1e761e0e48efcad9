"""The register's starting content, loaded by a data migration and by `catalogue_load` (idempotent).

Purposes and their bases: Law 91/2025/QH15 on Personal Data Protection, text read in full (Arts. 1–32).
Request deadlines: Art. 4(5) leaves them to the Government (Decree 356/2025/NĐ-CP); the decree's own text
was not found — the figures below are those published summaries of it give, kept as dated data the
province corrects in the admin (docs/en/legal-basis.md, "Personal data"). Retention periods: no text
fixing them for these records was found; they are the province's decision, dated data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import Anchor, Basis, RecordKind, RequestKind

IN_FORCE = dt.date(2026, 1, 1)  # Law 91/2025/QH15, Art. 38(1)

PURPOSES: list[dict[str, Any]] = [
    {"code": "child-register", "basis": Basis.STATE,
     "name": "Lập và theo dõi danh sách trẻ em, trẻ em có hoàn cảnh đặc biệt, trẻ em có nguy cơ",
     "name_en": "Keeping the register of children, children in special circumstances and at risk",
     "law": "Luật Trẻ em 2016 (Điều 10: nhóm trẻ em có hoàn cảnh đặc biệt); Nghị định 56/2017/NĐ-CP; "
            "Luật Bảo vệ dữ liệu cá nhân, Điều 19 khoản 1 điểm c",
     "data": "Họ tên, ngày sinh, giới tính, dân tộc, số định danh, nơi cư trú, hộ gia đình, người chăm sóc, "
             "học tập, khuyết tật, hoàn cảnh đặc biệt, yếu tố nguy cơ"},
    {"code": "case-management", "basis": Basis.STATE,
     "name": "Quản lý trường hợp trẻ em bị xâm hại hoặc có nguy cơ bị xâm hại",
     "name_en": "Managing cases of children harmed or at risk of harm",
     "law": "Nghị định 56/2017/NĐ-CP, Điều 25–32; can thiệp khẩn cấp: Luật Bảo vệ dữ liệu cá nhân, Điều 19 "
            "khoản 1 điểm a; còn lại điểm c",
     "data": "Thông tin báo tin, đánh giá, kế hoạch hỗ trợ, can thiệp, ghi chép, tài liệu đính kèm"},
    {"code": "social-assistance", "basis": Basis.STATE,
     "name": "Trợ cấp xã hội hằng tháng và bảng chi trả",
     "name_en": "Monthly social allowance and payrolls",
     "law": "Nghị định 20/2021/NĐ-CP (sửa đổi bởi Nghị định 76/2024/NĐ-CP), Điều 5, 6, 8; Luật Bảo vệ dữ liệu "
            "cá nhân, Điều 19 khoản 1 điểm c",
     "data": "Họ tên, ngày sinh, nhóm đối tượng, hệ số, số tiền, người nhận thay"},
    {"code": "statistics", "basis": Basis.STATE,
     "name": "Thống kê, báo cáo chỉ tiêu trẻ em và Chương trình hành động vì trẻ em",
     "name_en": "Child statistics and the Action Programme for Children's reports",
     "law": "Quyết định 23/QĐ-TTg; Thông tư 13/2021/TT-BLĐTBXH; Luật Bảo vệ dữ liệu cá nhân, Điều 11 khoản 2 "
            "(cơ quan nhà nước phân tích, tổng hợp dữ liệu phục vụ quản lý nhà nước) và Điều 19 khoản 1 điểm c",
     "data": "Số liệu tổng hợp; không có tên, số định danh"},
    {"code": "named-export", "basis": Basis.STATE,
     "name": "Xuất danh sách có họ tên, số định danh hoặc thông tin vụ việc để làm việc trong cơ quan",
     "name_en": "Exporting lists with names, IDs or case data for work inside the agency",
     "law": "Luật Bảo vệ dữ liệu cá nhân, Điều 17 khoản 1 điểm b (chia sẻ giữa các bộ phận trong cùng cơ quan, "
            "đúng mục đích đã xác lập) và Điều 19 khoản 1 điểm c",
     "data": "Các cột của danh sách trẻ em, bảng chi trả"},
    {"code": "referral", "basis": Basis.CONSENT, "discloses": True,
     "name": "Chuyển gửi vụ việc tới cơ quan, tổ chức ngoài xã",
     "name_en": "Referring a case to an agency outside the commune",
     "law": "Luật Bảo vệ dữ liệu cá nhân, Điều 15 khoản 2 điểm b, Điều 17 khoản 1 điểm a, Điều 24 khoản 2 "
            "(trẻ từ đủ 7 tuổi và người đại diện đồng ý); ngoại lệ Điều 19 khoản 1 (ghi rõ điểm áp dụng)",
     "data": "Thông tin vụ việc, họ tên, nơi ở của trẻ"},
    {"code": "publication", "basis": Basis.CONSENT, "discloses": True,
     "name": "Công bố hình ảnh, câu chuyện của trẻ trong truyền thông",
     "name_en": "Publishing a child's image or story in communication work",
     "law": "Luật Bảo vệ dữ liệu cá nhân, Điều 16 khoản 2 điểm a, Điều 24 khoản 2",
     "data": "Hình ảnh, câu chuyện, tên (nếu có)"},
]

# Decree 356/2025/NĐ-CP (text not found; see the module docstring): acknowledge within 2 working days;
# carry out access/correction within 10 days, restriction within 15, deletion within 20.
DEADLINES = [
    {"kind": RequestKind.ACCESS, "reply_working_days": 2, "complete_days": 10},
    {"kind": RequestKind.CORRECTION, "reply_working_days": 2, "complete_days": 10},
    {"kind": RequestKind.RESTRICTION, "reply_working_days": 2, "complete_days": 15},
    {"kind": RequestKind.DELETION, "reply_working_days": 2, "complete_days": 20},
]
DEADLINE_SOURCE = ("Nghị định 356/2025/NĐ-CP theo các bản tóm tắt đã công bố (chưa đối chiếu được văn bản gốc); "
                   "Luật Bảo vệ dữ liệu cá nhân, Điều 4 khoản 5")

RETENTION = [
    {"kind": RecordKind.CHILD, "years": 5, "anchor": Anchor.TURNS_16},
    {"kind": RecordKind.CASE, "years": 5, "anchor": Anchor.TURNS_16},
]
RETENTION_SOURCE = ("Quyết định của tỉnh (mặc định 5 năm; không tìm thấy văn bản quy định thời hạn); "
                    "Luật Bảo vệ dữ liệu cá nhân, Điều 3 khoản 3, Điều 14 khoản 1 điểm b, c")


def catalogue_load(apps=None) -> None:
    """Create what is missing; never overwrite what the province changed."""
    get = (lambda name: apps.get_model("privacy", name)) if apps else None
    if get is None:
        from . import models

        def get(name):
            return getattr(models, name)
    Purpose, Deadline, Rule = get("Purpose"), get("RequestDeadline"), get("RetentionRule")
    for p in PURPOSES:
        Purpose.objects.get_or_create(code=p["code"], defaults={k: v for k, v in p.items() if k != "code"})
    for d in DEADLINES:
        Deadline.objects.get_or_create(kind=d["kind"], effective_from=IN_FORCE,
                                       defaults={**d, "source": DEADLINE_SOURCE})
    for r in RETENTION:
        Rule.objects.get_or_create(kind=r["kind"], effective_from=IN_FORCE,
                                   defaults={**r, "source": RETENTION_SOURCE})
