"""Running the quality rules over an area and reading the results.

A run evaluates every rule as one `INSERT INTO quality_finding ... SELECT ... FROM nominal WHERE <check>`: no
loop over records, whatever the size of the register. Runs are kept, so the dashboard shows each rule's trend.
"""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import (
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
)

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain.actors import Actor, Principal
from ..domain.enums import Agency, Area, NominalStatus
from ..store import models as m
from ..store.duplicates import rebuild_pairs
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.cursors import cursors, fingerprint, next_offset
from .checks import (
    CHECKS,
    N,
    coverage,
    in_one_pass,
    per_agency,
    record_facts,
)

RULES_FILE = Path(__file__).with_name("rules.yaml")
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: str
    who: str
    check: str
    params: dict[str, Any]
    statuses: tuple[str, ...] = (NominalStatus.ACTIVE.value,)  # the records the rule looks at


def load_rules(path: Path = RULES_FILE) -> list[Rule]:
    doc = yaml.safe_load(path.read_text())
    rules = [
        Rule(
            r["id"],
            r["description"],
            r["severity"],
            r["who"],
            r["check"],
            r.get("params") or {},
            tuple(NominalStatus(s).value for s in r.get("statuses", [NominalStatus.ACTIVE.value])),
        )
        for r in doc["rules"]
    ]
    for r in rules:
        if r.check not in CHECKS:
            raise ValueError(f"rule {r.id} names an unknown check {r.check!r}")
        if r.severity not in SEVERITIES:
            raise ValueError(f"rule {r.id} has an unknown severity {r.severity!r}")
    if len({r.id for r in rules}) != len(rules):
        raise ValueError("rule ids must be unique")
    return rules


@use_case(Tag.QUALITY_RUN_EXECUTE, Action.CONSULTATION)
def run(
    uow: UnitOfWork,
    actor: Actor,
    area: Area,
    today: dt.date,
    rules: list[Rule] | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    keep: int | None = None,
) -> uuid.UUID:
    """Evaluate every rule over the area's records (active ones unless the rule names other statuses), one
    set-based statement per rule: `run_areas` for one area."""
    return run_areas(uow, actor, [area], today, rules, progress, keep)[area]


