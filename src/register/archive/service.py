"""Archive and unarchive. An archived record is read-only, out of caseloads and default searches, and found
when a search asks for archived records (major enquiries often need historical offenders). Supervisors can
unarchive."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock
from ..domain.actors import Principal
from ..domain.enums import ArchiveReason, ChronologyKind, NominalStatus
from ..domain.errors import RuleViolation
from ..domain.history import ACTIVE, ARCHIVED, DIED, Change, start_of_day
from ..domain.record import ChronologyEntry
from ..nominals import service as nominals
from ..retention import service as retention
from ..store import history
from ..store import models as m
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from .schemas import ArchiveRequest, Unarchive


@use_case(Tag.NOMINAL_RECORD_ARCHIVE, Action.ALTERATION)
def archive(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    request: ArchiveRequest,
    *,
    expected_version: int,
) -> int:
    header = uow.nominals.header_row(nominal_id)
    if header.status != NominalStatus.ACTIVE.value:
        raise RuleViolation(
            "record_not_active", f"the record is {header.status}: only an active record is archived"
        )
    summary = f"Archived: {request.reason.value.replace('_', ' ')}" + (
        f" ({request.text})" if request.text else ""
    )
    _, version = nominals.append_chronology(
        uow,
        actor,
        nominal_id,
        ChronologyEntry(occurred_at=clock.now(), kind=ChronologyKind.ARCHIVE, summary=summary),
        expected_version=expected_version,
    )
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == nominal_id)
        .values(
            status=NominalStatus.ARCHIVED.value,
            archived_reason=request.reason.value,
            archived_on=clock.now().date(),
        )
    )
    retention.schedule(uow, nominal_id, request.reason, clock.now().date())
    died = (
        [Change(start_of_day(request.died_on or clock.now().date()), status=DIED)]
        if request.reason == ArchiveReason.DIED
        else []
    )
    history.write(  # a death counts from its date; the archiving from now
        uow.session,
        nominal_id,
        [*died, Change(clock.now(), status=ARCHIVED)],
        source="archive",
        by=actor.user_id,
        now=clock.now(),
    )
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.NOMINAL_RECORD_ARCHIVE,
            actor,
            nominal_id=nominal_id,
            details={"reason": request.reason.value},
        )
    )
    return version


@use_case(Tag.NOMINAL_RECORD_UNARCHIVE, Action.ALTERATION)
def unarchive(
    uow: UnitOfWork, actor: Principal, nominal_id: uuid.UUID, request: Unarchive, *, expected_version: int
) -> int:
    header = uow.nominals.header_row(nominal_id)
    if header.status != NominalStatus.ARCHIVED.value:
        raise RuleViolation("record_not_archived", f"the record is {header.status}, not archived")
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == nominal_id)
        .values(status=NominalStatus.ACTIVE.value, archived_reason=None, archived_on=None)
    )
    retention.unschedule(uow, nominal_id)
    history.write(
        uow.session,
        nominal_id,
        [Change(clock.now(), status=ACTIVE)],
        source="restore",
        by=actor.user_id,
        now=clock.now(),
    )
    _, version = nominals.append_chronology(
        uow,
        actor,
        nominal_id,
        ChronologyEntry(
            occurred_at=clock.now(), kind=ChronologyKind.ARCHIVE, summary=f"Unarchived: {request.reason}"
        ),
        expected_version=expected_version,
    )
    uow.audit.record(
        AuditEntry(Action.ALTERATION, Tag.NOMINAL_RECORD_UNARCHIVE, actor, nominal_id=nominal_id)
    )
    return version
