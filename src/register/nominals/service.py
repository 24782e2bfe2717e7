"""Use cases on records. Each runs inside the caller's unit of work and flushes; the caller commits.

Every use case writes its audit event (and, for changes, an outbox row for the
search index) in the same transaction as the change itself. Authorisation is the
access policy's job (the API issue) before a use case is called; here every call
is attributed to its actor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock, notification, rules
from ..domain.actors import Actor
from ..domain.enums import Agency, BreachOf, ChronologyKind, EventOutcome, NominalStatus
from ..domain.errors import NotFound, RuleViolation
from ..domain.history import entry_moves_figures, item_moves_figures
from ..domain.record import (
    Associate,
    ChronologyEntry,
    Header,
    Identity,
    LevelChange,
    NewNominal,
    Record,
    RiskPlan,
    Section,
    SectionItem,
)
from ..store import history
from ..store.listing import ListFilters, Summary
from ..store.records import RECORD_TOKEN_SECTIONS, count_records, id_batches
from ..store.store import Store
from ..store.sweep import Progress, no_progress, sweep
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.cursors import cursors, fingerprint, next_offset


@use_case(Tag.NOMINAL_RECORD_CREATE, Action.COLLECTION)
def create_nominal(
    uow: UnitOfWork, actor: Actor, new: NewNominal, *, request_id: str | None = None
) -> uuid.UUID:
    nominal_id = uuid.uuid4()
    header = Header.model_validate(new.model_dump(exclude={"identity"}))
    uow.nominals.add(nominal_id, header, new.identity, actor, clock.now())
    history.initial(uow.session, nominal_id, actor.user_id, clock.now())
    uow.nominals.refresh_record_tokens(nominal_id)
    uow.audit.record(
        AuditEntry(
            Action.COLLECTION,
            Tag.NOMINAL_RECORD_CREATE,
            actor,
            nominal_id=nominal_id,
            request_id=request_id,
            details={"area": header.area.value, "nominal_type": header.nominal_type.value},
        )
    )
    return nominal_id


@use_case(Tag.NOMINAL_RECORD_READ, Action.CONSULTATION)
def read_record(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    *,
    purpose: str | None,
    request_id: str | None = None,
    sections: set[Section] | None = None,
    chronology: bool | None = None,
    audience: Agency | None = None,
) -> Record:
    """Read a whole record (or some sections), audited as a consultation with its purpose.

    Items whose audience excludes `audience` are left out, as if absent.
    """
    with_chronology = sections is None if chronology is None else chronology
    record = uow.nominals.load(nominal_id, sections=sections, chronology=with_chronology, audience=audience)
    what = (
        sorted(s.value for s in sections) + (["chronology"] if with_chronology else [])
        if sections is not None
        else "all"
    )
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_RECORD_READ,
            actor,
            nominal_id=nominal_id,
            purpose=purpose,
            request_id=request_id,
            details={"sections": what},
        )
    )
    return record


@use_case(Tag.NOMINAL_RECORD_STUB, Action.CONSULTATION)
def restricted_stub(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    owning_area: str,
    *,
    purpose: str | None,
    request_id: str | None = None,
) -> dict[str, object]:
    """What a restricted record shows outside its owning area. Showing it is itself a consultation."""
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_RECORD_STUB,
            actor,
            nominal_id=nominal_id,
            purpose=purpose,
            request_id=request_id,
        )
    )
    return {
        "id": nominal_id,
        "restricted": True,
        "owning_area": owning_area,
        "message": "restricted record: contact the owning area",
    }


@use_case(Tag.NOMINAL_RECORD_LIST, Action.CONSULTATION)
def list_records(
    uow: UnitOfWork,
    actor: Actor,
    filters: ListFilters,
    *,
    limit: int,
    cursor: str | None = None,
    request_id: str | None = None,
) -> tuple[list[Summary], int, str | None]:
    """A page of the area's records or the caller's caseload, after `cursor` (usecase/cursors.py), with the
    total and the cursor of the page after (None: the last). Listing names is a consultation of each record
    listed."""
    seal_ = cursors(uow, "records")
    bound = fingerprint({k: v for k, v in dataclasses.asdict(filters).items() if k != "today"})
    offset = seal_.open(cursor, bound)
    rows, total = uow.nominals.page(filters, limit=limit, offset=offset)
    record_listing(
        uow,
        actor,
        filters,
        page=offset // limit + 1,
        total=total,
        ids=[r.id for r in rows],
        request_id=request_id,
    )
    return rows, total, next_offset(seal_, offset, len(rows), total, bound)


def record_listing(
    uow: UnitOfWork,
    actor: Actor,
    filters: ListFilters,
    *,
    page: int,
    total: int,
    ids: list[uuid.UUID],
    request_id: str | None = None,
) -> None:
    """Audit a list of records shown (by the API's list or the caseload page) as one consultation naming
    each."""
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_RECORD_LIST,
            actor,
            request_id=request_id,
            details={
                "area": filters.area.value,
                "caseload": filters.caseload_user is not None,
                "page": page,
                "total": total,
                "ids": [str(i) for i in ids],
            },
        )
    )


def _begin_change(
    uow: UnitOfWork, actor: Actor, nominal_id: uuid.UUID, expected_version: int, *, quiet: bool = False
):
    row = uow.nominals.header_row(nominal_id)
    rules.ensure_editable(NominalStatus(row.status))
    version = uow.nominals.claim_version(nominal_id, expected_version, actor, clock.now(), quiet=quiet)
    return row, version


def _check_links(uow: UnitOfWork, nominal_id: uuid.UUID, item: SectionItem) -> None:
    """A link between nominals must point at another record that exists."""
    if isinstance(item, Associate) and item.linked_nominal_id is not None:
        if item.linked_nominal_id == nominal_id:
            raise RuleViolation(
                "associate_self_link", "a record cannot be its own associate", "linked_nominal_id"
            )
        try:
            uow.nominals.header_row(item.linked_nominal_id)
        except NotFound:
            raise NotFound(
                "linked_nominal_not_found", f"no nominal {item.linked_nominal_id}", "linked_nominal_id"
            ) from None


@use_case(lambda a: Tag.section_item(a["item"].section, "add"), Action.COLLECTION)
def add_item(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    item: SectionItem,
    *,
    expected_version: int,
    request_id: str | None = None,
) -> tuple[uuid.UUID, int]:
    quiet = not item_moves_figures(item.section.value)  # decision 91
    row, version = _begin_change(uow, actor, nominal_id, expected_version, quiet=quiet)
    _check_links(uow, nominal_id, item)
    if isinstance(item, RiskPlan):
        item = item.model_copy(update={"version": uow.nominals.max_plan_version(nominal_id) + 1})
    item_id = uuid.uuid4()
    uow.nominals.add_item(nominal_id, row.data_key_id, item_id, item, actor, clock.now())
    if isinstance(item, LevelChange):
        _apply_level_history(uow, nominal_id, item)
    history.from_item(uow.session, nominal_id, item_id, actor.user_id, clock.now())
    refresh_derived(uow, nominal_id, item.section)
    uow.audit.record(
        AuditEntry(
            Action.COLLECTION,
            Tag.section_item(item.section, "add"),
            actor,
            nominal_id=nominal_id,
            section=item.section.value,
            item_id=item_id,
            request_id=request_id,
        )
    )
    return item_id, version


def _apply_level_history(uow: UnitOfWork, nominal_id: uuid.UUID, change: LevelChange) -> None:
    record = uow.nominals.load(nominal_id, sections={Section.MAPPA_LEVELS}, chronology=False)
    rules.check_level_change(record.header, change)
    history = [
        i.data
        for i in record.items(Section.MAPPA_LEVELS)
        if i.ended_at is None and isinstance(i.data, LevelChange)
    ]
    header = rules.current_level(record.header, history, clock.now().date())
    if header != record.header:
        uow.nominals.set_header(nominal_id, header)


NOTIFICATION_INPUTS = {Section.OFFENCES, Section.ORDERS, Section.ADDRESSES}


def refresh_notification(
    uow: UnitOfWork, record: Record, today: dt.date | None = None
) -> notification.Notification:
    """Recompute the record's derived notification dates and keep them in its plain columns."""
    derived = notification.of_record(record, today or dt.date.today())
    uow.nominals.set_notification(record.id, derived)
    history.notification_end(uow.session, record.id, derived.ends_on, "register:notification", clock.now())
    return derived


def refresh_derived(uow: UnitOfWork, nominal_id: uuid.UUID, changed: Section | str | None) -> None:
    """Recompute what is derived from the record after a change to `changed` (a section, "chronology", or None
    for the identity or the whole record): notification dates and the record-level duplicate tokens, with one
    read."""
    notification = changed is None or changed == "chronology" or changed in NOTIFICATION_INPUTS
    tokens = changed is None or changed in RECORD_TOKEN_SECTIONS
    if not (notification or tokens):
        return
    sections = (set(NOTIFICATION_INPUTS) if notification else set()) | (
        set(RECORD_TOKEN_SECTIONS) if tokens else set()
    )
    record = uow.nominals.load(nominal_id, sections=sections, chronology=notification)
    if notification:
        refresh_notification(uow, record)
    if tokens:
        uow.nominals.write_record_tokens(record)


@use_case(lambda a: Tag.section_item(a["item"].section, "correct"), Action.ALTERATION)
def correct_item(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    item_id: uuid.UUID,
    item: SectionItem,
    *,
    expected_version: int,
    request_id: str | None = None,
    audience: Agency | None = None,
) -> int:
    """Correct an item of `item`'s section. An item of another section answers as a missing one: the caller
    was allowed this section, not that one, and may not learn what the other holds (decision 92)."""
    quiet = not item_moves_figures(item.section.value)  # decision 91
    row, version = _begin_change(uow, actor, nominal_id, expected_version, quiet=quiet)
    existing = uow.nominals.item_row(nominal_id, item_id, audience, section=item.section.value)
    _check_links(uow, nominal_id, item)
    before = uow.nominals.open_item(existing)
    changed = sorted(k for k in type(item).model_fields if getattr(before, k) != getattr(item, k))
    uow.nominals.replace_item(nominal_id, row.data_key_id, item_id, item, actor, clock.now())
    history.from_item(uow.session, nominal_id, item_id, actor.user_id, clock.now())
    refresh_derived(uow, nominal_id, item.section)
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.section_item(item.section, "correct"),
            actor,
            nominal_id=nominal_id,
            section=item.section.value,
            item_id=item_id,
            request_id=request_id,
            details={"fields": changed},
        )
    )
    return version


