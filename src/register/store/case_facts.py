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

No personal value is in them: the dates are the items' and entries' plain columns, which the register
already keeps in clear for the same reason (decision 1: codes, dates, levels and staff references only).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
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
_WATCHED = frozenset({m.Item.__tablename__, m.ChronologyEntry.__tablename__})
_WRITTEN = "case_facts_sources_written"


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


def refresh(session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Work out again the facts of these records, in batches: one statement each (a record is never deleted:
    an erased one keeps a tombstone, and empty facts)."""
    todo = sorted(set(ids))
    upsert = _upsert(session.get_bind().dialect.name)
    for start in range(0, len(todo), _BATCH):
        session.execute(upsert, {"ids": todo[start : start + _BATCH]})


def drift(session: Session) -> list[uuid.UUID]:
    """The records whose kept facts differ from their items and entries, by id. A record with no row reads as
    one with no facts (the readers join the rows outer), so a missing row differs only where facts exist."""
    kept = m.CaseFactsRow
    now = facts(true()).subquery()
    differs = or_(false(), *(now.c[c].is_distinct_from(kept.__table__.c[c]) for c in FACTS))
    return list(
        session.scalars(
            select(now.c.nominal_id)
            .outerjoin(kept, kept.nominal_id == now.c.nominal_id)
            .where(differs)
            .order_by(now.c.nominal_id)
        )
    )


def _note_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is None or table.name not in _WATCHED:
            return
        if state.is_insert and table.name == m.ChronologyEntry.__tablename__:
            return  # most of a day's writes, and only a visit or a correction moves a fact: `visit_written`
        state.session.info[_WRITTEN] = True


def visit_written(session: Session) -> None:
    """Note that this session appended a home visit, or an amendment or withdrawal (which may correct one):
    the record repository's append. Other entries move no fact, so appending one costs no refresh; an entry
    updated or deleted (a merge, an erasure) is noticed whatever its kind."""
    session.info[_WRITTEN] = True


def watch_writes(session: Session) -> None:
    """Note on the session whenever a statement it executes writes to `item`, or updates or deletes in
    `chronology_entry` (its inserts are told by `visit_written`)."""
    event.listen(session, "do_orm_execute", _note_write)


def sources_written(session: Session) -> bool:
    """Whether the session wrote an item or an entry since the last call (which clears the note)."""
    return bool(session.info.pop(_WRITTEN, False))
