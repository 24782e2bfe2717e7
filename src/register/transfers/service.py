"""Moving a record between areas. Until the receiving area accepts, the sending area stays responsible and
keeps editing rights. Acceptance changes ownership atomically: the transfer moves from pending to accepted
with a conditional update, so of two supervisors accepting at once, or one accepting a cancelled transfer,
only a pending transfer's first decision succeeds. Every step is audited on both sides.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, func, insert, select, update

from ..access.policy import Policy, RecordFacts
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock
from ..domain.actors import Actor, Principal
from ..domain.enums import Area, ChronologyKind, NominalStatus
from ..domain.errors import NotFound, RuleViolation
from ..domain.history import Change
from ..domain.record import ChronologyEntry, OffenderManager, Section
from ..domain.rules import ensure_editable
from ..nominals import service as nominals
from ..store import history
from ..store import models as m
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.cursors import cursors, fingerprint, next_offset
from .schemas import (
    Acceptance,
    Rejection,
    TransferDesk,
    TransferOut,
    TransferPage,
    TransferPerson,
    TransferRequest,
    TransferView,
)

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
    history.write(  # the record is the receiving area's from now: earlier events stay the sending area's
        uow.session,
        row.nominal_id,
        [Change(clock.now(), area=row.to_area, managing_unit=acceptance.managing_unit)],
        source="transfer",
        source_id=row.id,
        by=actor.user_id,
        now=clock.now(),
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
        reason_given=bool(acceptance.reason),
    )
    _seal_decision(uow, row, acceptance.reason, managing_unit=acceptance.managing_unit)
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


def _seal_decision(uow: UnitOfWork, row: m.Transfer, reason: str | None, **more: str) -> None:
    details = _details(uow, row)
    if reason:
        details["decision_reason"] = reason
    details.update(more)
    sealed = uow.cipher.seal(
        row.data_key_id, "transfer", "details_sealed", row.id, json.dumps(details).encode()
    )
    uow.session.execute(update(m.Transfer).where(m.Transfer.id == row.id).values(details_sealed=sealed))


def _details(uow: UnitOfWork, row: m.Transfer) -> dict[str, Any]:
    opened: dict[str, Any] = json.loads(
        uow.cipher.open(row.data_key_id, "transfer", "details_sealed", row.id, row.details_sealed)
    )
    return opened


@use_case(Tag.TRANSFER_REQUEST_LIST, Action.CONSULTATION)
def listing(
    uow: UnitOfWork,
    actor: Principal,
    direction: str,
    status: str | None = PENDING,
    *,
    limit: int = 100,
    cursor: str | None = None,
    request_id: str | None = None,
) -> TransferPage:
    """Transfers to or from the actor's area, oldest request first, a page at a time after `cursor`
    (usecase/cursors.py): ids, areas and dates, no one's details. Audited as one consultation naming the
    transfers listed, as the web's desk is."""
    area = actor.area.value
    column = m.Transfer.to_area if direction == "incoming" else m.Transfer.from_area
    q = select(m.Transfer).where(column == area)
    if status is not None:
        q = q.where(m.Transfer.status == status)
    seal_ = cursors(uow, "transfers")
    bound = fingerprint({"area": area, "direction": direction, "status": status})
    offset = seal_.open(cursor, bound)
    total = uow.session.scalar(select(func.count()).select_from(q.subquery())) or 0
    now = clock.now()
    rows = uow.session.scalars(q.order_by(m.Transfer.requested_at, m.Transfer.id).limit(limit).offset(offset))
    items = [_out(t, now) for t in rows]  # as the web's desk shows them (age: until decided)
    _listed(uow, actor, [t.id for t in items], request_id, direction=direction, status=status)
    return TransferPage(items=items, total=total, next=next_offset(seal_, offset, len(items), total, bound))


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


# ------------------------------------------------------------------ the supervisor's desk (web/transfers.py)

DESK_LIMIT = 100


def purpose_of(transfer_id: uuid.UUID) -> str:
    """The purpose a party to a transfer reads its record under (another area's record needs one)."""
    return f"deciding transfer {transfer_id}"


def _out(t: m.Transfer, now: dt.datetime) -> TransferOut:
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
        age_days=((t.decided_at or now) - t.requested_at).days,
    )


def _people(
    uow: UnitOfWork,
    actor: Principal,
    policy: Policy,
    rows: Sequence[m.Transfer],
    managers: dict[uuid.UUID, list[str]] | None = None,
) -> tuple[dict[uuid.UUID, TransferPerson], set[uuid.UUID]]:
    """Each transfer's record as the policy lets the actor see it, with the purpose of the transfer (two
    queries, whatever the number). Returns the people by transfer id and the other areas' records shown."""
    summaries = uow.nominals.summaries(list({r.nominal_id for r in rows}))
    people: dict[uuid.UUID, TransferPerson] = {}
    consulted: set[uuid.UUID] = set()
    for r in rows:
        s = summaries.get(r.nominal_id)
        if s is None:
            continue
        decision = policy.decide(
            actor,
            "record.read",
            record=RecordFacts(area=Area(s.area), restricted=s.restricted),
            purpose=purpose_of(r.id),
        )
        if not decision.allowed or decision.stub:
            people[r.id] = TransferPerson(id=s.id, area=s.area, stub=True)
            continue
        if s.area != actor.area.value:
            consulted.add(s.id)
        people[r.id] = TransferPerson(
            id=s.id,
            area=s.area,
            forenames=s.forenames,
            surname=s.surname,
            date_of_birth=s.date_of_birth,
            mappa_category=s.mappa_category,
            mappa_level=s.mappa_level,
            managing_unit=s.managing_unit,
            status=NominalStatus(s.status).value,
            offender_managers=(managers or {}).get(s.id, []),
        )
    return people, consulted


