"""Reading and writing photographs: the section's items (metadata, sealed like every item) and the `photo`
rows (the image bytes of each variant, sealed under the record's data key). Two queries list a record's
photographs, whatever their number, and the listing never reads an image's bytes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..domain.enums import Agency
from ..domain.errors import NotFound
from ..domain.record import Photograph, Section
from ..store import models as m
from ..store.cipher import RecordCipher
from ..store.listing import TRUSTED
from ..store.records import ended_reason, visible_to
from .imaging import Encoded, Processed

TABLE, COLUMN = "photo", "image_sealed"
SECTION = Section.PHOTOGRAPHS.value


class Variant(StrEnum):
    FULL = "full"
    THUMBNAIL = "thumbnail"


def bound_to(nominal_id: uuid.UUID, photo_id: uuid.UUID, variant: str) -> str:
    """What a variant's seal is bound to besides the table and column: the record it was collected for, the
    photograph and the variant. Bytes copied to another photograph, variant or record fail to open."""
    return f"{nominal_id}/{photo_id}/{variant}"


def reference(photo_id: uuid.UUID) -> str:
    """The section item's `reference`: where its image is stored."""
    return f"photo:{photo_id}"


@dataclass(frozen=True)
class VariantInfo:
    content_type: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class PhotoInfo:
    """One photograph of a record as its history shows it (no bytes)."""

    id: uuid.UUID
    taken_on: dt.date
    description: str | None
    uploaded_by: str
    uploaded_agency: str
    uploaded_at: dt.datetime
    ended_at: dt.datetime | None
    ended_reason: str | None
    variants: dict[Variant, VariantInfo]


@dataclass(frozen=True)
class StoredImage:
    photo_id: uuid.UUID
    variant: Variant
    content_type: str
    data: bytes


class PhotoRepository:
    def __init__(self, session: Session, cipher: RecordCipher) -> None:
        self.session = session
        self.cipher = cipher

    # ------------------------------------------------------------ writes

    def add_images(
        self,
        nominal_id: uuid.UUID,
        key_id: uuid.UUID,
        photo_id: uuid.UUID,
        processed: Processed,
        now: dt.datetime,
    ) -> None:
        """The variants of a photograph whose section item was just written (same transaction)."""
        variants: list[tuple[Variant, Encoded]] = [
            (Variant.FULL, processed.full),
            (Variant.THUMBNAIL, processed.thumbnail),
        ]
        self.session.execute(
            insert(m.Photo),
            [
                {
                    "id": uuid.uuid4(),
                    "photo_id": photo_id,
                    "variant": variant.value,
                    "nominal_id": nominal_id,
                    "data_key_id": key_id,
                    "content_type": image.content_type,
                    "width": image.width,
                    "height": image.height,
                    "size_bytes": image.size_bytes,
                    "image_sealed": self.cipher.seal(
                        key_id, TABLE, COLUMN, bound_to(nominal_id, photo_id, variant.value), image.data
                    ),
                    "created_at": now,
                }
                for variant, image in variants
            ],
        )

    # ------------------------------------------------------------ reads

    def history(self, nominal_id: uuid.UUID, audience: Agency | None) -> list[PhotoInfo]:
        """Every photograph item of the record the audience may see, ended ones included, in upload order."""
        items = self.session.scalars(
            select(m.Item)
            .where(m.Item.nominal_id == nominal_id, m.Item.section == SECTION, visible_to(audience))
            .order_by(m.Item.recorded_at, m.Item.id)
        ).all()
        variants = self._variants([i.id for i in items])
        self.cipher.load({i.data_key_id for i in items})
        out = []
        for item in items:
            data = Photograph.model_validate_json(
                self.cipher.open(item.data_key_id, "item", "payload_sealed", item.id, item.payload_sealed),
                context=TRUSTED,
            )
            out.append(
                PhotoInfo(
                    id=item.id,
                    taken_on=data.taken_on,
                    description=data.description,
                    uploaded_by=item.recorded_by,
                    uploaded_agency=item.recorded_agency,
                    uploaded_at=item.recorded_at,
                    ended_at=item.ended_at,
                    ended_reason=ended_reason(self.cipher, item),
                    variants=variants.get(item.id, {}),
                )
            )
        return out

    def _variants(self, photo_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[Variant, VariantInfo]]:
        out: dict[uuid.UUID, dict[Variant, VariantInfo]] = {}
        if not photo_ids:
            return out
        rows = self.session.execute(
            select(
                m.Photo.photo_id, m.Photo.variant, m.Photo.content_type, m.Photo.width, m.Photo.height,
                m.Photo.size_bytes,
            ).where(m.Photo.photo_id.in_(photo_ids))
        ).all()  # fmt: skip
        for r in rows:
            out.setdefault(r.photo_id, {})[Variant(r.variant)] = VariantInfo(
                r.content_type, r.width, r.height, r.size_bytes
            )
        return out

    def photo_item(self, nominal_id: uuid.UUID, photo_id: uuid.UUID, audience: Agency | None) -> m.Item:
        """The section item of a photograph of this record; hidden or absent ones answer alike."""
        item = self.session.scalars(
            select(m.Item).where(
                m.Item.id == photo_id,
                m.Item.nominal_id == nominal_id,
                m.Item.section == SECTION,
                visible_to(audience),
            )
        ).one_or_none()
        if item is None:
            raise NotFound("photo_not_found", f"no photograph {photo_id} on nominal {nominal_id}")
        return item

    def image(self, photo_id: uuid.UUID, variant: Variant) -> StoredImage:
        """The bytes of one variant (call `photo_item` first: this does not check the record or the
        audience)."""
        row = self.session.execute(
            select(m.Photo).where(m.Photo.photo_id == photo_id, m.Photo.variant == variant.value)
        ).scalar_one_or_none()
        if row is None:
            raise NotFound("photo_image_not_stored", f"photograph {photo_id} has no stored {variant} image")
        data = self.cipher.open(
            row.data_key_id,
            TABLE,
            COLUMN,
            bound_to(row.nominal_id, row.photo_id, row.variant),
            row.image_sealed,
        )
        return StoredImage(photo_id, variant, row.content_type, data)

    def current_ids(
        self, nominal_ids: Iterable[uuid.UUID], audience: Agency | None
    ) -> dict[uuid.UUID, uuid.UUID]:
        """The current photograph (with a stored image) of each of these records, in one query: for a
        caseload."""
        ids = list(nominal_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(m.Item.nominal_id, m.Item.id)
            .where(
                m.Item.nominal_id.in_(ids),
                m.Item.section == SECTION,
                m.Item.ended_at.is_(None),
                visible_to(audience),
                select(m.Photo.id).where(m.Photo.photo_id == m.Item.id).exists(),
            )
            .order_by(m.Item.nominal_id, *CURRENT_ORDER)
        ).all()
        out: dict[uuid.UUID, uuid.UUID] = {}
        for r in rows:
            out.setdefault(r.nominal_id, r.id)
        return out


# The current photograph is the one most recently taken (then most recently uploaded) that has not been ended:
# uploading an old photograph for the history does not replace the current one.
CURRENT_ORDER = (m.Item.starts_on.desc(), m.Item.recorded_at.desc(), m.Item.id.desc())


def current_of(photos: list[PhotoInfo]) -> PhotoInfo | None:
    """The same rule as CURRENT_ORDER, over a history already read."""
    live = [p for p in photos if p.ended_at is None and Variant.FULL in p.variants]
    return max(live, key=lambda p: (p.taken_on, p.uploaded_at, p.id.int), default=None)
