"""The duplicate cascade's token pairing, and the pairs it finds kept current as records change.

The cascade compares blind-index tokens (keyed HMACs of normalised values), so it finds candidates without
decrypting anything:

  1. identifier       the same PNC ID, CRO number or National Insurance number
  2. dob_and_names    the same date of birth and at least two name words that sound alike (metaphone)
  3. dob_and_name     the same date of birth and one name word that sounds alike
  4. contact_and_name the same phone number, email or username and one name word that sounds alike

Running it for a whole area on every view of the supervisor's duplicates desk took about 3 s at 100,000 people
(docs/benchmarks.md). A pair depends only on the two records' tokens, and every change that rewrites a
record's tokens claims a new version of it: so the unit of work, when it commits the records whose version
changed, works out again the pairs of those records only (index lookups on their tokens) and keeps them in
`duplicate_pair`. The desk reads that table. Statuses, areas and dismissals are not stored with a pair: the
desk joins them when it reads, so an archive, a transfer or a dismissal needs no refresh; and a change that
wrote no token row (a chronology entry, a risk assessment, a meeting: most of a day's writes) cannot change a
pair, so the unit of work refreshes pairs only in a transaction that wrote to `blind_token` (`watch_tokens`
notices every INSERT, UPDATE or DELETE on it, whichever path issues it). The quality run
works the area's pairs out from scratch (`rebuild_pairs`), which also repairs anything written by a path that
did not claim a version (the synthetic generator's bulk load).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import ORMExecuteState, Session, aliased

from . import models as m

RULES = ("identifier", "dob_and_names", "dob_and_name", "contact_and_name")
IDENTIFIER_KINDS = ("id_pnc", "id_cro", "id_ni")
_BATCH = 500

# A restriction on one side of a pair: given a token row's record id column, the condition it must meet.
Side = Callable[[Any], ColumnElement[bool]]


def _shared(
    kinds: tuple[str, ...], left: Side | None, pair: tuple[uuid.UUID, uuid.UUID] | None = None
) -> Select[Any]:
    """Pairs of records holding the same token of the given kinds, with how many such tokens they share, each
    pair as (first, second) with first < second. `left` restricts one side (the other may be anywhere);
    without it, every pair of the register once."""
    a, b = aliased(m.BlindToken), aliased(m.BlindToken)
    first: Any
    second: Any
    if left is None:
        first, second, apart = a.nominal_id, b.nominal_id, b.nominal_id > a.nominal_id
        owned: list[ColumnElement[bool]] = []
    else:
        first = case((a.nominal_id < b.nominal_id, a.nominal_id), else_=b.nominal_id)
        second = case((a.nominal_id < b.nominal_id, b.nominal_id), else_=a.nominal_id)
        apart = b.nominal_id != a.nominal_id
        owned = [left(a.nominal_id)]
    if pair is not None:
        owned += [a.nominal_id == min(pair), b.nominal_id == max(pair)]
    query = select(
        first.label("first"), second.label("second"), func.count(func.distinct(a.token)).label("shared")
    )
    return (
        query.join(b, and_(b.kind == a.kind, b.token == a.token, apart))
        .where(a.kind.in_(kinds), *owned)
        .group_by(first, second)
    )


_KINDS = (*IDENTIFIER_KINDS, "dob_sound", "contact_sound")


def _rank(kind: Any, shared: Any) -> Any:
    """The rank of the rule a pair meets through tokens of `kind`, `shared` of them (0 = identifier)."""
    return case(
        (kind.in_(IDENTIFIER_KINDS), 0),
        (kind == "dob_sound", case((shared >= 2, 1), else_=2)),
        else_=3,
    )


def _every_pair() -> Select[Any]:
    """`token_pairs()` for the whole register, in one pass over the token index: the tokens of the cascade's
    kinds held more than once (a few in a hundred), the records holding those, and the pairs among them.
    Grouping each kind on its own and joining it back to the whole kind read the index twice a kind: 1.0 to
    1.1 s at 100,000 people against 0.64 to 0.77 s (decision 66)."""
    t, held_by = aliased(m.BlindToken), aliased(m.BlindToken)
    held = (
        select(t.kind, t.token)
        .where(t.kind.in_(_KINDS))
        .group_by(t.kind, t.token)
        .having(func.count() > 1)
        .cte("held_twice")
        .prefix_with("MATERIALIZED")
    )
    holders = (
        select(held_by.kind, held_by.token, held_by.nominal_id)
        .join(held, and_(held_by.kind == held.c.kind, held_by.token == held.c.token))
        .cte("holders")
        .prefix_with("MATERIALIZED")
    )
    a, b = holders.alias("a"), holders.alias("b")
    shared = (
        select(
            a.c.kind,
            a.c.nominal_id.label("first"),
            b.c.nominal_id.label("second"),
            func.count(func.distinct(a.c.token)).label("shared"),
        )
        .join(b, and_(b.c.kind == a.c.kind, b.c.token == a.c.token, b.c.nominal_id > a.c.nominal_id))
        .group_by(a.c.kind, a.c.nominal_id, b.c.nominal_id)
        .subquery()
    )
    return select(
        shared.c.first, shared.c.second, func.min(_rank(shared.c.kind, shared.c.shared)).label("rank")
    ).group_by(shared.c.first, shared.c.second)


def token_pairs(left: Side | None = None, pair: tuple[uuid.UUID, uuid.UUID] | None = None) -> Select[Any]:
    """Every pair the tokens propose, with the rank of its strongest rule (0 = identifier): columns first,
    second, rank. `left(nominal_id_column)` restricts one side of the pair; `pair`, to that pair only."""
    if left is None and pair is None:
        return _every_pair()
    ids = _shared(IDENTIFIER_KINDS, left, pair).subquery()
    dob = _shared(("dob_sound",), left, pair).subquery()
    contact = _shared(("contact_sound",), left, pair).subquery()
    ranked = union_all(
        select(literal(0).label("rank"), ids.c.first, ids.c.second),
        select(case((dob.c.shared >= 2, 1), else_=2).label("rank"), dob.c.first, dob.c.second),
        select(literal(3).label("rank"), contact.c.first, contact.c.second),
    ).subquery()
    return select(ranked.c.first, ranked.c.second, func.min(ranked.c.rank).label("rank")).group_by(
        ranked.c.first, ranked.c.second
    )


def in_area(area: str | Sequence[str]) -> Side:
    """A `left` restriction: the record is in this area (or in one of these areas)."""
    where = m.Nominal.area == area if isinstance(area, str) else m.Nominal.area.in_(list(area))
    return lambda column: column.in_(select(m.Nominal.id).where(where))


def among(ids: list[uuid.UUID]) -> Side:
    """A `left` restriction: the record is one of these."""
    return lambda column: column.in_(ids)


def _replace(session: Session, touching: ColumnElement[bool], found: Select[Any]) -> None:
    session.execute(delete(m.DuplicatePair).where(touching))
    session.execute(insert(m.DuplicatePair).from_select(["first_id", "second_id", "rank"], found))


_TOKENS_WRITTEN = "blind_tokens_written"


def _note_token_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None and table.name == m.BlindToken.__tablename__:
            state.session.info[_TOKENS_WRITTEN] = True


def watch_tokens(session: Session) -> None:
    """Note on the session whenever a statement it executes writes to `blind_token`."""
    event.listen(session, "do_orm_execute", _note_token_write)


def tokens_written(session: Session) -> bool:
    """Whether the session wrote a token since the last call (which clears the note)."""
    return bool(session.info.pop(_TOKENS_WRITTEN, False))


def refresh_pairs(session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Work out again the pairs of these records (whose tokens may have changed), in batches."""
    todo = sorted(set(ids))
    P = m.DuplicatePair
    for start in range(0, len(todo), _BATCH):
        chunk = todo[start : start + _BATCH]
        _replace(
            session,
            or_(P.first_id.in_(chunk), P.second_id.in_(chunk)),
            token_pairs(among(chunk)),
        )


def rebuild_pairs(session: Session, area: str | Sequence[str] | None = None) -> None:
    """Work out from scratch the pairs with a record in `area`, or in any of several areas (None: the whole
    register)."""
    P = m.DuplicatePair
    if area is None:
        _replace(session, literal(True), token_pairs())
        return
    members = select(m.Nominal.id).where(
        m.Nominal.area == area if isinstance(area, str) else m.Nominal.area.in_(list(area))
    )
    _replace(session, or_(P.first_id.in_(members), P.second_id.in_(members)), token_pairs(in_area(area)))
