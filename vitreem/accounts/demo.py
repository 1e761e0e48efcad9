"""The demo accounts (shown on the login page only when VITREEM_DEMO=1)."""

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

DEMO_PASSWORD = "vitreem-demo"  # noqa: S105 — published on purpose: demo only

# Demo communes: Thị trấn Đăk Hà and Xã Đăk Mar, both of Huyện Đăk Hà, Kon Tum (legacy 62),
# each with its 2025 successor in Quảng Ngãi (51).
DEMO_PROVINCE = ("legacy:62", "2025:51")
DEMO_COMMUNE = ("legacy:23500", "2025:23500")
DEMO_COMMUNE2 = ("legacy:23512", "2025:23512")

DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {"username": "admin", "role": "admin", "full_name": "Quản trị hệ thống", "units": DEMO_PROVINCE,
     "label": _("Quản trị hệ thống")},
    {"username": "province", "role": "province_officer", "full_name": "Trần Thị Mai", "units": DEMO_PROVINCE,
     "label": _("Cán bộ cơ quan thường trực tỉnh")},
    {"username": "leader", "role": "leader", "full_name": "Nguyễn Văn Hùng", "units": DEMO_PROVINCE,
     "label": _("Lãnh đạo tỉnh (chỉ xem)")},
    {"username": "commune", "role": "commune_worker", "full_name": "Y Hiền", "units": DEMO_COMMUNE,
     "label": _("Cán bộ BVTE Thị trấn Đăk Hà")},
    {"username": "commune2", "role": "commune_worker", "full_name": "A Thuận", "units": DEMO_COMMUNE2,
     "label": _("Cán bộ BVTE Xã Đăk Mar")},
    {"username": "reporter", "role": "reporter", "full_name": "Lê Thị Thu", "units": DEMO_PROVINCE,
     "member_unit": "so-gddt", "label": _("Báo cáo viên Sở Giáo dục và Đào tạo")},
    {"username": "chairman", "role": "chairman", "full_name": "Lê Văn Bình", "units": DEMO_COMMUNE,
     "label": _("Chủ tịch UBND Thị trấn Đăk Hà (phê duyệt kế hoạch hỗ trợ)")},
    {"username": "supervisor", "role": "case_supervisor", "full_name": "Phạm Thị Ngọc", "units": DEMO_PROVINCE,
     "label": _("Giám sát quản lý trường hợp cấp tỉnh")},
]

# The committee's usual members (Kon Tum's committee, 2023). Membership and the standing agency are
# dated (DEMO_MEMBERSHIP, DEMO_STANDING_AGENCY below): Labour-Invalids-Social Affairs until the 2025
# reorganisation, Health after it.
DEMO_MEMBER_UNITS = [
    ("so-ldtbxh", "Sở Lao động - Thương binh và Xã hội", "Department of Labour, Invalids and Social Affairs", "department"),
    ("so-yte", "Sở Y tế", "Department of Health", "department"),
    ("so-gddt", "Sở Giáo dục và Đào tạo", "Department of Education and Training", "department"),
    ("cong-an", "Công an tỉnh", "Provincial Police", "department"),
    ("so-tuphap", "Sở Tư pháp", "Department of Justice", "department"),
    ("so-vhttdl", "Sở Văn hoá, Thể thao và Du lịch", "Department of Culture, Sports and Tourism", "department"),
    ("so-tttt", "Sở Thông tin và Truyền thông", "Department of Information and Communications", "department"),
    ("so-taichinh", "Sở Tài chính", "Department of Finance", "department"),
    ("ban-dantoc", "Ban Dân tộc", "Committee for Ethnic Affairs", "department"),
    ("hoi-lhpn", "Hội Liên hiệp Phụ nữ tỉnh", "Provincial Women's Union", "mass_org"),
    ("tinh-doan", "Tỉnh Đoàn", "Provincial Youth Union", "mass_org"),
]

# Everyone a member from the programme's start (Decision 23/QĐ-TTg, 7 January 2021), except DOLISA, whose
# work for children passed to the Department of Health in the 2025 reorganisation: it leaves the day before.
PROGRAMME_START = dt.date(2021, 1, 1)
# The switch date. Decree 42/2025/NĐ-CP (the Ministry of Health's functions), Art. 4: "Nghị định này có
# hiệu lực thi hành từ ngày 01 tháng 3 năm 2025" (read in a published copy of the article, not the
# gazette). The provincial decree (45/2025/NĐ-CP, 28 February 2025) was not found in its own text: its
# date of effect is not confirmed, so the switch is data (StandingAgencyPeriod rows) the administrator
# corrects in the admin — docs/en/legal-basis.md, "Member units and the standing agency".
HEALTH_FROM = dt.date(2025, 3, 1)
DEMO_MEMBERSHIP: dict[str, tuple[dt.date, dt.date | None]] = {code: (PROGRAMME_START, None) for code, *_ in DEMO_MEMBER_UNITS}
DEMO_MEMBERSHIP["so-ldtbxh"] = (PROGRAMME_START, HEALTH_FROM - dt.timedelta(days=1))
DEMO_STANDING_AGENCY = [
    ("so-ldtbxh", PROGRAMME_START, HEALTH_FROM - dt.timedelta(days=1),
     "Dữ liệu mẫu: cơ quan thường trực đến khi công tác trẻ em chuyển sang ngành Y tế (2025)"),
    ("so-yte", HEALTH_FROM, None,
     "Nghị định 42/2025/NĐ-CP, Điều 4 (hiệu lực 01/3/2025); Nghị định 45/2025/NĐ-CP (Sở Y tế) — ngày cần đối "
     "chiếu văn bản"),
]
