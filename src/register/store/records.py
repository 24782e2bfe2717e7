"""Reading and writing records: sealed payloads, plain operational columns, blind tokens.

A whole record is read in three queries whatever its size (the nominal with its data key, items,
chronology): no query per item.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Insert,
    Select,
    String,
    Table,
    Update,
    Uuid,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import ColumnElement

from ..crypto.envelope import BlindIndex
from ..domain.actors import Actor, Principal
from ..domain.enums import Agency, ChronologyKind, NominalStatus
from ..domain.errors import ConcurrencyConflict, Gone, NotFound
from ..domain.record import (
    SECTION_MODELS,
    Alias,
    ChronologyEntry,
    Contact,
    Header,
    Identity,
    Record,
    Section,
    SectionItem,
    StoredEntry,
    StoredItem,
    Token,
    entry_pieces,
    item_pieces,
    record_tokens,
    text_words,
)
from . import case_facts
from . import models as m
from .cipher import RecordCipher
from .listing import TRUSTED, RecordListing, with_keys


def _agency(actor: Actor) -> str:
    return actor.agency.value if isinstance(actor, Principal) else "system"


def _area(actor: Actor) -> str:
    return actor.area.value if isinstance(actor, Principal) else "system"


NOT_ERASED = m.Nominal.status != NominalStatus.ERASED.value
RECORD_TOKEN_SECTIONS = {Section.ALIASES, Section.CONTACTS}  # what the record-level tokens are made from


# A home visit, or a correction (of a home visit, perhaps): an append that may move a record's last visit.
_MOVES_A_VISIT = frozenset({ChronologyKind.HOME_VISIT, ChronologyKind.AMENDMENT, ChronologyKind.WITHDRAWAL})


_UuidColumn = ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID]


def _text_id(column: _UuidColumn) -> ColumnElement[str]:
    """A UUID column read as its text (`str(uuid)`)."""
    return type_coerce(column, Uuid(as_uuid=False))


def _pg_text_id(column: _UuidColumn) -> ColumnElement[str]:
    """On PostgreSQL: the server's text of the UUID, the same as `str(uuid)`."""
    return cast_(column, String)


@dataclass
class OpenedRecord:
    """A record as `NominalRepository.load_opened` reads it: the nominal's plain columns (`row`: id, version,
    status and the header's columns), its identity and the payloads of its items (with their section) and
    chronology entries (with their audience), opened but not parsed, in the order a Record holds them."""

    row: Any
    identity: bytes
    items: list[tuple[str, bytes]] = field(default_factory=list)
    entries: list[tuple[str | None, bytes]] = field(default_factory=list)


def count_records(session_factory: Callable[[], Session]) -> int:
    with session_factory() as session:
        return session.execute(select(func.count()).select_from(m.Nominal).where(NOT_ERASED)).scalar_one()


def id_batches(session_factory: Callable[[], Session], batch: int, *where: Any) -> Iterator[list[uuid.UUID]]:
    """Every record id in id order, a batch at a time (keyset pagination, a short session per batch): what
    sweeps (reindex, index-check, token rebuild, re-encryption, notification refresh) walk. Erased tombstones
    hold nothing to index, re-key or recompute, and are left out. `where`: further conditions on the nominal
    row."""
    after: uuid.UUID | None = None
    while True:
        with session_factory() as session:
            q = select(m.Nominal.id).where(NOT_ERASED, *where).order_by(m.Nominal.id).limit(batch)
            if after is not None:
                q = q.where(m.Nominal.id > after)
            ids = list(session.scalars(q))
        if not ids:
            return
        yield ids
        after = ids[-1]


def ended_reason(cipher: RecordCipher, row: m.Item) -> str | None:
    """Why an item ended, opened (or, on a database not yet through the sealing pass, as it was kept)."""
    if row.ended_reason_sealed is not None:
        return cipher.open(
            row.data_key_id, "item", "ended_reason_sealed", row.id, row.ended_reason_sealed
        ).decode()
    return row.ended_reason


def visible_to(agency: Agency | None, audience: Any = None) -> ColumnElement[bool]:
    """SQL: items (or, given `audience=m.ChronologyEntry.audience`, chronology entries) with no audience, or
    whose audience names this agency (None: no filtering, for system actors)."""
    if agency is None:
        return literal(True)
    column = m.Item.audience if audience is None else audience
    return or_(column.is_(None), (literal(",") + column + literal(",")).contains(f",{agency.value},"))


