"""The benchmark suite: the register's own layers measured against the raw engines underneath, in one run.

    make bench                      # 100,000 people on a real PostgreSQL and Elasticsearch node it starts itself
    make bench ARGS="--nominals 2000 --sqlite-nominals 2000"
    make bench ARGS="--relevance-only --nominals 2000"   # search relevance alone (SQLite register + its own node)
    make bench ARGS="--sqlite-only"                      # the embedded backend's searches alone (20,000 people)
    make bench ARGS="--es-nodes 3 --nominals 20000"      # reindex and searches on one node, then a three-node cluster

Every figure is reported beside its baseline measured in the same run, with the ratio. Results go to a JSON file
(`--out`, default var/bench/results.json) and, with `--report` (as `make bench` runs it), to docs/benchmarks.md and
docs/benchmarks.json. A tiny size runs in the test
suite as a smoke test (tests/bench); the real runs are on demand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))


def running_year(today: dt.date) -> int:
    """The reporting year in progress (ending 31 March): a generated register is recorded on the day it is
    generated, so an ended year has nobody in it as published (docs/statistics.md) and would time nothing."""
    return today.year + 1 if today > dt.date(today.year, 3, 31) else today.year

def summary(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(round(q * (len(s) - 1))))]  # noqa: E731
    return {"n": len(s), "median_ms": round(statistics.median(s) * 1000, 2), "p95_ms": round(pick(0.95) * 1000, 2),
            "p99_ms": round(pick(0.99) * 1000, 2)}


def timed(fn: Callable[[], Any], repeat: int, between: Callable[[], Any] | None = None) -> list[float]:
    """`fn`'s times, `repeat` of them after a warm-up; `between`, if given, runs before each call, untimed."""
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        if between is not None:
            between()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def compare(name: str, register: dict[str, float], baseline: dict[str, float], what: str) -> dict[str, Any]:
    ratio = round(register["median_ms"] / baseline["median_ms"], 1) if baseline["median_ms"] else None
    return {"figure": name, "register": register, "baseline": baseline, "baseline_is": what, "ratio_median": ratio}


def queries(factory: Any, nominals: int) -> list[tuple[str, dict[str, Any]]]:
    """At least ten investigator searches, built from people known to be in the register."""
    p = [factory.person(i) for i in (7, 123 % nominals, 456 % nominals, 789 % nominals, 1011 % nominals)]
    ident = p[0].new.identity
    phone = next((i for x in p for i in x.items if i.section.value == "contacts" and i.kind.value == "phone"), None)
    vehicle = next((i for x in p for i in x.items if i.section.value == "vehicles"), None)
    address = next((i for x in p for i in x.items if i.section.value == "addresses" and i.date_to is None), None)
    g = lambda *criteria, op="and": {"type": "group", "op": op, "criteria": list(criteria)}  # noqa: E731
    out = [
        ("surname", g({"type": "name", "value": ident.surname})),
        ("forename and surname", g({"type": "name", "value": f"{ident.forenames.split()[0]} {ident.surname}"})),
        ("name and date of birth", g({"type": "name", "value": ident.surname}, {"type": "date_of_birth", "exact": ident.date_of_birth.isoformat()})),
        ("men aged 30-39 with a tattoo on the neck", g({"type": "person", "gender": "male"}, {"type": "age", "min": 30, "max": 39},
                                                       {"type": "mark", "kind": "tattoo", "location": "neck"})),
        ("offence against a child under 13, Level 2 or 3", g({"type": "offence", "victim_age_band": "under_13"},
                                                           g({"type": "management", "mappa_level": 2}, {"type": "management", "mappa_level": 3}, op="or"))),
        ("category 2 people with a silver car", g({"type": "management", "mappa_category": 2}, {"type": "vehicle", "colour": "silver"})),
        ("either of two surnames", g({"type": "name", "value": p[1].new.identity.surname}, {"type": "name", "value": p[2].new.identity.surname}, op="or")),
        ("robbery, not Level 1", g({"type": "offence", "text": "robbery"}, g({"type": "management", "mappa_level": 1}, op="not"))),
    ]
    if vehicle is not None:
        vrm = vehicle.vrm
        out.append(("partial registration mark", g({"type": "vehicle", "vrm": vrm[:2] + "?" + vrm[3:5] + "*"})))
    if phone is not None:
        out.append(("phone number", g({"type": "contact", "kind": "phone", "value": phone.value})))
    if address is not None and address.postcode:
        out.append(("postcode", g({"type": "address", "postcode": address.postcode})))
    out.append(("employment text", g({"type": "employment", "text": "engineer"}, {"type": "age", "min": 25, "max": 60})))
    return out


def command(env: dict[str, str], *args: str) -> Any:
    """A `register` command in its own process, quiet, configured by `env` alone: a REGISTER_ variable left in
    the shell that runs the benchmark (an Elasticsearch URL, say) must not reach a server meant to run without it."""
    import os
    import subprocess

    inherited = {key: value for key, value in os.environ.items() if not key.startswith("REGISTER_")}
    return subprocess.Popen([sys.executable, "-c", "from register.cli import main; main()", *args], env={**inherited, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class ApiServer:
    """The register's API in its own process under uvicorn, called over loopback HTTP as a client would."""

    def __init__(self, env: dict[str, str]) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = command(env, "serve", "--port", str(self.port))
        self.url = f"http://127.0.0.1:{self.port}"
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break  # it exited: no point waiting
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the API server did not become ready")

    def peak_memory_mb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
        return 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def server_env(settings: Any) -> dict[str, str]:
    env = {"REGISTER_DATABASE_URL": settings.resolved_database_url, "REGISTER_VAR_DIR": str(settings.var_dir),
           "REGISTER_KEY_DIR": str(settings.resolved_key_dir), "REGISTER_SEARCH_ALIAS": settings.search_alias,
           # the load is many calls by few users from one address: the production rate limits would measure themselves
           "REGISTER_RATE_LIMIT_PER_USER": "", "REGISTER_RATE_LIMIT_PER_ADDRESS": ""}
    if settings.elasticsearch_url:
        env["REGISTER_ELASTICSEARCH_URL"] = settings.elasticsearch_url
    return env


def _stat(pid: int) -> list[str]:
    """A process's /proc stat fields after its name (state, parent, ...; empty when it has gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User and system CPU time each of these processes has used so far (Linux /proc), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {pid: _stat(pid) for pid in pids}
    return {pid: (int(f[11]) + int(f[12])) / tick for pid, f in stats.items() if f}  # utime, stime


def postgres_pids(store: Any) -> list[int]:
    """The benchmark's PostgreSQL server: its postmaster (the parent of this connection's backend) and every process
    the postmaster has started (backends, background writers, WAL writer); no other server on the machine."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    postmaster = _parent(backend)
    return [postmaster] + [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(int(p.name)) == postmaster]


def _parent(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else -1


def sustained_updates(store: Any, api: ApiServer, token: str, ids: list[Any], indexer_pid: int,
                      second: ApiServer | None = None, seconds: float = 10) -> dict[str, Any]:
    """Four clients appending to the chronology for `seconds` (each through every fourth record, two of them through
    `second` when given), the indexer draining meanwhile: updates per second, the age of the oldest change not yet
    indexed, and the CPU time per update spent by the API process(es), PostgreSQL, the indexer and the clients (the
    benchmark process): on N cores no process layout can sustain more than N seconds of CPU a second."""
    import httpx
    from sqlalchemy import func, select

    from register.store import models as m

    done = [0]
    lock = threading.Lock()
    apis = [api] + ([second] if second else [])
    stop = time.perf_counter() + seconds

    def worker(url: str, mine: list[Any]) -> None:
        own = httpx.Client(base_url=url, timeout=60)
        auth = {"Authorization": f"Bearer {token}"}
        local = {nid: own.get(f"/v1/nominals/{nid}", headers=auth).headers["etag"] for nid in mine}
        while time.perf_counter() < stop:
            for nid in mine:
                r = own.post(f"/v1/nominals/{nid}/chronology",
                             json={"occurred_at": "2026-01-01T10:00:00Z", "kind": "contact", "summary": "bench"},
                             headers={**auth, "If-Match": local[nid]})
                if r.status_code == 201:
                    local[nid] = r.headers["etag"]
                    with lock:
                        done[0] += 1

    lags: list[float] = []

    def sample_lag() -> None:  # the age of the oldest change not yet in the index, twice a second
        while time.perf_counter() < stop:
            with store.session_factory() as s:
                oldest = s.execute(select(func.min(m.Outbox.created_at)).where(m.Outbox.processed_at.is_(None))).scalar()
            lags.append((dt.datetime.now(dt.UTC) - oldest).total_seconds() if oldest else 0.0)
            time.sleep(0.5)

    groups: dict[str, Callable[[], list[int]]] = {
        "api": lambda: [a.process.pid for a in apis], "postgresql": lambda: postgres_pids(store),
        "indexer": lambda: [indexer_pid], "clients": lambda: [os.getpid()]}
    before = {name: cpu_seconds(pids()) for name, pids in groups.items()}
    wall = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(apis[i % len(apis)].url, ids[i::4])) for i in range(4)]
    threads.append(threading.Thread(target=sample_lag))
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - wall
    count = max(done[0], 1)
    after = {name: cpu_seconds(pids()) for name, pids in groups.items()}  # a backend started meanwhile counts whole
    per_update = {name: round(sum(t - before[name].get(pid, 0.0) for pid, t in after[name].items()) * 1000 / count, 2)
                  for name in groups}
    server = per_update["api"] + per_update["postgresql"] + per_update["indexer"]
    return {"per_s": round(done[0] / wall, 1),
            "lag": {"median": round(statistics.median(lags), 2) if lags else None, "max": round(max(lags), 2) if lags else None},
            "cpu_ms_per_update": per_update,
            "server_cpu_ms_per_update": round(server, 2),
            "bound_per_s_on_these_cpus": round((os.cpu_count() or 1) * 1000 / server) if server else None}