@use_case(Tag.QUALITY_RUN_EXECUTE, Action.CONSULTATION)
def run_areas(
    uow: UnitOfWork,
    actor: Actor,
    areas: Sequence[Area] | None,
    today: dt.date,
    rules: list[Rule] | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    keep: int | None = None,
) -> dict[Area, uuid.UUID]:
    """Evaluate every rule over the records of several areas (None: every area) in one pass: one run per
    area as `run` makes it (the dashboard, worklists and trend read an area's runs), each audited, but each
    rule's findings for all the areas written by one statement, the run of each finding's area joined from
    the runs just inserted. Looping `run` over 42 areas repeated every statement 42 times, each scanning the
    tables it probes again (docs/supervisor-quality.md). Each area keeps its newest `keep` runs (default
    `KEPT_RUNS`), this one included: older ones are deleted with their findings."""
    rules = rules if rules is not None else load_rules()
    keep = KEPT_RUNS if keep is None else keep
    if keep < 1:
        raise ValueError("a run keeps at least itself")
    chosen = list(dict.fromkeys(areas if areas is not None else list(Area)))
    if not chosen:
        return {}
    names = [a.value for a in chosen]
    swept = N.area == names[0] if len(names) == 1 else N.area.in_(names)
    covered, total = coverage(uow.session, swept)
    # The suspected duplicates the desk and the DUPLICATE-SUSPECTED rule read, worked out from scratch: the
    # writes keep them current; this repairs whatever a path that claimed no version may have missed. Areas
    # holding every record: the whole register's pairs, in one self-join of the tokens (at 100,000 people
    # 1.0 s, where the pairs touching the 12 areas that hold them, worked out as such, took 2.8 to 3.7 s).
    everywhere = set(chosen) == set(Area) or covered == total
    rebuild_pairs(uow.session, None if everywhere else names[0] if len(names) == 1 else names)
    previous = _latest_runs(uow, names)  # each area's run before this one: its findings' days carry forward
    _statistics_know(uow, list(previous.values()))
    run_ids = {a: uuid.uuid4() for a in chosen}
    now = dt.datetime.now(dt.UTC)
    uow.session.execute(
        insert(m.QualityRun),
        [
            {"id": run_id, "area": a.value, "run_on": today, "started_at": now, "started_by": actor.user_id}
            for a, run_id in run_ids.items()
        ],
    )
    R = m.QualityRun
    # The run of the finding's area, picked by a CASE on the area: no join, so no estimate of how many runs
    # match. (Joined from `quality_run` while its statistics said it was empty, as on a new register,
    # PostgreSQL expected one run for the 42 just inserted, so 471 records for 94,000, and probed the facts'
    # table once a record, from disk: a run over every area at 100,000 people took 16.4 s instead of 8.5.)
    run_of_area = case({a.value: literal(run_id, R.id.type) for a, run_id in run_ids.items()}, value=N.area)
    one_pass = in_one_pass(covered, total)
    columns = [
        "run_id",
        "rule_id",
        "severity",
        "who",
        "nominal_id",
        "area",
        "managing_unit",
        "owner",
        "audience",
        "first_found_on",
    ]
    F = m.QualityFinding
    previous_of_area = case(
        {area: literal(run_id, R.id.type) for area, run_id in previous.items()}, value=N.area, else_=null()
    )

    def first_found(rule: Rule, audience: Agency | None) -> tuple[Any, Any]:
        """(the finding's first day, the join that gives it): the day the area's previous run gave the same
        rule on the same record for the same audience, carried forward; this run's day where it had none
        (a line of runs broken, or no run before). One grouped read of the previous runs' findings of the
        rule, by their (run, rule) index, joined by record: no lookup per finding."""
        if not previous:
            return literal(today, F.first_found_on.type), None
        seen = F.audience.is_(None) if audience is None else F.audience == audience.value
        earlier = (
            select(F.run_id, F.nominal_id, func.min(F.first_found_on).label("since"))
            .where(F.run_id.in_(list(previous.values())), F.rule_id == rule.id, seen)
            .group_by(F.run_id, F.nominal_id)
            .subquery()
        )
        on = and_(earlier.c.run_id == previous_of_area, earlier.c.nominal_id == N.id)
        return func.coalesce(earlier.c.since, literal(today, F.first_found_on.type)), (earlier, on)

    def audiences(rule: Rule) -> list[Agency | None]:
        """A rule over items that name an audience is evaluated once per agency, over what that agency may
        see; every other rule once, for everyone."""
        return list(Agency) if per_agency(rule.check, rule.params) else [None]

    def condition(rule: Rule, audience: Agency | None) -> Any:
        check = CHECKS[rule.check]
        area_aware = "areas" in inspect.signature(check).parameters  # checks that narrow their own work
        return check(
            today,
            **rule.params,
            **({"areas": names} if area_aware else {}),
            **({"audience": audience} if audience is not None else {}),
        )

    # Each swept record's owner, risk level and last visit, once; over much of the register also every item
    # condition of every rule, in one pass over the items.
    with record_facts(
        uow.session, swept, one_pass, lambda: [condition(r, a) for r in rules for a in audiences(r)]
    ) as known:
        progress(0, len(rules))
        for done, rule in enumerate(rules, 1):
            for audience in audiences(rule):
                since, carried = first_found(rule, audience)
                found = (
                    select(
                        run_of_area,
                        literal(rule.id),
                        literal(rule.severity),
                        literal(rule.who),
                        N.id,
                        N.area,
                        N.managing_unit,
                        known.c.owner,
                        literal(audience.value if audience else None, F.audience.type),
                        since,
                    )
                    .select_from(N)
                    # Only the swept records have facts: no test of `swept` again (at every area, 42 names
                    # compared for each of 100,000 records a rule).
                    .join(known, known.c.nominal_id == N.id)
                    .where(N.status.in_(rule.statuses), condition(rule, audience))
                )
                if carried is not None:
                    found = found.outerjoin(*carried)
                uow.session.execute(insert(F).from_select(columns, found))
            progress(done, len(rules))
    uow.session.execute(
        cast(Table, R.__table__)
        .update()
        .where(R.id.in_(list(run_ids.values())))
        .values(finished_at=dt.datetime.now(dt.UTC))
    )
    dropped = _drop_old_runs(uow, names, keep)
    # each area's run audited as if it had run alone, in one statement
    uow.audit.record_many(
        [
            AuditEntry(
                Action.CONSULTATION,
                Tag.QUALITY_RUN_EXECUTE,
                actor,
                details={
                    "area": a.value,
                    "run": str(run_id),
                    "rules": len(rules),
                    "older_runs_dropped": dropped.get(a.value, 0),
                },
            )
            for a, run_id in run_ids.items()
        ]
    )
    return run_ids


