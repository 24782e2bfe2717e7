"""Each record's caseload facts, kept current by the writes (decision 62).

What is due on a record (docs/caseload.md) follows from a few plain facts of it: its latest current risk
assessment (when, and when its review is due), the due date of its latest current risk management plan, its
latest MAPPA meeting and level change, and its last home visit as each agency may see it (an entry with an
audience is seen by the agencies it names only). Working them out for every record an area manages, on every
view of the supervisor's workload, cost six index lookups a record: at 100,000 people about half a second
for Kent's 11,000 managed records (docs/benchmarks.md). So they are kept in `case_facts`, one row a record,
and the caseload and the workload read them. The quality run reads two more (decision 69): the latest current
offender manager (who owns a finding) and the latest current assessment's overall RoSH (the visit interval),
which it had worked out on every run in a pass over the register's current officers and assessments.

They depend only on a record's items and chronology entries, and every change to those claims a new version
of the record (the record repository collects the records changed); so the unit of work, when it commits,
works out again the facts of the records it changed, in one statement a batch, whenever the transaction
wrote to `item`, updated or deleted in `chronology_entry` (`watch_writes` notices every such statement,
whichever path issues it) or appended a home visit or a correction (`visit_written`, from the record
repository: an append of any other kind moves no fact and costs nothing more). The bulk writers that claim no
version (the synthetic generator, the demo) work out the facts of the people they write; migration 0027 filled
them for the records before it; `register facts-check --repair` finds and works out again any that differ.

The workload counts, for each record its area's officers manage now, from those facts and a few header
columns; finding the area's managed records (a lookup of each active record's officers) and joining each to
its facts was most of a view (about 140 ms for Kent's 11,400 at 100,000 people). So each record's current
offender managers are kept too (`case_officer`, decision 72): one row each, with the record's header columns
and facts (`officer_rows`), worked out again after the facts, in the same commit; an area's rows are one
range of the (area, status) index. They depend on the items (a write noticed as above), the facts and the
header, which changes by an UPDATE of `nominal` setting one of `HEADER`: noticed too, with the records it is
about to change read by its own condition first (`_note_headers`), since not every such write claims a
version. The version claim every change makes sets none of them, and costs nothing.

No personal value is in them: the dates are the items' and entries' plain columns, which the register
already keeps in clear for the same reason (decision 1: codes, dates, levels and staff references only).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    Select,
    Table,
    Update,
    bindparam,
    case,
    event,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import ORMExecuteState, Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from ..domain.enums import Agency, ChronologyKind
from ..domain.record import Section
from . import models as m

_BATCH = 500
_WATCHED = frozenset({m.Item.__tablename__, m.ChronologyEntry.__tablename__, m.Nominal.__tablename__})
# The header's columns the workload's rows carry (`officer_rows`): an update of `nominal` setting any of them
# moves the record's rows; one setting none (the version claim of every change) does not.
HEADER = (
    "area",
    "status",
    "managing_unit",
    "mappa_level",
    "created_at",
    "notification_subject",
    "notification_due_on",
    "notification_ends_on",
)
# The kept facts the workload's rows carry, as `case_facts` holds them.
OFFICER_FACTS = (
    "assessed_on",
    "assessment_review_on",
    "plan_review_on",
    "last_meeting_on",
    "level_since",
    *(f"last_visit_{agency.value}" for agency in Agency),
)
_WRITTEN = "case_facts_sources_written"
_HEADERS = "case_facts_headers_written"  # the records whose header an UPDATE set


def visit_column(agency: Agency) -> str:
    """The column of the last home visit `agency` may see."""
    return f"last_visit_{agency.value}"


class _Greatest(GenericFunction[Any]):
    """The greatest of its arguments: GREATEST on PostgreSQL, the many-argument MAX on SQLite. The two differ
    on NULL (PostgreSQL ignores it, SQLite answers NULL), so callers give no NULL argument."""

    name = "greatest"
    inherit_cache = True


@compiles(_Greatest, "sqlite")
def _greatest_sqlite(element: _Greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


_NEVER = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def last_visit_seen() -> ColumnElement[Any]:
    """On a `case_facts` row: the last home visit any agency may see (the latest of the agencies' columns,
    each visit as its latest correction says), NULL where there is none. The supervisor's quality run reads
    it (VISIT-OVERDUE): supervisors see every agency's entries."""
    c = m.CaseFactsRow.__table__.c
    never = literal(_NEVER, m.UTCDateTime())
    latest = _Greatest(*(func.coalesce(c[visit_column(agency)], never) for agency in Agency))
    return func.nullif(latest, never)


FACTS = (
    "assessed_on",
    "assessment_review_on",
    "plan_review_on",
    "last_meeting_on",
    "level_since",
    *(visit_column(agency) for agency in Agency),
    "owner",
    "risk_level",
)


def facts(where: ColumnElement[bool]) -> Select[Any]:
    """The facts of the records meeting `where` (a condition on `nominal`), worked out from their items and
    entries: columns nominal_id and FACTS, in order. Each fact an index lookup on the record. Ties are broken
    by the item's id, so the same rows always give the same facts."""
    return select(*_fact_columns()).where(where)


