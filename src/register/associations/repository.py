"""The association chart's queries: set-based, a fixed number of statements whatever the number of people.

Links are found without decrypting anything: shared values through the blind-index tokens (`blind_token`,
keyed HMACs of the normalised postcode, registration, phone number, email address or online identity, joined
on `(kind, token)` with its index), named associates through the associate items' plain `ref` (the linked
record's id, with the `(section, ref)` index). Only current items count (not ended, no end date passed), only
items this agency's audience may see, on both sides of a link.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session, aliased

from ..domain.enums import AddressKind, Agency, NominalStatus
from ..domain.record import Section
from ..store import models as m
from ..store.records import visible_to
from .schemas import LinkKind

# token kind -> (the section whose items carry it, the link it makes)
TOKEN_LINKS: dict[str, tuple[Section, LinkKind]] = {
    "contact_phone": (Section.CONTACTS, LinkKind.PHONE),
    "contact_email": (Section.CONTACTS, LinkKind.EMAIL),
    "contact_online_identity": (Section.CONTACTS, LinkKind.ONLINE_IDENTITY),
    "vrm": (Section.VEHICLES, LinkKind.VEHICLE),
    "postcode": (Section.ADDRESSES, LinkKind.ADDRESS),
}
# Addresses everyone in one establishment shares: a prison or a hospital links no one.
UNLINKING_ADDRESSES = (AddressKind.PRISON.value, AddressKind.HOSPITAL.value)
GONE = (NominalStatus.MERGED.value, NominalStatus.ERASED.value)


@dataclass(frozen=True)
class TokenLink:
    source: uuid.UUID  # a record of the frontier
    target: uuid.UUID
    kind: str  # the token kind
    source_item: uuid.UUID  # the frontier record's item holding the shared value


@dataclass(frozen=True)
class AssociateLink:
    owner: uuid.UUID  # the record whose associate item names `named`
    named: uuid.UUID
    relationship: str


@dataclass(frozen=True)
class Facts:
    id: uuid.UUID
    area: str
    restricted: bool


def _current(item: Any, today: dt.date) -> Any:
    return and_(item.ended_at.is_(None), or_(item.ends_on.is_(None), item.ends_on >= today))


def _linking(item: Any, sections: list[str]) -> Any:
    return and_(
        item.section.in_(sections),
        or_(item.section != Section.ADDRESSES.value, item.kind.not_in(UNLINKING_ADDRESSES)),
    )


def token_links(
    session: Session,
    frontier: Sequence[uuid.UUID],
    kinds: Sequence[str],
    *,
    audience: Agency | None,
    today: dt.date,
    limit: int,
) -> list[TokenLink]:
    """One statement: the frontier's current items' tokens of `kinds`, joined to every other record's current
    items carrying the same token, strongest kinds first (phone, email, online identity, vehicle, postcode),
    at most `limit` rows."""
    if not frontier or not kinds:
        return []
    src, dst = aliased(m.BlindToken), aliased(m.BlindToken)
    si, di = aliased(m.Item), aliased(m.Item)
    sections = sorted({TOKEN_LINKS[k][0].value for k in kinds})
    priority = case({k: n for n, k in enumerate(TOKEN_LINKS)}, value=src.kind, else_=len(TOKEN_LINKS)).label(
        "priority"
    )
    stmt = (
        select(src.nominal_id, dst.nominal_id, src.kind, src.item_id, priority)
        .join(si, si.id == src.item_id)
        .join(dst, and_(dst.kind == src.kind, dst.token == src.token, dst.nominal_id != src.nominal_id))
        .join(di, di.id == dst.item_id)
        .join(m.Nominal, m.Nominal.id == dst.nominal_id)
        .where(
            src.nominal_id.in_(list(frontier)),
            src.kind.in_(list(kinds)),
            _linking(si, sections),
            _linking(di, sections),
            _current(si, today),
            _current(di, today),
            visible_to(audience, si.audience),
            visible_to(audience, di.audience),
            m.Nominal.status.not_in(GONE),
        )
        .distinct()
        .order_by(priority, dst.nominal_id, src.nominal_id, src.kind, src.item_id)
        .limit(limit)
    )
    return [TokenLink(r[0], r[1], r[2], r[3]) for r in session.execute(stmt) if r[3] is not None]


def associate_links(
    session: Session, frontier: Sequence[uuid.UUID], *, audience: Agency | None, today: dt.date, limit: int
) -> list[AssociateLink]:
    """One statement: current associate items naming a record on the register, made on a frontier record or
    naming one (an association is a link whichever record it was written on)."""
    if not frontier:
        return []
    item = m.Item
    stmt = (
        select(item.nominal_id, item.ref, item.kind)
        .where(
            item.section == Section.ASSOCIATES.value,
            item.ref.is_not(None),
            _current(item, today),
            visible_to(audience),
            or_(item.nominal_id.in_(list(frontier)), item.ref.in_([str(f) for f in frontier])),
        )
        .order_by(item.nominal_id, item.ref, item.kind)
        .limit(limit)
    )
    out = []
    for owner, ref, kind in session.execute(stmt):
        try:
            out.append(AssociateLink(owner, uuid.UUID(ref), kind or "other"))
        except ValueError:
            continue
    return out


def facts(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Facts]:
    """Owning area and restriction of the records that still exist as people (not merged, not erased)."""
    if not ids:
        return {}
    rows = session.execute(
        select(m.Nominal.id, m.Nominal.area, m.Nominal.restricted).where(
            m.Nominal.id.in_(list(ids)), m.Nominal.status.not_in(GONE)
        )
    )
    return {r.id: Facts(r.id, r.area, bool(r.restricted)) for r in rows}


def items(session: Session, ids: Sequence[uuid.UUID]) -> list[m.Item]:
    """The items holding the shared values, to open them."""
    if not ids:
        return []
    return list(session.scalars(select(m.Item).where(m.Item.id.in_(list(ids)))))