_ANALYSED = "quality_finding_analysed_at"


def _statistics_know(uow: UnitOfWork, runs: list[uuid.UUID]) -> None:
    """PostgreSQL: analyse the findings first if these runs (whose findings a run carries forward) finished
    after the table was last analysed. The planner reads a run's findings by its id; once every kept run is
    among the column's most common values (up to 100 runs), a run written since the last ANALYZE counts as
    having none, and each rule's carry-forward was joined as one row, looped over for every finding: a run
    over every area straight after another took 11 to 12 s at 100,000 people instead of 6 to 7 (one rule 4.9
    s instead of 0.2). A nightly run finds the table analysed since the night before (autovacuum analyses it
    after a run's inserts) and costs nothing more; back to back, the ANALYZE takes 0.2 to 0.3 s at a million
    findings."""
    session = uow.session
    if not runs or session.get_bind().dialect.name != "postgresql":
        return
    R, F = m.QualityRun, m.QualityFinding
    finished = session.scalar(select(func.max(R.finished_at)).where(R.id.in_(runs)))
    analysed = session.scalar(
        text(
            "SELECT greatest(last_analyze, last_autoanalyze) FROM pg_stat_user_tables "
            "WHERE relid = CAST(:table AS regclass)"
        ),
        {"table": F.__tablename__},
    )
    # An ANALYZE earlier in this transaction (several areas' runs in one unit of work): the statistics views
    # show it only after the commit.
    ours = session.info.get(_ANALYSED)
    analysed = max((t for t in (analysed, ours) if t is not None), default=None)
    if analysed is None or (finished is not None and analysed < finished):
        session.execute(text(f"ANALYZE {F.__tablename__}"))
        session.info[_ANALYSED] = dt.datetime.now(dt.UTC)


def _newest_first(areas: list[str]) -> Any:
    """These areas' finished runs, each with its place among its area's, newest first (n = 1): id, area, n."""
    R = m.QualityRun
    place = func.row_number().over(partition_by=R.area, order_by=(R.started_at.desc(), R.id.desc()))
    return (
        select(R.id, R.area, place.label("n")).where(R.area.in_(areas), R.finished_at.is_not(None)).subquery()
    )


def _latest_runs(uow: UnitOfWork, areas: list[str]) -> dict[str, uuid.UUID]:
    """Each of these areas' latest finished run, by area (an area with none is absent)."""
    ranked = _newest_first(areas)
    rows = uow.session.execute(select(ranked.c.area, ranked.c.id).where(ranked.c.n == 1))
    return {str(area): cast(uuid.UUID, run_id) for area, run_id in rows}


def _drop_old_runs(uow: UnitOfWork, areas: list[str], keep: int) -> dict[str, int]:
    """Delete the runs of these areas older than their newest `keep` finished ones, with their findings: how
    many each area lost. No page reads further back (the trend reads `TREND_RUNS`; "found since" is written
    with each finding), and a nightly run adds an area's findings every night: kept for ever, at 100,000
    people some 80 million rows a year, every run's inserts slower as the indexes grow. The audit log keeps
    that each run happened."""
    R, F = m.QualityRun, m.QualityFinding
    ranked = _newest_first(areas)
    old = uow.session.execute(select(ranked.c.id, ranked.c.area).where(ranked.c.n > keep)).all()
    if not old:
        return {}
    ids = [run_id for run_id, _ in old]
    uow.session.execute(delete(F).where(F.run_id.in_(ids)))
    uow.session.execute(delete(R).where(R.id.in_(ids)))
    return dict(Counter(str(area) for _, area in old))


def _runs(uow: UnitOfWork, area: Area, limit: int) -> list[m.QualityRun]:
    return list(
        uow.session.scalars(
            select(m.QualityRun)
            .where(m.QualityRun.area == area.value, m.QualityRun.finished_at.is_not(None))
            .order_by(m.QualityRun.started_at.desc())
            .limit(limit)
        )
    )