def entry_visible_to(agency: Agency | None) -> ColumnElement[bool]:
    return visible_to(agency, m.ChronologyEntry.audience)


# A record's read and an append run the same statements for every record: each is built once (per shape,
# where it has one: the reader's agency; all sections or some) and kept, the values bind parameters. Built for
# every request, their construction and cache keys were a twentieth of a read's CPU, and with the history's
# UPDATE no new entry needs, about a third of an append's own (in the process; decision 80).
@functools.cache
def _claim() -> Update:
    """The version claim (`claim_version`): executed with `nominal_id`, `expected`, the new values and
    `quiet` (1 for a change that cannot move the annual statistics, decision 91; else 0)."""
    nominal = cast(Table, m.Nominal.__table__)
    return (
        nominal.update()
        .where(nominal.c.id == bindparam("nominal_id"), nominal.c.version == bindparam("expected"))
        .values(
            version=bindparam("new_version"),
            quiet_changes=nominal.c.quiet_changes + bindparam("quiet"),
            updated_at=bindparam("new_updated_at"),
            updated_by=bindparam("new_updated_by"),
        )
    )


@functools.cache
def _insert_into(model: type[m.Base]) -> Insert:
    """A Core INSERT of the model's table, its rows given as parameters: one statement kept for each table,
    not an ORM insert or a VALUES clause built and keyed anew for every row written. `inline`: no RETURNING
    of a key the server makes (a word token's id), which nothing reads (decision 82)."""
    return insert(cast(Table, model.__table__)).inline()


@functools.cache
def _header_row() -> Select[Any]:
    """A record's row with its data key (`with_keys`). Executed with `nominal_id`."""
    return with_keys(select(m.Nominal).where(m.Nominal.id == bindparam("nominal_id")))


@functools.cache
def _item_rows(agency: Agency | None, some_sections: bool) -> Select[Any]:
    """A record's items (all, or those of the sections `sections`) `agency` may see, in section order: plain
    rows with the model's columns. Executed with `nominal_id` (and `sections`)."""
    q = (
        select(*m.Item.__table__.c)
        .where(m.Item.nominal_id == bindparam("nominal_id"), visible_to(agency))
        .order_by(m.Item.section, m.Item.recorded_at, m.Item.id)
    )
    return q.where(m.Item.section.in_(bindparam("sections", expanding=True))) if some_sections else q


@functools.cache
def _entry_rows(agency: Agency | None) -> Select[Any]:
    """A record's chronology entries `agency` may see, oldest first. Executed with `nominal_id`."""
    return (
        select(*m.ChronologyEntry.__table__.c)
        .where(m.ChronologyEntry.nominal_id == bindparam("nominal_id"), entry_visible_to(agency))
        .order_by(m.ChronologyEntry.occurred_at, m.ChronologyEntry.recorded_at)
    )


