"""Duplicates, merge and unmerge. s.62 calls a merge a "combination": each is audited on both records.

A merge moves rows, it does not copy them: every item and chronology entry of the duplicate is re-pointed at
the survivor and marked with where it came from (still sealed under the duplicate's data key, which the
survivor's reads load like any other). The duplicate keeps its identity and becomes a tombstone pointing at
the survivor. Unmerge moves exactly the marked rows back, removes the aliases the merge created, and reports
what was written on the survivor since. Everything happens in the caller's one transaction: a failure half-way
leaves nothing done.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select, update

from ..access.policy import Policy, RecordFacts
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock
from ..domain import merge as merging
from ..domain.actors import Actor, Principal
from ..domain.enums import Agency, Area, ChronologyKind, NominalStatus
from ..domain.errors import ConcurrencyConflict, NotFound, RuleViolation
from ..domain.record import ChronologyEntry, Record, Section, StoredItem
from ..nominals import service as nominals
from ..store import models as m
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.cursors import cursors, fingerprint, next_offset
from ..usecase.views import RecordOut
from . import repository
from .schemas import (
    CandidateOut,
    CandidatePage,
    ConflictOut,
    Dismissal,
    Merged,
    MergeOut,
    MergePreview,
    MergeSummary,
    Side,
    Unmerged,
)


def _check(
    uow: UnitOfWork, actor: Principal, survivor: m.Nominal, merged: m.Nominal, purpose: str | None
) -> None:
    # Another area's record is seen only with a purpose (the policy's rule for every route that reveals one):
    # without one it answers exactly like a missing record, so the pair's checks below never tell its status
    # or its area.
    if merged.area != actor.area.value and not (purpose or "").strip():
        raise NotFound("nominal_not_found", f"no nominal {merged.id}", "merged_id")
    merging.check_pair(
        survivor.id,
        survivor.status,
        survivor.area,
        survivor.merged_into_id,
        merged.id,
        merged.status,
        merged.area,
        repository.active_merge_as_survivor(uow.session, merged.id),
    )
    pending = uow.session.execute(
        select(m.Transfer.nominal_id).where(
            m.Transfer.nominal_id.in_([survivor.id, merged.id]), m.Transfer.status == "pending"
        )
    ).first()
    if pending:
        raise RuleViolation(
            "merge_transfer_pending", f"record {pending.nominal_id} has a transfer pending: decide it first"
        )


def _combined(survivor: Record, merged: Record, aliases: list[StoredItem]) -> Record:
    sections: dict[Section, list[StoredItem]] = defaultdict(list)
    for section, items in survivor.sections.items():
        sections[section].extend(items)
    for section, items in merged.sections.items():
        sections[section].extend(dataclasses.replace(i, merged_from=merged.id) for i in items)
    sections[Section.ALIASES].extend(aliases)
    chronology = sorted(
        [*survivor.chronology, *(dataclasses.replace(e, merged_from=merged.id) for e in merged.chronology)],
        key=lambda e: (e.data.occurred_at, e.recorded_at),
    )
    return dataclasses.replace(survivor, sections=dict(sections), chronology=chronology)


def _conflicts(plan: merging.MergePlan) -> list[ConflictOut]:
    return [ConflictOut(field=c.field, survivor=c.survivor, merged=c.merged) for c in plan.conflicts]


@use_case(Tag.NOMINAL_RECORD_MERGE_PREVIEW, Action.CONSULTATION)
def preview(
    uow: UnitOfWork,
    actor: Principal,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    *,
    audience: Agency | None,
    purpose: str | None = None,
    request_id: str | None = None,
) -> MergePreview:
    """The survivor as it would read after the merge, with the conflicts. Reading both records is a
    consultation."""
    s_row, m_row = uow.nominals.header_row(survivor_id), uow.nominals.header_row(merged_id)
    _check(uow, actor, s_row, m_row, purpose)
    survivor = uow.nominals.load(survivor_id, audience=audience)
    merged = uow.nominals.load(merged_id, audience=audience)
    plan = merging.plan(survivor, merged, dt.date.today())
    now = clock.now()
    aliases = [
        StoredItem(
            id=uuid.uuid4(),
            section=Section.ALIASES,
            data=a,
            recorded_by=actor.user_id,
            recorded_agency=actor.agency.value,
            recorded_at=now,
            updated_at=now,
            merged_from=merged_id,
        )
        for a in plan.aliases
    ]
    for nominal_id, side in ((survivor_id, "survivor"), (merged_id, "merged")):
        uow.audit.record(
            AuditEntry(
                Action.CONSULTATION,
                Tag.NOMINAL_RECORD_MERGE_PREVIEW,
                actor,
                nominal_id=nominal_id,
                request_id=request_id,
                details={"side": side, "survivor": str(survivor_id), "merged": str(merged_id)},
            )
        )
    return MergePreview(
        survivor_id=survivor_id,
        survivor_version=survivor.version,
        merged_id=merged_id,
        merged_version=merged.version,
        rule=repository.rule_for(uow.session, survivor_id, merged_id),
        conflicts=_conflicts(plan),
        aliases_added=[a.model_dump(mode="json") for a in plan.aliases],
        items_moved=plan.moved_items,
        entries_moved=plan.moved_entries,
        combined=RecordOut.of(_combined(survivor, merged, aliases)),
    )


def _lock_pair(uow: UnitOfWork, a: uuid.UUID, b: uuid.UUID) -> dict[uuid.UUID, m.Nominal]:
    """Both rows locked for the transaction, always in id order so two merges of one pair cannot deadlock."""
    return {i: uow.nominals.header_row(i, for_update=True) for i in sorted((a, b))}


@use_case(Tag.NOMINAL_RECORD_MERGE, Action.COMBINATION)
def merge(
    uow: UnitOfWork,
    actor: Principal,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    *,
    expected_version: int,
    merged_version: int,
    audience: Agency | None = None,
    purpose: str | None = None,
    request_id: str | None = None,
    reason: str | None = None,
) -> Merged:
    """Merge `merged_id` into `survivor_id`. Every row moves; the counts reported are of what `audience` may
    see (as in the preview), the audit log has the true counts. A `reason` is kept (sealed) as a chronology
    note on the survivor."""
    rows = _lock_pair(uow, survivor_id, merged_id)
    s_row, m_row = rows[survivor_id], rows[merged_id]
    _check(uow, actor, s_row, m_row, purpose)
    status_before, key_id, area = (
        m_row.status,
        s_row.data_key_id,
        s_row.area,
    )  # (ORM updates below refresh these rows)
    if m_row.version != merged_version:
        raise ConcurrencyConflict(
            "version_stale",
            f"the record to merge is at version {m_row.version}, not {merged_version}: preview again",
        )
    survivor = uow.nominals.load(survivor_id, audience=audience)
    merged = uow.nominals.load(merged_id, audience=audience)
    plan = merging.plan(
        survivor, merged, dt.date.today()
    )  # aliases and conflicts come from sections without audiences
    rule = repository.rule_for(uow.session, survivor_id, merged_id)
    now = clock.now()
    version = uow.nominals.claim_version(survivor_id, expected_version, actor, now)
    uow.nominals.claim_version(merged_id, merged_version, actor, now)
    items, entries = repository.move_rows(uow.session, merged_id, survivor_id)
    added = []
    for alias in plan.aliases:
        item_id = uuid.uuid4()
        uow.nominals.add_item(survivor_id, key_id, item_id, alias, actor, now)
        added.append(str(item_id))
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == merged_id)
        .values(status=NominalStatus.MERGED.value, merged_into_id=survivor_id)
    )
    merge_id = uuid.uuid4()
    uow.session.execute(
        insert(m.Merge).values(
            id=merge_id,
            survivor_id=survivor_id,
            merged_id=merged_id,
            area=area,
            status="merged",
            merged_status_before=status_before,
            added_item_ids=json.dumps(added),
            rule=rule,
            merged_by=actor.user_id,
            merged_at=now,
            data_key_id=key_id,
        )
    )
    if reason:
        entry = ChronologyEntry(
            occurred_at=now, kind=ChronologyKind.OTHER, summary="Duplicate record merged in", details=reason
        )
        uow.nominals.add_entry(survivor_id, key_id, uuid.uuid4(), entry, actor, now)
    _refresh(uow, survivor_id, merged_id)
    details: dict[str, object] = {
        "merge": str(merge_id),
        "reason_given": bool(reason),
        "survivor": str(survivor_id),
        "merged": str(merged_id),
        "rule": rule,
        "items_moved": items,
        "entries_moved": entries,
        "aliases_added": len(added),
        "conflicts": [c.field for c in plan.conflicts],
    }
    _both(uow, actor, Tag.NOMINAL_RECORD_MERGE, survivor_id, merged_id, request_id, details)
    return Merged(
        id=merge_id,
        version=version,
        items_moved=plan.moved_items,
        entries_moved=plan.moved_entries,
        conflicts=_conflicts(plan),
    )


def _refresh(uow: UnitOfWork, *ids: uuid.UUID) -> None:
    """What is derived from a record's items: notification dates and the record-level duplicate tokens."""
    for nominal_id in ids:
        nominals.refresh_derived(uow, nominal_id, None)


