"""The association chart around one record: who is linked to it, by what, one or two levels deep.

What each person shows is what reading their record would show this user (the same policy decision as opening
it, with the purpose in force):
- a record the user may read: name and date of birth;
- a restricted record of another area: its stub (who to contact), as reading it by id would show;
- another area's record without a purpose: only its owning area ("state a purpose to see who"), as the
  duplicates listing does. The purpose in force for a person is the one this session stated for their record,
  else the one stated for the record the chart is drawn around (the same enquiry).
Only people the user may read are followed to the second level: a link found on a record is part of its
content. Links come only from items the user's agency may see (sections and item audiences), on both sides.
Every person shown is audited as a consultation (`nominal:associations:read`), in one statement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from ..access.policy import Policy, RecordFacts
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain.actors import Principal
from ..domain.enums import Area
from ..domain.errors import InvalidValue, NotFound
from ..domain.record import Section
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from . import repository
from .repository import TOKEN_LINKS
from .schemas import AssociationGraph, Link, LinkKind, PersonNode, ShownAs

CAP = 25  # new people at each level
ROWS_PER_PERSON = 8  # link rows read per person a level may show (a person is often linked more than once)
LEVELS = (1, 2)
WITHHELD = "another area's record: state a purpose to see who this is"


def _relationship(kind: str) -> tuple[LinkKind, str]:
    if kind == "co_offender":
        return LinkKind.CO_OFFENDER, "Co-offender"
    return LinkKind.ASSOCIATE, kind.replace("_", " ").capitalize()


def _value(data: object) -> str:
    for field in ("postcode", "vrm", "value"):
        value = getattr(data, field, None)
        if isinstance(value, str):
            platform = getattr(data, "platform", None)
            return f"{value} ({platform})" if field == "value" and platform else value
    return ""


@use_case(Tag.NOMINAL_ASSOCIATIONS_READ, Action.CONSULTATION)
def associations(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    nominal_id: uuid.UUID,
    *,
    level: int,
    today: dt.date,
    purpose: str | None = None,
    purposes: Mapping[uuid.UUID, str] | None = None,
    request_id: str | None = None,
    cap: int = CAP,
) -> AssociationGraph:
    """The people linked to `nominal_id` (already authorized for `record.read` by the caller's guard, and
    not a stub), `level` (1 or 2) links away, at most `cap` new people a level. A fixed number of statements
    whatever the number of people: per level two link queries and one of owning areas, then one of names,
    one of the items holding the shared values, one audit insert."""
    if level not in LEVELS:
        raise InvalidValue("association_level", "the level is 1 or 2", "level")
    kept = purposes or {}
    visibility = policy.visibility(principal)
    audience = visibility.audience
    kinds = [k for k, (section, _) in TOKEN_LINKS.items() if visibility.sees_section(section.value)]
    with_associates = visibility.sees_section(Section.ASSOCIATES.value)
    limit = cap * ROWS_PER_PERSON

    centre_facts = repository.facts(uow.session, [nominal_id]).get(nominal_id)
    if centre_facts is None:
        raise NotFound("nominal_not_found", f"no nominal {nominal_id}")
    nodes: dict[uuid.UUID, PersonNode] = {
        nominal_id: PersonNode(id=nominal_id, level=0, area=centre_facts.area, shown_as="record")
    }
    used_purpose: dict[uuid.UUID, str | None] = {nominal_id: purpose}
    # (source, target, kind) -> the source's item holding the value, or the relationship's words
    found: dict[tuple[uuid.UUID, uuid.UUID, LinkKind], list[uuid.UUID | str]] = {}
    capped: list[int] = []
    frontier = [nominal_id]

    def shown(f: repository.Facts) -> tuple[ShownAs, str | None, str | None] | None:
        given = kept.get(f.id) or purpose
        decision = policy.decide(
            principal,
            "record.read",
            record=RecordFacts(area=Area(f.area), restricted=f.restricted),
            purpose=given,
        )
        if decision.allowed:
            return ("stub", given, decision.reason) if decision.stub else ("record", given, None)
        return ("withheld", None, WITHHELD) if decision.rule == "purpose_required" else None

    for depth in range(1, level + 1):
        in_frontier = set(frontier)
        tokens = repository.token_links(
            uow.session, frontier, kinds, audience=audience, today=today, limit=limit
        )
        named = (
            repository.associate_links(uow.session, frontier, audience=audience, today=today, limit=limit)
            if with_associates
            else []
        )
        pairs: list[tuple[uuid.UUID, uuid.UUID, LinkKind, uuid.UUID | str]] = []
        for a in named:  # named associates first: the strongest links keep their place under the cap
            kind, words = _relationship(a.relationship)
            if a.owner in in_frontier:
                pairs.append((a.owner, a.named, kind, words))
            elif a.named in in_frontier:
                pairs.append((a.named, a.owner, kind, words))
        pairs += [(t.source, t.target, TOKEN_LINKS[t.kind][1], t.source_item) for t in tokens]
        new = list(dict.fromkeys(target for _, target, _, _ in pairs if target not in nodes))
        people = repository.facts(uow.session, new)
        new = [n for n in new if n in people]
        if len(new) > cap or len(tokens) == limit or len(named) == limit:
            capped.append(depth)
        for person in new[:cap]:
            decided = shown(people[person])
            if decided is None:
                continue
            as_, given, message = decided
            nodes[person] = PersonNode(
                id=person, level=depth, area=people[person].area, shown_as=as_, message=message
            )
            used_purpose[person] = given
        for source, target, kind, held in pairs:
            if source in nodes and target in nodes:
                found.setdefault((source, target, kind), []).append(held)
        frontier = [n for n, node in nodes.items() if node.level == depth and node.shown_as == "record"]
        if not frontier:
            break

    readable = [n for n, node in nodes.items() if node.shown_as == "record"]
    names = uow.nominals.summaries(readable)
    for n in readable:
        s = names.get(n)
        if s is not None:
            nodes[n] = nodes[n].model_copy(
                update={"forenames": s.forenames, "surname": s.surname, "date_of_birth": s.date_of_birth}
            )
    item_ids = {h for holders in found.values() for h in holders if isinstance(h, uuid.UUID)}
    rows = repository.items(uow.session, list(item_ids))
    uow.nominals.cipher.load({r.data_key_id for r in rows})
    values = {r.id: _value(uow.nominals.open_item(r)) for r in rows}
    links: dict[tuple[frozenset[uuid.UUID], LinkKind, str], Link] = {}
    for (source, target, kind), holders in found.items():
        for h in holders:
            value = values.get(h, "") if isinstance(h, uuid.UUID) else h
            key = (frozenset((source, target)), kind, value)
            if value and key not in links:
                links[key] = Link(source=source, target=target, kind=kind, value=value)

    ordered = sorted(
        nodes.values(),
        key=lambda p: (p.level, p.shown_as != "record", p.surname or "~", p.forenames or "", str(p.id)),
    )
    uow.audit.record_many(
        [
            AuditEntry(
                Action.CONSULTATION,
                Tag.NOMINAL_ASSOCIATIONS_READ,
                principal,
                nominal_id=p.id,
                purpose=used_purpose.get(p.id),
                request_id=request_id,
                details=(
                    {"level": level, "people": len(nodes) - 1, "capped": capped}
                    if p.id == nominal_id
                    else {"centre": str(nominal_id), "level": p.level, "shown_as": p.shown_as}
                ),
            )
            for p in ordered
        ]
    )
    return AssociationGraph(
        centre=nominal_id,
        level=level,
        cap=cap,
        capped_levels=capped,
        nodes=ordered,
        links=sorted(
            links.values(), key=lambda link: (link.kind.value, str(link.source), str(link.target), link.value)
        ),
    )