def text_token_rows(
    blind: BlindIndex,
    pieces: Sequence[tuple[str, str]],
    *,
    item_id: uuid.UUID | None = None,
    entry_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """One `text_token` row per distinct (source, word) of an item's or an entry's narrative: the word's keyed
    HMAC (of the kind `text` whatever the source, so a word is one token to look up)."""
    pairs = dict.fromkeys((source, word) for source, text in pieces for word in text_words(text))
    return [
        {"item_id": item_id, "entry_id": entry_id, "source": source, "token": blind.token("text", word)}
        for source, word in pairs
    ]


class NominalRepository(RecordListing):
    def __init__(self, session: Session, cipher: RecordCipher, blind: BlindIndex) -> None:
        self.session = session
        self.cipher = cipher
        self.blind = blind
        self._changes: dict[
            tuple[uuid.UUID, int], None
        ] = {}  # (record, version) claimed, in order, once each
        # The header rows this transaction has read, held until it ends: the session's identity map holds
        # rows weakly, so a row the caller had let go (the guard keeps only the owner and the restriction)
        # was read again by the use case that followed (a second SELECT on every read of a record).
        self._held: dict[uuid.UUID, m.Nominal] = {}

    def note_changes(self, versions: dict[uuid.UUID, int]) -> None:
        self._changes.update(dict.fromkeys(versions.items()))

    def release_rows(self) -> None:
        """The transaction has ended: the next one reads the header rows again."""
        self._held.clear()

    def take_changes(self) -> list[tuple[uuid.UUID, int]]:
        """Each version claimed since the last call, in order (the unit of work writes their outbox rows: one
        per change, as the indexer counts them)."""
        changes, self._changes = list(self._changes), {}
        return changes

    # ------------------------------------------------------------ writes

    def add(
        self, nominal_id: uuid.UUID, header: Header, identity: Identity, actor: Actor, now: dt.datetime
    ) -> None:
        key_id = self.cipher.new_key(nominal_id)
        self.session.execute(
            insert(m.Nominal).values(
                id=nominal_id,
                version=1,
                status=NominalStatus.ACTIVE.value,
                data_key_id=key_id,
                identity_sealed=self.cipher.seal(
                    key_id, "nominal", "identity_sealed", nominal_id, identity.model_dump_json().encode()
                ),
                created_at=now,
                created_by=actor.user_id,
                updated_at=now,
                updated_by=actor.user_id,
                **self._header_columns(header),
            )
        )
        self.write_tokens(nominal_id, None, identity.tokens())
        self.note_changes({nominal_id: 1})

    @staticmethod
    def _header_columns(header: Header) -> dict[str, object]:
        return {
            "nominal_type": header.nominal_type.value,
            "area": header.area.value,
            "managing_unit": header.managing_unit,
            "lead_agency": header.lead_agency.value,
            "mappa_category": int(header.mappa_category) if header.mappa_category else None,
            "mappa_level": int(header.mappa_level) if header.mappa_level else None,
            "restricted": header.restricted,
        }

    def claim_version(
        self, nominal_id: uuid.UUID, expected: int, actor: Actor, now: dt.datetime, *, quiet: bool = False
    ) -> int:
        """Bump the record's version if it is still `expected`; otherwise someone changed it first. A Core
        UPDATE (the ORM's, evaluating its criteria against every record held in the session, took a sixth of
        an append's own CPU time); the header this unit of work holds, if any, is given the new values.
        `quiet`: the change cannot move the annual statistics (`domain.history`, decision 91), so it is
        counted in `quiet_changes` too and leaves their stamp as it was (decision 91). Every other claim,
        whoever makes it, moves the stamp."""
        values = {"version": expected + 1, "updated_at": now, "updated_by": actor.user_id}
        result = cast(
            CursorResult[Any],
            self.session.execute(
                _claim(),
                {
                    "nominal_id": nominal_id,
                    "expected": expected,
                    "quiet": int(quiet),
                    **{f"new_{k}": v for k, v in values.items()},
                },
            ),
        )
        if result.rowcount != 1:
            current = self.session.execute(
                select(m.Nominal.version).where(m.Nominal.id == nominal_id)
            ).scalar()
            if current is None:
                raise NotFound("nominal_not_found", f"no nominal {nominal_id}")
            raise ConcurrencyConflict(
                "version_stale",
                f"the record is at version {current}, not {expected}: reload it and try again",
            )
        held = self.session.identity_map.get(identity_key(m.Nominal, nominal_id))
        if held is not None:
            for name, value in values.items():
                set_committed_value(held, name, value)
            if quiet and "quiet_changes" in held.__dict__:
                set_committed_value(held, "quiet_changes", held.quiet_changes + 1)
        self.note_changes({nominal_id: expected + 1})
        return expected + 1

    def set_header(self, nominal_id: uuid.UUID, header: Header) -> None:
        self.session.execute(
            update(m.Nominal).where(m.Nominal.id == nominal_id).values(**self._header_columns(header))
        )

    def set_notification(self, nominal_id: uuid.UUID, derived: Any) -> None:
        self.session.execute(
            update(m.Nominal)
            .where(m.Nominal.id == nominal_id)
            .values(
                notification_subject=derived.subject,
                notification_indefinite=derived.indefinite if derived.subject else None,
                notification_ends_on=derived.ends_on,
                notification_review_from=derived.review_from,
                notification_due_on=derived.next_due,
            )
        )

    def set_identity(self, nominal_id: uuid.UUID, key_id: uuid.UUID, identity: Identity) -> None:
        sealed = self.cipher.seal(
            key_id, "nominal", "identity_sealed", nominal_id, identity.model_dump_json().encode()
        )
        self.session.execute(
            update(m.Nominal).where(m.Nominal.id == nominal_id).values(identity_sealed=sealed)
        )
        self.write_tokens(nominal_id, None, identity.tokens())

    def add_item(
        self,
        nominal_id: uuid.UUID,
        key_id: uuid.UUID,
        item_id: uuid.UUID,
        data: SectionItem,
        actor: Actor,
        now: dt.datetime,
    ) -> None:
        self.session.execute(
            insert(m.Item).values(
                id=item_id,
                nominal_id=nominal_id,
                section=data.section.value,
                data_key_id=key_id,
                payload_sealed=self.cipher.seal(
                    key_id, "item", "payload_sealed", item_id, data.model_dump_json().encode()
                ),
                recorded_by=actor.user_id,
                recorded_agency=_agency(actor),
                recorded_area=_area(actor),
                recorded_at=now,
                updated_by=actor.user_id,
                updated_at=now,
                **self._plain_columns(data),
            )
        )
        self.write_tokens(nominal_id, item_id, data.tokens())
        self.write_text_tokens(item_pieces(data), item_id=item_id)

    def replace_item(
        self,
        nominal_id: uuid.UUID,
        key_id: uuid.UUID,
        item_id: uuid.UUID,
        data: SectionItem,
        actor: Actor,
        now: dt.datetime,
    ) -> None:
        self.session.execute(
            update(m.Item)
            .where(m.Item.id == item_id, m.Item.nominal_id == nominal_id)
            .values(
                data_key_id=key_id,
                payload_sealed=self.cipher.seal(
                    key_id, "item", "payload_sealed", item_id, data.model_dump_json().encode()
                ),
                updated_by=actor.user_id,
                updated_at=now,
                **self._plain_columns(data),
            )
        )
        self.write_tokens(nominal_id, item_id, data.tokens())
        self.write_text_tokens(item_pieces(data), item_id=item_id, replace=True)

    def end_item(
        self, nominal_id: uuid.UUID, item_id: uuid.UUID, reason: str, actor: Actor, now: dt.datetime
    ) -> None:
        key_id = self.session.scalar(
            select(m.Item.data_key_id).where(m.Item.id == item_id, m.Item.nominal_id == nominal_id)
        )
        if key_id is None:
            return
        self.session.execute(
            update(m.Item)
            .where(m.Item.id == item_id, m.Item.nominal_id == nominal_id)
            .values(
                ended_at=now,
                ended_by=actor.user_id,
                ended_reason_sealed=self.cipher.seal(
                    key_id, "item", "ended_reason_sealed", item_id, reason.encode()
                ),
                updated_by=actor.user_id,
                updated_at=now,
            )
        )

    def count_plain_reasons(self) -> int:
        return int(self.session.scalar(select(func.count()).where(m.Item.ended_reason.is_not(None))) or 0)

    def seal_plain_reasons(self, batch: int) -> int:
        """Seal up to `batch` end reasons still kept in clear (written before migration 0013); returns how
        many. One statement reads them and one writes them back."""
        rows = self.session.execute(
            select(m.Item.id, m.Item.data_key_id, m.Item.ended_reason)
            .where(m.Item.ended_reason.is_not(None))
            .limit(batch)
        ).all()
        if not rows:
            return 0
        self.cipher.load({r.data_key_id for r in rows})
        self.session.execute(
            update(m.Item),
            [
                {
                    "id": r.id,
                    "ended_reason": None,
                    "ended_reason_sealed": self.cipher.seal(
                        r.data_key_id, "item", "ended_reason_sealed", r.id, r.ended_reason.encode()
                    ),
                }
                for r in rows
            ],
        )
        return len(rows)

    @staticmethod
    def _plain_columns(data: SectionItem) -> dict[str, object]:
        p = data.plain()
        return {
            "kind": p.kind,
            "status": p.status,
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "due_on": p.due_on,
            "checked_on": p.checked_on,
            "level": p.level,
            "category": p.category,
            "audience": p.audience,
            "ref": p.ref,
        }

    def add_entry(
        self,
        nominal_id: uuid.UUID,
        key_id: uuid.UUID,
        entry_id: uuid.UUID,
        entry: ChronologyEntry,
        actor: Actor,
        now: dt.datetime,
        *,
        audience: str | None = None,
        original_id: uuid.UUID | None = None,
    ) -> None:
        """Append an entry; `audience` (comma-separated agencies) hides it from every other agency, like an
        item's. `original_id`: for an amendment or withdrawal, the first version of the entry it corrects."""
        self.session.execute(
            _insert_into(m.ChronologyEntry),
            dict(
                id=entry_id,
                nominal_id=nominal_id,
                occurred_at=entry.occurred_at,
                kind=entry.kind.value,
                amends_id=entry.amends,
                original_id=original_id,
                breach_of=entry.breach_of.value if entry.breach_of else None,
                outcome=entry.outcome.value if entry.outcome else None,
                data_key_id=key_id,
                payload_sealed=self.cipher.seal(
                    key_id, "chronology_entry", "payload_sealed", entry_id, entry.model_dump_json().encode()
                ),
                recorded_by=actor.user_id,
                recorded_agency=_agency(actor),
                recorded_area=_area(actor),
                recorded_at=now,
                audience=audience,
            ),
        )
        if entry.kind in _MOVES_A_VISIT:
            case_facts.visit_written(self.session)  # the record's last visit may move (store/case_facts.py)
        self.write_text_tokens(entry_pieces(entry), entry_id=entry_id)

    def write_record_tokens(self, record: Record) -> None:
        """The record-level tokens (owned by the record's own id) from its identity, aliases and contacts."""
        aliases = [i.data for i in record.items(Section.ALIASES) if isinstance(i.data, Alias)]
        contacts = [i.data for i in record.items(Section.CONTACTS) if isinstance(i.data, Contact)]
        self.write_tokens(record.id, record.id, record_tokens(record.identity, aliases, contacts))

    def refresh_record_tokens(self, nominal_id: uuid.UUID) -> None:
        self.write_record_tokens(self.load(nominal_id, sections=RECORD_TOKEN_SECTIONS, chronology=False))

    def replace_all_tokens(self, records: list[Record]) -> None:
        """Every token of these records recomputed, in two statements for the whole batch (token rebuild)."""
        if not records:
            return
        rows = []
        for record in records:
            aliases = [i.data for i in record.items(Section.ALIASES) if isinstance(i.data, Alias)]
            contacts = [i.data for i in record.items(Section.CONTACTS) if isinstance(i.data, Contact)]
            owned: list[tuple[uuid.UUID | None, list[Token]]] = [
                (None, record.identity.tokens()),
                (record.id, record_tokens(record.identity, aliases, contacts)),
            ]
            owned += [(item.id, item.data.tokens()) for items in record.sections.values() for item in items]
            rows += [
                {
                    "nominal_id": record.id,
                    "item_id": owner,
                    "kind": kind,
                    "token": self.blind.token(kind, value),
                }
                for owner, tokens in owned
                for kind, value in dict.fromkeys(tokens)
            ]
        self.session.execute(delete(m.BlindToken).where(m.BlindToken.nominal_id.in_([r.id for r in records])))
        if rows:
            self.session.execute(insert(cast(Table, m.BlindToken.__table__)), rows)
        # The word tokens of every item and chronology entry (those that have some; an owner without any
        # keeps none)
        ids = [r.id for r in records]
        self.session.execute(
            delete(m.TextToken).where(
                m.TextToken.item_id.in_(select(m.Item.id).where(m.Item.nominal_id.in_(ids)))
            )
        )
        self.session.execute(
            delete(m.TextToken).where(
                m.TextToken.entry_id.in_(
                    select(m.ChronologyEntry.id).where(m.ChronologyEntry.nominal_id.in_(ids))
                )
            )
        )
        words = [
            row
            for record in records
            for items in record.sections.values()
            for item in items
            for row in text_token_rows(self.blind, item_pieces(item.data), item_id=item.id)
        ] + [
            row
            for record in records
            for entry in record.chronology
            for row in text_token_rows(self.blind, entry_pieces(entry.data), entry_id=entry.id)
        ]
        if words:
            self.session.execute(insert(cast(Table, m.TextToken.__table__)), words)

    def write_text_tokens(
        self,
        pieces: Sequence[tuple[str, str]],
        *,
        item_id: uuid.UUID | None = None,
        entry_id: uuid.UUID | None = None,
        replace: bool = False,
    ) -> None:
        """The word tokens of one item or entry, in the same transaction as the item or entry itself."""
        if replace and item_id is not None:
            self.session.execute(delete(m.TextToken).where(m.TextToken.item_id == item_id))
        rows = text_token_rows(self.blind, pieces, item_id=item_id, entry_id=entry_id)
        if rows:
            self.session.execute(_insert_into(m.TextToken), rows)

    def write_tokens(self, nominal_id: uuid.UUID, item_id: uuid.UUID | None, tokens: list[Token]) -> None:
        owner = m.BlindToken.item_id.is_(None) if item_id is None else m.BlindToken.item_id == item_id
        self.session.execute(delete(m.BlindToken).where(m.BlindToken.nominal_id == nominal_id, owner))
        rows = [
            {
                "nominal_id": nominal_id,
                "item_id": item_id,
                "kind": kind,
                "token": self.blind.token(kind, value),
            }
            for kind, value in dict.fromkeys(tokens)
        ]
        if rows:
            self.session.execute(insert(m.BlindToken), rows)

    # ------------------------------------------------------------ reads

    def header_row(self, nominal_id: uuid.UUID, *, for_update: bool = False) -> m.Nominal:
        """The record's row. A row this transaction has already read comes from the session's identity map,
        exactly as a second SELECT would have returned it (the ORM does not overwrite a loaded row's
        attributes; the version claim and the ORM's updates keep it current), without the round trip;
        otherwise one SELECT by key. `for_update` always asks the database (and refreshes the row held), and
        locks it."""
        row: m.Nominal | None
        if for_update:
            stmt = select(m.Nominal).where(m.Nominal.id == nominal_id).with_for_update()
            row = self.session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
        elif self.session.identity_map.get(self.session.identity_key(m.Nominal, nominal_id)) is not None:
            row = self.session.get(m.Nominal, nominal_id)
        else:
            # with its data key, kept wrapped, from the same query (decision 60): the read or change that
            # follows opens or seals under it without a round trip of its own
            found = self._with_keys(_header_row(), {"nominal_id": nominal_id}, unwrap=False)
            row = found[0] if found else None
        if row is None:
            raise NotFound("nominal_not_found", f"no nominal {nominal_id}")
        self._held[nominal_id] = row
        return row

    def item_row(
        self,
        nominal_id: uuid.UUID,
        item_id: uuid.UUID,
        audience: Agency | None = None,
        section: str | None = None,
    ) -> m.Item:
        """An item of this record; one hidden from `audience`, or (with `section`) of another section than the
        one the caller was allowed, is reported missing, exactly as if absent (decision 92)."""
        where = [m.Item.id == item_id, m.Item.nominal_id == nominal_id, visible_to(audience)]
        if section is not None:
            where.append(m.Item.section == section)
        row = self.session.scalars(select(m.Item).where(*where)).one_or_none()
        if row is None:
            raise NotFound("item_not_found", f"no item {item_id} on nominal {nominal_id}")
        return row

    def open_item(self, row: m.Item) -> SectionItem:
        model = SECTION_MODELS[Section(row.section)]
        return model.model_validate_json(
            self.cipher.open(row.data_key_id, "item", "payload_sealed", row.id, row.payload_sealed),
            context=TRUSTED,
        )

    def max_plan_version(self, nominal_id: uuid.UUID) -> int:
        return self.session.execute(  # type: ignore[return-value]  # coalesce(max, 0) is never NULL
            select(func.coalesce(func.max(m.Item.level), 0)).where(
                m.Item.nominal_id == nominal_id, m.Item.section == Section.RISK_PLANS.value
            )
        ).scalar_one()

    def entry_row(
        self, nominal_id: uuid.UUID, entry_id: uuid.UUID, audience: Agency | None = None
    ) -> Any | None:
        """(id, audience) of a chronology entry of this record that `audience` may see; None when absent or
        hidden."""
        return self.session.execute(
            select(
                m.ChronologyEntry.id,
                m.ChronologyEntry.audience,
                m.ChronologyEntry.kind,
                m.ChronologyEntry.original_id,
                m.ChronologyEntry.breach_of,
                m.ChronologyEntry.outcome,
            ).where(
                and_(m.ChronologyEntry.id == entry_id, m.ChronologyEntry.nominal_id == nominal_id),
                entry_visible_to(audience),
            )
        ).first()

    def entry_kind(self, nominal_id: uuid.UUID, entry_id: uuid.UUID) -> str:
        """The kind of a chronology entry of this record (its first version's, for a corrected one)."""
        return str(
            self.session.scalar(
                select(m.ChronologyEntry.kind).where(
                    m.ChronologyEntry.id == entry_id, m.ChronologyEntry.nominal_id == nominal_id
                )
            )
        )

    def entry_exists(
        self, nominal_id: uuid.UUID, entry_id: uuid.UUID, audience: Agency | None = None
    ) -> bool:
        return self.entry_row(nominal_id, entry_id, audience) is not None

    def load_many(
        self, nominal_ids: list[uuid.UUID], *, sections: set[Section] | None = None, chronology: bool = False
    ) -> list[Record]:
        """Many records at once in four or five queries, for the indexer, reindexing and sweeps."""
        if not nominal_ids:
            return []
        rows = self.session.scalars(select(m.Nominal).where(m.Nominal.id.in_(nominal_ids), NOT_ERASED)).all()
        # Plain rows, not ORM objects: a sweep reads millions of them and never changes one.
        item_q = (
            select(*m.Item.__table__.c)
            .where(m.Item.nominal_id.in_(nominal_ids))
            .order_by(m.Item.nominal_id, m.Item.section, m.Item.recorded_at, m.Item.id)
        )
        if sections is not None:
            item_q = item_q.where(m.Item.section.in_([s.value for s in sections]))
        items = self.session.execute(item_q).all()
        entries = (
            self.session.execute(
                select(*m.ChronologyEntry.__table__.c)
                .where(m.ChronologyEntry.nominal_id.in_(nominal_ids))
                .order_by(
                    m.ChronologyEntry.nominal_id, m.ChronologyEntry.occurred_at, m.ChronologyEntry.recorded_at
                )
            ).all()
            if chronology
            else []
        )
        self.cipher.load(
            {r.data_key_id for r in rows} | {i.data_key_id for i in items} | {e.data_key_id for e in entries}
        )
        # Plain rows with the models' columns (see above), read as if they were the models.
        by_nominal: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for i in items:
            by_nominal[i.nominal_id].append(i)
        timeline: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for e in entries:
            timeline[e.nominal_id].append(e)
        return [self._assemble(row, by_nominal.get(row.id, []), timeline.get(row.id, [])) for row in rows]

    def load_opened(self, nominal_ids: list[uuid.UUID], sections: Collection[Section]) -> list[OpenedRecord]:
        """Many records as their plain columns and opened (decrypted, not parsed) payloads, in id order: the
        current items of `sections` and every chronology entry. For the search index, which needs a few fields
        of each payload and no domain objects (what was written was validated then). Three queries and one
        for the data keys, each key unwrapped once."""
        if not nominal_ids:
            return []
        n, i, e = m.Nominal, m.Item, m.ChronologyEntry
        # The ids come as text, which is all a document and the associated data need: on PostgreSQL the
        # server's own text, 0.5 µs a value against 2.8 for a UUID object made by the driver, formatted again
        # for its associated data and hashed in Python code at each lookup (decision 83).
        text_id = _pg_text_id if self.session.get_bind().dialect.name == "postgresql" else _text_id
        rows = self.session.execute(
            select(
                text_id(n.id).label("id"),
                n.version,
                n.status,
                n.nominal_type,
                n.area,
                n.managing_unit,
                n.lead_agency,
                n.mappa_category,
                n.mappa_level,
                n.restricted,
                text_id(n.data_key_id).label("data_key_id"),
                n.identity_sealed,
            )
            .where(n.id.in_(nominal_ids), NOT_ERASED)
            .order_by(n.id)
        ).all()
        items: Sequence[Any] = self.session.execute(
            select(text_id(i.id), text_id(i.nominal_id), i.section, text_id(i.data_key_id), i.payload_sealed)
            .where(
                i.nominal_id.in_(nominal_ids),
                i.ended_at.is_(None),
                i.section.in_(sorted(s.value for s in sections)),
            )
            .order_by(i.nominal_id, i.section, i.recorded_at, i.id)
        ).all()
        entries: Sequence[Any] = self.session.execute(
            select(text_id(e.id), text_id(e.nominal_id), e.audience, text_id(e.data_key_id), e.payload_sealed)
            .where(e.nominal_id.in_(nominal_ids))
            .order_by(e.nominal_id, e.occurred_at, e.recorded_at)
        ).all()
        key_ids = {r.data_key_id for r in rows} | {r[3] for r in items} | {r[3] for r in entries}
        self.cipher.load(uuid.UUID(k) for k in key_ids)
        open_identity = self.cipher.opener("nominal", "identity_sealed")
        opened = {r.id: OpenedRecord(r, open_identity(r.data_key_id, r.id, r.identity_sealed)) for r in rows}
        open_item = self.cipher.opener("item", "payload_sealed")
        for item_id, nominal_id, section, key_id, sealed in items:
            record = opened.get(nominal_id)
            if record is not None:
                record.items.append((section, open_item(key_id, item_id, sealed)))
        open_entry = self.cipher.opener("chronology_entry", "payload_sealed")
        for entry_id, nominal_id, audience, key_id, sealed in entries:
            record = opened.get(nominal_id)
            if record is not None:
                record.entries.append((audience, open_entry(key_id, entry_id, sealed)))
        return list(opened.values())

    def load(
        self,
        nominal_id: uuid.UUID,
        *,
        sections: set[Section] | None = None,
        chronology: bool = True,
        audience: Agency | None = None,
    ) -> Record:
        """The record, or the given sections of it, with only the items and chronology entries `audience` may
        see."""
        row = self.header_row(nominal_id)
        if row.status == NominalStatus.ERASED.value:
            raise Gone(
                "record_erased",
                f"the personal content of record {nominal_id} was erased on {row.erased_on} under the "
                "retention schedule; only its tombstone remains",
            )
        # Plain rows with the models' columns, read as if they were the models (as `load_many` does):
        # building ORM objects for a record's 55 items and entries, which a read never changes, was an eighth
        # of a read's CPU (py-spy, 100,000 people).
        wanted: dict[str, Any] = {"nominal_id": nominal_id}
        if sections is not None:
            wanted["sections"] = [s.value for s in sections]
        items: Sequence[Any] = (
            self.session.execute(_item_rows(audience, sections is not None), wanted).all()
            if sections is None or sections
            else []
        )
        entries: Sequence[Any] = (
            self.session.execute(_entry_rows(audience), wanted).all() if chronology else []
        )
        self.cipher.load(
            {row.data_key_id} | {i.data_key_id for i in items} | {e.data_key_id for e in entries}
        )

        return self._assemble(row, items, entries)

    def _assemble(
        self, row: m.Nominal, items: Sequence[m.Item], entries: Sequence[m.ChronologyEntry]
    ) -> Record:
        """Decrypt and build a Record from its rows (the data keys are already loaded)."""
        identity = Identity.model_validate_json(
            self.cipher.open(row.data_key_id, "nominal", "identity_sealed", row.id, row.identity_sealed),
            context=TRUSTED,
        )
        grouped: dict[Section, list[StoredItem]] = defaultdict(list)
        for i in items:
            section = Section(i.section)
            grouped[section].append(
                StoredItem(
                    id=i.id,
                    section=section,
                    data=self.open_item(i),
                    recorded_by=i.recorded_by,
                    recorded_agency=i.recorded_agency,
                    recorded_at=i.recorded_at,
                    updated_at=i.updated_at,
                    ended_at=i.ended_at,
                    ended_reason=ended_reason(self.cipher, i),
                    merged_from=i.merged_from_id,
                )
            )
        timeline = [
            StoredEntry(
                id=e.id,
                data=ChronologyEntry.model_validate_json(
                    self.cipher.open(
                        e.data_key_id, "chronology_entry", "payload_sealed", e.id, e.payload_sealed
                    ),
                    context=TRUSTED,
                ),
                recorded_by=e.recorded_by,
                recorded_agency=e.recorded_agency,
                recorded_at=e.recorded_at,
                merged_from=e.merged_from_id,
                audience=e.audience,
            )
            for e in entries
        ]
        return Record(
            id=row.id,
            version=row.version,
            status=NominalStatus(row.status),
            header=Header.model_validate(
                {
                    "nominal_type": row.nominal_type,
                    "area": row.area,
                    "managing_unit": row.managing_unit,
                    "lead_agency": row.lead_agency,
                    "mappa_category": row.mappa_category,
                    "mappa_level": row.mappa_level,
                    "restricted": row.restricted,
                }
            ),
            identity=identity,
            created_at=row.created_at,
            updated_at=row.updated_at,
            merged_into=row.merged_into_id,
            sections=dict(grouped),
            chronology=timeline,
        )
