"""HTTP routes for photographs. Each names its action and the photographs section through its guard; the
policy decides, exactly as for the record's other sections (a restricted record outside its area answers with
its stub, never with bytes).

The upload is multipart/form-data, parsed in memory: the body is bounded by the BodyLimit middleware (which
allows this route `photo_max_bytes` plus a little), and no part of it is ever spooled to a temporary file, so
no image exists in the clear on disk, even for a moment."""

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ..api.deps import Access, IfMatch, RecordGuard, UoW, changed_response, etag, restricted_stub
from ..api.problems import ERROR_RESPONSES, ApiProblem, ok, read
from ..api.routing import APIRouter
from ..domain.errors import InvalidValue
from ..store.uow import UnitOfWork
from ..usecase.views import Changed, EndItem, RestrictedStub
from . import imaging, service
from .repository import Variant
from .schemas import HISTORY_EXAMPLE, UPLOAD_EXAMPLE, PhotographsOut, UploadForm

SECTION = "photographs"
UPLOAD_PATH = r"^/v1/nominals/[^/]+/photographs/?$"  # the route that may carry a photograph (see BodyLimit)
MULTIPART_ALLOWANCE = 64 * 1024  # room in the body for the multipart framing and the small fields

router = APIRouter(prefix="/v1/nominals", tags=["photographs"], responses=ERROR_RESPONSES)
CHANGED_EXAMPLE = {"id": "40e1031d-5103-45e4-9e6d-b674860f7860", "version": 25}
ReadAccess = Annotated[Access, Depends(RecordGuard("record.read", SECTION))]
WriteAccess = Annotated[Access, Depends(RecordGuard("record.write", SECTION))]
VariantQuery = Annotated[
    Variant,
    Query(description="full: the re-encoded original; thumbnail: at most 120 pixels on its longest side"),
]


class _InMemoryMultiPart(MultiPartParser):
    spool_max_size = 0  # a SpooledTemporaryFile with no maximum never rolls over to disk