def _seen_by(agency: Agency | None) -> Any:
    """SQL: the findings a reader of this agency may see: those that are the same for everyone and those
    evaluated for their agency (None: every finding, for system actors)."""
    if agency is None:
        return literal(True)
    return or_(m.QualityFinding.audience.is_(None), m.QualityFinding.audience == agency.value)


def _trend_counts(
    uow: UnitOfWork, run_ids: list[uuid.UUID], agency: Agency | None
) -> dict[uuid.UUID, dict[str, int]]:
    """Counts per rule in each of these (finished) runs, of what `agency` may see: one grouped statement for
    the runs not already counted."""
    who = agency.value if agency else None
    missing = [run_id for run_id in run_ids if (run_id, who) not in _count_cache]
    if missing:
        counted: dict[uuid.UUID, dict[str, int]] = {run_id: {} for run_id in missing}
        for run_id, rule_id, count in uow.session.execute(
            select(
                m.QualityFinding.run_id,
                m.QualityFinding.rule_id,
                func.count(func.distinct(m.QualityFinding.nominal_id)),
            )
            .where(m.QualityFinding.run_id.in_(missing), _seen_by(agency))
            .group_by(m.QualityFinding.run_id, m.QualityFinding.rule_id)
        ):
            counted[run_id][rule_id] = int(count)
        for run_id, counts in counted.items():
            _keep(_count_cache, (run_id, who), counts)
    return {run_id: _count_cache.get((run_id, who), {}) for run_id in run_ids}


TREND_RUNS = 8  # how many runs the dashboard's trend goes back


def dashboard(
    uow: UnitOfWork,
    area: Area,
    rules: list[Rule] | None = None,
    *,
    agency: Agency | None = None,
    runs: int = TREND_RUNS,
) -> dict[str, Any]:
    """Counts per rule and severity in the latest run, each with its change since the run before, and the
    trend over the last `runs` runs (oldest first), of what `agency` may see (None: everything, for system
    actors)."""
    rules = rules if rules is not None else load_rules()
    kept = _runs(uow, area, max(runs, 2))
    if not kept:
        return {"area": area.value, "run": None, "rules": [], "by_severity": {}, "trend": []}
    counts = _trend_counts(uow, [r.id for r in kept], agency)
    latest, previous = counts[kept[0].id], (counts[kept[1].id] if len(kept) > 1 else None)
    rows: list[dict[str, Any]] = [
        {
            "rule": r.id,
            "description": r.description,
            "severity": r.severity,
            "who": r.who,
            "count": latest.get(r.id, 0),
            "change": None if previous is None else latest.get(r.id, 0) - previous.get(r.id, 0),
        }
        for r in rules
    ]
    by_severity = {s: sum(row["count"] for row in rows if row["severity"] == s) for s in SEVERITIES}
    known = {r.id for r in rules}
    trend = [
        {
            "id": str(run.id),
            "run_on": run.run_on.isoformat(),
            "started_at": run.started_at.isoformat(),
            "counts": {rule: n for rule, n in counts[run.id].items() if rule in known},
            "total": sum(n for rule, n in counts[run.id].items() if rule in known),
        }
        for run in reversed(kept[:runs])
    ]
    return {
        "area": area.value,
        "run": {"id": str(kept[0].id), "run_on": kept[0].run_on.isoformat()},
        "previous_run": str(kept[1].id) if len(kept) > 1 else None,
        "rules": rows,
        "by_severity": by_severity,
        "trend": trend,
    }


