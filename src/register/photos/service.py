"""Use cases on photographs. Each runs inside the caller's unit of work and flushes; the unit of work commits.

An upload is a change to the record like any other (If-Match version, audited as a collection; the version it
claims gives the search index its outbox row when the unit of work commits); every view of a photograph, the
history or the bytes, is audited as a consultation with its purpose. Authorisation is the policy's job before
a use case is called (the photographs section's rules, area rules and restricted stubs, exactly as for the
other sections)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import rules
from ..domain.actors import Actor
from ..domain.enums import Agency, NominalStatus
from ..domain.errors import Gone, InvalidValue, NotFound
from ..domain.record import Photograph, Section
from ..nominals import service as nominals
from ..store.uow import UnitOfWork
from . import imaging
from .repository import PhotoInfo, PhotoRepository, StoredImage, Variant, current_of, reference

SECTION = Section.PHOTOGRAPHS


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _photos(uow: UnitOfWork) -> PhotoRepository:
    return PhotoRepository(uow.session, uow.cipher)


def limits(uow: UnitOfWork) -> imaging.Limits:
    settings = uow.store.settings
    return imaging.Limits(settings.photo_max_bytes, settings.photo_max_pixels)


@dataclass(frozen=True)
class History:
    """A record's photographs, newest first, and which one is current."""

    nominal_id: uuid.UUID
    version: int
    photos: list[PhotoInfo]
    current: uuid.UUID | None


def upload_photo(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    content: bytes,
    *,
    expected_version: int,
    taken_on: dt.date | None = None,
    description: str | None = None,
    request_id: str | None = None,
    today: dt.date | None = None,
) -> tuple[uuid.UUID, int]:
    """Add a photograph to the record: judged by its content, re-encoded without metadata, with a thumbnail,
    sealed.

    The image is checked and re-encoded before anything is written, so bad input leaves no trace but its
    refusal. `taken_on` defaults to today. Returns the photograph's id (its section item's id) and the
    record's new version."""
    today = today or dt.date.today()
    processed = imaging.process(content, limits(uow))
    taken = taken_on or today
    if taken > today:
        raise InvalidValue("photo_taken_in_future", "taken_on must not be after today", "taken_on")
    photo_id = uuid.uuid4()
    item = Photograph(taken_on=taken, reference=reference(photo_id), description=description)
    row = uow.nominals.header_row(nominal_id)
    rules.ensure_editable(NominalStatus(row.status))
    now = _now()
    version = uow.nominals.claim_version(nominal_id, expected_version, actor, now)
    uow.nominals.add_item(nominal_id, row.data_key_id, photo_id, item, actor, now)
    _photos(uow).add_images(nominal_id, row.data_key_id, photo_id, processed, now)
    nominals.refresh_derived(uow, nominal_id, SECTION)
    uow.audit.record(
        AuditEntry(
            Action.COLLECTION,
            Tag.NOMINAL_PHOTOGRAPHS_ADD,
            actor,
            nominal_id=nominal_id,
            section=SECTION.value,
            item_id=photo_id,
            request_id=request_id,
            details={
                "content_type": processed.full.content_type,
                "width": processed.full.width,
                "height": processed.full.height,
                "bytes": processed.full.size_bytes,
            },
        )
    )
    return photo_id, version


def _readable_header(uow: UnitOfWork, nominal_id: uuid.UUID) -> int:
    row = uow.nominals.header_row(nominal_id)
    if row.status == NominalStatus.ERASED.value:
        raise Gone(
            "record_erased",
            f"the personal content of record {nominal_id} was erased on {row.erased_on} under the retention "
            "schedule; only its tombstone remains",
        )
    return row.version


def list_photos(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    *,
    purpose: str | None,
    audience: Agency | None,
    request_id: str | None = None,
) -> History:
    """The record's photo history (metadata only, newest first), audited as a consultation with its
    purpose."""
    version = _readable_header(uow, nominal_id)
    photos = _photos(uow).history(nominal_id, audience)
    photos.sort(key=lambda p: (p.taken_on, p.uploaded_at, p.id.int), reverse=True)
    current = current_of(photos)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_PHOTOGRAPHS_LIST,
            actor,
            nominal_id=nominal_id,
            section=SECTION.value,
            purpose=purpose,
            request_id=request_id,
            details={"photos": [str(p.id) for p in photos]},
        )
    )
    return History(nominal_id, version, photos, current.id if current else None)


def view_photo(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    photo_id: uuid.UUID | None,
    variant: Variant,
    *,
    purpose: str | None,
    audience: Agency | None,
    request_id: str | None = None,
) -> StoredImage:
    """The bytes of one photograph (None: the current one), audited as a consultation naming it and the
    variant.

    A photograph hidden from `audience`, ended or not, answers exactly like a missing one."""
    _readable_header(uow, nominal_id)
    photos = _photos(uow)
    if photo_id is None:
        found = photos.current_ids([nominal_id], audience).get(nominal_id)
        if found is None:
            raise NotFound("photo_not_found", f"nominal {nominal_id} has no current photograph")
        photo_id = found
    else:
        photos.photo_item(nominal_id, photo_id, audience)
    image = photos.image(photo_id, variant)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.NOMINAL_PHOTOGRAPHS_VIEW,
            actor,
            nominal_id=nominal_id,
            section=SECTION.value,
            item_id=photo_id,
            purpose=purpose,
            request_id=request_id,
            details={"variant": variant.value},
        )
    )
    return image


def current_photo_ids(
    uow: UnitOfWork, nominal_ids: Iterable[uuid.UUID], *, audience: Agency | None
) -> dict[uuid.UUID, uuid.UUID]:
    """The id of each record's current photograph, in one query, for a page listing many records (a caseload).
    Ids only, no content: nothing to audit here; fetching each thumbnail (`view_photo`) is the
    consultation."""
    return _photos(uow).current_ids(nominal_ids, audience)


def end_photo(
    uow: UnitOfWork,
    actor: Actor,
    nominal_id: uuid.UUID,
    photo_id: uuid.UUID,
    reason: str,
    *,
    expected_version: int,
    audience: Agency | None,
    request_id: str | None = None,
) -> int:
    """Withdraw a photograph (e.g. not of this person): it stays in the history, marked ended, and is never
    current again. Only an item of the photographs section can be ended here. Audited as an alteration."""
    _photos(uow).photo_item(nominal_id, photo_id, audience)
    return nominals.end_item(
        uow,
        actor,
        nominal_id,
        photo_id,
        reason,
        expected_version=expected_version,
        request_id=request_id,
        audience=audience,
    )