def _both(
    uow: UnitOfWork,
    actor: Principal,
    tag: Tag,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    request_id: str | None,
    details: dict[str, object],
) -> None:
    for nominal_id, side in ((survivor_id, "survivor"), (merged_id, "merged")):
        uow.audit.record(
            AuditEntry(
                Action.COMBINATION,
                tag,
                actor,
                nominal_id=nominal_id,
                request_id=request_id,
                details={"side": side, **details},
            )
        )


def get(uow: UnitOfWork, nominal_id: uuid.UUID, merge_id: uuid.UUID) -> m.Merge:
    row = uow.session.get(m.Merge, merge_id)
    if row is None or nominal_id not in (row.survivor_id, row.merged_id):
        raise NotFound("merge_not_found", f"no merge {merge_id} of record {nominal_id}")
    return row


@use_case(Tag.NOMINAL_RECORD_UNMERGE, Action.COMBINATION)
def unmerge(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    merge_id: uuid.UUID,
    reason: str,
    *,
    expected_version: int,
    audience: Agency | None = None,
    request_id: str | None = None,
) -> Unmerged:
    """Undo a merge. What is reported (additions and changes since, counts returned) is what `audience` may
    see; the audit log records all of it."""
    row = get(uow, nominal_id, merge_id)
    if row.survivor_id != nominal_id:
        raise RuleViolation("unmerge_from_survivor", f"unmerge from the surviving record {row.survivor_id}")
    rows = _lock_pair(uow, row.survivor_id, row.merged_id)
    # The status is re-read under the lock: of two unmerges at once, the second sees "unmerged".
    uow.session.refresh(row)
    if row.status != "merged":
        raise RuleViolation(
            "merge_already_undone", f"merge {merge_id} was undone on {row.unmerged_at:%Y-%m-%d}"
        )
    if NominalStatus.ERASED.value in (rows[row.survivor_id].status, rows[row.merged_id].status):
        raise RuleViolation(
            "record_erased",
            "the records were erased under the retention schedule: there is nothing to unmerge",
        )
    survivor_id, merged_id = row.survivor_id, row.merged_id
    added_since = repository.added_since(uow.session, survivor_id, row)
    changed_since = repository.changed_since(uow.session, merged_id, row)
    shown_added = repository.added_since(uow.session, survivor_id, row, audience)
    shown_changed = repository.changed_since(uow.session, merged_id, row, audience)
    shown_items, shown_entries = repository.came_from(uow.session, survivor_id, merged_id, audience)
    now = clock.now()
    version = uow.nominals.claim_version(survivor_id, expected_version, actor, now)
    merged_version = uow.nominals.claim_version(merged_id, rows[merged_id].version, actor, now)
    created = [uuid.UUID(i) for i in json.loads(row.added_item_ids)]
    if created:
        uow.session.execute(delete(m.BlindToken).where(m.BlindToken.item_id.in_(created)))
        uow.session.execute(delete(m.Item).where(m.Item.id.in_(created), m.Item.nominal_id == survivor_id))
    items, entries = repository.move_back(uow.session, merged_id, survivor_id)
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == merged_id)
        .values(status=row.merged_status_before, merged_into_id=None)
    )
    sealed = uow.cipher.seal(row.data_key_id, "merge", "unmerge_reason_sealed", merge_id, reason.encode())
    uow.session.execute(
        update(m.Merge)
        .where(m.Merge.id == merge_id)
        .values(status="unmerged", unmerged_by=actor.user_id, unmerged_at=now, unmerge_reason_sealed=sealed)
    )
    repository.dismiss(
        uow.session, uow.cipher, survivor_id, merged_id, "unmerged", reason, actor.user_id, now
    )
    _refresh(uow, survivor_id, merged_id)
    _both(
        uow,
        actor,
        Tag.NOMINAL_RECORD_UNMERGE,
        survivor_id,
        merged_id,
        request_id,
        {
            "merge": str(merge_id),
            "survivor": str(survivor_id),
            "merged": str(merged_id),
            "reason_given": True,
            "items_returned": items,
            "entries_returned": entries,
            "added_since": [a["id"] for a in added_since],
            "changed_since": [c["id"] for c in changed_since],
        },
    )
    return Unmerged(
        version=version,
        merged_version=merged_version,
        items_returned=shown_items,
        entries_returned=shown_entries,
        added_since=shown_added,
        changed_since=shown_changed,
    )