@functools.cache
def _fact_columns() -> tuple[ColumnElement[Any], ...]:
    """`facts`' columns, built once: building them (an aliased entity and ORM comparisons for each agency's
    visits) cost about 8 ms, more than the statement's execution, on every append of a visit."""
    record = m.Nominal.id
    latest = m.Item.starts_on.desc().nulls_last()

    def held(section: Section, column: Any, *order: Any) -> Any:
        return (
            select(column)
            .where(m.Item.nominal_id == record, m.Item.section == section.value, m.Item.ended_at.is_(None))
            .order_by(*order, m.Item.id.desc())
            .limit(1)
            .correlate(m.Nominal)
            .scalar_subquery()
        )

    def newest(section: Section) -> Any:
        return (
            select(func.max(m.Item.starts_on))
            .where(m.Item.nominal_id == record, m.Item.section == section.value, m.Item.ended_at.is_(None))
            .correlate(m.Nominal)
            .scalar_subquery()
        )

    def last_visit(agency: Agency) -> Any:
        """The latest home visit `agency` may see, each visit as its latest version says, ordered as the
        statistics order breaches' and recalls' versions (the latest recorded, a correction before the entry
        it corrects, the highest id): a visit withdrawn as recorded in error is no visit, and one amended
        happened when the amendment says. A correction is seen by exactly those who see the visit. One lookup
        a visit."""
        E, V = m.ChronologyEntry, aliased(m.ChronologyEntry)
        version = (
            select(case((V.kind == ChronologyKind.WITHDRAWAL.value, null()), else_=V.occurred_at))
            .where(V.nominal_id == record, or_(V.id == E.id, V.original_id == E.id))
            .order_by(V.recorded_at.desc(), case((V.original_id.is_(None), 1), else_=0), V.id.desc())
            .limit(1)
            .correlate(m.Nominal, E)
            .scalar_subquery()
        )
        return (
            select(func.max(version))
            .where(
                E.nominal_id == record,
                E.kind == ChronologyKind.HOME_VISIT.value,
                or_(E.audience.is_(None), E.audience.contains(agency.value)),
            )
            .correlate(m.Nominal)
            .scalar_subquery()
        )

    plan_order = (func.coalesce(m.Item.level, 0).desc(), latest)
    return (
        record.label("nominal_id"),
        held(Section.RISK_ASSESSMENTS, m.Item.starts_on, latest).label("assessed_on"),
        held(Section.RISK_ASSESSMENTS, m.Item.due_on, latest).label("assessment_review_on"),
        held(Section.RISK_PLANS, m.Item.due_on, *plan_order).label("plan_review_on"),
        newest(Section.MEETINGS).label("last_meeting_on"),
        newest(Section.MAPPA_LEVELS).label("level_since"),
        *(last_visit(agency).label(visit_column(agency)) for agency in Agency),
        held(Section.OFFENDER_MANAGERS, m.Item.ref, latest).label("owner"),
        held(Section.RISK_ASSESSMENTS, m.Item.status, latest).label("risk_level"),
    )


@functools.cache
def _upsert(dialect_name: str) -> Executable:
    """The facts of the records named by the parameter `ids` written over whatever is kept for them: one
    statement on either engine, built once for each."""
    dialect: Any = {"postgresql": postgresql, "sqlite": sqlite}[dialect_name]
    found = facts(m.Nominal.id.in_(bindparam("ids", expanding=True)))
    upsert = dialect.insert(m.CaseFactsRow.__table__).from_select(["nominal_id", *FACTS], found)
    statement: Executable = upsert.on_conflict_do_update(
        index_elements=["nominal_id"], set_={c: upsert.excluded[c] for c in FACTS}
    )
    return statement


def officer_rows(where: ColumnElement[bool]) -> Select[Any]:
    """The workload's rows (`case_officer`) of the records meeting `where` (a condition on `nominal`), worked
    out from their current offender managers' items, their headers and their kept facts (read after those are
    written): columns as the table's, in its order."""
    F = m.CaseFactsRow.__table__.c
    return (
        select(
            m.Item.id.label("item_id"),
            m.Nominal.id.label("nominal_id"),
            m.Item.ref.label("officer"),
            m.Item.starts_on,
            m.Item.ends_on,
            *(getattr(m.Nominal, name) for name in HEADER),
            *(F[name] for name in OFFICER_FACTS),
        )
        .select_from(m.Nominal)
        .join(
            m.Item,
            (m.Item.nominal_id == m.Nominal.id)
            & (m.Item.section == Section.OFFENDER_MANAGERS.value)
            & m.Item.ended_at.is_(None),
        )
        .outerjoin(m.CaseFactsRow, m.CaseFactsRow.nominal_id == m.Nominal.id)
        .where(where)
    )


OFFICER_COLUMNS = ("item_id", "nominal_id", "officer", "starts_on", "ends_on", *HEADER, *OFFICER_FACTS)