@use_case(lambda a: Tag.section_item(a["section"], "end"), Action.ALTERATION)
def end_item(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    item_id: uuid.UUID,
    reason: str,
    *,
    expected_version: int,
    request_id: str | None = None,
    audience: Agency | None = None,
    section: Section | None = None,
) -> int:
    """End an item (it stays in the record's history). `section`: the section the caller named and was
    allowed; an item of another section answers as a missing one (decision 92)."""
    quiet = section is not None and not item_moves_figures(section.value)  # decision 91
    row, version = _begin_change(uow, actor, nominal_id, expected_version, quiet=quiet)
    existing = uow.nominals.item_row(
        nominal_id, item_id, audience, section=None if section is None else section.value
    )
    if existing.ended_at is not None:
        raise RuleViolation("item_already_ended", f"item {item_id} was ended on {existing.ended_at:%Y-%m-%d}")
    uow.nominals.end_item(nominal_id, item_id, reason, actor, clock.now())
    history.from_item(uow.session, nominal_id, item_id, actor.user_id, clock.now())
    refresh_derived(uow, nominal_id, Section(existing.section))
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.section_item(existing.section, "end"),
            actor,
            nominal_id=nominal_id,
            section=existing.section,
            item_id=item_id,
            request_id=request_id,
            sensitive={"reason": reason},
        )
    )
    return version


