"""The demo: a reporter per member unit, targets, reports with late and missing ones, explanations."""

import json
from io import StringIO

from django.core.management import call_command

from conftest import login
from vitreem.accounts.models import MemberUnit, User
from vitreem.demo.services import demo_seed
from vitreem.programme.models import Explanation, Submission, YearEvaluation
from vitreem.programme.selectors import completeness, evaluation_for_year


def test_demo_programme_is_worth_reading(db):
    demo_seed(children=1500, parts=["registry", "programme"], log=lambda line: None)
    assert User.objects.get(username="reporter").member_unit.code == "so-gddt"
    assert User.objects.get(username="reporter-so-yte").member_unit.code == "so-yte"
    assert all(User.objects.filter(member_unit=mu, role="reporter").exists() for mu in MemberUnit.objects.all())
    ev = evaluation_for_year(year=2022)
    statuses = {r["status"] for r in ev["targets"]}
    assert {"achieved", "not_achieved"} <= statuses <= {"achieved", "not_achieved", "no_data"}
    assert all(r["explanation"] for r in ev["targets"] if r["status"] == "not_achieved")
    assert ev["finalised"] and YearEvaluation.objects.count() == 4
    assert {r["code"]: r for r in ev["targets"]}["tre-em-hcdb"]["value"] is not None  # from the demo registry
    assert all(m["confirmed"] for m in ev["member_units"] if m["suggested"])
    blocks = completeness(year=2022)
    cells = [c["state"] for b in blocks for r in b["rows"] for c in r["cells"]]
    assert "late" in cells and "missing" in cells and "on_time" in cells
    assert Submission.objects.filter(status="submitted").exists()
    assert Explanation.objects.filter(year=2025).count() < sum(
        r["status"] == "not_achieved" for r in evaluation_for_year(year=2025, with_trend=False)["targets"])
    out = StringIO()
    call_command("targets", "--year", "2022", "--json", stdout=out)
    assert {r["code"]: r["status"] for r in json.loads(out.getvalue())} == {r["code"]: r["status"] for r in ev["targets"]}
    # the pages render with the demo data
    client = login(User.objects.get(username="province"))
    for url in ["/programme/evaluation/?year=2022", "/programme/completeness/?year=2022",
                "/programme/member-units/?year=2022", "/programme/plans/?year=2023"]:
        assert client.get(url).status_code == 200, url
    assert "seed" not in demo_seed(children=1500, parts=["programme"], log=lambda line: None)  # idempotent
