"""Running the quality rules over an area and reading the results.

A run evaluates every rule as one `INSERT ... SELECT ... FROM nominal WHERE <check>` into the run's own table:
no loop over records, whatever the size of the register. The findings kept are each area's latest run's, of
which a run writes only the difference (decision 71); each run's counts per rule are kept for the trend.
"""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import (
    Column,
    Index,
    MetaData,
    Table,
    Uuid,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

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
    analyse_temporary,
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
    rule's findings for all the areas found by one statement, the run of each finding picked by its area.
    Looping `run` over 42 areas repeated every statement 42 times, each scanning the tables it probes again
    (docs/supervisor-quality.md). The areas' kept findings become the run's (`keep_found`). Each area keeps
    its newest `keep` runs (default `KEPT_RUNS`), this one included: older ones are deleted with their
    counts."""
    rules = rules if rules is not None else load_rules()
    keep = KEPT_RUNS if keep is None else keep
    if keep < 1:
        raise ValueError("a run keeps at least itself")
    chosen = list(dict.fromkeys(areas if areas is not None else list(Area)))
    if not chosen:
        return {}
    names = [a.value for a in chosen]
    if uow.session.get_bind().dialect.name == "postgresql":
        # One run at a time (SQLite has one writer anyway): two would each insert the same new findings.
        # Readers are not blocked.
        uow.session.execute(text(f"LOCK TABLE {m.QualityFinding.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    swept = N.area == names[0] if len(names) == 1 else N.area.in_(names)
    covered, total = coverage(uow.session, swept)
    # The suspected duplicates the desk and the DUPLICATE-SUSPECTED rule read, worked out from scratch: the
    # writes keep them current; this repairs whatever a path that claimed no version may have missed. Areas
    # holding every record: the whole register's pairs, in one self-join of the tokens (at 100,000 people
    # 1.0 s, where the pairs touching the 12 areas that hold them, worked out as such, took 2.8 to 3.7 s).
    everywhere = set(chosen) == set(Area) or covered == total
    rebuild_pairs(uow.session, None if everywhere else names[0] if len(names) == 1 else names)
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
    # condition of every rule, in one pass over the items. The run's findings go to a temporary table first:
    # most are already kept from the run before, and only the difference is written (decision 71).
    with (
        record_facts(
            uow.session, swept, one_pass, lambda: [condition(r, a) for r in rules for a in audiences(r)]
        ) as known,
        found_table(uow.session) as found,
    ):
        progress(0, len(rules))
        for done, rule in enumerate(rules, 1):
            for audience in audiences(rule):
                finds = (
                    select(
                        run_of_area,
                        literal(rule.id),
                        literal(rule.severity),
                        literal(rule.who),
                        N.id,
                        N.area,
                        N.managing_unit,
                        known.c.owner,
                        literal(audience.value if audience else None, m.QualityFinding.audience.type),
                    )
                    .select_from(N)
                    # Only the swept records have facts: no test of `swept` again (at every area, 42 names
                    # compared for each of 100,000 records a rule).
                    .join(known, known.c.nominal_id == N.id)
                    .where(N.status.in_(rule.statuses), condition(rule, audience))
                )
                uow.session.execute(found.insert().from_select(["run_id", *_FINDING], finds))
            progress(done, len(rules))
        keep_found(uow.session, found, names, today)
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


_FOUND_TABLE = "quality_found"


@contextmanager
def found_table(session: Session) -> Iterator[Table]:
    """A temporary table for the findings of the run under way, with the run of each (each session its own,
    dropped at the end of the run, and on PostgreSQL at the commit whatever happens; never part of the
    schema's metadata)."""
    c = cast(Table, m.QualityFinding.__table__).c
    table = Table(
        _FOUND_TABLE,
        MetaData(),
        Column("run_id", Uuid),
        *(Column(name, c[name].type) for name in _FINDING),
        Column("since", c["first_found_on"].type),  # set on the findings that are new (`keep_found`)
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    table.drop(session.connection(), checkfirst=True)  # one a failed run on this connection may have left
    table.create(session.connection())
    yield table
    table.drop(session.connection())


_FINDING = ("rule_id", "severity", "who", "nominal_id", "area", "managing_unit", "owner", "audience")


def keep_found(session: Session, found: Table, areas: list[str], today: dt.date) -> None:
    """Make the kept findings of these areas the run's (`found`), writing only the difference (decision 71):
    a finding found again with the same severity, who acts, unit, owner and audience stays as it is, with its
    day; a new one is inserted with the day its area's earlier finding of the same rule on the same record for
    the same audience was first found (its unit, owner or severity changed), or the run's day; one no longer
    found is deleted. Then each run's counts per rule, as each agency and a system actor may see them (the
    trend). Three statements over the run's findings, each a hash join on PostgreSQL: at 100,000 people a
    run wrote about 220,000 findings and their index entries every night, most of them the night before's."""
    F, t = m.QualityFinding, found.c
    _analysed(session)
    if session.get_bind().dialect.name == "postgresql":
        analyse_temporary(session, found)
    else:  # SQLite answers NOT EXISTS by a lookup a row: this one by record
        Index(f"ix_{_FOUND_TABLE}_nominal", t.nominal_id).create(session.connection())
    blank = literal("")
    same_line = [
        F.area == t.area,
        F.rule_id == t.rule_id,
        F.nominal_id == t.nominal_id,
        func.coalesce(F.audience, blank) == func.coalesce(t.audience, blank),
    ]
    unchanged = [
        *same_line,
        F.severity == t.severity,
        F.who == t.who,
        F.managing_unit == t.managing_unit,
        func.coalesce(F.owner, blank) == func.coalesce(t.owner, blank),
    ]
    # Each new finding's day, marked in the run's table first: a statement that read the findings row by row
    # while inserting into them read every page it had added so far (a run onto none took minutes).
    since = select(func.min(F.first_found_on)).where(*same_line).scalar_subquery()
    session.execute(
        found.update()
        .where(~exists().where(*unchanged))
        .values(since=func.coalesce(since, literal(today, F.first_found_on.type)))
    )
    new = select(*(t[name] for name in _FINDING), t.since).where(t.since.is_not(None))
    session.execute(insert(F).from_select([*_FINDING, "first_found_on"], new))
    session.execute(delete(F).where(F.area.in_(areas), ~exists().where(*unchanged)))
    _count(session, found)


def _count(session: Session, found: Table) -> None:
    """Each run's counts per rule as each reader may see them (`m.QualityCount`), from the run's findings in
    one grouped pass: a run finds a record at most once per rule and audience, and a rule's findings are
    either all for everyone or all evaluated per agency, so an agency sees the rows for everyone and its own,
    and a system actor each record once (one found for several agencies counted once, by a second pass over
    the rows evaluated per agency)."""
    t = found.c
    counts: Counter[tuple[Any, Any, str]] = Counter()
    for run_id, rule_id, audience, n in session.execute(
        select(t.run_id, t.rule_id, t.audience, func.count()).group_by(t.run_id, t.rule_id, t.audience)
    ):
        for agency in Agency:
            if audience in (None, agency.value):
                counts[(run_id, rule_id, agency.value)] += cast(int, n)
        if audience is None:
            counts[(run_id, rule_id, "all")] += cast(int, n)
    for run_id, rule_id, n in session.execute(
        select(t.run_id, t.rule_id, func.count(func.distinct(t.nominal_id)))
        .where(t.audience.is_not(None))
        .group_by(t.run_id, t.rule_id)
    ):
        counts[(run_id, rule_id, "all")] += cast(int, n)
    if counts:
        session.execute(
            insert(m.QualityCount),
            [
                {"run_id": r, "rule_id": rule, "seen_by": who, "people": n}
                for (r, rule, who), n in counts.items()
            ],
        )


def _analysed(session: Session) -> None:
    """PostgreSQL: analyse the findings first where autovacuum would but may not have yet (never analysed, or
    more than a tenth changed since): a run compares its findings with them, and planned from a table never
    analysed (a run straight after the first, as the benchmark makes them) the comparison sorted both sides
    instead of hashing and looked each new finding's day up through the wrong index, 1.7 s more at 100,000
    people. A nightly run finds them analysed since the night before and costs one read of the statistics."""
    if session.get_bind().dialect.name != "postgresql":
        return
    table = m.QualityFinding.__tablename__
    stale = session.scalar(
        text(
            "SELECT c.reltuples < 0 OR s.n_mod_since_analyze > 50 + 0.1 * c.reltuples FROM pg_class c "
            "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = CAST(:table AS regclass)"
        ),
        {"table": table},
    )
    if stale:
        session.execute(text(f"ANALYZE {table}"))


def _newest_first(areas: list[str]) -> Any:
    """These areas' finished runs, each with its place among its area's, newest first (n = 1): id, area, n."""
    R = m.QualityRun
    place = func.row_number().over(partition_by=R.area, order_by=(R.started_at.desc(), R.id.desc()))
    return (
        select(R.id, R.area, place.label("n")).where(R.area.in_(areas), R.finished_at.is_not(None)).subquery()
    )


def _drop_old_runs(uow: UnitOfWork, areas: list[str], keep: int) -> dict[str, int]:
    """Delete the runs of these areas older than their newest `keep` finished ones, with their counts: how
    many each area lost. No page reads further back (the trend reads `TREND_RUNS`; the findings kept are the
    latest run's, each with its "found since"). The audit log keeps that each run happened."""
    R, C = m.QualityRun, m.QualityCount
    ranked = _newest_first(areas)
    old = uow.session.execute(select(ranked.c.id, ranked.c.area).where(ranked.c.n > keep)).all()
    if not old:
        return {}
    ids = [run_id for run_id, _ in old]
    uow.session.execute(delete(C).where(C.run_id.in_(ids)))
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
    """Counts per rule in each of these (finished) runs, of what `agency` may see, as the runs wrote them."""
    C = m.QualityCount
    counted: dict[uuid.UUID, dict[str, int]] = {run_id: {} for run_id in run_ids}
    for run_id, rule_id, people in uow.session.execute(
        select(C.run_id, C.rule_id, C.people).where(
            C.run_id.in_(run_ids), C.seen_by == (agency.value if agency else "all")
        )
    ):
        counted[run_id][rule_id] = people
    return counted


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
    rank = _SEVERITY_RANK.label("severity_rank")
    q = (
        select(rank, f.severity, f.rule_id, f.nominal_id, f.who, f.managing_unit, f.owner)
        .distinct()
        .where(f.area == area.value, _seen_by(agency))
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


# An area's findings change only with its next run, so what one agency may see of its latest run's is kept in
# memory once counted, by run: (rule, unit, owner, people) groups for the worklist's choices and totals.
_KEPT_RUNS = 64
_group_cache: dict[tuple[uuid.UUID, str | None], list[tuple[str, str, str | None, int]]] = {}


def _keep(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _KEPT_RUNS:
        cache.pop(next(iter(cache)), None)
    cache[key] = value


def _groups(
    uow: UnitOfWork, run: m.QualityRun, agency: Agency | None
) -> list[tuple[str, str, str | None, int]]:
    """The findings of the area's latest run (`run`) that `agency` may see, grouped by rule, unit and owner,
    with how many people: one grouped pass over the area's findings (then kept)."""
    key = (run.id, agency.value if agency else None)
    if key not in _group_cache:
        rows = uow.session.execute(
            select(
                m.QualityFinding.rule_id,
                m.QualityFinding.managing_unit,
                m.QualityFinding.owner,
                func.count(func.distinct(m.QualityFinding.nominal_id)),
            )
            .where(m.QualityFinding.area == run.area, _seen_by(agency))
            .group_by(m.QualityFinding.rule_id, m.QualityFinding.managing_unit, m.QualityFinding.owner)
        ).all()
        _keep(_group_cache, key, [(r, u, o, int(n)) for r, u, o, n in rows])
    return _group_cache[key]


_SEVERITY_RANK = case(
    {s: i for i, s in enumerate(SEVERITIES)}, value=m.QualityFinding.severity, else_=len(SEVERITIES)
)


def _page_of_findings(area: str, agency: Agency | None, chosen: WorklistFilter) -> Any:
    """The area's latest run's findings as (rule, record) rows, each with the day it was first found. For one
    agency each is one row already (a rule evaluated per agency has one row per agency); for everyone (None),
    the rows of several agencies are one finding, found since the earliest of their days."""
    f = m.QualityFinding
    shown = (f.rule_id, f.severity, f.who, f.nominal_id, f.managing_unit, f.owner)
    if agency is None:
        q = select(
            *shown, func.min(f.first_found_on).label("first_found_on"), _SEVERITY_RANK.label("severity_rank")
        )
        q = q.where(f.area == area).group_by(*shown)
    else:
        q = select(*shown, f.first_found_on, _SEVERITY_RANK.label("severity_rank"))
        q = q.where(f.area == area, _seen_by(agency))
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
    every = _groups(uow, run, agency)
    groups = [
        g
        for g in every
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
            _page_of_findings(run.area, agency, replace(chosen, rule=rule_id))
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
            _page_of_findings(runs[0].area, agency, chosen).order_by(
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
    words = {r.id: r.description for r in load_rules()}
    found: dict[str, dict[str, str]] = {}
    for f in uow.session.scalars(
        select(m.QualityFinding)
        .where(
            m.QualityFinding.area == area.value,
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