async def upload_form(request: Request) -> UploadForm:
    """The multipart body: `file` (the image; its name and declared type are ignored), `taken_on`,
    `description`."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiProblem(
            415,
            "multipart_required",
            "send the photograph as multipart/form-data, the image in the field `file`",
        )
    parser = _InMemoryMultiPart(
        request.headers, request.stream(), max_files=1, max_fields=4, max_part_size=1024
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ApiProblem(
            400, "multipart_malformed", f"the multipart body cannot be read: {exc.message}"
        ) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidValue("photo_missing", "send the image as a file in the field `file`", "file")
        content = await upload.read()
        return UploadForm(content, _date(form.get("taken_on")), _text(form.get("description"), "description"))
    finally:
        await form.close()


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue("text_expected", f"{field} must be text, not a file", field)
    if "\x00" in value:
        raise InvalidValue("no_nul_character", "text must not contain the NUL character (U+0000)", field)
    return value.strip() or None


def _date(value: Any) -> dt.date | None:
    text = _text(value, "taken_on")
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidValue("date_format", "taken_on must be a date such as 2025-09-12", "taken_on") from None


UploadBody = Annotated[UploadForm, Depends(upload_form)]

UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "a JPEG or PNG image, judged by its content (not name or type)",
                        },
                        "taken_on": {
                            "type": "string",
                            "format": "date",
                            "description": "when it was taken (default: today)",
                        },
                        "description": {"type": "string", "maxLength": 200},
                    },
                },
                "example": UPLOAD_EXAMPLE,
            }
        },
    }
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the image (JPEG or PNG, as uploaded); a restricted record outside its area: its stub",
        "content": {
            "image/jpeg": {**_BINARY, "example": "(JPEG bytes)"},
            "image/png": {**_BINARY, "example": "(PNG bytes)"},
            "application/json": {
                "schema": {"$ref": "#/components/schemas/RestrictedStub"},
                "example": {
                    "id": "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869",
                    "restricted": True,
                    "owning_area": "kent",
                    "message": "restricted record: contact the owning area",
                },
            },
        },
    },
}


def _image(image: service.StoredImage) -> Response:
    name = f"photograph-{image.photo_id}-{image.variant.value}.{imaging.EXTENSION[image.content_type]}"
    return Response(
        image.data,
        media_type=image.content_type,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{name}"',
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )


@router.post(
    "/{nominal_id}/photographs",
    status_code=201,
    summary="Upload a photograph (JPEG or PNG, judged by content; re-encoded without metadata; If-Match)",
    openapi_extra=UPLOAD_OPENAPI,
    response_model=Changed,
    responses={
        **ok(CHANGED_EXAMPLE, 201),
        415: {**ERROR_RESPONSES[413], "description": "Unsupported media type"},
    },
)
def upload_photograph(
    access: WriteAccess, form: UploadBody, version: IfMatch, uow: UoW, response: Response
) -> Response:
    photo_id, new_version = service.upload_photo(
        uow,
        access.principal,
        access.nominal_id,
        form.content,
        expected_version=version,
        taken_on=form.taken_on,
        description=form.description,
        request_id=access.request_id,
    )
    response.headers["Location"] = f"/v1/nominals/{access.nominal_id}/photographs/{photo_id}"
    return changed_response(response, new_version, photo_id, 201)


@router.get(
    "/{nominal_id}/photographs",
    summary="The record's photograph history, newest first (metadata; audited)",
    response_model=PhotographsOut | RestrictedStub,
    responses=read(HISTORY_EXAMPLE),
)
def list_photographs(access: ReadAccess, uow: UoW, response: Response) -> PhotographsOut | RestrictedStub:
    if access.stub:
        return restricted_stub(uow, access)
    history = service.list_photos(
        uow,
        access.principal,
        access.nominal_id,
        purpose=access.purpose,
        audience=access.audience,
        request_id=access.request_id,
    )
    response.headers["ETag"] = etag(history.version)
    return PhotographsOut.of(history)


def _view(uow: UnitOfWork, access: Access, photo_id: uuid.UUID | None, variant: Variant) -> Response:
    if access.stub:
        return JSONResponse(restricted_stub(uow, access).model_dump(mode="json"))
    image = service.view_photo(
        uow,
        access.principal,
        access.nominal_id,
        photo_id,
        variant,
        purpose=access.purpose,
        audience=access.audience,
        request_id=access.request_id,
    )
    return _image(image)


# Declared before /{photo_id}, which would otherwise try to read "current" as an id.
@router.get(
    "/{nominal_id}/photographs/current",
    summary="The record's current photograph or its thumbnail (audited)",
    response_model=None,
    responses=IMAGE_RESPONSES,
)
def current_photograph(access: ReadAccess, uow: UoW, variant: VariantQuery = Variant.FULL) -> Response:
    return _view(uow, access, None, variant)


@router.get(
    "/{nominal_id}/photographs/{photo_id}",
    summary="One photograph or its thumbnail (audited)",
    response_model=None,
    responses=IMAGE_RESPONSES,
)
def read_photograph(
    access: ReadAccess, photo_id: uuid.UUID, uow: UoW, variant: VariantQuery = Variant.FULL
) -> Response:
    return _view(uow, access, photo_id, variant)


@router.post(
    "/{nominal_id}/photographs/{photo_id}/end",
    summary="End (withdraw) a photograph: it stays in the history and is never current again",
    responses=ok(CHANGED_EXAMPLE),
    response_model=Changed,
)
def end_photograph(
    access: WriteAccess,
    photo_id: uuid.UUID,
    body: Annotated[EndItem, Body(openapi_examples={"ended": {"value": {"reason": "not this person"}}})],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    new_version = service.end_photo(
        uow,
        access.principal,
        access.nominal_id,
        photo_id,
        body.reason,
        expected_version=version,
        audience=access.audience,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, photo_id)
