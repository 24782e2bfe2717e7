"""The duplicate cascade and the row moves of a merge, in SQL.

The cascade compares blind-index tokens (keyed HMACs of normalised values), so it finds candidates without
decrypting anything, in one query whatever the size of the register:

  1. identifier       the same PNC ID, CRO number or National Insurance number
  2. dob_and_names    the same date of birth and at least two name words that sound alike (metaphone)
  3. dob_and_name     the same date of birth and one name word that sounds alike
  4. contact_and_name the same phone number, email or username and one name word that sounds alike

Names and dates of birth include aliases. A pair is listed once, under its strongest rule. Pairs a supervisor
has dismissed (or unmerged) are never proposed again, and merged or erased records are never candidates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from ..domain.enums import Agency, NominalStatus
from ..store import models as m
from ..store.cipher import RecordCipher
from ..store.duplicates import IDENTIFIER_KINDS, RULES, in_area, token_pairs
from ..store.records import entry_visible_to, visible_to

CANDIDATE_STATUSES = (NominalStatus.ACTIVE.value, NominalStatus.ARCHIVED.value)


def _proposed(pairs: Any) -> Select:
    """The pairs (columns first, second, rank) the desk may propose: both records active or archived, the pair
    not dismissed; with each rule's name and both records' areas."""
    na, nb = aliased(m.Nominal), aliased(m.Nominal)
    dismissed = exists(
        select(m.DuplicateDismissal.id).where(
            m.DuplicateDismissal.first_id == pairs.c.first, m.DuplicateDismissal.second_id == pairs.c.second
        )
    )
    rule = case(*((pairs.c.rank == i, name) for i, name in enumerate(RULES)))
    return (
        select(
            pairs.c.first,
            pairs.c.second,
            rule.label("rule"),
            pairs.c.rank,
            na.area.label("first_area"),
            nb.area.label("second_area"),
        )
        .join(na, na.id == pairs.c.first)
        .join(nb, nb.id == pairs.c.second)
        .where(na.status.in_(CANDIDATE_STATUSES), nb.status.in_(CANDIDATE_STATUSES), ~dismissed)
    )


def candidate_pairs(area: str | None = None, pair: tuple[uuid.UUID, uuid.UUID] | None = None) -> Select:
    """Every candidate pair with its strongest rule, worked out from the tokens now: columns first, second,
    rule, rank, first_area, second_area (first < second). With `area`, the pairs with at least one record in
    that area, found from that area's records' tokens (index lookups); with `pair`, that pair only.

    Dates of birth and contacts are compared together with name sounds through the record-level tokens
    (`domain.record.record_tokens`: each date of birth or contact combined with each name word's sound), so a
    pair is found by one equi-join on tokens instead of pairing everyone born on the same day and then
    comparing names."""
    return _proposed(token_pairs(in_area(area) if area is not None else None, pair).subquery())


def stored_pairs(area: str | Sequence[str]) -> Select:
    """The candidate pairs touching `area` as the register keeps them (`duplicate_pair`, current with every
    commit): the same rows as `candidate_pairs(area)` without working the cascade out again. The kept pairs
    are few beside the records (hundreds at 20,000 people), so they are read whole and each side's area is
    taken from its record by id, rather than probing the pairs for every record of the area."""
    P = m.DuplicatePair
    kept = select(P.first_id.label("first"), P.second_id.label("second"), P.rank.label("rank")).subquery()
    query = _proposed(kept)
    first_area, second_area = query.selected_columns.first_area, query.selected_columns.second_area
    if isinstance(area, str):
        return query.where(or_(first_area == area, second_area == area))
    return query.where(or_(first_area.in_(list(area)), second_area.in_(list(area))))


@dataclass(frozen=True)
class Candidate:
    first: uuid.UUID
    second: uuid.UUID
    rule: str
    first_area: str
    second_area: str


def candidates(session: Session, area: str, *, limit: int, offset: int) -> tuple[list[Candidate], int]:
    """The pairs with at least one record in `area`, strongest rule first, and how many there are: the cascade
    runs once, the total counted beside the page (a window); only a page past the end counts again."""
    pairs = stored_pairs(area).subquery()
    rows = session.execute(
        select(pairs, func.count().over().label("total"))
        .order_by(pairs.c.rank, pairs.c.first, pairs.c.second)
        .limit(limit)
        .offset(offset)
    ).all()
    if rows:
        total = int(rows[0].total)
    else:
        total = session.execute(select(func.count()).select_from(pairs)).scalar_one() if offset else 0
    return [Candidate(r.first, r.second, r.rule, r.first_area, r.second_area) for r in rows], total


def rule_for(session: Session, first: uuid.UUID, second: uuid.UUID) -> str | None:
    """The strongest rule matching this pair (None: the cascade would not propose it), from the two records'
    tokens: the tokens they share, found from the first record's tokens by its id (an index lookup, whatever
    the size of the register), then the same ranking and exclusions as `candidate_pairs`."""
    a, b = sorted((first, second))
    statuses = {
        r.id: r.status
        for r in session.execute(select(m.Nominal.id, m.Nominal.status).where(m.Nominal.id.in_([a, b])))
    }
    if len(statuses) != 2 or any(v not in CANDIDATE_STATUSES for v in statuses.values()):
        return None
    if session.execute(
        select(m.DuplicateDismissal.id).where(
            m.DuplicateDismissal.first_id == a, m.DuplicateDismissal.second_id == b
        )
    ).first():
        return None
    mine, theirs = aliased(m.BlindToken), aliased(m.BlindToken)
    shared = {
        kind: count
        for kind, count in session.execute(
            select(mine.kind, func.count(func.distinct(mine.token)))
            .join(theirs, and_(theirs.kind == mine.kind, theirs.token == mine.token, theirs.nominal_id == b))
            .where(mine.nominal_id == a)
            .group_by(mine.kind)
        )
    }
    if any(shared.get(kind) for kind in IDENTIFIER_KINDS):
        return RULES[0]
    if shared.get("dob_sound"):
        return RULES[1] if shared["dob_sound"] >= 2 else RULES[2]
    if shared.get("contact_sound"):
        return RULES[3]
    return None


def suspected(nominal_id, area: str | Sequence[str] | None = None) -> object:
    """SQL: this record is one of a candidate pair (for the quality rule): for an area (or several), the pairs
    the register keeps (the quality run rebuilds them first); for the whole register, worked out once."""
    pairs = (stored_pairs(area) if area is not None else candidate_pairs()).cte("duplicate_pairs")
    return nominal_id.in_(union_all(select(pairs.c.first), select(pairs.c.second)))


def dismissal_row_id(first: uuid.UUID, second: uuid.UUID) -> str:
    """What a dismissal's sealed reason is bound to (the pair, which is unique)."""
    a, b = sorted((first, second))
    return f"{a}|{b}"


