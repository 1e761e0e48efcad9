"""The users of `make bench BENCH_ARGS=load` (bench/load_run.py starts Locust on this file, headless).

It imports nothing of Django: Locust patches the standard library with gevent, and the prepared plan
(bench/load_run.py: sessions, the children, cases and communes of each persona, the import file)
comes in a JSON file named by BENCH_LOAD_PLAN. Three personas move between their usual pages with
a think time of BENCH_LOAD_THINK seconds (0: back-to-back requests, the throughput test), or paced so
that together they offer BENCH_LOAD_RATE tasks a second (the latency test, below):

- commune workers: home, their child list and a search, a child, cases and a case, benefits,
  activities, programme, reports, the dashboard; and the writes of their day — register a child,
  record a risk assessment, take in a case (form 01, the first step), an activity with participants;
- provincial officers: the same pages province-wide, the search `?q=thi&poverty=poor`; one of them
  uploads a 500-row list every BENCH_LOAD_IMPORT_EVERY seconds;
- leaders: home, dashboard, programme, reports, benefits, the child list.

Each request is named "<persona> <page>" so the figures say who waited. Writes carry a marker (the
run's tag) and their answer's id is kept; at the end the list of successful writes and the figures
(throughput, percentiles per name, errors) go to the JSON file BENCH_LOAD_OUT for load_run to check
against the database. Each user stops after BENCH_LOAD_MAX_REQUESTS requests (the count bound).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import time
from http.cookiejar import Cookie

from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

PLAN = json.load(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8"))  # noqa: SIM115
OUT = os.environ["BENCH_LOAD_OUT"]
THINK = float(os.environ.get("BENCH_LOAD_THINK", "0"))
# With no pause, N users keep N requests in the server at every moment: the mean response time is N over
# the throughput whatever the pages cost (Little's law; 20 users at 50 requests/s wait 0.4 s). A
# response-time target is met at a rate offered below what the server can serve, as people offer it:
# BENCH_LOAD_RATE > 0 paces each user at RATE / users tasks a second on average (a task is one request,
# or a write and its follow-ups), at random intervals (`poisson_pacing`).
RATE = float(os.environ.get("BENCH_LOAD_RATE", "0"))
USERS = int(os.environ.get("BENCH_LOAD_USERS", "20"))  # all personas together (bench/load_run.py)
MAX_REQUESTS = int(os.environ.get("BENCH_LOAD_MAX_REQUESTS", "20000"))
IMPORT_EVERY = float(os.environ.get("BENCH_LOAD_IMPORT_EVERY", "90"))
TAG = PLAN["tag"]
# Names take no digits (the registry refuses them): the run's tag and serials are written in letters.
LETTERS = str.maketrans("0123456789", "ABCDEGHIKL")
TODAY = dt.date.fromisoformat(PLAN["today"])

WRITES: list[dict] = []  # successful writes, checked against the database afterwards
_personas = {kind: itertools.cycle(PLAN["personas"][kind]) for kind in PLAN["personas"]}
_serial = itertools.count(1)
_last_import = {"at": time.monotonic() - IMPORT_EVERY + 15}  # the first upload 15 s into the run


def _cookie(name: str, value: str) -> Cookie:
    """A cookie of the server under test (127.0.0.1, every path), as the browser keeps it."""
    return Cookie(0, name, value, None, False, "127.0.0.1", False, False, "/", True, False, None, True, None, None, {})


def poisson_pacing(rate: float):
    """A user's tasks start at exponential intervals of mean 1 / `rate` (or at once, when the last one ran
    past its interval): together the users offer a Poisson stream, as people working independently do.

    Fixed intervals (Locust's `constant_throughput`, stop 43 to 45) locked the users into step: a user
    whose task ran past its interval started the next at once, so the users behind a slow answer left
    together and came back together, and each persona's requests queued behind its own. Same server,
    same offered rate (42 requests/s, stop 45): fixed, page p50 120 ms and p95 260 ms (medians over the
    pages), the province officer's pages 130–200 ms at p50 against the commune worker's 31–74 for pages
    that cost the same alone; at random intervals, 23 and 97 ms, and no persona slower than another."""
    def wait(user) -> float:
        now = time.monotonic()
        started = getattr(user, "pace_started", now)  # when the task just run was due to start
        user.pace_started = max(now, started + user.pace.expovariate(rate))
        return user.pace_started - now

    return wait


class _Persona(FastHttpUser):
    """geventhttpclient rather than requests: Locust runs on the same two cores as the servers it
    measures, and with requests it took 5.7 ms of CPU a request (0.12 cores at 22 requests/s, stop 43; 3.7 ms with this)."""

    abstract = True
    kind = ""
    wait_time = poisson_pacing(RATE / USERS) if RATE > 0 else constant(THINK)

    def on_start(self) -> None:
        self.me = next(_personas[self.kind])
        self.client.cookiejar.set_cookie(_cookie("sessionid", self.me["session"]))
        self.client.cookiejar.set_cookie(_cookie("csrftoken", PLAN["csrf"]))
        self.rng = random.Random(f"{TAG}:{self.me['session']}")
        self.pace = random.Random(f"{TAG}:pace:{self.me['session']}")
        self.count = 0

    # ------------------------------------------------------------ requests

    def _count(self) -> None:
        self.count += 1
        if self.count > MAX_REQUESTS:
            raise StopUser

    def page(self, name: str, url: str, params: dict | None = None) -> None:
        self._count()
        with self.client.get(url, params=params, name=f"{self.kind} {name}", allow_redirects=False,
                             catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code} {r.headers.get('Location', '')}")

    def write(self, name: str, url: str, *, json_body: dict | None = None, files=None, data=None,
              expect: int = 201) -> dict | None:
        self._count()
        with self.client.post(url, json=json_body, files=files, data=data, name=f"{self.kind} write: {name}",
                              headers={"X-CSRFToken": PLAN["csrf"], "Referer": self.host + "/"},
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != expect:
                r.failure(f"{r.status_code} {r.text[:300]}")
                return None
            return r.json()

    # ------------------------------------------------------------ pages shared by every persona

    def child(self) -> None:
        self.page("child", f"/registry/children/{self.rng.choice(self.me['children'])}/")

    def case(self) -> None:
        if self.me["cases"]:
            self.page("case", f"/cases/{self.rng.choice(self.me['cases'])}/")


class CommuneWorker(_Persona):
    kind = "commune"
    fixed_count = int(os.environ.get("BENCH_LOAD_COMMUNE", "10"))

    @task(3)
    def home(self):
        self.page("home", "/")

    @task(3)
    def child_list(self):
        self.page("child list", "/registry/children/", {"page": self.rng.randint(1, 3)})

    @task(3)
    def child_search(self):
        self.page("child search", "/registry/children/", {"q": self.rng.choice(self.me["searches"])})

    @task(4)
    def child_page(self):
        self.child()

    @task(2)
    def cases(self):
        self.page("cases", "/cases/")

    @task(2)
    def case_page(self):
        self.case()

    @task(1)
    def benefits(self):
        self.page("benefits", "/benefits/")

    @task(1)
    def activities(self):
        self.page("activities", "/activities/")

    @task(1)
    def programme(self):
        self.page("programme", "/programme/")

    @task(1)
    def reports(self):
        self.page("reports", "/reports/")

    @task(1)
    def dashboard(self):
        self.page("dashboard", "/stats/")

    # ------------------------------------------------------------ writes

    @task(1)
    def register_child(self):
        n = next(_serial)
        name = f"{self.rng.choice(['Y', 'A', 'Nguyễn Văn', 'Lê Thị'])} Tải {_letters(TAG)} {_letters(n)}"
        body = {"full_name": name, "birth_date": str(TODAY - dt.timedelta(days=self.rng.randint(40, 5000))),
                "sex": self.rng.choice("MF"), "unit": self.me["unit"], "village": "Thôn 1",
                "guardians": [{"full_name": f"Y Mẹ {_letters(n)}", "relationship": "mother"}],
                "confirm_not_duplicate": True}
        out = self.write("register child", "/api/registry/children", json_body=body)
        if out:
            WRITES.append({"kind": "child", "id": out["id"], "name": name})
            self.me["children"].append(out["id"])

    @task(1)
    def risk_assessment(self):
        child_id = self.rng.choice(self.me["children"])
        factors = self.rng.sample(PLAN["risk_factors"], k=self.rng.randint(0, 2))
        out = self.write("risk assessment", f"/api/registry/children/{child_id}/risk-assessments",
                         json_body={"assessed_on": str(TODAY), "factors": factors, "note": f"{TAG} rủi ro"})
        if out:
            WRITES.append({"kind": "risk", "id": out["id"], "child": child_id})

    @task(1)
    def case_intake(self):
        child_id = self.rng.choice(self.me["children"])
        body = {"received_at": dt.datetime.now(dt.UTC).isoformat(), "channel": "hotline_111", "place": "Thôn 2",
                "concern": PLAN["concern"], "summary": f"{TAG} tiếp nhận qua điện thoại", "child_id": child_id,
                "reporter_name": "Người báo tin", "reporter_relation": "hàng xóm"}
        out = self.write("case step (form 01)", "/api/cases/", json_body=body)
        if out:
            WRITES.append({"kind": "case", "id": out["id"]})
            self.me["cases"].append(out["id"])

    @task(1)
    def activity(self):
        n = next(_serial)
        body = {"kind": PLAN["activity_kind"], "title": f"Tập huấn {TAG} {n}", "start_date": str(TODAY),
                "unit": self.me["unit"], "status": "done", "topic": "violence",
                "audience": "parents", "days": "1"}  # a training's audience is required (activities.services)
        out = self.write("activity", "/api/activities/activities", json_body=body)
        if not out:
            return
        participants = []
        for i in range(3):
            p = self.write("activity participant", f"/api/activities/activities/{out['id']}/participants",
                           json_body={"full_name": f"Học viên {_letters(TAG)} {_letters(n)} {_letters(i)}", "sex": self.rng.choice("MF"),
                                      "role": "Cha mẹ"})
            if p:
                participants.append(p["id"])
        WRITES.append({"kind": "activity", "id": out["id"], "participants": participants})


class ProvinceOfficer(_Persona):
    kind = "province"
    fixed_count = int(os.environ.get("BENCH_LOAD_PROVINCE", "6"))

    @task(3)
    def home(self):
        self.page("home", "/")

    @task(2)
    def child_list(self):
        self.page("child list", "/registry/children/", {"page": self.rng.randint(1, 5)})

    @task(2)
    def child_search(self):
        self.page("child search", "/registry/children/", {"q": self.rng.choice(self.me["searches"])})

    @task(1)
    def child_search_poor(self):
        self.page("child search poor", "/registry/children/", {"q": "thi", "poverty": "poor"})

    @task(2)
    def child_page(self):
        self.child()

    @task(2)
    def cases(self):
        self.page("cases", "/cases/")

    @task(1)
    def case_page(self):
        self.case()

    @task(2)
    def benefits(self):
        self.page("benefits", "/benefits/")

    @task(1)
    def activities(self):
        self.page("activities", "/activities/")

    @task(1)
    def programme(self):
        self.page("programme", "/programme/")

    @task(1)
    def reports(self):
        self.page("reports", "/reports/")

    @task(2)
    def dashboard(self):
        self.page("dashboard", "/stats/")

    @task(1)
    def upload_list(self):
        """A 500-row list, at most once every IMPORT_EVERY seconds across all officers."""
        if time.monotonic() - _last_import["at"] < IMPORT_EVERY:
            return
        _last_import["at"] = time.monotonic()
        path = _import_file()
        with open(path, "rb") as fh:
            out = self.write("import 500 rows", "/api/imports/", files={"file": (os.path.basename(path), fh)},
                             data={}, expect=202)
        if out:
            WRITES.append({"kind": "import", "id": out["id"], "rows": PLAN["import_rows"], "file": path})


class Leader(_Persona):
    kind = "leader"
    fixed_count = int(os.environ.get("BENCH_LOAD_LEADER", "4"))

    @task(3)
    def home(self):
        self.page("home", "/")

    @task(3)
    def dashboard(self):
        self.page("dashboard", "/stats/")

    @task(1)
    def programme(self):
        self.page("programme", "/programme/")

    @task(1)
    def reports(self):
        self.page("reports", "/reports/")

    @task(1)
    def benefits(self):
        self.page("benefits", "/benefits/")

    @task(1)
    def child_list(self):
        self.page("child list", "/registry/children/")


def _letters(value) -> str:
    return str(value).translate(LETTERS)


_import_files = itertools.cycle(PLAN["imports"])


def _import_file() -> str:
    """The next prepared list (each has its own names: a list sent twice would only update)."""
    return next(_import_files)


_started = {"at": time.monotonic()}


@events.test_start.add_listener
def _on_start(**_kw) -> None:
    _started["at"] = time.monotonic()


@events.quitting.add_listener
def _on_quit(environment, **_kw) -> None:
    """Figures per request name and in total, and the writes, for bench/load_run.py."""
    stats = environment.stats
    elapsed = max(1e-9, time.monotonic() - _started["at"])

    def figures(entry) -> dict:
        pct = entry.get_response_time_percentile
        return {"requests": entry.num_requests, "failures": entry.num_failures,
                "p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": entry.max_response_time,
                "mean": round(entry.avg_response_time, 1)}

    errors = [{"name": e.name, "error": re.sub(r"\s+", " ", str(e.error))[:300], "count": e.occurrences}
              for e in stats.errors.values()]
    out = {"elapsed": elapsed, "total": figures(stats.total), "rps": stats.total.num_requests / elapsed,
           "entries": {name: figures(entry) for (name, _method), entry in stats.entries.items()},
           "errors": errors, "writes": WRITES}
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False)