def worklist(
    uow: UnitOfWork,
    area: Area,
    *,
    owner: str | None = None,
    unit: str | None = None,
    rule: str | None = None,
    agency: Agency | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The latest run's findings for one offender manager, one unit or one rule (drill-down), with links to
    the records, of what `agency` may see (None: everything), most severe first; `limit` rows from `offset`
    (None: all)."""
    return [
        {
            "rule": f.rule_id,
            "severity": f.severity,
            "who": f.who,
            "nominal_id": str(f.nominal_id),
            "record": f"/v1/nominals/{f.nominal_id}",
            "managing_unit": f.managing_unit,
            "owner": f.owner,
        }
        for f in uow.session.execute(_worklist_rows(uow, area, owner, unit, rule, agency, limit, offset))
    ]


def worklist_total(
    uow: UnitOfWork,
    area: Area,
    *,
    owner: str | None = None,
    unit: str | None = None,
    rule: str | None = None,
    agency: Agency | None = None,
) -> int:
    rows = _worklist_rows(uow, area, owner, unit, rule, agency, None, 0).subquery()
    return uow.session.scalar(select(func.count()).select_from(rows)) or 0


def _worklist_rows(
    uow: UnitOfWork,
    area: Area,
    owner: str | None,
    unit: str | None,
    rule: str | None,
    agency: Agency | None,
    limit: int | None,
    offset: int,
) -> Any:
    """SQL: the findings as a list shows them; a finding evaluated for several agencies is one finding (the
    same record, rule, unit and owner: one row of DISTINCT)."""
    f = m.QualityFinding
    runs = _runs(uow, area, 1)
    run_id = runs[0].id if runs else None
    rank = _SEVERITY_RANK.label("severity_rank")
    q = (
        select(rank, f.severity, f.rule_id, f.nominal_id, f.who, f.managing_unit, f.owner)
        .distinct()
        .where(f.run_id == run_id, _seen_by(agency))
    )
    for column, value in ((f.owner, owner), (f.managing_unit, unit), (f.rule_id, rule)):
        if value is not None:
            q = q.where(column == value)
    q = q.order_by(rank, f.rule_id, f.nominal_id, f.managing_unit, f.owner)
    return q.limit(limit).offset(offset) if limit is not None else q


# ------------------------------------------------------------------ the supervisor's pages: worklists paged

WORKLIST_PAGE_SIZE = 25
# How many runs of an area a run keeps, itself included: the trend's. "Found since" is written with each
# finding (decision 67), so nothing reads further back.
KEPT_RUNS = TREND_RUNS


@dataclass(frozen=True)
class WorklistFilter:
    """Which findings of the latest run: by rule, managing unit, offender manager (None: any)."""

    rule: str | None = None
    unit: str | None = None
    owner: str | None = None


def _filtered(q: Any, chosen: WorklistFilter) -> Any:
    for column, value in (
        (m.QualityFinding.rule_id, chosen.rule),
        (m.QualityFinding.managing_unit, chosen.unit),
        (m.QualityFinding.owner, chosen.owner),
    ):
        if value is not None:
            q = q.where(column == value)
    return q


def _rows(
    uow: UnitOfWork, principal: Principal, found: list[Any], agency: Agency | None
) -> list[dict[str, Any]]:
    """Findings with what a person needs to act on them: the person's name (a restricted record of another
    area only as its stub), the rule's words, since when."""
    words = {r.id: r.description for r in load_rules()}
    summaries = uow.nominals.summaries(sorted({f.nominal_id for f in found}))
    rows = []
    for f in found:
        summary = summaries.get(f.nominal_id)
        stub = summary is None or (summary.restricted and summary.area != principal.area.value)
        rows.append(
            {
                "rule": f.rule_id,
                "description": words.get(f.rule_id, f.rule_id),
                "severity": f.severity,
                "who": f.who,
                "nominal_id": str(f.nominal_id),
                "record": f"/v1/nominals/{f.nominal_id}",
                "managing_unit": f.managing_unit,
                "owner": f.owner,
                "forenames": "" if stub or summary is None else summary.forenames,
                "surname": "" if stub or summary is None else summary.surname,
                "restricted": stub,
                "since": f.first_found_on,
            }
        )
    return rows


# A finished run's findings never change, so what one agency may see of them is kept in memory once counted:
# (rule, unit, owner, people) groups for the worklist's choices and totals, counts per rule for the trend.
_KEPT_RUNS = 64
_group_cache: dict[tuple[uuid.UUID, str | None], list[tuple[str, str, str | None, int]]] = {}
_count_cache: dict[tuple[uuid.UUID, str | None], dict[str, int]] = {}