def dismiss(
    session: Session,
    cipher: RecordCipher,
    first: uuid.UUID,
    second: uuid.UUID,
    reason: str,
    text: str,
    user: str,
    now,
) -> bool:
    """Mark a pair as two people, the supervisor's words sealed under the first record's data key. False when
    it was already marked."""
    a, b = sorted((first, second))
    if session.execute(
        select(m.DuplicateDismissal.id).where(
            m.DuplicateDismissal.first_id == a, m.DuplicateDismissal.second_id == b
        )
    ).first():
        return False
    key_id = session.execute(select(m.Nominal.data_key_id).where(m.Nominal.id == a)).scalar_one()
    sealed = cipher.seal(
        key_id, "duplicate_dismissal", "reason_sealed", dismissal_row_id(a, b), text.encode()
    )
    session.add(
        m.DuplicateDismissal(
            first_id=a,
            second_id=b,
            reason=reason,
            decided_by=user,
            decided_at=now,
            data_key_id=key_id,
            reason_sealed=sealed,
        )
    )
    session.flush()
    return True


# ------------------------------------------------------------------ moving rows


def move_rows(session: Session, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> tuple[int, int]:
    """Every item, chronology entry and item token of the merged record moves to the survivor, marked with
    where it came from. Three statements, whatever the size of the records."""
    items = cast(
        CursorResult[Any],
        session.execute(
            update(m.Item)
            .where(m.Item.nominal_id == merged_id)
            .values(nominal_id=survivor_id, merged_from_id=merged_id)
        ),
    ).rowcount
    entries = cast(
        CursorResult[Any],
        session.execute(
            update(m.ChronologyEntry)
            .where(m.ChronologyEntry.nominal_id == merged_id)
            .values(nominal_id=survivor_id, merged_from_id=merged_id)
        ),
    ).rowcount
    session.execute(
        update(m.BlindToken)
        .where(
            m.BlindToken.nominal_id == merged_id,
            m.BlindToken.item_id.is_not(None),
            m.BlindToken.item_id != merged_id,
        )  # the record-level tokens stay (and are rebuilt)
        .values(nominal_id=survivor_id)
    )
    return items, entries


def move_back(session: Session, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> tuple[int, int]:
    """The exact reverse of `move_rows`: what came from the merged record goes back, provenance cleared."""
    came = select(m.Item.id).where(m.Item.nominal_id == survivor_id, m.Item.merged_from_id == merged_id)
    session.execute(
        update(m.BlindToken)
        .where(m.BlindToken.nominal_id == survivor_id, m.BlindToken.item_id.in_(came))
        .values(nominal_id=merged_id)
    )
    items = cast(
        CursorResult[Any],
        session.execute(
            update(m.Item)
            .where(m.Item.nominal_id == survivor_id, m.Item.merged_from_id == merged_id)
            .values(nominal_id=merged_id, merged_from_id=None)
        ),
    ).rowcount
    entries = cast(
        CursorResult[Any],
        session.execute(
            update(m.ChronologyEntry)
            .where(m.ChronologyEntry.nominal_id == survivor_id, m.ChronologyEntry.merged_from_id == merged_id)
            .values(nominal_id=merged_id, merged_from_id=None)
        ),
    ).rowcount
    return items, entries


def added_since(
    session: Session, survivor_id: uuid.UUID, merge: m.Merge, audience: Agency | None = None
) -> list[dict[str, object]]:
    """What was written on the survivor after the merge (it stays there; the supervisor is told), leaving out
    what `audience` may not see (None: everything, for the audit log)."""
    created = set(json.loads(merge.added_item_ids))
    items = session.execute(
        select(m.Item.id, m.Item.section, m.Item.recorded_at, m.Item.recorded_by).where(
            m.Item.nominal_id == survivor_id, m.Item.recorded_at > merge.merged_at, visible_to(audience)
        )
    ).all()
    entries = session.execute(
        select(
            m.ChronologyEntry.id,
            m.ChronologyEntry.kind,
            m.ChronologyEntry.recorded_at,
            m.ChronologyEntry.recorded_by,
            m.ChronologyEntry.amends_id,
        ).where(
            m.ChronologyEntry.nominal_id == survivor_id,
            m.ChronologyEntry.recorded_at > merge.merged_at,
            entry_visible_to(audience),
        )
    ).all()
    out: list[dict[str, object]] = [
        {
            "kind": "item",
            "id": str(i.id),
            "section": i.section,
            "recorded_at": i.recorded_at.isoformat(),
            "recorded_by": i.recorded_by,
        }
        for i in items
        if str(i.id) not in created
    ]
    out += [
        {
            "kind": "chronology",
            "id": str(e.id),
            "section": "chronology",
            "entry_kind": e.kind,
            "recorded_at": e.recorded_at.isoformat(),
            "recorded_by": e.recorded_by,
            **({"amends": str(e.amends_id)} if e.amends_id else {}),
        }
        for e in entries
    ]
    return out


def changed_since(
    session: Session, merged_id: uuid.UUID, merge: m.Merge, audience: Agency | None = None
) -> list[dict[str, object]]:
    """Items that came from the merged record and were corrected or ended on the survivor after the merge,
    leaving out what `audience` may not see."""
    rows = session.execute(
        select(m.Item.id, m.Item.section, m.Item.updated_at, m.Item.updated_by).where(
            m.Item.merged_from_id == merged_id, m.Item.updated_at > merge.merged_at, visible_to(audience)
        )
    ).all()
    return [
        {
            "kind": "item",
            "id": str(r.id),
            "section": r.section,
            "updated_at": r.updated_at.isoformat(),
            "updated_by": r.updated_by,
        }
        for r in rows
    ]


def came_from(
    session: Session, survivor_id: uuid.UUID, merged_id: uuid.UUID, audience: Agency | None
) -> tuple[int, int]:
    """How many items and chronology entries on the survivor came from the merged record, of those `audience`
    may see: what an unmerge reports as returned."""
    items = session.execute(
        select(func.count())
        .select_from(m.Item)
        .where(m.Item.nominal_id == survivor_id, m.Item.merged_from_id == merged_id, visible_to(audience))
    ).scalar_one()
    entries = session.execute(
        select(func.count())
        .select_from(m.ChronologyEntry)
        .where(
            m.ChronologyEntry.nominal_id == survivor_id,
            m.ChronologyEntry.merged_from_id == merged_id,
            entry_visible_to(audience),
        )
    ).scalar_one()
    return items, entries


def active_merge_as_survivor(session: Session, nominal_id: uuid.UUID) -> bool:
    return (
        session.execute(
            select(m.Merge.id).where(m.Merge.survivor_id == nominal_id, m.Merge.status == "merged")
        ).first()
        is not None
    )