def _desk_row(uow: UnitOfWork, t: m.Transfer, person: TransferPerson, now: dt.datetime) -> TransferDesk:
    words = {} if person.stub else _details(uow, t)
    return TransferDesk(
        **_out(t, now).model_dump(),
        person=person,
        reason=words.get("reason"),
        handover_notes=words.get("handover_notes"),
        decision_reason=words.get("decision_reason"),
        managing_unit=words.get("managing_unit"),
    )


def _listed(
    uow: UnitOfWork,
    actor: Principal,
    transfer_ids: list[uuid.UUID],
    request_id: str | None,
    **details: object,
) -> None:
    """Audit a list of transfers shown (the API's list, the web's desk) as one consultation naming them."""
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.TRANSFER_REQUEST_LIST,
            actor,
            section="transfer",
            request_id=request_id,
            details={"area": actor.area.value, **details, "transfers": [str(i) for i in transfer_ids]},
        )
    )


def _consulted(
    uow: UnitOfWork,
    actor: Principal,
    tag: Tag,
    ids: set[uuid.UUID],
    request_id: str | None,
    **details: object,
) -> None:
    uow.audit.record_many(
        [
            AuditEntry(
                Action.CONSULTATION,
                tag,
                actor,
                nominal_id=nominal_id,
                section="transfer",
                purpose="transfer to or from this area",
                request_id=request_id,
                details=dict(details),
            )
            for nominal_id in sorted(ids)
        ]
    )


@use_case(Tag.TRANSFER_REQUEST_LIST, Action.CONSULTATION)
def desk(
    uow: UnitOfWork,
    actor: Principal,
    policy: Policy,
    direction: Literal["incoming", "outgoing"],
    *,
    decided: bool = False,
    request_id: str | None = None,
) -> list[TransferDesk]:
    """The transfers coming to (incoming) or going from (outgoing) the actor's area: those waiting for a
    decision, oldest first, or (`decided`) the latest decided ones. Each with its record as the policy lets
    the actor see it (another area's record under the transfer as its purpose; a restricted one as its stub)
    and the words given. Audited as one consultation, and one per other area's record shown."""
    column = m.Transfer.to_area if direction == "incoming" else m.Transfer.from_area
    q = select(m.Transfer).where(column == actor.area.value)
    if decided:
        q = q.where(m.Transfer.status != PENDING).order_by(m.Transfer.decided_at.desc())
    else:
        q = q.where(m.Transfer.status == PENDING).order_by(m.Transfer.requested_at)
    rows = uow.session.scalars(q.limit(DESK_LIMIT)).all()
    uow.cipher.load({r.data_key_id for r in rows})
    people, consulted = _people(uow, actor, policy, rows)
    now = clock.now()
    out = [_desk_row(uow, t, people[t.id], now) for t in rows if t.id in people]
    _listed(uow, actor, [t.id for t in out], request_id, direction=direction, decided=decided)
    _consulted(uow, actor, Tag.TRANSFER_REQUEST_LIST, consulted, request_id, direction=direction)
    return out


@use_case(Tag.TRANSFER_REQUEST_READ, Action.CONSULTATION)
def view(
    uow: UnitOfWork,
    actor: Principal,
    policy: Policy,
    transfer_id: uuid.UUID,
    *,
    request_id: str | None = None,
) -> TransferView:
    """One transfer, for either of its areas: the record's summary (with its current offender managers) and
    every transfer of that record. To anyone else it does not exist."""
    row = get(uow, transfer_id)
    if actor.area.value not in (row.from_area, row.to_area):
        raise NotFound("transfer_not_found", f"no transfer {transfer_id}")
    history = uow.session.scalars(
        select(m.Transfer).where(m.Transfer.nominal_id == row.nominal_id).order_by(m.Transfer.requested_at)
    ).all()
    uow.cipher.load({r.data_key_id for r in history})
    record = uow.nominals.load(
        row.nominal_id,
        sections={Section.OFFENDER_MANAGERS},
        chronology=False,
        audience=policy.visibility(actor).audience,
    )
    managers = [
        i.data.name
        for i in record.items(Section.OFFENDER_MANAGERS)
        if i.ended_at is None and isinstance(i.data, OffenderManager) and i.data.date_to is None
    ]
    people, consulted = _people(uow, actor, policy, [row], {row.nominal_id: managers})
    person = people[row.id]
    now = clock.now()
    # The record's other transfers may involve other areas: only those of the actor's area are shown.
    mine = [h for h in history if actor.area.value in (h.from_area, h.to_area)]
    out = TransferView(
        transfer=_desk_row(uow, row, person, now),
        history=[_desk_row(uow, h, person, now) for h in mine],
    )
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.TRANSFER_REQUEST_READ,
            actor,
            nominal_id=row.nominal_id,
            section="transfer",
            purpose=purpose_of(row.id) if row.nominal_id in consulted else None,
            request_id=request_id,
            details={"transfer": str(row.id), "history": [str(h.id) for h in mine], "stub": person.stub},
        )
    )
    return out
