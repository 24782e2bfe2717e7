"""Retention: when archived records are reviewed and disposed of, legal holds, and erasure.

Archiving schedules a record (next review, disposal) under the policy for its reason; unarchiving clears that.
`run` erases the records whose disposal date has come and that have no legal hold: candidates are chosen in
SQL by their plain disposal year, the exact date is checked against the sealed identity, and the erasure
itself is set-based per batch. Erasing a single item needs a supervisor and the item's id typed again as
confirmation. Every step is audited; erasures as s.62 "erasure".
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import delete, select, update

from ..access.policy import Visibility
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock, retention
from ..domain.actors import Actor, Principal
from ..domain.enums import ArchiveReason, ChronologyKind, NominalStatus
from ..domain.errors import InvalidValue, NotFound, RuleViolation
from ..domain.record import ChronologyEntry
from ..nominals import service as nominals
from ..store import models as m
from ..store.records import visible_to
from ..store.store import Store
from ..store.sweep import Progress, no_progress, sweep
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from . import repository
from .schemas import ItemErasure, RetentionDesk, RetentionOut, RetentionRow, RetentionView, RunReport


@lru_cache(maxsize=4)
def _policy(path: Path, mtime: float) -> dict[ArchiveReason, retention.RetentionRule]:
    return retention.parse_policy(yaml.safe_load(path.read_text()))


def policy(uow: UnitOfWork) -> dict[ArchiveReason, retention.RetentionRule]:
    path = uow.store.settings.retention_file
    return _policy(path, path.stat().st_mtime)


def _dob(uow: UnitOfWork, nominal_id: uuid.UUID) -> dt.date | None:
    return uow.nominals.load(nominal_id, sections=set(), chronology=False).identity.date_of_birth


def schedule(uow: UnitOfWork, nominal_id: uuid.UUID, reason: ArchiveReason, archived_on: dt.date) -> None:
    """On archiving: the first review and the disposal year under the policy for the reason."""
    rule = policy(uow)[reason]
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == nominal_id)
        .values(
            retention_review_on=retention.next_review(rule, archived_on),
            dispose_from=retention.dispose_from(rule, archived_on, _dob(uow, nominal_id)),
        )
    )


def unschedule(uow: UnitOfWork, nominal_id: uuid.UUID) -> None:
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == nominal_id)
        .values(retention_review_on=None, dispose_from=None)
    )


def status(uow: UnitOfWork, nominal_id: uuid.UUID) -> RetentionOut:
    row = uow.nominals.header_row(nominal_id)
    dispose_on = None
    if row.status == NominalStatus.ARCHIVED.value and row.archived_reason and row.archived_on:
        dispose_on = retention.dispose_on(
            policy(uow)[ArchiveReason(row.archived_reason)], row.archived_on, _dob(uow, nominal_id)
        )
    return RetentionOut(
        status=row.status,
        archived_reason=row.archived_reason,
        archived_on=row.archived_on,
        legal_hold=row.legal_hold,
        review_on=row.retention_review_on,
        dispose_on=dispose_on,
    )


def _note(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    key_id: uuid.UUID,
    summary: str,
    details: str,
    *,
    audience: str | None = None,
) -> None:
    """A sealed chronology note. Holds and reviews apply to archived (read-only) records, so this writes
    directly. `audience`: the agencies that may see the note (that of an erased item it speaks of); None:
    everyone."""
    entry = ChronologyEntry(
        occurred_at=clock.now(), kind=ChronologyKind.ARCHIVE, summary=summary, details=details
    )
    uow.nominals.add_entry(nominal_id, key_id, uuid.uuid4(), entry, actor, clock.now(), audience=audience)


def _lifecycle_change(
    uow: UnitOfWork, actor: Actor, nominal_id: uuid.UUID, expected_version: int
) -> m.Nominal:
    row = uow.nominals.header_row(nominal_id)
    if row.status in (NominalStatus.MERGED.value, NominalStatus.ERASED.value):
        raise RuleViolation("record_read_only", f"the record is {row.status}")
    uow.nominals.claim_version(nominal_id, expected_version, actor, clock.now())
    return row


@use_case(
    lambda a: Tag.NOMINAL_RETENTION_HOLD if a["hold"] else Tag.NOMINAL_RETENTION_RELEASE, Action.ALTERATION
)
def set_hold(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    reason: str,
    *,
    hold: bool,
    expected_version: int,
) -> int:
    row = _lifecycle_change(uow, actor, nominal_id, expected_version)
    if row.legal_hold == hold:
        raise RuleViolation(
            "legal_hold_unchanged", "a legal hold is already set" if hold else "no legal hold is set"
        )
    uow.session.execute(update(m.Nominal).where(m.Nominal.id == nominal_id).values(legal_hold=hold))
    _note(
        uow, actor, nominal_id, row.data_key_id, "Legal hold set" if hold else "Legal hold released", reason
    )
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.NOMINAL_RETENTION_HOLD if hold else Tag.NOMINAL_RETENTION_RELEASE,
            actor,
            nominal_id=nominal_id,
        )
    )
    return expected_version + 1


@use_case(Tag.NOMINAL_RETENTION_REVIEW, Action.ALTERATION)
def review(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    reason: str,
    *,
    expected_version: int,
    today: dt.date | None = None,
) -> int:
    """A supervisor reviewed the archived record and keeps it: the next review is set by the policy."""
    row = _lifecycle_change(uow, actor, nominal_id, expected_version)
    if row.status != NominalStatus.ARCHIVED.value or row.archived_reason is None:
        raise RuleViolation(
            "record_not_archived", f"the record is {row.status}: retention reviews are of archived records"
        )
    next_on = retention.next_review(policy(uow)[ArchiveReason(row.archived_reason)], today or dt.date.today())
    uow.session.execute(
        update(m.Nominal).where(m.Nominal.id == nominal_id).values(retention_review_on=next_on)
    )
    _note(uow, actor, nominal_id, row.data_key_id, f"Retention reviewed: kept; next review {next_on}", reason)
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.NOMINAL_RETENTION_REVIEW,
            actor,
            nominal_id=nominal_id,
            details={"next_review": next_on},
        )
    )
    return expected_version + 1


@use_case(Tag.NOMINAL_RECORD_ERASE, Action.ERASURE)
def erase_item(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    item_id: uuid.UUID,
    request: ItemErasure,
    *,
    expected_version: int,
    visibility: Visibility | None,
    request_id: str | None = None,
) -> int:
    """Erase one item or chronology entry entirely (ending it keeps it in the history; this does not).

    Only what the caller may see can be erased: an item or entry outside `visibility` (a section their agency
    may not read, an audience that leaves them out) answers exactly like one that does not exist. The
    chronology note the erasure leaves (with its reason) has the erased item's audience, so those who never
    saw the item never see the note either. `visibility` None: a system actor, who sees everything."""
    if request.confirm != item_id:
        raise InvalidValue(
            "erasure_confirmation",
            "confirm must repeat the id of the item to erase: erasure cannot be undone",
            "confirm",
        )
    row = _lifecycle_change(uow, actor, nominal_id, expected_version)
    agency = visibility.audience if visibility is not None else None

    def sees(section: str) -> bool:
        return visibility is None or visibility.sees_section(section)

    item = uow.session.execute(
        select(m.Item.section, m.Item.audience).where(
            m.Item.id == item_id, m.Item.nominal_id == nominal_id, visible_to(agency)
        )
    ).first()
    entry = None if item is not None else uow.nominals.entry_row(nominal_id, item_id, agency)
    if item is not None and sees(item.section):
        section, audience = item.section, item.audience
        uow.session.execute(delete(m.BlindToken).where(m.BlindToken.item_id == item_id))
        uow.session.execute(delete(m.Item).where(m.Item.id == item_id))
    elif entry is not None and sees("chronology"):
        section, audience = "chronology", entry.audience
        if uow.session.execute(
            select(m.ChronologyEntry.id).where(m.ChronologyEntry.amends_id == item_id)
        ).first():
            raise RuleViolation("entry_amended", "an amendment names this entry: erase the amendment first")
        uow.session.execute(delete(m.ChronologyEntry).where(m.ChronologyEntry.id == item_id))
    else:
        raise NotFound("item_not_found", f"no item or chronology entry {item_id} on nominal {nominal_id}")
    nominals.refresh_derived(
        uow, nominal_id, section
    )  # an erased offence, order or address changes the notification dates
    _note(
        uow,
        actor,
        nominal_id,
        row.data_key_id,
        f"An item of {section.replace('_', ' ')} was erased",
        request.reason,
        audience=audience,
    )
    uow.audit.record(
        AuditEntry(
            Action.ERASURE,
            Tag.section_item(section, "erase"),
            actor,
            nominal_id=nominal_id,
            section=section,
            item_id=item_id,
            request_id=request_id,
            # the erased item's audience (agency codes): the agencies' event about it keeps the same audience
            details={"confirmed": True, "audience": audience},
        )
    )
    return expected_version + 1


def run(
    store: Store,
    actor: Actor,
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
    batch: int = 500,
    progress: Progress = no_progress,
) -> RunReport:
    """Erase every archived record whose disposal date has come and that has no legal hold. One transaction
    per batch; safe to interrupt and rerun (an erased record is no longer a candidate)."""
    today = today or dt.date.today()
    report = RunReport(today=today, candidates=0, due=[], erased=0, dry_run=dry_run)

    def step(uow: UnitOfWork, ids: list[uuid.UUID]) -> int:
        rules = policy(uow)
        records = uow.nominals.load_many(ids, sections=set())
        rows = {r.id: r for r in uow.session.scalars(select(m.Nominal).where(m.Nominal.id.in_(ids)))}
        due = []
        for record in records:
            row = rows[record.id]
            if row.archived_reason is None or row.archived_on is None:
                continue  # a candidate is archived, so it has both; the check is for the type checker
            when = retention.dispose_on(
                rules[ArchiveReason(row.archived_reason)], row.archived_on, record.identity.date_of_birth
            )
            if when is not None and when <= today:
                due.append(record.id)
        report.candidates += len(ids)
        report.due += due
        if dry_run or not due:
            return len(ids)
        erased = repository.with_tombstones(uow.session, due)
        repository.erase(uow.session, erased, today)
        uow.audit.record_many(
            [
                AuditEntry(
                    Action.ERASURE,
                    Tag.NOMINAL_RECORD_ERASE,
                    actor,
                    nominal_id=nominal_id,
                    details={
                        "schedule": "retention",
                        "today": today,
                        "tombstone_of_merge": nominal_id not in due,
                    },
                )
                for nominal_id in erased
            ]
        )
        versions = uow.session.execute(
            select(m.Nominal.id, m.Nominal.version).where(m.Nominal.id.in_(erased))
        )
        uow.changed({nominal_id: version for nominal_id, version in versions})
        report.erased += len(erased)
        return len(ids)

    # The candidates are found batch by batch: no total is known in advance.
    sweep(
        store,
        repository.candidate_batches(store.session_factory, today, batch),
        step,
        total=0,
        progress=progress,
    )
    return report


@use_case(Tag.NOMINAL_RETENTION_READ, Action.CONSULTATION)
def read_status(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    *,
    purpose: str | None = None,
    request_id: str | None = None,
) -> RetentionOut:
    """A record's retention schedule and hold, audited as a consultation."""
    out = status(uow, nominal_id)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_RETENTION_READ,
            actor,
            nominal_id=nominal_id,
            purpose=purpose,
            request_id=request_id,
        )
    )
    return out


