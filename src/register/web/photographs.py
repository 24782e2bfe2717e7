"""Photographs on the web: the upload form, and the image bytes for the record's pages and the caseload.

The upload's multipart body is parsed here, in memory (never spooled to a temporary file, as the API's is),
and its CSRF token checked; the image is judged, re-encoded and sealed by the same use case as the API's
(`photos.service.upload_photo`). Every image shown is read through `view_photo`, which audits the view as a
consultation: a caseload page of 20 people with photographs leaves 20 `nominal:photographs:view` events beside
its one `nominal:record:list` (docs/photographs.md, "On the web").
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.errors import ConcurrencyConflict, DomainError, NotFound
from ..photos import service as photos
from ..photos.repository import Variant
from ..photos.service import StoredImage
from .common import (
    PageGuard,
    PageProblem,
    SignedIn,
    check_csrf,
    flash,
    not_found,
    record_access,
    redirect,
    return_to,
    work,
)
from .editing import form_page, nominal_of, read_visible
from .forms import Field, Form, read
from .record import session_purpose

router = APIRouter(include_in_schema=False)
SECTION = "photographs"
UPLOAD_PATH = r"^/records/[^/]+/photographs/new$"  # the page that may carry a photograph (see BodyLimit)
EXTENSION = {"image/jpeg": "jpg", "image/png": "png"}


class _InMemoryMultiPart(MultiPartParser):
    spool_max_size = 0  # a SpooledTemporaryFile with no maximum never rolls over to disk


def _form() -> Form:
    return Form(
        [
            Field("file", "Photograph", "file", hint="A JPEG or PNG image, up to {limit}"),
            Field(
                "taken_on",
                "Date taken (optional)",
                "date",
                hint="For example, 27 3 2025. Leave blank for today",
            ),
            Field("description", "Description (optional)", hint="For example: custody image, front"),
        ]
    )


def _limit(request: Request) -> str:
    return f"{request.app.state.store.settings.photo_max_bytes / (1024 * 1024):g} MB"


def _shown(request: Request, form: Form) -> Form:
    form.fields[0].hint = (form.fields[0].hint or "").format(limit=_limit(request))
    return form


@router.get(
    "/records/{nominal_id}/photographs/new",
    response_class=HTMLResponse,
    dependencies=[Depends(PageGuard("record.write", SECTION))],
)
def upload_form(request: Request, nominal_id: str, principal: SignedIn) -> HTMLResponse:
    record_id = nominal_of(nominal_id)
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", record_id, SECTION)
        record = read_visible(uow, access, set())
    return form_page(
        request,
        record=record,
        title="Upload a photograph",
        form=_shown(request, _form()),
        action=request.url.path,
        submit="Upload",
        enctype="multipart/form-data",
        intro=["It is stored encrypted, without the file's metadata (such as where it was taken)."],
    )


@router.post(
    "/records/{nominal_id}/photographs/new", dependencies=[Depends(PageGuard("record.write", SECTION))]
)
async def upload(request: Request, nominal_id: str, principal: SignedIn) -> Response:
    record_id = nominal_of(nominal_id)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise PageProblem(400, "The form could not be read", "Send the photograph with the upload form.")
    parser = _InMemoryMultiPart(
        request.headers, request.stream(), max_files=1, max_fields=10, max_part_size=4096
    )
    try:
        values = await parser.parse()
    except MultiPartException:
        raise PageProblem(
            400, "The form could not be read", "Send the photograph with the upload form."
        ) from None
    try:
        check_csrf(request, values.get("csrf_token"))
        form = _shown(request, _form()).fill(values)
        answers = read(form, values)
        upload = values.get("file")
        content = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
    finally:
        await values.close()
    if content is None:
        form.add_error("file", "Select a photograph to upload")
    try:
        version = int(str(values.get("version", "")))
    except ValueError:
        version = -1
    if form.valid and content is not None:
        try:
            with work(request) as uow:
                record_access(request, uow, principal, "record.write", record_id, SECTION)
                photos.upload_photo(
                    uow,
                    principal,
                    record_id,
                    content,
                    expected_version=version,
                    taken_on=answers["taken_on"],
                    description=answers["description"],
                    request_id=request_id(request),
                )
        except ConcurrencyConflict:
            form.add_error(
                "file",
                "Someone changed this record while you were choosing the photograph: nothing was uploaded. "
                "Select it again and upload it to the record as it is now",
            )
        except NotFound:
            raise not_found() from None
        except DomainError as exc:
            form.explain(exc, limit=_limit(request))
        else:
            flash(request, "Photograph uploaded")
            return redirect(return_to(request, f"/records/{record_id}"))
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", record_id, SECTION)
        record = read_visible(uow, access, set())
    return form_page(
        request,
        record=record,
        title="Upload a photograph",
        form=form,
        action=request.url.path,
        submit="Upload",
        enctype="multipart/form-data",
        status=422,
    )


def image_response(image: StoredImage) -> Response:
    name = f"photograph-{image.photo_id}-{image.variant.value}.{EXTENSION.get(image.content_type, 'img')}"
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


@router.get(
    "/records/{nominal_id}/photographs/{photo_id}/{variant}",
    dependencies=[Depends(PageGuard("record.read", SECTION))],
)
def photograph(
    request: Request, nominal_id: str, photo_id: str, variant: str, principal: SignedIn
) -> Response:
    """One photograph's bytes (`current`: the record's current one), each view audited as a consultation."""
    record_id = nominal_of(nominal_id)
    try:
        which = None if photo_id == "current" else uuid.UUID(photo_id)
        size = Variant(variant)
    except ValueError:
        raise not_found() from None
    try:
        with work(request) as uow:
            access = record_access(
                request,
                uow,
                principal,
                "record.read",
                record_id,
                SECTION,
                purpose=session_purpose(request, record_id),  # stated on the record's purpose page
            )
            if access.stub:
                raise not_found()
            image = photos.view_photo(
                uow,
                principal,
                record_id,
                which,
                size,
                purpose=access.purpose,
                audience=access.audience,
                request_id=request_id(request),
            )
    except DomainError:
        raise not_found() from None
    return image_response(image)
