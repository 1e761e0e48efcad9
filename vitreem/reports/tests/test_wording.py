"""The rounding rules of the officials' prose, with the committee's own 2022 figures."""

import datetime as dt

from vitreem.reports.wording import approx_count, approx_percent, date_line, exact, opening_paragraph


def test_rounding_rules():
    assert approx_count(200_431) == "trên 200.000"
    assert approx_count(2_541) == "trên 2.500"
    assert approx_count(44_870) == "trên 44.000"
    assert approx_count(199_800) == "gần 200.000"
    assert approx_count(200_000) == "200.000"
    assert approx_count(865) == "865"
    assert approx_count(None) == ""
    assert approx_percent(0.3466) == "gần 35%"
    assert approx_percent(0.348) == "gần 35%"
    assert approx_percent(0.3412) == "trên 34%"
    assert approx_percent(0.35) == "35%"
    assert exact(27_678) == "27.678"


def test_opening_paragraph_reads_like_the_committee():
    figures = {"children": 200_431, "children_share": 0.3466, "poor_household_children": 27_678,
               "near_poor_household_children": 46_177, "special_circumstances": 2_541, "at_risk": 44_870,
               "allowance_recipients": 1_865}
    text = opening_paragraph(figures, year=2022, area="toàn tỉnh", as_of=dt.date(2022, 12, 31))
    assert text == ("Tính đến ngày 31/12/2022, toàn tỉnh có trên 200.000 trẻ em dưới 16 tuổi, chiếm gần 35% dân số; "
                    "27.678 trẻ em thuộc hộ nghèo và 46.177 trẻ em thuộc hộ cận nghèo; trên 2.500 trẻ em có hoàn "
                    "cảnh đặc biệt và trên 44.000 trẻ em có nguy cơ rơi vào hoàn cảnh đặc biệt; 1.865 trẻ em có hoàn "
                    "cảnh đặc biệt được hưởng trợ cấp xã hội hằng tháng tại cộng đồng.")


def test_missing_figures_are_left_out_not_invented():
    text = opening_paragraph({"children": 4042}, year=2022, area="toàn tỉnh", as_of=dt.date(2022, 12, 31))
    assert "hộ nghèo" not in text and "trợ cấp" not in text
    assert opening_paragraph({}, year=2022, area="toàn tỉnh", as_of=dt.date(2022, 12, 31)) == ""


def test_date_line_decree_30():
    assert date_line("Kon Tum", dt.date(2023, 2, 16)) == "Kon Tum, ngày 16 tháng 02 năm 2023"
