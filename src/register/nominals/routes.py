"""HTTP routes for records. Each route names its action and section through its dependencies; the policy
decides.

No `from __future__ import annotations` here: the section routes are built from the domain models at run time,
and FastAPI reads their annotations as real types.
"""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Query, Response

from ..api.deps import (
    Access,
    Authorize,
    CreateGuard,
    Cursor,
    IfMatch,
    Limit,
    NewRecordAccess,
    PolicyDep,
    RecordGuard,
    UoW,
    changed_response,
    etag,
    json_response,
    restricted_stub,
)
from ..api.problems import ERROR_RESPONSES, ok, read
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.enums import MappaCategory, MappaLevel, NominalStatus, NominalType
from ..domain.record import SECTION_MODELS, ChronologyEntry, Identity, Record, Section, SectionItem
from ..store.listing import ListFilters
from ..store.uow import UnitOfWork
from ..usecase.views import (
    Changed,
    ChronologyOut,
    EndItem,
    EntryOut,
    IdentityOut,
    ItemOut,
    NominalPage,
    RecordOut,
    RestrictedStub,
    SectionOut,
)
from . import examples, service

router = APIRouter(prefix="/v1/nominals", tags=["nominals"], responses=ERROR_RESPONSES)


def _read(
    uow: UnitOfWork, access: Access, response: Response, *, sections: set[Section] | None, chronology: bool
) -> Record:
    """Read what the route shows (audited with its purpose), commit the audit event, and set the ETag."""
    record = service.read_record(
        uow,
        access.principal,
        access.nominal_id,
        purpose=access.purpose,
        request_id=access.request_id,
        sections=sections,
        chronology=chronology,
        audience=access.audience,
    )
    response.headers["ETag"] = etag(record.version)
    return record


@router.post(
    "",
    status_code=201,
    summary="Create a record owned by your area",
    responses=ok(examples.CHANGED, 201),
    response_model=Changed,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"examples": {"registered sex offender": {"value": examples.NEW_NOMINAL}}}
            }
        }
    },
)
def create_nominal(
    access: Annotated[NewRecordAccess, Depends(CreateGuard("record.create", "header"))],
    uow: UoW,
    response: Response,
) -> Response:
    nominal_id = service.create_nominal(uow, access.principal, access.new, request_id=access.request_id)
    response.headers["Location"] = f"/v1/nominals/{nominal_id}"
    return changed_response(response, 1, nominal_id, 201)