@use_case(Tag.NOMINAL_IDENTITY_CORRECT, Action.ALTERATION)
def correct_identity(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    identity: Identity,
    *,
    expected_version: int,
    request_id: str | None = None,
) -> int:
    row, version = _begin_change(uow, actor, nominal_id, expected_version)
    uow.nominals.set_identity(nominal_id, row.data_key_id, identity)
    refresh_derived(uow, nominal_id, None)  # the date of birth decides whether periods are halved
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.NOMINAL_IDENTITY_CORRECT,
            actor,
            nominal_id=nominal_id,
            section="identity",
            request_id=request_id,
        )
    )
    return version


@use_case(Tag.NOMINAL_CHRONOLOGY_APPEND, Action.COLLECTION)
def append_chronology(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    entry: ChronologyEntry,
    *,
    expected_version: int,
    request_id: str | None = None,
    audience: Agency | None = None,
) -> tuple[uuid.UUID, int]:
    """Append to the timeline. A correction is an AMENDMENT entry naming the entry it amends on this record;
    an entry hidden from `audience` cannot be amended (it answers like a missing one), and an amendment is
    seen by exactly those who see the entry it amends. A new entry of a kind no annual figure reads (a
    contact, a home visit) leaves the statistics' kept figures standing (decision 91)."""
    quiet = not entry_moves_figures(entry.kind.value, corrects=entry.amends is not None)
    row, version = _begin_change(uow, actor, nominal_id, expected_version, quiet=quiet)
    inherited = None
    original = None
    if entry.amends is not None:
        amended = uow.nominals.entry_row(nominal_id, entry.amends, audience)
        if amended is None:
            raise NotFound(
                "amended_entry_not_found", f"no chronology entry {entry.amends} on this record", "amends"
            )
        inherited = amended.audience
        original = amended.original_id or amended.id
        if entry.kind == ChronologyKind.AMENDMENT and entry.breach_of is None and amended.breach_of:
            # an amendment that does not restate what was breached, or the outcome, keeps them
            entry = entry.model_copy(
                update={
                    "breach_of": BreachOf(amended.breach_of),
                    "outcome": entry.outcome or (EventOutcome(amended.outcome) if amended.outcome else None),
                }
            )
    entry_id = uuid.uuid4()
    uow.nominals.add_entry(
        nominal_id,
        row.data_key_id,
        entry_id,
        entry,
        actor,
        clock.now(),
        audience=inherited,
        original_id=original,
    )
    first_kind = entry.kind.value if original is None else uow.nominals.entry_kind(nominal_id, original)
    history.from_entry(
        uow.session,
        nominal_id,
        original or entry_id,
        first_kind,
        None
        if entry.kind == ChronologyKind.WITHDRAWAL
        else (entry.occurred_at, entry.outcome.value if entry.outcome else None),
        actor.user_id,
        clock.now(),
        corrects=original is not None,
    )
    if entry.kind in (ChronologyKind.NOTIFICATION, ChronologyKind.AMENDMENT):
        refresh_derived(uow, nominal_id, "chronology")
    uow.audit.record(
        AuditEntry(
            Action.COLLECTION,
            Tag.NOMINAL_CHRONOLOGY_APPEND,
            actor,
            nominal_id=nominal_id,
            section="chronology",
            item_id=entry_id,
            request_id=request_id,
            details={"kind": entry.kind.value, **({"amends": str(entry.amends)} if entry.amends else {})},
        )
    )
    return entry_id, version


def refresh_notifications(store: Store, *, batch: int = 200, progress: Progress = no_progress) -> int:
    """Recompute every record's derived notification dates (after an upgrade or a change in the rules)."""

    def step(uow: UnitOfWork, ids: list[uuid.UUID]) -> int:
        for record in uow.nominals.load_many(
            ids, sections=set(NOTIFICATION_INPUTS) | {Section.ALIASES}, chronology=True
        ):
            refresh_notification(uow, record)
        return len(ids)

    return sweep(
        store,
        id_batches(store.session_factory, batch),
        step,
        total=count_records(store.session_factory),
        progress=progress,
    )
