"""What the photographs API sends and receives. The upload itself is multipart/form-data (routes.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from .repository import PhotoInfo, Variant, VariantInfo
from .service import History

PREFIX = "/v1/nominals"


class VariantOut(BaseModel):
    content_type: Literal["image/jpeg", "image/png"]
    width: int
    height: int
    size_bytes: int
    href: str = Field(
        description="where to fetch the bytes (audited as a consultation; add ?purpose= outside your area)"
    )

    @classmethod
    def of(cls, info: VariantInfo, href: str) -> VariantOut:
        return cls(
            content_type=info.content_type,
            width=info.width,
            height=info.height,
            size_bytes=info.size_bytes,
            href=href,
        )


class PhotoOut(BaseModel):
    id: uuid.UUID = Field(
        description="the photograph's id, which is also its item id in the photographs section"
    )
    status: Literal["current", "superseded", "ended", "no_image"] = Field(
        description="current: the most recently taken photograph not ended; superseded: an older one; "
        "ended: withdrawn (kept in the history); no_image: an item recorded without a stored image"
    )
    taken_on: dt.date
    description: str | None = None
    uploaded_by: str
    uploaded_agency: str
    uploaded_at: dt.datetime
    ended_at: dt.datetime | None = None
    ended_reason: str | None = None
    full: VariantOut | None = None
    thumbnail: VariantOut | None = None

    @classmethod
    def of(cls, nominal_id: uuid.UUID, photo: PhotoInfo, current: uuid.UUID | None) -> PhotoOut:
        base = f"{PREFIX}/{nominal_id}/photographs/{photo.id}"
        status: Literal["current", "superseded", "ended", "no_image"]
        if photo.ended_at is not None:
            status = "ended"
        elif Variant.FULL not in photo.variants:
            status = "no_image"
        else:
            status = "current" if photo.id == current else "superseded"
        full, thumb = photo.variants.get(Variant.FULL), photo.variants.get(Variant.THUMBNAIL)
        return cls(
            id=photo.id,
            status=status,
            taken_on=photo.taken_on,
            description=photo.description,
            uploaded_by=photo.uploaded_by,
            uploaded_agency=photo.uploaded_agency,
            uploaded_at=photo.uploaded_at,
            ended_at=photo.ended_at,
            ended_reason=photo.ended_reason,
            full=VariantOut.of(full, f"{base}?variant=full") if full else None,
            thumbnail=VariantOut.of(thumb, f"{base}?variant=thumbnail") if thumb else None,
        )


class PhotographsOut(BaseModel):
    """A record's photograph history, newest first (by the date taken, then the upload)."""

    nominal_id: uuid.UUID
    version: int
    current: uuid.UUID | None = Field(description="the current photograph's id, if the record has one")
    photographs: list[PhotoOut]

    @classmethod
    def of(cls, history: History) -> PhotographsOut:
        return cls(
            nominal_id=history.nominal_id,
            version=history.version,
            current=history.current,
            photographs=[PhotoOut.of(history.nominal_id, p, history.current) for p in history.photos],
        )


@dataclass(frozen=True)
class UploadForm:
    """The parsed multipart body of an upload: the file's bytes (its name and declared type are ignored)."""

    content: bytes
    taken_on: dt.date | None
    description: str | None


EXAMPLE_PHOTO_ID = "3f6b1e0c-2a57-4c8e-9b1d-6a0f4e2c9d11"
EXAMPLE_NOMINAL_ID = "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869"
_BASE = f"{PREFIX}/{EXAMPLE_NOMINAL_ID}/photographs/{EXAMPLE_PHOTO_ID}"
HISTORY_EXAMPLE: dict[str, Any] = {
    "nominal_id": EXAMPLE_NOMINAL_ID,
    "version": 25,
    "current": EXAMPLE_PHOTO_ID,
    "photographs": [
        {
            "id": EXAMPLE_PHOTO_ID,
            "status": "current",
            "taken_on": "2025-09-12",
            "description": "custody photograph",
            "uploaded_by": "kent.offender_manager",
            "uploaded_agency": "police",
            "uploaded_at": "2025-09-12T15:02:11Z",
            "ended_at": None,
            "ended_reason": None,
            "full": {
                "content_type": "image/jpeg",
                "width": 480,
                "height": 600,
                "size_bytes": 23817,
                "href": f"{_BASE}?variant=full",
            },
            "thumbnail": {
                "content_type": "image/jpeg",
                "width": 96,
                "height": 120,
                "size_bytes": 2911,
                "href": f"{_BASE}?variant=thumbnail",
            },
        }
    ],
}
UPLOAD_EXAMPLE: dict[str, Any] = {"taken_on": "2025-09-12", "description": "custody photograph"}