@use_case(Tag.NOMINAL_RETENTION_READ, Action.CONSULTATION)
def desk(
    uow: UnitOfWork,
    actor: Principal,
    view: RetentionView,
    *,
    today: dt.date,
    page: int = 1,
    page_size: int = 20,
    request_id: str | None = None,
) -> RetentionDesk:
    """The actor's area's records due for a retention review, due for disposal, under a legal hold, or
    archived: counts of each and one page of the view asked for, in a fixed number of queries. Audited as a
    consultation naming the records listed."""
    area = actor.area.value
    counts = repository.desk_counts(uow.session, area, today)
    rows = repository.desk_page(
        uow.session, area, view, today, limit=page_size, offset=(page - 1) * page_size
    )
    summaries = uow.nominals.summaries([r.id for r in rows])
    out = [
        RetentionRow(
            id=r.id,
            forenames=summaries[r.id].forenames,
            surname=summaries[r.id].surname,
            date_of_birth=summaries[r.id].date_of_birth,
            restricted=r.restricted,
            status=r.status,
            archived_reason=r.archived_reason,
            archived_on=r.archived_on,
            legal_hold=r.legal_hold,
            review_on=r.retention_review_on,
            dispose_from=r.dispose_from,
        )
        for r in rows
        if r.id in summaries
    ]
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_RETENTION_READ,
            actor,
            request_id=request_id,
            details={"area": area, "view": view, "page": page, "ids": [str(r.id) for r in out]},
        )
    )
    return RetentionDesk(
        view=view, today=today, counts=counts, rows=out, page=page, page_size=page_size, total=counts[view]
    )
