"""The checks the quality rules name. Each builds one SQL condition on a `nominal` row from plain columns only
(no decryption), with its cut-off dates computed here so the same SQL runs on SQLite and PostgreSQL.

A check may also read the run's record facts (`facts()`: each swept record's current offender manager, the
level of its latest current risk assessment and its last home visit), worked out once per run by
`record_facts` instead of looked up again for each rule and each finding (at 100,000 people the owner of
200,000 findings and the visit rule's two lookups for 94,000 records took 3.7 of a run's 12.5 s; decision
56)."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Executable,
    MetaData,
    SmallInteger,
    Table,
    Uuid,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from ..domain.enums import Agency, MeetingKind, NominalType, OrderKind
from ..domain.notification import add_months
from ..domain.record import AUDIENCE_SECTIONS, Section
from ..merges.repository import suspected
from ..store import models as m
from ..store.case_facts import last_visit_seen
from ..store.records import visible_to

N = m.Nominal
Check = Callable[..., ColumnElement[bool]]

WHOLE_REGISTER_WORK_MEM = "64MB"  # each sort or hash of a run's passes over the register, on PostgreSQL
ONE_PASS_SHARE = 0.25  # the share of the register a run must cover to read it in passes (`in_one_pass`)
FACTS_TABLE = "quality_record_facts"
FACTS_STATISTICS_TARGET = 10  # the sample ANALYZE takes of the run's facts: 300 rows a unit


def coverage(session: Session, swept: ColumnElement[bool]) -> tuple[int, int]:
    """How many records `swept` selects, and how many the register holds. A run covering at least
    ONE_PASS_SHARE of the register reads its items and visits in one pass each (`record_facts`) rather than
    probing each swept record's own: a pass reads every record's items, and a probe per record and rule costs
    more once the run covers much of the register."""
    counts = session.execute(select(func.count().filter(swept), func.count()).select_from(N)).one()
    return int(counts[0]), int(counts[1])


def in_one_pass(covered: int, total: int) -> bool:
    return covered > 0 and covered >= ONE_PASS_SHARE * total


@dataclass
class _RunFacts:
    """A run's record facts: while `table` is None, the item conditions the rules ask about (in the order they
    ask, and the sections they name); then the table holding them, read back in the same order."""

    one_pass: bool
    wanted: list[ColumnElement[bool]] = field(default_factory=list)
    sections: set[str] = field(default_factory=set)
    table: Table | None = None
    read: int = 0

    def column(self, section: str, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        if self.table is None:
            self.wanted.append(condition)
            self.sections.add(section)
            return false()
        if self.read >= len(self.wanted):
            raise RuntimeError("a rule asked about more items than it did when its facts were collected")
        fact = self.table.c[f"c{self.read}"]
        self.read += 1
        return func.coalesce(fact, 0) == 1


_RUN_FACTS: ContextVar[_RunFacts | None] = ContextVar("quality_run_facts", default=None)


def _facts_table(*items: Column[Any]) -> Table:
    return Table(
        FACTS_TABLE,
        MetaData(),
        Column("nominal_id", Uuid, primary_key=True),
        Column("owner", m.Item.__table__.c.ref.type),  # the user id of the current offender manager
        Column("risk_level", m.Item.__table__.c.status.type),  # the latest current assessment's RoSH
        Column("last_visit", m.UTCDateTime()),  # the latest home visit, as its latest correction says
        *items,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


class _CreateTempTableAs(Executable, ClauseElement):
    """PostgreSQL: CREATE TEMPORARY TABLE <table> (<its columns' names>) ON COMMIT DROP AS <query>, the
    query's columns in the table's order (their types are the query's)."""

    inherit_cache = False

    def __init__(self, table: Table, query: Any) -> None:
        self.table, self.query = table, query


@compiles(_CreateTempTableAs, "postgresql")
def _create_temp_table_as(element: _CreateTempTableAs, compiler: SQLCompiler, **kw: Any) -> str:
    names = ", ".join(compiler.preparer.quote(c.name) for c in element.table.c)
    query = compiler.process(element.query, **kw)
    table = compiler.preparer.format_table(element.table)
    return f"CREATE TEMPORARY TABLE {table} ({names}) ON COMMIT DROP AS {query}"


_COLLECTING = _facts_table()  # what a check reads while the run collects its item conditions


def facts() -> Table:
    """The record facts of the run under way (`record_facts`): join it on `nominal_id`."""
    run = _RUN_FACTS.get()
    if run is None:
        raise RuntimeError("a check read the run's record facts outside `record_facts`")
    return run.table if run.table is not None else _COLLECTING


@contextmanager
def record_facts(
    session: Session, swept: ColumnElement[bool], one_pass: bool, ask_every_rule: Callable[[], object]
) -> Iterator[Table]:
    """The run's record facts, worked out once for the records `swept` selects, in a temporary table (each
    session its own; dropped at the end of the run, and on PostgreSQL at the commit whatever happens; never
    part of the schema's metadata): each record's current offender manager (`owner`), the level of its latest
    current risk assessment (`risk_level`) and its last home visit (`last_visit`: any agency's, each visit as
    its latest correction says), all three from the kept caseload facts (decisions 62 and 69), instead of
    looked up again for each rule and each finding (decision 56).

    Over much of the register (`one_pass`) also a column for each item condition the rules ask about, instead
    of an index probe per record and rule: `ask_every_rule` builds every rule's condition as the run will; its
    item conditions (on the item's own columns) are collected, and the table gets a column for each (1 where
    the record has such an item; NULL, read as 0, where it has no item of the sections asked about). Inside
    the block the rules, asked again in the same order, read those columns. The table is filled by one
    statement: the swept records' kept facts, joined to a pass over those sections' items."""
    run = _RunFacts(one_pass)
    token = _RUN_FACTS.set(run)
    try:
        if one_pass:
            ask_every_rule()
        table = _facts_table(*(Column(f"c{i}", SmallInteger) for i in range(len(run.wanted))))
        table.drop(session.connection(), checkfirst=True)  # one a failed run on this connection may have left
        postgres = session.get_bind().dialect.name == "postgresql"
        if one_pass and postgres:
            # The passes over the register sort and group about a million rows: with PostgreSQL's
            # default 4 MB a node they spilled to disk (the items' pass 2.4 s, 1.2 s in memory). This
            # transaction only.
            session.execute(text(f"SET LOCAL work_mem = '{WHOLE_REGISTER_WORK_MEM}'"))
        filled = _facts_in_one_pass(swept, run) if one_pass else _kept(swept)
        if postgres:
            # CREATE TABLE AS may read with parallel workers, where INSERT ... SELECT never does (PostgreSQL
            # 15): at 100,000 people, every area, the facts' statement 2.0-2.3 s alone, 1.2-1.5 s so.
            session.execute(_CreateTempTableAs(table, filled))
            session.execute(text(f"ALTER TABLE {table.name} ADD PRIMARY KEY (nominal_id)"))
        else:
            table.create(session.connection())
            session.execute(table.insert().from_select([c.name for c in table.c], filled))
        analyse_temporary(session, table)
        run.table = table
        yield table
        if run.read != len(run.wanted):
            raise RuntimeError("the rules asked about fewer items than when their facts were collected")
        table.drop(session.connection())
    finally:
        _RUN_FACTS.reset(token)


def _kept(swept: ColumnElement[bool]) -> Any:
    """Each swept record's owner, risk level and last visit, from its kept caseload facts (decision 69)."""
    kept = m.CaseFactsRow
    return (
        select(N.id, kept.owner, kept.risk_level, last_visit_seen())
        .select_from(N)
        .outerjoin(kept, kept.nominal_id == N.id)
        .where(swept)
    )


def _facts_in_one_pass(swept: ColumnElement[bool], run: _RunFacts) -> Any:
    found = _kept(swept)
    if run.wanted:
        items = (
            select(
                m.Item.nominal_id,
                *(func.max(case((c, 1), else_=0)).label(f"c{i}") for i, c in enumerate(run.wanted)),
            )
            .where(m.Item.section.in_(sorted(run.sections)))
            .group_by(m.Item.nominal_id)
            .subquery()
        )
        found = found.outerjoin(items, items.c.nominal_id == N.id).add_columns(*list(items.c)[1:])
    return found


def _items(
    section: Section | str,
    *conditions: Any,
    current: bool = True,
    today: dt.date | None = None,
    audience: Agency | None = None,
) -> Any:
    """SQL: the record has an item of `section` meeting the conditions, among the items `audience` may see.
    An index probe per record, or, in a run that reads the register in one pass, a column of its record
    facts."""
    section_value = section.value if isinstance(section, Section) else section
    clauses = [m.Item.section == section_value, visible_to(audience)]
    if current:
        clauses.append(m.Item.ended_at.is_(None))
        if today is not None:
            clauses.append(or_(m.Item.ends_on.is_(None), m.Item.ends_on >= today))
    run = _RUN_FACTS.get()
    if run is not None and run.one_pass:
        return run.column(section_value, and_(*clauses, *conditions))
    return exists(select(m.Item.id).where(m.Item.nominal_id == N.id, *clauses, *conditions))


def analyse_temporary(session: Session, table: Table) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # A temporary table has no statistics until analysed (autovacuum never sees it): without them the
        # rules joined to it were planned for a handful of rows. A small sample (3,000 rows) is enough for
        # its columns (a unique id, a few levels, flags of 0 and 1): the default (30,000) took 130 to 250
        # ms at 100,000 people, this about 25.
        session.execute(text(f"SET LOCAL default_statistics_target = {FACTS_STATISTICS_TARGET}"))
        session.execute(text(f"ANALYZE {table.name}"))
        session.execute(text("SET LOCAL default_statistics_target TO DEFAULT"))


def missing_section(
    today: dt.date, section: str, current: bool = False, audience: Agency | None = None
) -> ColumnElement[bool]:
    return not_(_items(section, today=today if current else None, audience=audience))


def missing_current_address(today: dt.date) -> ColumnElement[bool]:
    return not_(_items(Section.ADDRESSES, today=today))


def missing_token(today: dt.date, kind: str, category: int | None = None) -> ColumnElement[bool]:
    missing = not_(
        exists(select(m.BlindToken.id).where(m.BlindToken.nominal_id == N.id, m.BlindToken.kind == kind))
    )
    return and_(N.mappa_category == category, missing) if category is not None else missing


def missing_category_level(today: dt.date) -> ColumnElement[bool]:
    return and_(
        N.nominal_type != NominalType.PDP.value, or_(N.mappa_category.is_(None), N.mappa_level.is_(None))
    )


def assessment_overdue(today: dt.date, max_age_months: int) -> ColumnElement[bool]:
    cutoff = add_months(today, -max_age_months)
    return not_(
        _items(
            Section.RISK_ASSESSMENTS,
            m.Item.starts_on >= cutoff,
            or_(m.Item.due_on.is_(None), m.Item.due_on >= today),
        )
    )


def level1_no_annual_review(today: dt.date, months: int) -> ColumnElement[bool]:
    cutoff = add_months(today, -months)
    return and_(
        N.mappa_level == 1,
        not_(
            _items(
                Section.MEETINGS, m.Item.kind == MeetingKind.ANNUAL_REVIEW.value, m.Item.starts_on >= cutoff
            )
        ),
    )


def level23_plan(today: dt.date) -> ColumnElement[bool]:
    return and_(N.mappa_level.in_([2, 3]), not_(_items(Section.RISK_PLANS, m.Item.due_on >= today)))


def visit_overdue(today: dt.date, intervals_months: dict[str, int]) -> ColumnElement[bool]:
    """The latest home visit (none: long ago; a withdrawn one is none, an amended one happened when the
    amendment says) is older than the interval for the risk level (the overall RoSH of the latest current
    assessment). Both come from the run's record facts, and the level picks its cut-off
    (a CASE). A level not configured (or no assessment, unless "unknown" is) gives no cut-off, so no
    finding."""
    if not intervals_months:
        return false()

    def since(months: int) -> Any:
        return literal(
            dt.datetime.combine(add_months(today, -months), dt.time(), tzinfo=dt.UTC), m.UTCDateTime()
        )

    # A record without a current assessment has no level: '' stands for it ("unknown"), never a stored level.
    cutoffs = {
        ("" if level == "unknown" else level): since(months) for level, months in intervals_months.items()
    }
    known = facts().c
    cutoff = case(cutoffs, value=func.coalesce(known.risk_level, ""), else_=null())
    never = literal(dt.datetime(1900, 1, 1, tzinfo=dt.UTC), m.UTCDateTime())
    return func.coalesce(known.last_visit, never) < cutoff


def notification_overdue(today: dt.date) -> ColumnElement[bool]:
    return and_(N.notification_subject.is_(True), N.notification_due_on < today)


def notification_ended_active(today: dt.date) -> ColumnElement[bool]:
    return and_(
        N.notification_subject.is_(False),
        N.notification_ends_on.is_not(None),
        N.notification_ends_on <= today,
        N.nominal_type == NominalType.RSO.value,
    )


def indefinite_review_due(today: dt.date) -> ColumnElement[bool]:
    return and_(N.notification_indefinite.is_(True), N.notification_review_from <= today)


def licence_ended_category2(today: dt.date) -> ColumnElement[bool]:
    licence = m.Item.kind == OrderKind.LICENCE.value
    return and_(
        N.mappa_category == 2,
        _items(Section.ORDERS, licence, m.Item.ends_on < today),
        not_(_items(Section.ORDERS, licence, today=today)),
    )


def address_unverified(today: dt.date, months: int) -> ColumnElement[bool]:
    cutoff = add_months(today, -months)
    # A home visit verifies an address in the UK: a stay abroad has none to verify.
    fixed = m.Item.kind.not_in(("no_fixed_abode", "outside_uk"))
    return and_(
        _items(Section.ADDRESSES, fixed, today=today),
        not_(_items(Section.ADDRESSES, fixed, m.Item.checked_on >= cutoff, today=today)),
    )


def record_stale(today: dt.date, months: int) -> ColumnElement[bool]:
    return N.updated_at < dt.datetime.combine(add_months(today, -months), dt.time(), tzinfo=dt.UTC)


def item_status(
    today: dt.date,
    section: str,
    kind: str | None = None,
    status: str | None = None,
    audience: Agency | None = None,
) -> ColumnElement[bool]:
    conditions = ([m.Item.kind == kind] if kind else []) + ([m.Item.status == status] if status else [])
    return _items(section, *conditions, audience=audience)


def transfer_pending(today: dt.date, days: int) -> ColumnElement[bool]:
    since = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
    return exists(
        select(m.Transfer.id).where(
            m.Transfer.nominal_id == N.id, m.Transfer.status == "pending", m.Transfer.requested_at < since
        )
    )


def duplicate_suspected(today: dt.date, areas: Sequence[str] | None = None) -> ColumnElement[bool]:
    """One of a pair the duplicate cascade proposes (merges/repository.py), not yet merged or dismissed; the
    pairs are looked up from the swept areas' records (the other record of a pair may be in any area)."""
    return suspected(N.id, areas)  # type: ignore[return-value]  # suspected() is typed loosely as object


def retention_review_due(today: dt.date) -> ColumnElement[bool]:
    return and_(N.retention_review_on.is_not(None), N.retention_review_on <= today)


CHECKS: dict[str, Check] = {
    f.__name__: f
    for f in (
        missing_section,
        missing_current_address,
        missing_token,
        missing_category_level,
        assessment_overdue,
        level1_no_annual_review,
        level23_plan,
        visit_overdue,
        notification_overdue,
        notification_ended_active,
        indefinite_review_due,
        licence_ended_category2,
        address_unverified,
        record_stale,
        item_status,
        transfer_pending,
        duplicate_suspected,
        retention_review_due,
    )
}


def per_agency(check: str, params: dict[str, Any]) -> bool:
    """Whether a rule's findings depend on who looks: its check takes an `audience` and looks at a section
    whose items may name one. Such a rule is evaluated once for each agency (each finding marked with it), so
    that counts and worklists reflect only what the reader's agency may see; every other rule once, for
    everyone."""
    takes = "audience" in inspect.signature(CHECKS[check]).parameters
    return takes and params.get("section") in {s.value for s in AUDIENCE_SECTIONS}