def _keep(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _KEPT_RUNS:
        cache.pop(next(iter(cache)), None)
    cache[key] = value


def _groups(
    uow: UnitOfWork, run_id: uuid.UUID, agency: Agency | None
) -> list[tuple[str, str, str | None, int]]:
    """The run's findings that `agency` may see, grouped by rule, unit and owner, with how many people: one
    grouped pass over the run (then kept)."""
    key = (run_id, agency.value if agency else None)
    if key not in _group_cache:
        rows = uow.session.execute(
            select(
                m.QualityFinding.rule_id,
                m.QualityFinding.managing_unit,
                m.QualityFinding.owner,
                func.count(func.distinct(m.QualityFinding.nominal_id)),
            )
            .where(m.QualityFinding.run_id == run_id, _seen_by(agency))
            .group_by(m.QualityFinding.rule_id, m.QualityFinding.managing_unit, m.QualityFinding.owner)
        ).all()
        _keep(_group_cache, key, [(r, u, o, int(n)) for r, u, o, n in rows])
    return _group_cache[key]


_SEVERITY_RANK = case(
    {s: i for i, s in enumerate(SEVERITIES)}, value=m.QualityFinding.severity, else_=len(SEVERITIES)
)


def _page_of_findings(run_id: uuid.UUID, agency: Agency | None, chosen: WorklistFilter) -> Any:
    """The latest run's findings as (rule, record) rows, each with the day it was first found. For one agency
    each is one row already (a rule evaluated per agency has one row per agency); for everyone (None), the
    rows of several agencies are one finding, found since the earliest of their days."""
    f = m.QualityFinding
    shown = (f.rule_id, f.severity, f.who, f.nominal_id, f.managing_unit, f.owner)
    if agency is None:
        q = select(
            *shown, func.min(f.first_found_on).label("first_found_on"), _SEVERITY_RANK.label("severity_rank")
        )
        q = q.where(f.run_id == run_id).group_by(*shown)
    else:
        q = select(*shown, f.first_found_on, _SEVERITY_RANK.label("severity_rank"))
        q = q.where(f.run_id == run_id, _seen_by(agency))
    return _filtered(q, chosen)


@use_case(Tag.QUALITY_WORKLIST_READ, Action.CONSULTATION)
def worklist_page(
    uow: UnitOfWork,
    principal: Principal,
    chosen: WorklistFilter,
    *,
    page: int,
    agency: Agency | None,
    page_size: int = WORKLIST_PAGE_SIZE,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One page of the latest run's findings in the caller's area, filtered, with names and since when, the
    filters' choices (rules, units and offender managers that have findings) and the total, of what `agency`
    may see. Audited like the API's worklist, naming the records shown."""
    runs = _runs(uow, principal.area, 1)
    empty: dict[str, Any] = {"run": None, "rows": [], "total": 0, "page": 1, "pages": 1, "facets": {}}
    if not runs:
        return empty
    run = runs[0]
    every = _groups(uow, run.id, agency)
    groups = [
        g
        for g in _groups(uow, run.id, agency)
        if chosen.rule in (None, g[0]) and chosen.unit in (None, g[1]) and chosen.owner in (None, g[2])
    ]
    total = sum(g[3] for g in groups)
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    # Most severe first, a rule at a time: the page's rows come from the one or two rules it spans, each an
    # indexed read of that rule's findings (never a sort of the whole run).
    per_rule: dict[str, int] = {}
    for rule_id, _, _, n in groups:
        per_rule[rule_id] = per_rule.get(rule_id, 0) + n
    severity = {r.id: SEVERITIES.index(r.severity) for r in load_rules()}
    start, found = (page - 1) * page_size, list[Any]()
    for rule_id in sorted(per_rule, key=lambda r: (severity.get(r, len(SEVERITIES)), r)):
        n = per_rule[rule_id]
        if start >= n:
            start -= n
            continue
        wanted = page_size - len(found)
        found += uow.session.execute(
            _page_of_findings(run.id, agency, replace(chosen, rule=rule_id))
            .order_by(m.QualityFinding.managing_unit, m.QualityFinding.nominal_id)
            .limit(wanted)
            .offset(start)
        ).all()
        start = 0
        if len(found) >= page_size:
            break
    rows = _rows(uow, principal, list(found), agency)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.QUALITY_WORKLIST_READ,
            principal,
            request_id=request_id,
            details={
                "owner": chosen.owner,
                "unit": chosen.unit,
                "rule": chosen.rule,
                "page": page,
                "total": total,
                "ids": [r["nominal_id"] for r in rows],
            },
        )
    )
    return {
        "run": {"id": str(run.id), "run_on": run.run_on.isoformat()},
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "facets": {
            "rules": sorted({g[0] for g in every}),
            "units": sorted({g[1] for g in every}),
            "owners": sorted({g[2] for g in every if g[2] is not None}),
        },
    }