@router.get("", summary="List your area's records or your caseload", responses=ok(examples.PAGE))
def list_nominals(
    principal: Annotated[Principal, Depends(Authorize("record.list", "header"))],
    uow: UoW,
    scope: Annotated[
        Literal["area", "caseload"],
        Query(description="area: every record your area owns; caseload: those you manage"),
    ] = "area",
    status: NominalStatus = NominalStatus.ACTIVE,
    category: MappaCategory | None = None,
    level: MappaLevel | None = None,
    nominal_type: NominalType | None = None,
    review_due_before: Annotated[
        dt.date | None,
        Query(description="only records with a risk assessment or plan review due by this date"),
    ] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> NominalPage:
    filters = ListFilters(
        area=principal.area,
        today=dt.date.today(),
        caseload_user=principal.user_id if scope == "caseload" else None,
        status=status,
        category=category,
        level=level,
        nominal_type=nominal_type,
        review_due_before=review_due_before,
    )
    rows, total, after = service.list_records(uow, principal, filters, limit=limit, cursor=cursor)
    return NominalPage(items=rows, total=total, next=after)


@router.get(
    "/{nominal_id}",
    summary="Read a whole record (audited; outside your area state a purpose)",
    responses=read(examples.RECORD),
    response_model=RecordOut | RestrictedStub,
)
def read_nominal(
    access: Annotated[Access, Depends(RecordGuard("record.read", "header"))],
    uow: UoW,
    policy: PolicyDep,
    response: Response,
) -> Response:
    if access.stub:
        return json_response(restricted_stub(uow, access), response)
    readable = {s for s in Section if policy.section_allows(access.principal, s.value, "read")}
    chronology = policy.section_allows(access.principal, "chronology", "read")
    record = _read(
        uow,
        access,
        response,
        sections=None if readable == set(Section) else readable,
        chronology=chronology,
    )
    # The notification dates come from the offences, orders, addresses and chronology: only for their readers.
    return json_response(
        RecordOut.of(record, explained=chronology and readable >= service.NOTIFICATION_INPUTS), response
    )


@router.get(
    "/{nominal_id}/identity",
    summary="Read the identity section",
    responses=read(examples.IDENTITY),
    response_model=IdentityOut | RestrictedStub,
)
def read_identity(
    access: Annotated[Access, Depends(RecordGuard("record.read", "identity"))], uow: UoW, response: Response
) -> Response:
    if access.stub:
        return json_response(restricted_stub(uow, access), response)
    record = _read(uow, access, response, sections=set(), chronology=False)
    return json_response(
        IdentityOut(nominal_id=record.id, version=record.version, identity=record.identity), response
    )


@router.put(
    "/{nominal_id}/identity",
    summary="Correct the identity (other names and dates of birth go to aliases)",
    responses=ok({"version": 25}),
    response_model=Changed,
)
def correct_identity(
    access: Annotated[Access, Depends(RecordGuard("record.write", "identity"))],
    body: Annotated[
        Identity, Body(openapi_examples={"identity": {"value": examples.NEW_NOMINAL["identity"]}})
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    new_version = service.correct_identity(
        uow, access.principal, access.nominal_id, body, expected_version=version, request_id=access.request_id
    )
    return changed_response(response, new_version)


@router.get(
    "/{nominal_id}/chronology",
    summary="Read the chronology, oldest first",
    responses=read(examples.CHRONOLOGY),
    response_model=ChronologyOut | RestrictedStub,
)
def read_chronology(
    access: Annotated[Access, Depends(RecordGuard("record.read", "chronology"))], uow: UoW, response: Response
) -> Response:
    if access.stub:
        return json_response(restricted_stub(uow, access), response)
    record = _read(uow, access, response, sections=set(), chronology=True)
    return json_response(
        ChronologyOut(
            nominal_id=record.id, version=record.version, entries=[EntryOut.of(e) for e in record.chronology]
        ),
        response,
    )


@router.post(
    "/{nominal_id}/chronology",
    status_code=201,
    summary="Append to the chronology; correct an entry by appending an amendment that names it",
    responses=ok(examples.CHANGED, 201),
    response_model=Changed,
)
def append_chronology(
    access: Annotated[Access, Depends(RecordGuard("record.write", "chronology"))],
    body: Annotated[
        ChronologyEntry,
        Body(
            openapi_examples={
                "home visit": {"value": examples.CHRONOLOGY_ENTRY},
                "amendment": {"value": examples.AMENDMENT},
            }
        ),
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    entry_id, new_version = service.append_chronology(
        uow,
        access.principal,
        access.nominal_id,
        body,
        expected_version=version,
        request_id=access.request_id,
        audience=access.audience,
    )
    return changed_response(response, new_version, entry_id, 201)


def _section_routes(section: Section, model: type[SectionItem], example: dict[str, Any]) -> None:
    """Read, add, correct and end for one section, typed by its domain model."""
    name = section.value
    body_type = Annotated[model, Body(openapi_examples={name: {"value": example}})]  # type: ignore[valid-type]  # run-time model
    read_guard = Depends(RecordGuard("record.read", name))
    write_guard = Depends(RecordGuard("record.write", name))

    def read_section(access: Annotated[Access, read_guard], uow: UoW, response: Response) -> Response:
        if access.stub:
            return json_response(restricted_stub(uow, access), response)
        record = _read(uow, access, response, sections={section}, chronology=False)
        out = SectionOut[model](  # type: ignore[valid-type]  # the section's model, chosen at run time
            nominal_id=record.id,
            version=record.version,
            section=name,
            items=[ItemOut[model].of(i) for i in record.items(section)],  # type: ignore[valid-type]  # as above
        )
        return json_response(out, response)

    def add_item(
        access: Annotated[Access, write_guard],
        body: body_type,
        version: IfMatch,
        uow: UoW,
        response: Response,
    ) -> Response:
        item_id, new_version = service.add_item(
            uow,
            access.principal,
            access.nominal_id,
            body,
            expected_version=version,
            request_id=access.request_id,
        )
        return changed_response(response, new_version, item_id, 201)

    def correct_item(
        access: Annotated[Access, write_guard],
        item_id: uuid.UUID,
        body: body_type,
        version: IfMatch,
        uow: UoW,
        response: Response,
    ) -> Response:
        new_version = service.correct_item(
            uow,
            access.principal,
            access.nominal_id,
            item_id,
            body,
            expected_version=version,
            request_id=access.request_id,
            audience=access.audience,
        )
        return changed_response(response, new_version, item_id)

    def end_item(
        access: Annotated[Access, write_guard],
        item_id: uuid.UUID,
        body: Annotated[
            EndItem, Body(openapi_examples={"ended": {"value": {"reason": "no longer current"}}})
        ],
        version: IfMatch,
        uow: UoW,
        response: Response,
    ) -> Response:
        new_version = service.end_item(
            uow,
            access.principal,
            access.nominal_id,
            item_id,
            body.reason,
            expected_version=version,
            request_id=access.request_id,
            audience=access.audience,
            section=section,
        )
        return changed_response(response, new_version, item_id)

    label = name.replace("_", " ")
    router.add_api_route(
        f"/{{nominal_id}}/{name}",
        read_section,
        methods=["GET"],
        name=f"read_{name}",
        response_model=SectionOut[model] | RestrictedStub,  # type: ignore[valid-type]  # model chosen at run time
        summary=f"Read the {label} section",
        responses=read(examples.section_response(section)),
    )
    router.add_api_route(
        f"/{{nominal_id}}/{name}",
        add_item,
        methods=["POST"],
        status_code=201,
        name=f"add_{name}",
        response_model=Changed,
        summary=f"Add an item to {label}",
        responses=ok(examples.CHANGED, 201),
    )
    router.add_api_route(
        f"/{{nominal_id}}/{name}/{{item_id}}",
        correct_item,
        methods=["PUT"],
        name=f"correct_{name}",
        response_model=Changed,
        summary=f"Correct an item of {label}",
        responses=ok(examples.CHANGED),
    )
    router.add_api_route(
        f"/{{nominal_id}}/{name}/{{item_id}}/end",
        end_item,
        methods=["POST"],
        name=f"end_{name}",
        response_model=Changed,
        summary=f"End an item of {label} (it stays in the record's history)",
        responses=ok(examples.CHANGED),
    )


_EXAMPLES = examples.section_examples()
# Photographs carry images: their routes are in photos/routes.py. Minutes and meeting actions change only
# through the meetings' use cases (meetings/routes.py), which lock agreed minutes.
_OWN_ROUTES = (Section.PHOTOGRAPHS, Section.MEETING_MINUTES, Section.MEETING_ACTIONS)
for _section, _model in SECTION_MODELS.items():
    if _section not in _OWN_ROUTES:
        _section_routes(_section, _model, _EXAMPLES[_section])
