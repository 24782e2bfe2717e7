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
    if left is None and pair is None:
        # The whole register: first the few tokens held more than once (one pass over the kind's entries in
        # the token index), then the records holding those only; probing the index for each of a kind's
        # 300,000 tokens took 2.4 s a kind at 100,000 people (the quality run's rebuild, 7.3 s in all).
        t = aliased(m.BlindToken)
        held_twice = (
            select(t.kind, t.token)
            .where(t.kind.in_(kinds))
            .group_by(t.kind, t.token)
            .having(func.count() > 1)
            .subquery()
        )
        query = query.select_from(held_twice).join(
            a, and_(a.kind == held_twice.c.kind, a.token == held_twice.c.token)
        )
    return (
        query.join(b, and_(b.kind == a.kind, b.token == a.token, apart))
        .where(a.kind.in_(kinds), *owned)
        .group_by(first, second)
    )


def token_pairs(left: Side | None = None, pair: tuple[uuid.UUID, uuid.UUID] | None = None) -> Select[Any]:
    """Every pair the tokens propose, with the rank of its strongest rule (0 = identifier): columns first,
    second, rank. `left(nominal_id_column)` restricts one side of the pair; `pair`, to that pair only."""
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