@use_case(Tag.QUALITY_WORKLIST_EXPORT, Action.DISCLOSURE)
def export_worklist(
    uow: UnitOfWork,
    principal: Principal,
    chosen: WorklistFilter,
    *,
    agency: Agency | None,
    request_id: str | None = None,
) -> list[dict[str, Any]]:
    """Every finding of the latest run that the filter matches, with names and since when, for a CSV file:
    a disclosure (the data leaves the register), audited naming each record."""
    runs = _runs(uow, principal.area, 1)
    found = (
        uow.session.execute(
            _page_of_findings(runs[0].id, agency, chosen).order_by(
                literal_column("severity_rank"),
                m.QualityFinding.rule_id,
                m.QualityFinding.managing_unit,
                m.QualityFinding.nominal_id,
            )
        ).all()
        if runs
        else []
    )
    rows = _rows(uow, principal, list(found), agency)
    uow.audit.record(
        AuditEntry(
            Action.DISCLOSURE,
            Tag.QUALITY_WORKLIST_EXPORT,
            principal,
            request_id=request_id,
            details={
                "owner": chosen.owner,
                "unit": chosen.unit,
                "rule": chosen.rule,
                "format": "csv",
                "ids": [r["nominal_id"] for r in rows],
            },
        )
    )
    return rows


@use_case(Tag.QUALITY_DASHBOARD_READ, Action.CONSULTATION)
def read_dashboard(
    uow: UnitOfWork, principal: Principal, *, agency: Agency | None, request_id: str | None = None
) -> dict[str, Any]:
    """The dashboard of the caller's area, audited as a consultation."""
    board = dashboard(uow, principal.area, agency=agency)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.QUALITY_DASHBOARD_READ,
            principal,
            request_id=request_id,
            details={"area": principal.area.value},
        )
    )
    return board


@use_case(Tag.QUALITY_WORKLIST_READ, Action.CONSULTATION)
def read_worklist(
    uow: UnitOfWork,
    principal: Principal,
    *,
    owner: str | None,
    unit: str | None,
    rule: str | None,
    agency: Agency | None,
    limit: int = 100,
    cursor: str | None = None,
    request_id: str | None = None,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """A page of a worklist of the caller's area (their own when nothing is named) after `cursor`
    (usecase/cursors.py), with the total and the next page's cursor; audited with the records listed."""
    if owner is None and unit is None and rule is None:
        owner = principal.user_id
    seal_ = cursors(uow, "worklist")
    bound = fingerprint({"owner": owner, "unit": unit, "rule": rule})
    offset = seal_.open(cursor, bound)
    area = principal.area
    rows = worklist(uow, area, owner=owner, unit=unit, rule=rule, agency=agency, limit=limit, offset=offset)
    total = worklist_total(uow, area, owner=owner, unit=unit, rule=rule, agency=agency)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.QUALITY_WORKLIST_READ,
            principal,
            request_id=request_id,
            details={"owner": owner, "unit": unit, "rule": rule, "ids": [r["nominal_id"] for r in rows]},
        )
    )
    return rows, total, next_offset(seal_, offset, len(rows), total, bound)


def record_findings(
    uow: UnitOfWork, area: Area, nominal_id: uuid.UUID, *, agency: Agency | None
) -> list[dict[str, str]]:
    """The open findings on one record in its area's latest run, of what `agency` may see (rule, severity,
    who must act, and the rule's words). Plain metadata, for a page that has just read the record."""
    runs = _runs(uow, area, 1)
    if not runs:
        return []
    words = {r.id: r.description for r in load_rules()}
    found: dict[str, dict[str, str]] = {}
    for f in uow.session.scalars(
        select(m.QualityFinding)
        .where(
            m.QualityFinding.run_id == runs[0].id,
            m.QualityFinding.nominal_id == nominal_id,
            _seen_by(agency),
        )
        .order_by(m.QualityFinding.severity, m.QualityFinding.rule_id)
    ):
        found.setdefault(
            f.rule_id,
            {
                "rule": f.rule_id,
                "severity": f.severity,
                "who": f.who,
                "description": words.get(f.rule_id, ""),
            },
        )
    return list(found.values())