PAGE_TARGET_P95_MS = 150  # issue 14: the caseload (60 people) and the record, p95 server time


@dataclass(frozen=True)
class Live:
    """A page's path viewed on a live register: `between` (another user's change) runs before each view, untimed."""

    path: str
    between: Callable[[], Any]

    def __call__(self) -> str:
        return self.path


def time_page(client: Any, store: Any, name: str, path: Any, repeat: int, statements: list[int],
              count: Callable[..., None]) -> dict[str, Any]:
    """One page timed `repeat` times through `client` (`path`: a string, or a function giving the next path), then
    viewed once more counting its SQL statements (`count` adds to `statements[0]`)."""
    from sqlalchemy import event

    def get() -> None:
        url = path() if callable(path) else path
        r = client.get(url, follow_redirects=False)
        if r.status_code != 200:
            raise RuntimeError(f"{url} answered {r.status_code}")

    between = path.between if isinstance(path, Live) else None
    samples = summary(timed(get, repeat, between))
    event.listen(store.engine, "before_cursor_execute", count)
    statements[0] = 0
    get()
    event.remove(store.engine, "before_cursor_execute", count)
    return {"page": name, **samples, "statements_per_view": statements[0], "target_p95_ms": PAGE_TARGET_P95_MS,
            "meets_target": samples["p95_ms"] <= PAGE_TARGET_P95_MS}