@use_case(Tag.NOMINAL_MERGES_READ, Action.CONSULTATION)
def merges_of(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    *,
    purpose: str | None,
    request_id: str | None = None,
) -> list[MergeOut]:
    """The merges a record took part in, either side, with the reasons given for undoing them (a
    consultation)."""
    rows = uow.session.scalars(
        select(m.Merge)
        .where((m.Merge.survivor_id == nominal_id) | (m.Merge.merged_id == nominal_id))
        .order_by(m.Merge.merged_at)
    ).all()
    uow.cipher.load({r.data_key_id for r in rows})
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_MERGES_READ,
            actor,
            nominal_id=nominal_id,
            purpose=purpose,
            request_id=request_id,
            details={"merges": [str(r.id) for r in rows]},
        )
    )
    return [
        MergeOut.model_validate(r, from_attributes=True).model_copy(
            update={
                "unmerge_reason": (
                    uow.cipher.open(
                        r.data_key_id, "merge", "unmerge_reason_sealed", r.id, r.unmerge_reason_sealed
                    ).decode()
                    if r.unmerge_reason_sealed
                    else None
                )
            }
        )
        for r in rows
    ]


WITHHELD = "another area's record: state a purpose to see its details"


@use_case(Tag.NOMINAL_DUPLICATES_LIST, Action.CONSULTATION)
def candidates(
    uow: UnitOfWork,
    actor: Principal,
    policy: Policy,
    *,
    limit: int,
    cursor: str | None = None,
    page: int = 1,
    purpose: str | None = None,
    request_id: str | None = None,
) -> CandidatePage:
    """The suspected duplicates touching the actor's area, strongest rule first.

    Each side shows what the access policy lets the actor read of that record, exactly as a read of it would:
    a record of another area needs a purpose, so without one it shows only its id and owning area (not even
    whether it is restricted); with one, a restricted record elsewhere is a stub and any other shows its name
    and date of birth. Every record of another area shown with its details is audited as a consultation with
    the purpose. The API walks the list by `cursor` (usecase/cursors.py), the web page by page number."""
    seal_ = cursors(uow, "duplicates")
    bound = fingerprint({"area": actor.area.value})
    offset = seal_.open(cursor, bound) if cursor is not None else (page - 1) * limit
    pairs, total = repository.candidates(uow.session, actor.area.value, limit=limit, offset=offset)
    ids = list({i for p in pairs for i in (p.first, p.second)})
    summaries = uow.nominals.summaries(ids)
    consulted: set[uuid.UUID] = set()

    def side(nominal_id: uuid.UUID, area: str) -> Side:
        s = summaries[nominal_id]
        decision = policy.decide(
            actor,
            "record.read",
            record=RecordFacts(area=Area(s.area), restricted=s.restricted),
            purpose=purpose,
        )
        if not decision.allowed:
            return Side(id=nominal_id, area=area, restricted=None, message=WITHHELD)
        if area != actor.area.value:
            consulted.add(nominal_id)
        if decision.stub:
            return Side(id=nominal_id, area=area, restricted=True, message=decision.reason)
        return Side(
            id=nominal_id,
            area=area,
            forenames=s.forenames,
            surname=s.surname,
            date_of_birth=s.date_of_birth,
            restricted=s.restricted,
        )

    items = [
        CandidateOut(rule=p.rule, first=side(p.first, p.first_area), second=side(p.second, p.second_area))
        for p in pairs
    ]
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_DUPLICATES_LIST,
            actor,
            purpose=purpose,
            request_id=request_id,
            details={
                "area": actor.area.value,
                "page": offset // limit + 1,
                "total": total,
                "ids": sorted(map(str, ids)),
            },
        )
    )
    uow.audit.record_many(
        [
            AuditEntry(
                Action.CONSULTATION,
                Tag.NOMINAL_DUPLICATES_LIST,
                actor,
                nominal_id=nominal_id,
                purpose=purpose,
                request_id=request_id,
                details={"listed_as": "duplicate candidate"},
            )
            for nominal_id in sorted(consulted)
        ]
    )
    return CandidatePage(items=items, total=total, next=next_offset(seal_, offset, len(pairs), total, bound))


