"""The association chart around one record (/records/{id}/associations): the people linked to it by shared
addresses (postcodes), vehicles, telephone numbers, email addresses and online identities, named associates
and co-offending, one or two levels deep.

The page calls `associations.service.associations` (the API's use case too), which decides what each person
shows with the policy and audits every person shown. The chart is drawn by cytoscape in a module script
(`static/src/associations.js`) from a JSON block; the list below it is the same information as text and is the
whole page without JavaScript. Another area's record is shown as reading it would be: with the purpose this
session stated for it (or for the record the chart is drawn around), else only its owning area and a link that
asks for a purpose first (docs/associations.md).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from ..access.policy import Policy
from ..api.routing import APIRouter
from ..associations import service
from ..associations.schemas import LINK_LABELS, AssociationGraph, PersonNode
from ..usecase.guard import Access
from . import record
from .caseload import today_in_london
from .common import PageProblem, render, verify_csrf, work
from .pages import label

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
ReadAssociations = Annotated[Access, Depends(record.RecordPage("record.read", "associates"))]
LEVEL_CHOICES = [
    ("1", "People linked to this record"),
    ("2", "And the people linked to them"),
]


def _level(request: Request) -> int:
    raw = request.query_params.get("level", "1")
    if raw not in ("1", "2"):
        raise PageProblem(400, "There is no such level", "The level must be 1 or 2: links to this record, or "
                          "links to those people as well.", rule="association_level")  # fmt: skip
    return int(raw)


def _session_purposes(request: Request) -> dict[uuid.UUID, str]:
    out = {}
    for key, value in record._purposes(request).items():
        try:
            out[uuid.UUID(key)] = value
        except ValueError:
            continue
    return out


def _name(node: PersonNode) -> str:
    if node.shown_as == "record":
        return f"{node.forenames} {node.surname}"
    if node.shown_as == "stub":
        return f"Restricted record of {label(node.area)}"
    return f"A record of {label(node.area)}"


def view(graph: AssociationGraph) -> dict[str, Any]:
    """The list (people by level, each with how they are linked) and the chart's data, from one graph."""
    nodes = {n.id: n for n in graph.nodes}
    via: dict[uuid.UUID, list[dict[str, str]]] = defaultdict(list)
    for link in graph.links:
        near, far = sorted((nodes[link.source], nodes[link.target]), key=lambda n: n.level)
        if near.level == far.level:  # two people of one level linked to each other: listed under both
            via[near.id].append({"kind": LINK_LABELS[link.kind], "value": link.value, "with": _name(far)})
        via[far.id].append({"kind": LINK_LABELS[link.kind], "value": link.value, "with": _name(near)})
    people = [
        {
            "id": str(n.id),
            "name": _name(n),
            "level": n.level,
            "shown_as": n.shown_as,
            "area": label(n.area),
            "date_of_birth": n.date_of_birth,
            "message": n.message,
            "href": f"/records/{n.id}",
            "links": via[n.id],
        }
        for n in graph.nodes
        if n.id != graph.centre
    ]
    chart = {
        "nodes": [
            {
                "id": str(n.id),
                "label": _name(n),
                "level": n.level,
                "shown": n.shown_as,
                "href": None if n.id == graph.centre else f"/records/{n.id}",
            }
            for n in graph.nodes
        ],
        "edges": [
            {
                "id": f"e{i}",
                "source": str(link.source),
                "target": str(link.target),
                "kind": link.kind.value,
                "label": LINK_LABELS[link.kind],
            }
            for i, link in enumerate(graph.links)
        ],
    }
    return {"people": people, "chart": chart}


@router.get("/records/{nominal_id}/associations", response_class=HTMLResponse)
def associations_page(request: Request, access: ReadAssociations) -> HTMLResponse:
    level = _level(request)
    if access.stub:
        return record._stub(request, access)
    policy: Policy = request.app.state.policy
    centre = record._read(request, access, set())
    frame = record._frame(request, access, centre, record.BY_SLUG["associations"], policy)
    with work(request) as uow:
        graph = service.associations(
            uow,
            access.principal,
            policy,
            access.nominal_id,
            level=level,
            today=frame["today"],
            purpose=access.purpose,
            purposes=_session_purposes(request),
            request_id=access.request_id,
        )
    shown = view(graph)
    return render(
        request,
        "pages/record/associations.html",
        {
            **frame,
            **shown,
            "level": level,
            "levels": [
                {"value": v, "text": t, "checked": v == str(level), "attributes": {"data-qa": f"level-{v}"}}
                for v, t in LEVEL_CHOICES
            ],
            "capped": graph.capped_levels,
            "cap": graph.cap,
            "purpose": access.purpose,
            "today": today_in_london(),
        },
    )