def web_pages(settings: Any, store: Any, today: dt.date, repeat: int) -> list[dict[str, Any]]:
    """The benchmark offender manager's caseload page and their people's record overviews, with a signed-in web
    session, driven in this process (Starlette's TestClient calls the app directly: no browser, no network), so
    the times are the server's handling: guard, queries, decryption, audit, rendering. Also the SQL statements
    one view of each page runs."""
    import threading

    from starlette.testclient import TestClient

    from register.api.app import build_app
    from register.caseload.repository import CaseloadRepository
    from register.domain.actors import Principal
    from register.domain.enums import Role
    from register.synthetic.people import BENCH_CASELOAD as om
    from register.web.sessions import COOKIE

    with store.session_factory() as s:
        cases = CaseloadRepository(s).cases(area=om.area, user_id=om.user_id, agency=om.agency, today=today)
    ids = [c.id for c in cases]
    if not ids:
        raise RuntimeError(f"{om.user_id} manages no one here: generate the register with this version of `register generate`")
    app = build_app(settings.model_copy(update={"indexer_in_api": False, "rate_limit_per_user": "", "rate_limit_per_address": ""}), store)
    statements = [0]

    def count(*_: Any) -> None:  # the pages' own statements, not the background audit sealer's
        if threading.current_thread().name != "register-audit-sealer":
            statements[0] += 1

    out = []
    with TestClient(app) as client:
        session = app.state.sessions.create()  # signed in as web/signin.py does, without the sign-in page
        session.principal = Principal(om.user_id, om.agency, om.area, frozenset({Role.OFFENDER_MANAGER}), om.name)
        session.issuer = "development"
        client.cookies.set(COOKIE, session.id)
        it = iter(ids * (repeat // len(ids) + 2))
        around = iter(ids * (repeat // len(ids) + 2))  # the associations page's own walk through the same people
        pages = [(f"caseload page ({len(ids)} people, 20 a page)", lambda: "/caseload"),
                 ("record overview page", lambda: f"/records/{next(it)}"),
                 ("associations page, two levels", lambda: f"/records/{next(around)}/associations?level=2")]
        out += [time_page(client, store, name, path, repeat, statements, count) for name, path in pages]
        out += supervisor_and_auditor_pages(app, client, store, om, ids, today, repeat, statements, count)
    return out


def supervisor_and_auditor_pages(app: Any, client: Any, store: Any, om: Any, ids: list[Any], today: dt.date, repeat: int,
                                 statements: list[int], count: Callable[..., None]) -> list[dict[str, Any]]:
    """The statistics pages (the area's supervisor) and the auditor's pages, timed like the caseload: the
    annual tables with last year's beside them, the people behind the largest figure, the audit log's first
    page, who looked at a record, and one event."""
    from sqlalchemy import func, select

    from register.domain.actors import Principal
    from register.domain.enums import Role
    from register.store import models as m
    from register.web.sessions import COOKIE
    year = running_year(today)
    with store.session_factory() as s:
        seq = int(s.scalar(select(func.max(m.AuditEvent.seq))) or 1)
    it = iter(ids * (repeat // len(ids) + 2))
    people = f"/statistics/people?year={year}&table=eligible_on_31_march&row=1&column=1"
    from register.statistics import service as statistics
    from register.web.statistics import PEOPLE_PAGE

    with store.session_factory() as s:  # the figure's own pages, walked in turn (none past its end)
        behind = len(statistics.people(s, om.area.value, year, "eligible_on_31_march", "1", "1"))
    walk = (n % max(1, -(-behind // PEOPLE_PAGE)) + 1 for n in range(10**6))

    def afresh() -> str:  # nothing kept of the figure (decision 75): what a first view, or one after any change, costs
        statistics._CELLS.clear()
        return people

    def figures_afresh() -> str:  # nothing kept of the year's figures: a first view, or one after any change, costs
        statistics._COMPUTED.clear()
        return f"/statistics?year={year}"

    from register.domain import clock
    from register.domain.enums import ChronologyKind
    from register.domain.record import ChronologyEntry
    from register.nominals import service as nominals
    visited = iter(ids * (repeat * 4 // len(ids) + 4))
    officer = Principal(om.user_id, om.agency, om.area, frozenset({Role.OFFENDER_MANAGER}), om.name)

    def home_visit() -> None:  # an officer records a home visit between two views, as on a live register (decision 91)
        nid = next(visited)
        with store.unit_of_work() as uow:
            nominals.append_chronology(
                uow, officer, nid,
                ChronologyEntry(occurred_at=clock.now(), kind=ChronologyKind.HOME_VISIT, summary="Home visit"),
                expected_version=uow.nominals.header_row(nid).version)
    users = [
        (Role.SUPERVISOR, [(f"statistics page ({year - 1}/{str(year)[2:]} and the year before)", lambda: f"/statistics?year={year}"),
                           (f"statistics page, worked out afresh each view ({year - 1}/{str(year)[2:]} and the year before)", figures_afresh),
                           ("people behind a figure (Category 1, Level 1)", lambda: people),
                           ("people behind a figure, the next page each view", lambda: f"{people}&page={next(walk)}"),
                           ("people behind a figure, worked out afresh each view", afresh),
                           (f"statistics page, a home visit recorded before each view ({year - 1}/{str(year)[2:]} and the year before)",
                            Live(f"/statistics?year={year}", home_visit)),
                           ("people behind a figure, a home visit recorded before each view", Live(people, home_visit))]),
        (Role.AUDITOR, [("audit log, first page", lambda: "/audit"),
                        ("who looked at a record", lambda: f"/audit/records/{next(it)}"),
                        ("one audit event", lambda: f"/audit/events/{seq}")]),
    ]
    out = []
    for role, pages in users:
        session = app.state.sessions.create()
        session.principal = Principal(f"bench.{role.value}", om.agency, om.area, frozenset({role}), role.value)
        session.issuer = "development"
        client.cookies.set(COOKIE, session.id)
        out += [time_page(client, store, name, path, repeat, statements, count) for name, path in pages]
    return out


def casework_pages(settings: Any, store: Any, today: dt.date, repeat: int) -> list[dict[str, Any]]:
    """The supervisor's casework pages (web/transfers.py, duplicates.py, retention.py) as the Kent supervisor, timed
    like `web_pages`. Twenty transfers from another area to Kent are asked for first (through the use case), so
    the transfers desk has work on it; the duplicates, retention desk and a record's retention page read what
    the generated register holds."""
    import threading

    from sqlalchemy import select
    from starlette.testclient import TestClient

    from register.api.app import build_app
    from register.domain.actors import Principal
    from register.domain.enums import Agency, Area, NominalStatus, Role
    from register.merges import service as merges
    from register.store import models as m
    from register.transfers import service as transfers
    from register.transfers.schemas import TransferRequest
    from register.web.sessions import COOKIE

    supervisor = Principal("bench.supervisor", Agency.POLICE, Area.KENT, frozenset({Role.SUPERVISOR}), "DS Bench")
    with store.session_factory() as s:
        others = s.execute(select(m.Nominal.id, m.Nominal.area, m.Nominal.version).where(
            m.Nominal.area != Area.KENT.value, m.Nominal.status == NominalStatus.ACTIVE.value,
            ~m.Nominal.id.in_(select(m.Transfer.nominal_id))).limit(20)).all()
        archived = s.scalar(select(m.Nominal.id).where(m.Nominal.area == Area.KENT.value,
                                                        m.Nominal.status == NominalStatus.ARCHIVED.value).limit(1))
    for row in others:
        asker = Principal("bench.om", Agency.POLICE, Area(row.area), frozenset({Role.OFFENDER_MANAGER}), "DC Bench")
        with store.unit_of_work() as uow:
            transfers.start(uow, asker, row.id, TransferRequest(to_area=Area.KENT, reason="moved to Kent"),
                            expected_version=row.version)
    with store.unit_of_work() as uow:
        pairs, _ = merges.list_pairs(uow, supervisor, Area.KENT.value, limit=50)
    pair = next((p for p in pairs if p.first_area == p.second_area == Area.KENT.value), None)
    with store.unit_of_work() as uow:
        first_transfer = transfers.desk(uow, supervisor, app_policy(settings), "incoming")[0].id if others else None
    app = build_app(settings.model_copy(update={"indexer_in_api": False, "rate_limit_per_user": "", "rate_limit_per_address": ""}), store)
    statements = [0]

    def count(*_: Any) -> None:
        if threading.current_thread().name != "register-audit-sealer":
            statements[0] += 1

    pages = [("transfers desk (waiting)", "/transfers"), ("transfers desk (decided)", "/transfers?show=decided"),
             ("suspected duplicates", "/duplicates"), ("retention desk: due for review", "/retention?view=review"),
             ("retention desk: all archived", "/retention?view=archived")]
    if first_transfer:
        pages.append(("a transfer's page", f"/transfers/{first_transfer}"))
    if pair:
        pages.append(("two records compared, merge preview", f"/duplicates/{pair.first}/{pair.second}"))
    if archived:
        pages.append(("a record's retention page", f"/retention/records/{archived}"))
    out = []
    with TestClient(app) as client:
        session = app.state.sessions.create()
        session.principal = supervisor
        session.issuer = "development"
        client.cookies.set(COOKIE, session.id)
        out += [time_page(client, store, name, path, repeat, statements, count) for name, path in pages]
    return out


def app_policy(settings: Any) -> Any:
    from register.access.policy import Policy

    return Policy.load(settings.policy_file)


def supervisor_pages(settings: Any, store: Any, today: dt.date, repeat: int) -> list[dict[str, Any]]:
    """The supervisor's desk (web/quality.py, web/workload.py) as web_pages() times the caseload: the data-quality
    dashboard, the worklist (all findings, one rule, a deep page, the CSV export of one rule), the area's workload and
    one officer's overdue people, for a supervisor of the benchmark offender manager's area, after the quality sweep."""
    import threading

    from starlette.testclient import TestClient

    from register.api.app import build_app
    from register.domain.actors import Principal
    from register.domain.enums import Role
    from register.synthetic.people import BENCH_CASELOAD as om
    from register.web.sessions import COOKIE

    app = build_app(settings.model_copy(update={"indexer_in_api": False, "rate_limit_per_user": "", "rate_limit_per_address": ""}), store)
    statements = [0]

    def count(*_: Any) -> None:
        if threading.current_thread().name != "register-audit-sealer":
            statements[0] += 1

    out = []
    with TestClient(app) as client:
        session = app.state.sessions.create()
        session.principal = Principal(f"{om.area.value}.bench.supervisor", om.agency, om.area, frozenset({Role.SUPERVISOR}), "Bench Supervisor")
        session.issuer = "development"
        client.cookies.set(COOKIE, session.id)
        pages = [("data-quality dashboard", "/quality"), ("quality worklist, all findings (25 a page)", "/quality/findings"),
                 ("quality worklist, one rule", "/quality/findings?rule=VISIT-OVERDUE"),
                 ("quality worklist, page 40", "/quality/findings?page=40"),
                 ("quality worklist CSV export, one rule", "/quality/findings.csv?rule=MISSING-ADDRESS"),
                 ("workload across the area", "/workload"),
                 (f"one officer's overdue people ({om.user_id})", f"/workload/officers/{om.user_id}")]
        out += [time_page(client, store, name, path, repeat, statements, count) for name, path in pages]
    return out


SEARCH_PAGE_OVERHEAD_MS = 30  # issue 15: a results page within its search's own time + 30 ms


def search_pages(settings: Any, store: Any, today: dt.date, repeat: int, factory: Any) -> list[dict[str, Any]]:
    """The investigator's results page (web/search.py) against the search it runs: each query timed through the
    search use case alone (`search.service.search`, the same backend, purpose and page size) and through the
    page (a signed-in session holding the search under an opaque id, as the form leaves it), in this process.
    The page's own cost (photographs, why-matched, rendering, session) is the difference."""
    import secrets

    from starlette.testclient import TestClient

    from register.api.app import build_app
    from register.domain.actors import Principal
    from register.domain.enums import Agency, Area, Role
    from register.search import service as search_service
    from register.search.query import SearchRequest
    from register.web import search as web_search
    from register.web.sessions import COOKIE

    app = build_app(settings.model_copy(update={"indexer_in_api": False, "rate_limit_per_user": "", "rate_limit_per_address": ""}), store)
    investigator = Principal("bench.investigator", Agency.POLICE, Area.KENT, frozenset({Role.INVESTIGATOR}), "DC Bench Investigator")
    p = factory.person(7)
    ident = p.new.identity
    vehicle = next((i for i in p.items if i.section.value == "vehicles"), None)
    g = lambda *criteria, op="and": {"type": "group", "op": op, "criteria": list(criteria)}  # noqa: E731
    chosen = [("surname", g({"type": "name", "value": ident.surname}), ["Name"]),
              # hundreds of hits at 20,000 people: a page of 20 with its photographs, many pages
              ("year of birth", g({"type": "date_of_birth", "year": ident.date_of_birth.year}), ["Date of birth"])]
    if vehicle is not None:
        vrm = vehicle.vrm
        chosen.insert(0, ("partial registration mark and surname", g({"type": "name", "value": ident.surname},
                                                                     {"type": "vehicle", "vrm": vrm[:4] + "*"}), ["Name", "Vehicle"]))
    out = []
    with TestClient(app) as client:
        session = app.state.sessions.create()
        session.principal = investigator
        session.issuer = "development"
        session.data[web_search.ENQUIRY] = "BENCH"
        client.cookies.set(COOKIE, session.id)
        for name, query, labels in chosen:
            request = SearchRequest.model_validate({"query": query, "page_size": web_search.PAGE_SIZE})
            sid = secrets.token_urlsafe(12)
            session.data.setdefault(web_search.SEARCHES, {})[sid] = {
                "request": request.model_dump(mode="json", include={"query", "include_archived", "sort"}),
                "labels": labels, "form": {}, "cursors": {}}

            def run(request: SearchRequest = request) -> None:
                with store.unit_of_work(for_caller=True) as uow:
                    search_service.search(uow, investigator, app.state.policy, app.state.search_backend, app.state.search_backend_name,
                                          request, purpose="BENCH", request_id=None)

            def get(sid: str = sid) -> None:
                r = client.get(f"/search/{sid}?page=1", follow_redirects=False)
                if r.status_code != 200:
                    raise RuntimeError(f"the results page answered {r.status_code}")

            # Interleaved, one search then one page, so that a busy machine slows both alike; the page's own
            # time is the median of the paired differences.
            run(), get()  # warm
            searches_ms: list[float] = []
            pages_ms: list[float] = []
            for _ in range(repeat):
                for fn, into in ((run, searches_ms), (get, pages_ms)):
                    t = time.perf_counter()
                    fn()
                    into.append(time.perf_counter() - t)
            own = sorted(round((p - q) * 1000, 2) for p, q in zip(pages_ms, searches_ms, strict=True))
            overhead = round(statistics.median(own), 1)
            out.append({"query": name, "search": summary(searches_ms), "page": summary(pages_ms), "overhead_median_ms": overhead,
                        "overhead_p95_ms": round(own[min(len(own) - 1, int(len(own) * 0.95))], 1),
                        "target_overhead_ms": SEARCH_PAGE_OVERHEAD_MS, "meets_target": overhead <= SEARCH_PAGE_OVERHEAD_MS})
    return out


def pages_only(args: Any) -> None:
    """`--pages-only`: the web pages alone on a SQLite register of --nominals people (the embedded default; no
    PostgreSQL or Elasticsearch needed): the caseload, the record overview and the investigator's results."""
    from register.config import Settings
    from register.store.open import build_store, migrate
    from register.synthetic import service as synthetic
    from register.synthetic.people import PersonFactory

    today = dt.date.today()
    work = Path(tempfile.mkdtemp(prefix="register-bench-pages-"))
    settings = Settings(var_dir=work, database_url=None, elasticsearch_url=None)
    migrate(settings)
    store = build_store(settings)
    t = time.perf_counter()
    synthetic.generate(store, args.nominals, args.seed, today=today)
    results: dict[str, Any] = {"nominals": args.nominals, "engine": "sqlite", "generate_s": round(time.perf_counter() - t, 1)}
    results["pages"] = web_pages(settings, store, today, args.repeat * 3)
    results["search_pages"] = search_pages(settings, store, today, args.repeat, PersonFactory(args.seed, today))
    store.dispose()
    checkpoint(results, args.out)
    print(json.dumps(results, indent=2, default=str))


def relevance(settings: Any, store: Any, nominals: int, seed: int, today: dt.date, es_url: str, per_kind: int = 20) -> dict[str, Any]:
    """Search relevance (issue #19 point 9): the labelled set of `register.synthetic.relevance` built from this
    register's own people, every query through the search use case as a Kent investigator on the embedded SQL
    backend and on Elasticsearch (the same register indexed under a fresh alias): precision@10, recall@10 and
    the target's rank, per kind and overall."""
    from register.bootstrap import build_search_index
    from register.search import indexer as idx
    from register.search.elastic import ElasticBackend
    from register.search.sql import SqlBackend
    from register.synthetic import relevance as rel
    from register.synthetic.people import PersonFactory

    index = build_search_index(settings.model_copy(update={"elasticsearch_url": es_url, "search_alias": f"bench-rel-{uuid.uuid4().hex[:8]}"}))
    assert index is not None
    index.ensure()
    try:
        idx.reindex(store, index)
        index.refresh()
        t = time.perf_counter()
        labelled = rel.labelled_set(rel.people(PersonFactory(seed, today), nominals), per_kind=per_kind, seed=seed, at=today)
        built_s = round(time.perf_counter() - t, 1)
        policy = app_policy(settings)
        out: dict[str, Any] = {"nominals": nominals, "seed": seed, "per_kind": per_kind, "queries": len(labelled),
                               "started": dt.datetime.now(dt.UTC).isoformat(), "labelled_set_built_s": built_s, "backends": {}}
        for name, backend in (("sql", SqlBackend(store)), ("elasticsearch", ElasticBackend(index))):
            t = time.perf_counter()
            outcomes = rel.run(store, policy, backend, name, labelled)
            out["backends"][name] = {**rel.summarise(outcomes), "seconds": round(time.perf_counter() - t, 1),
                                     "misses": rel.misses(outcomes)}
        sql, es = (out["backends"][b] for b in ("sql", "elasticsearch"))
        out["backends_agree"] = sql["kinds"] == es["kinds"]
        return out
    finally:
        index.client.indices.delete(index=f"{index.spec.alias}-*", ignore_unavailable=True, allow_no_indices=True)


def relevance_only(args: Any) -> None:
    """`--relevance-only`: relevance alone, on a SQLite register of --nominals people and an Elasticsearch node
    (--elasticsearch-url, or one started here). With --report, its section of docs/benchmarks.md and its key of
    docs/benchmarks.json are replaced; the rest of both is left as measured."""
    from register.config import Settings
    from register.store.open import build_store, migrate
    from register.synthetic import service as synthetic

    today = dt.date.today()
    work = Path(tempfile.mkdtemp(prefix="register-bench-relevance-"))
    settings = Settings(var_dir=work, database_url=None, elasticsearch_url=None)
    migrate(settings)
    store = build_store(settings)
    servers: list[Any] = []
    try:
        es_url = args.elasticsearch_url
        if es_url is None:
            from esnode import ElasticsearchNode

            node = ElasticsearchNode()
            servers.append(node)
            es_url = node.start()
        synthetic.generate(store, args.nominals, args.seed, today=today)
        results = {"relevance": relevance(settings, store, args.nominals, args.seed, today, es_url, args.relevance_per_kind)}
    finally:
        store.dispose()
        for s in reversed(servers):
            s.stop()
    checkpoint(results, args.out)
    print(json.dumps(results, indent=2, default=str))
    if args.report:
        data = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
        data["relevance"] = results["relevance"]
        (ROOT / "docs" / "benchmarks.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
        md = (ROOT / "docs" / "benchmarks.md").read_text()
        section = "\n".join(relevance_section(results["relevance"])) + "\n"
        start = md.find("## Relevance")
        if start < 0:
            start = md.find("## Noise")
            md = md[:start] + section + "\n" + md[start:]
        else:
            end = md.find("\n## ", start + 1)
            md = md[:start] + section + md[end + 1 :]
        (ROOT / "docs" / "benchmarks.md").write_text(md)


def engine_figures(settings: Any, store: Any, factory: Any, nominals: int, repeat: int, workers: int,
                   es_url: str, shards: int | None, replicas: int | None) -> dict[str, Any]:
    """Reindex (documents per second, beside a raw bulk load of the same prepared documents) and the investigator
    searches through the API (beside the same query bodies sent straight to Elasticsearch), on the engine at
    `es_url`, into an index of `shards` shards and `replicas` replicas."""
    import httpx
    from elasticsearch.helpers import bulk

    from register.access.tokens import ensure_dev_signing_key, mint
    from register.bootstrap import build_search_index
    from register.domain.enums import Agency, Area, Role
    from register.search import indexer as idx
    from register.search.backend import Viewer
    from register.search.elastic import ElasticBackend
    from register.search.query import SearchRequest

    on = settings.model_copy(update={"elasticsearch_url": es_url, "search_alias": f"bench-{uuid.uuid4().hex[:8]}",
                                     "search_shards": shards, "search_replicas": replicas})
    index = build_search_index(on)
    assert index is not None
    out: dict[str, Any] = {"nodes": len(es_url.split(",")), "shards": index.spec.definition["settings"]["number_of_shards"],
                           "replicas": index.spec.definition["settings"]["number_of_replicas"]}
    t = time.perf_counter()
    _, count = idx.reindex(store, index, batch=500, workers=workers)
    out["reindex_per_s"] = round(count / (time.perf_counter() - t))
    index.client.cluster.health(index=index.spec.alias, wait_for_status="green", timeout="120s")  # replicas copied
    docs = idx._load_documents(store, [r for r in _ids(store, 10_000)])
    raw = index.spec.new_name()
    index.client.indices.create(index=raw, **index.spec.definition)
    t = time.perf_counter()
    bulk(index.client, ({"_index": raw, "_id": d["nominal_id"], "_source": d} for d in docs), chunk_size=500, refresh=False)
    out["raw_bulk_per_s"] = round(len(docs) / (time.perf_counter() - t))
    index.client.indices.delete(index=raw)
    index.refresh()
    key = ensure_dev_signing_key(on.resolved_key_dir)
    token = mint(key, user="bench.investigator", agency=Agency.POLICE, area=Area.KENT, roles=[Role.INVESTIGATOR],
                 issuer=on.token_issuer, audience=on.token_audience)
    backend = ElasticBackend(index)
    today = dt.date.today()
    api_server = ApiServer({**server_env(on), "REGISTER_INDEXER_IN_API": "false"})
    client = httpx.Client(base_url=api_server.url, timeout=60)
    try:

        def searches() -> tuple[dict[str, float], dict[str, float], int]:
            api_all: list[float] = []
            raw_all: list[float] = []
            hits = 0
            for _, query in queries(factory, nominals):
                body = {"query": query, "page_size": 25}
                es_body = backend.body(SearchRequest.model_validate(body), today, Viewer(Area.KENT.value))
                call = lambda body=body: client.post("/v1/search", params={"purpose": "BENCH"}, json=body,  # noqa: E731
                                                     headers={"Authorization": f"Bearer {token}"}).raise_for_status()
                api_all += timed(call, repeat)
                raw_all += timed(lambda es_body=es_body: index.client.search(index=index.spec.alias, **es_body), repeat)
                hits += call().json()["total"]
            return summary(api_all), summary(raw_all), hits

        out["search_api"], out["search_raw"], out["search_hits"] = searches()
        out["_searches"] = searches  # for the cluster: the same again with a node down (dropped before saving)
        out["_api_server"], out["_client"] = api_server, client
        out["_index"] = index
    except BaseException:
        client.close()
        api_server.stop()
        raise
    return out


def cluster_only(args: Any) -> None:
    """`--es-nodes N` (N > 1): issue #20 point 6. A PostgreSQL register of --nominals people; reindex and the
    investigator searches on one node, then (that node stopped) on a cluster of N nodes with N shards and one
    replica, then the searches again with one node killed (SIGKILL) and the cluster yellow. With --report, the
    "Three-node cluster" section of docs/benchmarks.md and the "cluster" key of docs/benchmarks.json are replaced;
    the rest of both is left as measured. All the nodes run on this one machine: the figures show what a node's
    loss costs, not how a cluster of machines scales."""
    import os

    from escluster import ElasticsearchCluster
    from esnode import ElasticsearchNode
    from sqlalchemy import select, text

    from register.config import Settings
    from register.store import models as m
    from register.store.open import build_store, migrate
    from register.synthetic import service as synthetic
    from register.synthetic.people import PersonFactory

    results: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat(), "nominals": args.nominals, "seed": args.seed,
                               "repeat": args.repeat, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                                  "load_average": [round(os.getloadavg()[0], 1)]}, "engines": []}
    work = Path(tempfile.mkdtemp(prefix="register-bench-cluster-"))
    servers: list[Any] = []
    workers = os.cpu_count() or 1
    today = dt.date.today()
    try:
        pg_url = args.database_url
        if pg_url is None:
            from postgres import PostgresServer

            server = PostgresServer()
            servers.append(server)
            pg_url = server.start()
        settings = Settings(database_url=pg_url, var_dir=work / "pg")
        migrate(settings)
        store = build_store(settings)
        with store.session_factory() as s:
            have = s.execute(select(text("count(*)")).select_from(m.Nominal.__table__)).scalar_one()
        if have == 0:
            t = time.perf_counter()
            synthetic.generate(store, args.nominals, args.seed, today=today, workers=os.cpu_count() or 1)
            results["generate_postgresql_s"] = round(time.perf_counter() - t, 1)
        factory = PersonFactory(args.seed, today)

        def finish(figures: dict[str, Any]) -> dict[str, Any]:
            figures["_client"].close()
            figures["_api_server"].stop()
            figures["_index"].client.close()
            return {k: v for k, v in figures.items() if not k.startswith("_")}

        node = ElasticsearchNode()
        servers.append(node)
        single = engine_figures(settings, store, factory, args.nominals, args.repeat, workers, node.start(), None, None)
        results["engines"].append({"engine": "one node", **finish(single)})
        node.stop()
        servers.remove(node)
        checkpoint(results, args.out)

        cluster = ElasticsearchCluster(args.es_nodes, heap=node.max_heap)
        servers.append(cluster)
        on = engine_figures(settings, store, factory, args.nominals, args.repeat, workers, cluster.start(), args.es_nodes, 1)
        # One node killed (the one listed first, which the client tries first): the same searches, yellow.
        cluster.kill(0)
        health = cluster.wait_for("yellow", args.es_nodes - 1, 90)
        api, raw, hits = on["_searches"]()
        figures = finish(on)
        results["engines"].append({"engine": f"{args.es_nodes} nodes", **figures})
        results["engines"].append({"engine": f"{args.es_nodes} nodes, one killed", "nodes": args.es_nodes - 1,
                                   "status": health["status"], "search_api": api, "search_raw": raw, "search_hits": hits,
                                   "hits_as_with_every_node": hits == figures["search_hits"]})
        store.dispose()
    finally:
        for s in reversed(servers):
            s.stop()
    results["finished"] = dt.datetime.now(dt.UTC).isoformat()
    results["machine"]["load_average"].append(round(os.getloadavg()[0], 1))
    checkpoint(results, args.out)
    print(json.dumps(results, indent=2, default=str))
    if args.report:
        data = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
        data["cluster"] = results
        (ROOT / "docs" / "benchmarks.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
        md = (ROOT / "docs" / "benchmarks.md").read_text()
        section = "\n".join(cluster_section(results)) + "\n"
        start = md.find("## Three-node cluster")
        if start < 0:
            start = md.find("## Relevance")
            md = md[:start] + section + md[start:]
        else:
            end = md.find("\n## ", start + 1)
            md = md[:start] + section + md[end + 1 :]
        (ROOT / "docs" / "benchmarks.md").write_text(md)


def cluster_section(r: dict[str, Any]) -> list[str]:
    """The "Three-node cluster" section of docs/benchmarks.md."""
    ms = lambda x: f"median {x['median_ms']} ms, p95 {x['p95_ms']}"  # noqa: E731
    lines = ["## Three-node cluster", "",
             f"`make bench ARGS=\"--es-nodes 3 --nominals {r['nominals']} --repeat {r.get('repeat', 30)}\"` (issue #20 point 6): "
             f"a PostgreSQL register of {r['nominals']:,} people (seed {r['seed']}), run {r['started'][:16]} UTC on "
             f"{r['machine']['cpus']} CPUs (load average {' to '.join(map(str, r['machine'].get('load_average', [])))}); the "
             "reindex and the investigator searches of the table above on one node, then (that node stopped) on three "
             "nodes of the same distribution on loopback (`deploy/local/escluster.py`, one shard per node and a replica of "
             "each, `REGISTER_SEARCH_SHARDS=3`, `REGISTER_SEARCH_REPLICAS=1`, the API given the three URLs), then the same "
             "searches with one node killed (SIGKILL) and the cluster yellow. Each node's heap is the single "
             "node's maximum (1 GB). **All three nodes share this one 2-core machine**, with the API, the client and "
             "PostgreSQL, and other runs on it too: the figures show that the register keeps answering, with the same "
             "hits, when a node is lost; they do not measure scale-out, which needs a machine per node (three JVMs "
             "on two cores are slower than one), and they are not comparable with the tables above, measured on a "
             "quieter machine. What is not lost when a node dies, and that the index matches the database after it "
             "returns, is tested, not measured (`tests/search/test_es_cluster.py`).", "",
             "| engine | reindex (documents/s, 2 workers) | raw bulk load (documents/s) | searches through the API | "
             "the same bodies straight to Elasticsearch | hits, all queries |",
             "| --- | --- | --- | --- | --- | --- |"]
    for e in r["engines"]:
        reindex = f"{e['reindex_per_s']:,}" if "reindex_per_s" in e else ""
        bulk = f"{e['raw_bulk_per_s']:,}" if "raw_bulk_per_s" in e else ""
        name = e["engine"] + (f" ({e['shards']} shard{'s' if e['shards'] != 1 else ''}, {e['replicas']} replica"
                              f"{'s' if e['replicas'] != 1 else ''})" if "shards" in e else f" (cluster {e['status']})")
        lines.append(f"| {name} | {reindex} | {bulk} | {ms(e['search_api'])} | {ms(e['search_raw'])} | {e['search_hits']:,} |")
    down = r["engines"][-1]
    lines += ["", "With one node killed every search answered, with " + ("the same" if down.get("hits_as_with_every_node")
              else "**different**") + " hits as with all three.", ""]
    return lines


RELEVANCE_COLUMNS = ("precision_at_10", "recall_at_10", "target_first", "target_top_3", "mrr_at_10", "mean_relevant")


def relevance_section(r: dict[str, Any]) -> list[str]:
    """The Relevance section of docs/benchmarks.md: one table per backend, a row per kind and overall."""
    lines = ["## Relevance", "",
             f"The labelled set of `register.synthetic.relevance` on a register of {r['nominals']:,} people (seed {r['seed']}), "
             f"{r['per_kind']} queries of each kind, {r['queries']} in all, run {r['started'][:16]} UTC; each query through "
             "the search use case as a Kent investigator, first page of 10 by relevance. Relevant: every person who fits "
             "the fragments by their documented meaning, worked out from the generator's plaintext (how, and the "
             "scores' definitions: the module's docstring and docs/decisions.md). Precision@10: relevant hits / hits "
             "shown; recall@10: relevant hits / min(relevant, 10); first, top 3: the person the fragments were written "
             "from; MRR over the first 10; m: mean number of relevant people per query. Both backends gave "
             + ("identical" if r.get("backends_agree") else "**different**") + " scores for every kind. Measured by `make bench` "
             "(on the SQLite register of `--sqlite-nominals` people) or alone by `make bench ARGS=\"--relevance-only --nominals "
             f"{r['nominals']}\"`; the seconds are the whole set's, on the shared machine. What the figures mean: "
             "docs/investigator-search.md, \"Relevance measured\".", ""]
    for name, b in r["backends"].items():
        lines += [f"**{'Embedded SQL (SQLite)' if name == 'sql' else 'Elasticsearch'}** ({b['seconds']} s for the set):", "",
                  "| kind | queries | precision@10 | recall@10 | first | top 3 | MRR | m |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        rows = list(b["kinds"].items()) + [("**overall**", b["overall"])]
        lines += [f"| {k} | {v['queries']} | " + " | ".join(str(v[c]) for c in RELEVANCE_COLUMNS) + " |" for k, v in rows]
        if b["misses"]:
            lines += ["", "Queries whose first page shows someone who fits nothing or leaves out someone who fits:", ""]
            lines += [f"- {m}" for m in b["misses"]]
        lines.append("")
    return lines


RELEVANCE_UP_TO = 5_000


def sqlite_register(var_dir: Path, args: Any, results: dict[str, Any], today: dt.date) -> tuple[Any, Any]:
    """A SQLite register of --sqlite-nominals people (the embedded default), its generation timed."""
    from register.config import Settings
    from register.store.open import build_store, migrate
    from register.synthetic import service as synthetic

    sq = Settings(var_dir=var_dir, database_url=None, elasticsearch_url=None)
    migrate(sq)
    sq_store = build_store(sq)
    t = time.perf_counter()
    synthetic.generate(sq_store, args.sqlite_nominals, args.seed, today=today)
    results.setdefault("timings", {})["generate_sqlite_s"] = round(time.perf_counter() - t, 1)
    return sq, sq_store


def sqlite_searches(sq: Any, args: Any, today: dt.date) -> dict[str, Any]:
    """The investigator's searches through the API on the embedded backend (SQLite), one by one."""
    import httpx

    from register.access.tokens import ensure_dev_signing_key, mint
    from register.domain.enums import Agency, Area, Role
    from register.synthetic.people import PersonFactory

    sq_server = ApiServer(server_env(sq))
    sq_key = ensure_dev_signing_key(sq.resolved_key_dir)
    sq_token = mint(sq_key, user="bench.investigator", agency=Agency.POLICE, area=Area.KENT, roles=[Role.INVESTIGATOR],
                    issuer=sq.token_issuer, audience=sq.token_audience)
    try:
        with httpx.Client(base_url=sq_server.url, timeout=120) as client:
            samples: list[float] = []
            per_query = []
            for name, query in queries(PersonFactory(args.seed, today), args.sqlite_nominals):
                body = {"query": query, "limit": 25}

                def search(body: dict[str, Any] = body) -> None:
                    client.post("/v1/search", params={"purpose": "BENCH"}, json=body,
                                headers={"Authorization": f"Bearer {sq_token}"}).raise_for_status()

                run = timed(search, max(3, args.repeat // 5))
                per_query.append({"query": name, **summary(run)})
                samples += run
    finally:
        sq_server.stop()
    return {"nominals": args.sqlite_nominals, "overall": summary(samples), "per_query": per_query,
            "baseline_is": "the Elasticsearch figures above (the same queries)"}


def sqlite_only(args: Any) -> None:
    """`--sqlite-only`: the embedded backend's searches alone, on a SQLite register of --sqlite-nominals people.
    With --report, its key of docs/benchmarks.json is replaced and docs/benchmarks.md rendered again from it."""
    today = dt.date.today()
    results: dict[str, Any] = {"timings": {}}
    sq, sq_store = sqlite_register(Path(tempfile.mkdtemp(prefix="register-bench-sqlite-")), args, results, today)
    try:
        results["sqlite_searches"] = sqlite_searches(sq, args, today)
    finally:
        sq_store.dispose()
    results["sqlite_searches"]["run"] = dt.datetime.now(dt.UTC).isoformat()
    checkpoint(results, args.out)
    print(json.dumps(results, indent=2, default=str))
    if args.report:
        data = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
        data["sqlite_searches"] = results["sqlite_searches"]
        data["timings"]["generate_sqlite_s"] = results["timings"]["generate_sqlite_s"]
        report(data)


def checkpoint(results: dict[str, Any], out: Path) -> None:
    """Keep what has been measured so far: a failure late in a long run loses nothing before it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nominals", type=int, default=100_000)
    parser.add_argument("--sqlite-nominals", type=int, default=20_000, help="size of the SQLite register for the embedded backend (its scale: issue #20 asks p95 ≤ 300 ms at 20,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", help="an existing PostgreSQL database already generated with --nominals/--seed")
    parser.add_argument("--elasticsearch-url", help="an existing Elasticsearch node (default: start one)")
    parser.add_argument("--work-dir", type=Path,
                        help="keep the register's keys and files here (with --database-url: the directory it was generated with)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "results.json")
    parser.add_argument("--report", action="store_true", help="also write docs/benchmarks.md")
    parser.add_argument("--render-only", action="store_true", help="write docs/benchmarks.md from the --out file; measure nothing")
    parser.add_argument("--pages-only", action="store_true", help="only the web pages, on a SQLite register of --nominals people")
    parser.add_argument("--relevance-only", action="store_true",
                        help="only search relevance, on a SQLite register of --nominals people and an Elasticsearch node")
    parser.add_argument("--sqlite-only", action="store_true",
                        help="only the embedded backend's searches, on a SQLite register of --sqlite-nominals people")
    parser.add_argument("--relevance-per-kind", type=int, default=20, help="labelled queries of each kind (register.synthetic.relevance)")
    parser.add_argument("--es-nodes", type=int, default=1,
                        help="more than 1: only reindex and searches, on one node and then on a cluster of this many nodes "
                             "(deploy/local/escluster.py), and searches with one of its nodes killed")
    args = parser.parse_args()
    if args.pages_only:
        pages_only(args)
        return
    if args.relevance_only:
        relevance_only(args)
        return
    if args.sqlite_only:
        sqlite_only(args)
        return
    if args.es_nodes > 1:
        cluster_only(args)
        return
    if args.render_only:
        report(json.loads(args.out.read_text()))
        return

    import httpx
    from sqlalchemy import insert, select, text

    from register.access.tokens import ensure_dev_signing_key, mint
    from register.bootstrap import build_search_index
    from register.config import Settings
    from register.domain.actors import SystemActor
    from register.domain.enums import Agency, Area, Role
    from register.quality import service as quality
    from register.search import indexer as idx
    from register.search.query import SearchRequest
    from register.statistics import service as stats
    from register.store import models as m
    from register.store.open import build_store, migrate
    from register.synthetic import service as synthetic
    from register.synthetic.people import PersonFactory

    servers: list[Any] = []
    results: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat(), "nominals": args.nominals, "seed": args.seed,
                               "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": __import__("os").cpu_count()},
                               "figures": [], "timings": {}}
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="register-bench-"))
    try:
        pg_url = args.database_url
        if pg_url is None:
            from postgres import PostgresServer

            server = PostgresServer()
            servers.append(server)
            pg_url = server.start()
        es_url = args.elasticsearch_url
        if es_url is None:
            from esnode import ElasticsearchNode

            node = ElasticsearchNode()
            servers.append(node)
            es_url = node.start()
        alias = f"bench-{uuid.uuid4().hex[:8]}"
        settings = Settings(database_url=pg_url, var_dir=work / "pg", elasticsearch_url=es_url, search_alias=alias)
        migrate(settings)
        store = build_store(settings)
        today = dt.date.today()
        factory = PersonFactory(args.seed, today)
        with store.session_factory() as s:
            have = s.execute(select(text("count(*)")).select_from(m.Nominal.__table__)).scalar_one()
        if have == 0:
            t = time.perf_counter()
            synthetic.generate(store, args.nominals, args.seed, today=today, workers=os.cpu_count() or 1)
            results["timings"]["generate_postgresql_s"] = round(time.perf_counter() - t, 1)
        results["machine"]["postgresql"] = store.engine.dialect.server_version_info
        index = build_search_index(settings)
        assert index is not None
        index.ensure()
        from importlib.metadata import version

        results["machine"]["elasticsearch"] = sorted({n["version"] for n in index.client.nodes.info(filter_path="nodes.*.version")["nodes"].values()})
        results["machine"]["packages"] = {p: version(p) for p in ("sqlalchemy", "psycopg", "fastapi", "pydantic", "cryptography", "elasticsearch")}

        # Reindex through the register vs a raw bulk load of the same prepared documents.
        t = time.perf_counter()
        workers = __import__("os").cpu_count() or 1
        _, count = idx.reindex(store, index, batch=500, workers=workers)  # as `register reindex` runs by default
        reindex_s = time.perf_counter() - t
        # The parent (writing to Elasticsearch) and the largest of its document-building worker processes.
        results["machine"]["peak_memory_mb_reindex"] = round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                                                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
        docs = idx._load_documents(store, [r for r in _ids(store, 10_000)])
        raw = index.spec.new_name()
        index.client.indices.create(index=raw, **index.spec.definition)
        from elasticsearch.helpers import bulk

        t = time.perf_counter()
        bulk(index.client, ({"_index": raw, "_id": d["nominal_id"], "_source": d} for d in docs), chunk_size=500, refresh=False)
        raw_s = time.perf_counter() - t
        index.client.indices.delete(index=raw)
        results["figures"].append({"figure": f"full reindex (documents per second, {workers} worker processes)", "register": round(count / reindex_s),
                                   "baseline": round(len(docs) / raw_s), "baseline_is": "raw bulk load of the same prepared documents",
                                   "ratio_throughput": round((len(docs) / raw_s) / (count / reindex_s), 1)})
        index.refresh()
        # What the register occupies, for the extrapolation to 1,000,000 people (issue #20 point 6)
        with store.engine.connect() as conn:
            db_bytes = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            entries = conn.execute(text("SELECT count(*) FROM chronology_entry")).scalar_one()
        stats_ = index.client.indices.stats(index=index.spec.alias, metric="store")
        results["sizes"] = {"postgresql_bytes": db_bytes, "elasticsearch_bytes": stats_["_all"]["primaries"]["store"]["size_in_bytes"],
                            "chronology_entries": entries, "reindex_s": round(reindex_s, 1)}
        checkpoint(results, args.out)

        key = ensure_dev_signing_key(settings.resolved_key_dir)
        investigator = mint(key, user="bench.investigator", agency=Agency.POLICE, area=Area.KENT, roles=[Role.INVESTIGATOR],
                            issuer=settings.token_issuer, audience=settings.token_audience)
        om = mint(key, user="bench.om", agency=Agency.POLICE, area=Area.KENT, roles=[Role.OFFENDER_MANAGER],
                  issuer=settings.token_issuer, audience=settings.token_audience)
        from register.search.backend import Viewer
        from register.search.elastic import ElasticBackend

        backend = ElasticBackend(index)
        # As deployed: the API serves, a separate `register indexer` process drains the outbox.
        api_server = ApiServer({**server_env(settings), "REGISTER_INDEXER_IN_API": "false"})
        indexer_process = command(server_env(settings), "indexer")
        with httpx.Client(base_url=api_server.url, timeout=60) as client:
            # Investigator searches: API vs the same query body straight to Elasticsearch.
            per_query = []
            api_all: list[float] = []
            raw_all: list[float] = []
            for name, query in queries(factory, args.nominals):
                body = {"query": query, "limit": 25}
                request = SearchRequest.model_validate({"query": query, "page_size": 25})
                es_body = backend.body(request, today, Viewer(Area.KENT.value))
                api = timed(lambda: client.post("/v1/search", params={"purpose": "BENCH"}, json=body,
                                                headers={"Authorization": f"Bearer {investigator}"}).raise_for_status(), args.repeat)
                direct = timed(lambda: index.client.search(index=index.spec.alias, **es_body), args.repeat)
                hits = client.post("/v1/search", params={"purpose": "BENCH"}, json=body, headers={"Authorization": f"Bearer {investigator}"}).json()["total"]
                per_query.append({"query": name, "hits": hits, **compare(name, summary(api), summary(direct), "the same query body sent to Elasticsearch")})
                api_all += api
                raw_all += direct
            results["figures"].append(compare("investigator searches through the API (Elasticsearch)", summary(api_all), summary(raw_all),
                                              "the same query bodies sent straight to Elasticsearch"))
            results["searches"] = per_query
            checkpoint(results, args.out)

            # Whole-record reads: API (decrypting every section) vs the same rows with plain SQL.
            ids = _ids(store, 200, status="active", area="kent")
            it = iter(ids * 100)
            api = timed(lambda: client.get(f"/v1/nominals/{next(it)}", headers={"Authorization": f"Bearer {om}"}).raise_for_status(), args.repeat * 3)
            it2 = iter(ids * 100)

            def plain_read() -> None:
                nid = next(it2)
                with store.session_factory() as s:
                    s.execute(select(m.Nominal.__table__).where(m.Nominal.id == nid)).all()
                    s.execute(select(m.Item.__table__).where(m.Item.nominal_id == nid)).all()
                    s.execute(select(m.ChronologyEntry.__table__).where(m.ChronologyEntry.nominal_id == nid)).all()
                    s.execute(select(m.DataKey.__table__).where(m.DataKey.nominal_id == nid)).all()

            results["figures"].append(compare("read a whole record through the API", summary(api), summary(timed(plain_read, args.repeat * 3)),
                                              "the same rows with plain SQL (no decryption, no policy, no audit)"))

            # Updates: append a chronology entry through the API vs a plain insert of the same row.
            versions = {nid: client.get(f"/v1/nominals/{nid}", headers={"Authorization": f"Bearer {om}"}).headers["etag"] for nid in ids[:50]}
            it3 = iter(list(versions) * 100)

            def api_update() -> None:
                nid = next(it3)
                r = client.post(f"/v1/nominals/{nid}/chronology", json={"occurred_at": "2026-01-01T10:00:00Z", "kind": "contact", "summary": "bench"},
                                headers={"Authorization": f"Bearer {om}", "If-Match": versions[nid]})
                r.raise_for_status()
                versions[nid] = r.headers["etag"]

            key_id = _ids(store, 1, column=m.Nominal.data_key_id)[0]
            # The baseline writes the same row shape into a copy of the table (same columns and indexes, no foreign
            # keys), so the register's own data is never touched by it.
            with store.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS bench_chronology"))
                conn.execute(text("CREATE TABLE bench_chronology (LIKE chronology_entry INCLUDING ALL)"))
            scratch = m.ChronologyEntry.__table__.to_metadata(__import__("sqlalchemy").MetaData(), name="bench_chronology")
            for fk in list(scratch.foreign_keys):
                fk.parent.foreign_keys.discard(fk)

            def plain_insert() -> None:
                with store.session_factory() as s:
                    s.execute(insert(scratch).values(
                        id=uuid.uuid4(), nominal_id=ids[0], occurred_at=dt.datetime.now(dt.UTC), kind="contact", data_key_id=key_id,
                        payload_sealed=b"x" * 120, recorded_by="bench", recorded_agency="police", recorded_area="kent",
                        recorded_at=dt.datetime.now(dt.UTC)))
                    s.commit()

            # The fair baseline (issue #20 point 1): the writes the register must make for an append, as one plain
            # SQL transaction on the same server (same durability settings): check and bump the record's version,
            # insert the entry, the audit event and the outbox row, commit. Into copies of the four tables (same
            # columns and indexes, their own sequences, no foreign keys), so the register's data, its audit chain
            # and its outbox are never touched.
            import sqlalchemy as sa

            copies = {}
            with store.engine.begin() as conn:
                for table in (m.Nominal.__table__, m.AuditEvent.__table__, m.Outbox.__table__):
                    # LIKE copies no foreign key; without the defaults the copies use no sequence of the register's
                    conn.execute(text(f"DROP TABLE IF EXISTS bench_{table.name}"))
                    conn.execute(text(f"CREATE TABLE bench_{table.name} (LIKE {table.name} INCLUDING ALL EXCLUDING DEFAULTS)"))
                    copy = table.to_metadata(sa.MetaData(), name=f"bench_{table.name}")
                    for fk in list(copy.foreign_keys):
                        fk.parent.foreign_keys.discard(fk)
                    copies[table.name] = copy
                conn.execute(insert(copies["nominal"]).from_select(
                    [c.name for c in m.Nominal.__table__.columns],
                    select(*m.Nominal.__table__.columns).where(m.Nominal.id.in_(ids[:50]))))
            serial = __import__("itertools").count(1)
            plain_versions = dict.fromkeys(ids[:50], None)
            with store.engine.connect() as conn:
                plain_versions.update(conn.execute(select(copies["nominal"].c.id, copies["nominal"].c.version)).all())
            it4 = iter(list(plain_versions) * 100)
            bn, ba, bo = copies["nominal"], copies["audit_event"], copies["outbox"]

            def plain_transaction() -> None:
                nid = next(it4)
                now = dt.datetime.now(dt.UTC)
                entry_id = uuid.uuid4()
                with store.engine.begin() as conn:
                    version = conn.execute(
                        sa.update(bn).where(bn.c.id == nid, bn.c.version == plain_versions[nid])
                        .values(version=bn.c.version + 1, updated_at=now, updated_by="bench.om").returning(bn.c.version)).scalar_one()
                    conn.execute(insert(scratch).values(
                        id=entry_id, nominal_id=nid, occurred_at=now, kind="contact", data_key_id=key_id,
                        payload_sealed=b"x" * 120, recorded_by="bench.om", recorded_agency="police", recorded_area="kent",
                        recorded_at=now))
                    conn.execute(insert(ba).values(
                        seq=next(serial), event_id=uuid.uuid4(), occurred_at=now, action="collection", tag="nominal:chronology:append",
                        outcome="success", actor_user="bench.om", actor_agency="police", actor_area="kent",
                        actor_roles="offender_manager", nominal_id=nid, section="chronology", item_id=entry_id,
                        request_id=uuid.uuid4().hex, mac=b"m" * 32))
                    conn.execute(insert(bo).values(id=next(serial), nominal_id=nid, record_version=version, topic="nominal", created_at=now,
                                                   attempts=0, available_at=now, parked=False))
                plain_versions[nid] = version

            update_samples = summary(timed(api_update, args.repeat * 3))
            results["figures"].append(compare("update a record through the API (append to the chronology)", update_samples,
                                              summary(timed(plain_transaction, args.repeat * 3)),
                                              "the same writes as one plain SQL transaction: version check and bump, the entry, "
                                              "the audit event, the outbox row, commit (into copies of the tables)"))
            results["figures"].append(compare("update a record through the API, against a single insert", update_samples,
                                              summary(timed(plain_insert, args.repeat * 3)),
                                              "a plain SQLAlchemy insert of the same row shape, committed (into a copy of the table)"))
            with store.engine.begin() as conn:
                conn.execute(text("DROP TABLE bench_chronology"))
                for name in copies:
                    conn.execute(text(f"DROP TABLE bench_{name}"))
            # Sustained updates with several clients: against the one API process, then against two (as a deployment
            # runs replicas), with the CPU each process spent per update, the floor those figures set on two cores.
            # (records the timed updates above did not touch, when the register is large enough; each client its own)
            mine = ids[50:90] if len(ids) >= 90 else ids
            sustained = sustained_updates(store, api_server, om, mine, indexer_process.pid)
            second = ApiServer({**server_env(settings), "REGISTER_INDEXER_IN_API": "false"})
            try:
                two = sustained_updates(store, api_server, om, mine, indexer_process.pid, second)
            finally:
                second.stop()
            results["timings"]["indexer_lag_under_sustained_writes_s"] = sustained.pop("lag")
            results["timings"]["sustained_updates_per_s_4_clients"] = sustained.pop("per_s")
            two.pop("lag")
            results["timings"]["sustained_updates_per_s_4_clients_2_api_processes"] = two.pop("per_s")
            results["update_cpu"] = {"one_api_process": sustained, "two_api_processes": two, "cpus": os.cpu_count()}
            # Indexer lag: how long after the last write the index holds it.
            t = time.perf_counter()
            while idx.outbox_status(store)["pending"] and time.perf_counter() - t < 120:
                time.sleep(0.1)
            results["timings"]["indexer_catch_up_after_sustained_writes_s"] = round(time.perf_counter() - t, 2)

        checkpoint(results, args.out)
        # Sweeps over the whole register: area by area as before (the baseline), then in one pass grouped
        # by area (quality.run_areas, stats.compute_areas), the figure the goal is about.
        areas = _areas(store)
        # The first run of the rules writes every finding (the register's findings table starts empty); each
        # run after it writes only what changed since the run before (decision 71), as a nightly run does.
        t = time.perf_counter()
        with store.unit_of_work() as uow:
            quality.run_areas(uow, SystemActor("bench"), [Area(area) for area in areas], today)
        results["timings"]["quality_sweep_all_areas_first_run_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        with store.unit_of_work() as uow:
            for area in areas:
                quality.run(uow, SystemActor("bench"), Area(area), today)
        results["timings"]["quality_sweep_area_by_area_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        with store.unit_of_work() as uow:
            quality.run_areas(uow, SystemActor("bench"), [Area(area) for area in areas], today)
        results["timings"]["quality_sweep_all_areas_s"] = round(time.perf_counter() - t, 2)
        stats._COMPUTED.clear()  # neither timing may find the other's figures kept
        t = time.perf_counter()
        with store.session_factory() as s:
            for area in areas:
                stats.compute(s, area, running_year(today))
        results["timings"]["annual_statistics_area_by_area_s"] = round(time.perf_counter() - t, 2)
        stats._COMPUTED.clear()
        t = time.perf_counter()
        with store.session_factory() as s:
            stats.compute_areas(s, areas, running_year(today))
        results["timings"]["annual_statistics_all_areas_s"] = round(time.perf_counter() - t, 2)
        results["machine"]["peak_memory_mb_api"] = api_server.peak_memory_mb()
        api_server.stop()
        indexer_process.terminate()
        indexer_process.wait(30)
        # The web pages an offender manager opens all day, after the sweeps (so the overview has findings to show).
        results["pages"] = web_pages(settings, store, today, args.repeat * 3)
        results["pages"] += supervisor_pages(settings, store, today, args.repeat * 3)
        results["search_pages"] = search_pages(settings, store, today, args.repeat, PersonFactory(args.seed, today))
        checkpoint(results, args.out)
        results["casework_pages"] = casework_pages(settings, store, today, args.repeat)
        checkpoint(results, args.out)
        store.dispose()
        checkpoint(results, args.out)

        # The embedded backend: the same searches on SQLite.
        # a register of its own each run (a --work-dir is kept between runs: its SQLite register would not be new)
        sq, sq_store = sqlite_register(Path(tempfile.mkdtemp(prefix="register-bench-sqlite-")), args, results, today)
        results["sqlite_searches"] = sqlite_searches(sq, args, today)
        checkpoint(results, args.out)
        # Relevance on the SQLite register: both backends over the same people (it indexed under its own alias).
        # Its fuzzy names cannot be narrowed in SQL: beyond RELEVANCE_UP_TO people it is measured on its own
        # (`--relevance-only`), and the report keeps the last figures.
        if args.sqlite_nominals <= RELEVANCE_UP_TO:
            results["relevance"] = relevance(sq, sq_store, args.sqlite_nominals, args.seed, today, es_url, args.relevance_per_kind)
        sq_store.dispose()
    finally:
        for s in reversed(servers):
            s.stop()
    results["finished"] = dt.datetime.now(dt.UTC).isoformat()
    checkpoint(results, args.out)
    print(json.dumps(results, indent=2, default=str))
    if args.report:
        report(results)


def scale_run_section(run: dict[str, Any], r: dict[str, Any]) -> list[str]:
    """The register generated and reindexed at a larger size (issue #20 point 6), measured by the register's own
    commands (`run["commands"]`) and recorded here, beside the extrapolation from this run's size."""
    gen, rx = run["generate"], run["reindex"]
    scale = run["nominals"] / r["nominals"]
    sizes = r.get("sizes", {})
    gib = lambda b: f"{b / 2**30:,.1f} GiB"  # noqa: E731
    minutes = lambda sec: f"{sec / 60:,.0f} min"  # noqa: E731
    lines = [f"A register of {run['nominals']:,} people, generated and reindexed on {run['run'][:16]} UTC on this machine "
             f"({run['postgresql']}, one Elasticsearch {run['elasticsearch']} node with the benchmark's heap), by:", ""]
    lines += [f"    {c}" for c in run["commands"]]
    lines += ["", f"It holds {run['items']:,} items, {run['entries']:,} chronology entries, {run['tokens']:,} blind tokens, "
              f"{run['text_tokens']:,} narrative word tokens and {run['archived']:,} archived records; {run['elasticsearch_docs']:,} "
              "documents were indexed.", "",
              f"| | {run['nominals']:,} people, measured | extrapolated from {r['nominals']:,} (linear) |", "| --- | --- | --- |",
              f"| generating, {gen['workers']} processes | {minutes(gen['seconds'])} ({gen['people_per_s']} people/s) | "
              f"{minutes(r['timings']['generate_postgresql_s'] * scale) + ' (one process, INSERTs)' if r.get('timings', {}).get('generate_postgresql_s') else '–'} |",
              f"| generator's peak memory | {gen['peak_rss_mb_per_process']} MB a process, {gen['peak_rss_mb_total']} MB in all | – |",
              f"| PostgreSQL database on disk | {gib(run['postgresql_bytes'])} | {gib(sizes['postgresql_bytes'] * scale) if sizes else '–'} |",
              f"| full reindex, {rx['workers']} document builders | {minutes(rx['seconds'])} ({rx['docs_per_s']:,} docs/s) | "
              f"{minutes(sizes['reindex_s'] * scale) if sizes else '–'} |",
              f"| reindex peak memory | {rx['peak_rss_mb']} MB (the command), {rx['peak_rss_mb_workers']} MB a builder | "
              f"{r.get('machine', {}).get('peak_memory_mb_reindex')} MB at {r['nominals']:,} |",
              f"| Elasticsearch index (primaries) | {gib(run['elasticsearch_bytes'])} | {gib(sizes['elasticsearch_bytes'] * scale) if sizes else '–'} |"]
    if run.get("pairs"):
        lines.append(f"| every suspected-duplicate pair worked out again (the generator's last step) | {run['pairs']['seconds']} s, "
                     f"{run['pairs']['pairs']:,} pairs | – |")
    if gen.get("rate_by_size"):
        lines += ["", "The generator's rate as the register grew (people per second over each stretch):", "",
                  "| people written | people/s |", "| --- | --- |"]
        lines += [f"| {a:,} to {b:,} | {rate} |" for a, b, rate in gen["rate_by_size"]]
    if run.get("notes"):
        lines += ["", run["notes"]]
    return lines


def report(results: dict[str, Any]) -> None:
    """docs/benchmarks.md and, beside it, the JSON it was made from. The three-node cluster's figures
    (`--es-nodes 3`), relevance (`--relevance-only`) and the run at 1,000,000 people (`scale_run`, recorded by
    hand from its commands' output), when measured on their own, are kept from the previous file."""
    previous = ROOT / "docs" / "benchmarks.json"
    for key in ("cluster", "relevance", "scale_run"):
        if key not in results and previous.exists():
            kept = json.loads(previous.read_text()).get(key)
            if kept:
                results = {**results, key: kept}
    (ROOT / "docs" / "benchmarks.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (ROOT / "docs" / "benchmarks.md").write_text(render(results))


def _ids(store: Any, n: int, *, status: str | None = None, area: str | None = None, column: Any = None) -> list[Any]:
    from sqlalchemy import select

    from register.store import models as m

    q = select(column if column is not None else m.Nominal.id).order_by(m.Nominal.id).limit(n)
    if status:
        q = q.where(m.Nominal.status == status)
    if area:
        q = q.where(m.Nominal.area == area)
    with store.session_factory() as s:
        return list(s.scalars(q))


def _areas(store: Any) -> list[str]:
    from sqlalchemy import select

    from register.store import models as m

    with store.session_factory() as s:
        return sorted(s.scalars(select(m.Nominal.area).distinct()))


LABELS = {
    "generate_postgresql_s": "generate the register into PostgreSQL (s)",
    "generate_sqlite_s": "generate the SQLite register (s)",
    "sustained_updates_per_s_4_clients": "sustained updates per second, 4 clients",
    "sustained_updates_per_s_4_clients_2_api_processes": "sustained updates per second, 4 clients, two API processes",
    "indexer_lag_under_sustained_writes_s": "indexer lag under those writes (s): oldest change not yet indexed",
    "indexer_catch_up_after_sustained_writes_s": "indexer catch-up after the writes stop (s)",
    "quality_sweep_area_by_area_s": "quality rules, every area in turn (s): the baseline",
    "quality_sweep_all_areas_s": "quality rules, every area in one pass (s)",
    "quality_sweep_all_areas_first_run_s": "quality rules, every area in one pass, the register's first run (s)",
    "annual_statistics_area_by_area_s": "annual statistics, every area in turn (s): the baseline",
    "annual_statistics_all_areas_s": "annual statistics, every area in one pass (s)",
}


def render(r: dict[str, Any]) -> str:
    machine = r["machine"]
    ms = lambda x: f"median {x['median_ms']} ms, p95 {x['p95_ms']}, p99 {x['p99_ms']}"  # noqa: E731
    lines = ["# Benchmarks", "",
             "Produced by `make bench` (benchmarks/run.py) and reproduced by running it again; every figure is beside its",
             "baseline measured in the same run. The API runs under uvicorn in its own process and is called over loopback",
             "HTTP; a separate `register indexer` drains the outbox, as deployed.", "",
             f"- Register: {r['nominals']:,} people (seed {r['seed']}), run {r['started'][:16]} UTC",
             f"- Machine: {machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}",
             f"- Engines: PostgreSQL {'.'.join(map(str, machine.get('postgresql') or []))}, Elasticsearch {', '.join(machine.get('elasticsearch') or [])}",
             "- Packages: " + ", ".join(f"{k} {v}" for k, v in (machine.get("packages") or {}).items()),
             f"- Peak memory: API process {machine.get('peak_memory_mb_api')} MB; reindex {machine.get('peak_memory_mb_reindex')} MB "
             "(the writer and the largest document-building worker)", "",
             "| figure | register | baseline | baseline is | ratio |", "| --- | --- | --- | --- | --- |"]
    for f in r["figures"]:
        reg, base = f["register"], f["baseline"]
        fmt = lambda x: ms(x) if isinstance(x, dict) else f"{x:,}/s"  # noqa: E731
        lines.append(f"| {f['figure']} | {fmt(reg)} | {fmt(base)} | {f['baseline_is']} | {f.get('ratio_median') or f.get('ratio_throughput')}x |")
    lines += ["", "| timing | value |", "| --- | --- |"]
    for k, v in r["timings"].items():
        value = f"median {v['median']}, max {v['max']}" if isinstance(v, dict) else v
        lines.append(f"| {LABELS.get(k, k)} | {value} |")
    cpu = r.get("update_cpu")
    if cpu:
        lines += ["", "CPU time per sustained update (ms, from /proc: user and system time over the 10 s window divided by the "
                  "updates made) and the most any layout of processes could sustain on this machine's "
                  f"{cpu['cpus']} CPUs at that cost (CPUs × 1,000 / the servers' CPU ms per update):", "",
                  "| API processes | updates/s | API | PostgreSQL | indexer | servers' total | bound on these CPUs (/s) | clients (benchmark) |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for label, key, rate in (("one", "one_api_process", "sustained_updates_per_s_4_clients"),
                                 ("two", "two_api_processes", "sustained_updates_per_s_4_clients_2_api_processes")):
            c = cpu[key]
            per = c["cpu_ms_per_update"]
            lines.append(f"| {label} | {r['timings'].get(rate)} | {per['api']} | {per['postgresql']} | {per['indexer']} | "
                         f"{c['server_cpu_ms_per_update']} | {c['bound_per_s_on_these_cpus']} | {per['clients']} |")
    sizes = r.get("sizes")
    if sizes:
        scale = 1_000_000 / r["nominals"]
        gib = lambda b: f"{b / 2**30:,.1f} GiB"  # noqa: E731
        hours = lambda sec: f"{sec / 3600:,.1f} h"  # noqa: E731
        generate = r["timings"].get("generate_postgresql_s")
        lines += ["", f"Size of this register ({r['nominals']:,} people, {sizes['chronology_entries']:,} chronology entries) and a "
                  "linear extrapolation to 1,000,000 people (every cost here grows with the number of records; not a run at "
                  f"that size{'; a run at that size follows' if r.get('scale_run') else ''}):", "", "| | this run | 1,000,000 people, extrapolated |", "| --- | --- | --- |",
                  f"| PostgreSQL database on disk | {gib(sizes['postgresql_bytes'])} | {gib(sizes['postgresql_bytes'] * scale)} |",
                  f"| Elasticsearch index (primaries) | {gib(sizes['elasticsearch_bytes'])} | {gib(sizes['elasticsearch_bytes'] * scale)} |",
                  f"| full reindex, {machine['cpus']} CPUs | {sizes['reindex_s']:,} s | {hours(sizes['reindex_s'] * scale)} |"]
        if generate:
            lines.append(f"| generating the register | {generate:,} s | {hours(generate * scale)} |")
        lines.append(f"| reindex peak memory | {machine.get('peak_memory_mb_reindex')} MB | the same (it streams in batches) |")
    if r.get("scale_run"):
        lines += [""] + scale_run_section(r["scale_run"], r)
    lines += ["", "Searches one by one (API vs raw Elasticsearch, medians in ms):", "", "| query | hits | API | raw | ratio |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {q['query']} | {q['hits']} | {q['register']['median_ms']} | {q['baseline']['median_ms']} | {q['ratio_median']}x |" for q in r.get("searches", [])]
    if r.get("pages"):
        lines += ["", f"Web pages, server time in the process (a signed-in session, no browser, no network; target p95 ≤ {PAGE_TARGET_P95_MS} ms):", "",
                  "| page | median ms | p95 | p99 | SQL statements per view |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {p['page']} | {p['median_ms']} | {p['p95_ms']} | {p['p99_ms']} | {p['statements_per_view']} |" for p in r["pages"]]
    if r.get("search_pages"):
        lines += ["", f"The investigator's results page against the search it runs (target: within the search's own time + {SEARCH_PAGE_OVERHEAD_MS} ms):", "",
                  "| query | search median ms (p95) | page median ms (p95) | page's own median ms |", "| --- | --- | --- | --- |"]
        lines += [f"| {p['query']} | {p['search']['median_ms']} ({p['search']['p95_ms']}) | {p['page']['median_ms']} ({p['page']['p95_ms']}) | {p['overhead_median_ms']} |"
                  for p in r["search_pages"]]
    sq = r.get("sqlite_searches")
    if sq:
        alone = f"; {sq['source']}" if sq.get("source") else f"; measured on its own, `--sqlite-only`, {sq['run'][:16]} UTC" if sq.get("run") else ""
        lines += ["", f"The same searches on the embedded SQL backend (SQLite, {sq['nominals']:,} people, through the API{alone}): {ms(sq['overall'])}.", "",
                  "| query | median ms | p95 | p99 |", "| --- | --- | --- | --- |"]
        lines += [f"| {q['query']} | {q['median_ms']} | {q['p95_ms']} | {q['p99_ms']} |" for q in sq["per_query"]]
    if r.get("cluster"):
        lines += [""] + cluster_section(r["cluster"])[:-1]
    if r.get("relevance"):
        lines += [""] + relevance_section(r["relevance"])
    analysis = ROOT / "benchmarks" / "analysis.md"
    if analysis.exists():
        lines += ["", analysis.read_text().rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