@use_case(Tag.NOMINAL_DUPLICATES_DISMISS, Action.ALTERATION)
def dismiss(uow: UnitOfWork, actor: Principal, request: Dismissal, *, request_id: str | None = None) -> bool:
    """Mark two records as two people: the cascade never proposes the pair again. Audited on both records."""
    if request.first_id == request.second_id:
        raise RuleViolation("dismiss_self", "a record cannot be a duplicate of itself", "second_id")
    pair = sorted((str(request.first_id), str(request.second_id)))
    created = repository.dismiss(
        uow.session,
        uow.cipher,
        request.first_id,
        request.second_id,
        "not_duplicate",
        request.reason,
        actor.user_id,
        clock.now(),
    )
    for nominal_id in (request.first_id, request.second_id):
        uow.audit.record(
            AuditEntry(
                Action.ALTERATION,
                Tag.NOMINAL_DUPLICATES_DISMISS,
                actor,
                nominal_id=nominal_id,
                request_id=request_id,
                details={"pair": pair, "new": created},
            )
        )
    return created


@use_case(Tag.NOMINAL_DUPLICATES_LIST, Action.CONSULTATION)
def list_pairs(
    uow: UnitOfWork, actor: Actor, area: str, *, limit: int
) -> tuple[list[repository.Candidate], int]:
    """Suspected duplicate pairs touching an area, ids and areas only (the CLI's listing), audited."""
    pairs, total = repository.candidates(uow.session, area, limit=limit, offset=0)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_DUPLICATES_LIST,
            actor,
            details={
                "area": area,
                "total": total,
                "ids": sorted({str(i) for p in pairs for i in (p.first, p.second)}),
            },
        )
    )
    return pairs, total