@functools.cache
def _officer_statements() -> tuple[Executable, Executable]:
    """The workload's rows of the records named by the parameter `ids`: those kept deleted, then worked out
    again (built once)."""
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    table = cast(Table, m.CaseOfficerRow.__table__)
    delete = table.delete().where(table.c.nominal_id.in_(ids))
    insert = table.insert().from_select(list(OFFICER_COLUMNS), officer_rows(m.Nominal.id.in_(ids)))
    return delete, insert


def refresh(session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Work out again the facts of these records and then their workload rows, in batches: three statements
    each (a record is never deleted: an erased one keeps a tombstone, and empty facts)."""
    todo = sorted(set(ids))
    upsert = _upsert(session.get_bind().dialect.name)
    delete, insert = _officer_statements()
    for start in range(0, len(todo), _BATCH):
        batch = {"ids": todo[start : start + _BATCH]}
        session.execute(upsert, batch)
        session.execute(delete, batch)
        session.execute(insert, batch)


def drift(session: Session) -> list[uuid.UUID]:
    """The records whose kept facts differ from their items and entries, or whose workload rows differ from
    their offender managers, header and facts, by id. A record with no facts row reads as one with no facts
    (the readers join the rows outer), so a missing row differs only where facts exist. The workload's rows
    are compared as sets, both ways (a row missing, one too many, or one with a value changed)."""
    kept = m.CaseFactsRow
    now = facts(true()).subquery()
    differs = or_(false(), *(now.c[c].is_distinct_from(kept.__table__.c[c]) for c in FACTS))
    stale: set[uuid.UUID] = set(
        session.scalars(
            select(now.c.nominal_id).outerjoin(kept, kept.nominal_id == now.c.nominal_id).where(differs)
        )
    )
    table = m.CaseOfficerRow.__table__
    kept_rows = select(*(table.c[c] for c in OFFICER_COLUMNS))
    # the expected rows read the kept facts: facts kept stale are found above, and then their rows are too
    # (a repair works out the facts before the rows)
    expected = officer_rows(true())
    for a, b in ((expected, kept_rows), (kept_rows, expected)):
        only = a.except_(b).subquery()
        stale.update(session.scalars(select(only.c.nominal_id).distinct()))
    return sorted(stale)


def _sets_header(statement: Any) -> bool:
    """Whether an UPDATE of `nominal` may set a column the workload's rows carry (one whose values cannot be
    read, as an executemany's, counts as one that does)."""
    values = getattr(statement, "_values", None) or dict(getattr(statement, "_ordered_values", None) or ())
    if not values:
        return True
    return any(getattr(key, "key", key) in HEADER for key in values)


def _note_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is None or table.name not in _WATCHED:
            return
        if state.is_insert and table.name == m.ChronologyEntry.__tablename__:
            return  # most of a day's writes, and only a visit or a correction moves a fact: `visit_written`
        if state.is_update and table.name == m.Nominal.__tablename__:
            if _sets_header(state.statement):
                _note_headers(state)
            return  # else the version claim of every change: no header value moves
        state.session.info[_WRITTEN] = True


def _note_headers(state: ORMExecuteState) -> None:
    """Before an UPDATE of `nominal` that sets a header column the workload's rows carry: note the records it
    is about to change, by its own condition. Not every such write claims a version (the notification sweep,
    which works out derived dates, does not), so the records changed are not enough to know whose rows to
    work out again. One indexed read before a transfer, an archiving or a notification change."""
    where = cast(Update, state.statement).whereclause
    found = state.session.execute(select(m.Nominal.id).where(*([] if where is None else [where])))
    state.session.info.setdefault(_HEADERS, set()).update(found.scalars())
    state.session.info[_WRITTEN] = True


def visit_written(session: Session) -> None:
    """Note that this session appended a home visit, or an amendment or withdrawal (which may correct one):
    the record repository's append. Other entries move no fact, so appending one costs no refresh; an entry
    updated or deleted (a merge, an erasure) is noticed whatever its kind."""
    session.info[_WRITTEN] = True


def watch_writes(session: Session) -> None:
    """Note on the session whenever a statement it executes writes to `item`, updates or deletes in
    `chronology_entry` (its inserts are told by `visit_written`), or writes a header column of `nominal` the
    workload's rows carry."""
    event.listen(session, "do_orm_execute", _note_write)


def sources_written(session: Session) -> bool:
    """Whether the session wrote an item, an entry or a header since the last call (which clears the notes,
    and the records `_note_headers` noted)."""
    session.info.pop(_HEADERS, None)
    return bool(session.info.pop(_WRITTEN, False))


def to_refresh(session: Session, changed: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The records whose facts and workload rows a commit must work out again, and clear the notes: none when
    the session wrote no item, entry or header since the last call; else the records the transaction changed
    (`changed`) and those whose header an UPDATE set (whether or not it claimed a version)."""
    headers: set[uuid.UUID] = session.info.pop(_HEADERS, set())
    if not session.info.pop(_WRITTEN, False):
        return []
    return sorted(headers.union(changed))
