"""Moving a record between areas. Until the receiving area accepts, the sending area stays responsible and
keeps editing rights. Acceptance changes ownership atomically: the transfer moves from pending to accepted
with a conditional update, so of two supervisors accepting at once, or one accepting a cancelled transfer,
only a pending transfer's first decision succeeds. Every step is audited on both sides.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, insert, select, update

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock
from ..domain.actors import Actor, Principal
from ..domain.enums import ChronologyKind, NominalStatus
from ..domain.errors import NotFound, RuleViolation
from ..domain.record import ChronologyEntry
from ..domain.rules import ensure_editable
from ..nominals import service as nominals
from ..store import models as m
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from .schemas import Acceptance, Rejection, TransferOut, TransferRequest

PENDING = "pending"


def _both_sides(
    uow: UnitOfWork, actor: Actor, tag: Tag, action: Action, row: m.Transfer, **details: object
) -> None:
    """s.62: the sending and the receiving area each have the event in their view of the log."""
    for side, area in (("sending", row.from_area), ("receiving", row.to_area)):
        uow.audit.record(
            AuditEntry(
                action,
                tag,
                actor,
                nominal_id=row.nominal_id,
                section="transfer",
                details={
                    "transfer": str(row.id),
                    "side": side,
                    "area": area,
                    "from": row.from_area,
                    "to": row.to_area,
                    **details,
                },
            )
        )


def get(uow: UnitOfWork, transfer_id: uuid.UUID) -> m.Transfer:
    row = uow.session.get(m.Transfer, transfer_id)
    if row is None:
        raise NotFound("transfer_not_found", f"no transfer {transfer_id}")
    return row


@use_case(Tag.TRANSFER_REQUEST_CREATE, Action.COLLECTION)
def start(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    request: TransferRequest,
    *,
    expected_version: int,
) -> tuple[uuid.UUID, int]:
    header = uow.nominals.header_row(nominal_id)
    ensure_editable(NominalStatus(header.status))
    if request.to_area.value == header.area:
        raise RuleViolation("transfer_same_area", "the record is already owned by that area", "to_area")
    pending = uow.session.execute(
        select(m.Transfer.id).where(m.Transfer.nominal_id == nominal_id, m.Transfer.status == PENDING)
    ).first()
    if pending:
        raise RuleViolation(
            "transfer_already_pending", f"transfer {pending.id} is already pending for this record"
        )
    transfer_id = uuid.uuid4()
    sealed = uow.cipher.seal(
        header.data_key_id, "transfer", "details_sealed", transfer_id, request.model_dump_json().encode()
    )
    uow.session.execute(
        insert(m.Transfer).values(
            id=transfer_id,
            nominal_id=nominal_id,
            from_area=header.area,
            to_area=request.to_area.value,
            status=PENDING,
            data_key_id=header.data_key_id,
            details_sealed=sealed,
            requested_by=actor.user_id,
            requested_at=clock.now(),
        )
    )
    entry = ChronologyEntry(
        occurred_at=clock.now(),
        kind=ChronologyKind.TRANSFER,
        summary=f"Transfer to {request.to_area.value} requested",
    )
    _, version = nominals.append_chronology(uow, actor, nominal_id, entry, expected_version=expected_version)
    _both_sides(uow, actor, Tag.TRANSFER_REQUEST_CREATE, Action.COLLECTION, get(uow, transfer_id))
    return transfer_id, version


def _decide(uow: UnitOfWork, actor: Principal, row: m.Transfer, status: str) -> None:
    """Move a pending transfer to `status`; of two concurrent decisions exactly one succeeds."""
    done = cast(
        CursorResult[Any],
        uow.session.execute(
            update(m.Transfer)
            .where(m.Transfer.id == row.id, m.Transfer.status == PENDING)
            .values(status=status, decided_by=actor.user_id, decided_at=clock.now())
        ),
    )
    if done.rowcount != 1:
        current = uow.session.execute(select(m.Transfer.status).where(m.Transfer.id == row.id)).scalar_one()
        raise RuleViolation("transfer_not_pending", f"the transfer is {current}, not pending")


@use_case(Tag.TRANSFER_REQUEST_ACCEPT, Action.ALTERATION)
def accept(uow: UnitOfWork, actor: Principal, transfer_id: uuid.UUID, acceptance: Acceptance) -> int:
    row = get(uow, transfer_id)
    _decide(uow, actor, row, "accepted")
    header = uow.nominals.header_row(row.nominal_id)
    version = uow.nominals.claim_version(row.nominal_id, header.version, actor, clock.now())
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == row.nominal_id)
        .values(area=row.to_area, managing_unit=acceptance.managing_unit)
    )
    for manager in acceptance.offender_managers:
        _, version = nominals.add_item(uow, actor, row.nominal_id, manager, expected_version=version)
    entry = ChronologyEntry(
        occurred_at=clock.now(),
        kind=ChronologyKind.TRANSFER,
        summary=f"Ownership moved from {row.from_area} to {row.to_area} ({acceptance.managing_unit})",
    )
    _, version = nominals.append_chronology(uow, actor, row.nominal_id, entry, expected_version=version)
    _both_sides(
        uow,
        actor,
        Tag.TRANSFER_REQUEST_ACCEPT,
        Action.ALTERATION,
        row,
        managing_unit=acceptance.managing_unit,
    )
    return version


@use_case(Tag.TRANSFER_REQUEST_REJECT, Action.ALTERATION)
def reject(uow: UnitOfWork, actor: Principal, transfer_id: uuid.UUID, rejection: Rejection) -> None:
    row = get(uow, transfer_id)
    _decide(uow, actor, row, "rejected")
    _both_sides(
        uow, actor, Tag.TRANSFER_REQUEST_REJECT, Action.ALTERATION, row, reason_given=bool(rejection.reason)
    )
    _seal_decision(uow, row, rejection.reason)


@use_case(Tag.TRANSFER_REQUEST_CANCEL, Action.ALTERATION)
def cancel(uow: UnitOfWork, actor: Principal, transfer_id: uuid.UUID) -> None:
    row = get(uow, transfer_id)
    _decide(uow, actor, row, "cancelled")
    _both_sides(uow, actor, Tag.TRANSFER_REQUEST_CANCEL, Action.ALTERATION, row)


def _seal_decision(uow: UnitOfWork, row: m.Transfer, reason: str) -> None:
    details = json.loads(
        uow.cipher.open(row.data_key_id, "transfer", "details_sealed", row.id, row.details_sealed)
    )
    details["decision_reason"] = reason
    sealed = uow.cipher.seal(
        row.data_key_id, "transfer", "details_sealed", row.id, json.dumps(details).encode()
    )
    uow.session.execute(update(m.Transfer).where(m.Transfer.id == row.id).values(details_sealed=sealed))


def listing(uow: UnitOfWork, area: str, direction: str, status: str | None = PENDING) -> list[TransferOut]:
    column = m.Transfer.to_area if direction == "incoming" else m.Transfer.from_area
    q = select(m.Transfer).where(column == area)
    if status is not None:
        q = q.where(m.Transfer.status == status)
    now = clock.now()
    return [
        TransferOut(
            id=t.id,
            nominal_id=t.nominal_id,
            from_area=t.from_area,
            to_area=t.to_area,
            status=t.status,
            requested_by=t.requested_by,
            requested_at=t.requested_at,
            decided_by=t.decided_by,
            decided_at=t.decided_at,
            age_days=(now - t.requested_at).days,
        )
        for t in uow.session.scalars(q.order_by(m.Transfer.requested_at))
    ]


def pending_for_record(uow: UnitOfWork, nominal_id: uuid.UUID) -> TransferOut | None:
    """The transfer of this record waiting for a decision, if any (for the record's page)."""
    t = uow.session.scalars(
        select(m.Transfer).where(m.Transfer.nominal_id == nominal_id, m.Transfer.status == PENDING)
    ).first()
    if t is None:
        return None
    return TransferOut(
        id=t.id,
        nominal_id=t.nominal_id,
        from_area=t.from_area,
        to_area=t.to_area,
        status=t.status,
        requested_by=t.requested_by,
        requested_at=t.requested_at,
        decided_by=t.decided_by,
        decided_at=t.decided_at,
        age_days=(clock.now() - t.requested_at).days,
    )