def _name(summaries: dict[uuid.UUID, Any], nominal_id: uuid.UUID) -> str:
    s = summaries.get(nominal_id)
    return f"{s.surname.upper()}, {s.forenames}" if s is not None else ""


@use_case(Tag.NOMINAL_MERGES_READ, Action.CONSULTATION)
def merge_history(
    uow: UnitOfWork,
    actor: Principal,
    nominal_id: uuid.UUID,
    *,
    purpose: str | None,
    request_id: str | None = None,
) -> list[MergeSummary]:
    """`merges_of` with both records' names (the merges of one record are within its area)."""
    rows = merges_of(uow, actor, nominal_id, purpose=purpose, request_id=request_id)
    summaries = uow.nominals.summaries(list({i for r in rows for i in (r.survivor_id, r.merged_id)}))
    return [
        MergeSummary(
            **r.model_dump(),
            survivor_name=_name(summaries, r.survivor_id),
            merged_name=_name(summaries, r.merged_id),
        )
        for r in rows
    ]


@use_case(Tag.NOMINAL_MERGES_READ, Action.CONSULTATION)
def area_merges(
    uow: UnitOfWork, actor: Principal, *, limit: int = 50, request_id: str | None = None
) -> list[MergeSummary]:
    """The latest merges of the actor's area (merged or undone), newest first, with both records' names
    (merges are within one area, so both are the actor's area's records). One consultation."""
    rows = uow.session.scalars(
        select(m.Merge)
        .where(m.Merge.area == actor.area.value)
        .order_by(m.Merge.merged_at.desc())
        .limit(limit)
    ).all()
    summaries = uow.nominals.summaries(list({i for r in rows for i in (r.survivor_id, r.merged_id)}))
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_MERGES_READ,
            actor,
            request_id=request_id,
            details={"area": actor.area.value, "merges": [str(r.id) for r in rows]},
        )
    )
    return [
        MergeSummary(
            **MergeOut.model_validate(r, from_attributes=True).model_dump(),
            survivor_name=_name(summaries, r.survivor_id),
            merged_name=_name(summaries, r.merged_id),
        )
        for r in rows
    ]
