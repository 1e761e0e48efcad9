"""Programme ratios registered in the statistics engine, so dashboards and `vitreem stats` show them too.
The counting rules are in programme/rules.py."""

from __future__ import annotations

from django.db.models import Q

from vitreem.registry.indicators import child_count, share
from vitreem.stats.engine import Params, indicator

from . import rules


@indicator("special_circumstances_share", "Tỷ lệ trẻ em có hoàn cảnh đặc biệt trên tổng số trẻ em",
           measure="percent", order=9, parts=("special_circumstances", "children"))
def special_circumstances_share(special: int, children: int) -> float | None:
    # Decision 23/QĐ-TTg, objective 2: below 6.5% in 2025 and 6% in 2030.
    return share(special, children)


@child_count("special_circumstances_assisted", "Trẻ em có hoàn cảnh đặc biệt được trợ giúp, chăm sóc (mọi hỗ trợ ghi nhận)",
           kind="flow", order=23, reads=("activities", "benefits", "cases", "registry"),
           description="Children in special circumstances on the date who, in the period, had a monthly allowance, "
                       "support through a case's approved plan (health, psychological, legal, education, care, "
                       "material), or took part by name in a recreation activity for children. Support recorded "
                       "outside vitreem is not counted.")
def special_circumstances_assisted(params: Params) -> Q:
    return rules.q_special_circumstances_assisted(params)


@child_count("under5_children", "Số trẻ em dưới 5 tuổi", order=24)
def under5_children(params: Params) -> Q:
    return rules.q_under_five(params.as_of)


@child_count("under5_birth_registered", "Trẻ em dưới 5 tuổi đã được đăng ký khai sinh", order=25)
def under5_birth_registered(params: Params) -> Q:
    return rules.q_under_five_registered(params.as_of)


@indicator("play_point_communes_share", "Tỷ lệ xã, phường có điểm vui chơi cho trẻ em (tỉnh)", measure="percent",
           kind="stock", order=26, reads=("activities",),
           description="Communes with an open play point on the date (activities), over the communes of the unit "
                       "— over the whole installation, of its province (VITREEM_PROVINCE_CODE).")
def play_point_communes_share(params: Params) -> float | None:
    return rules.play_point_communes_share(params)
