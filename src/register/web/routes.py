"""The front door and the API documentation, served by the register itself."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..config import display_path
from ..domain.actors import Principal
from ..saved_searches import service as saved
from ..saved_searches.service import Watch
from . import sessions
from .common import render, work
from .pages import DOCS_CSP, Pages

router = APIRouter(include_in_schema=False)


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


@router.get("/", response_class=HTMLResponse)
def front_door(request: Request) -> Response:
    """The front door; a signed-in user who has a caseload goes straight to it."""
    session = sessions.current(request)
    if (
        session is not None
        and session.principal is not None
        and request.app.state.policy.decide(session.principal, "record.list").allowed
    ):
        return RedirectResponse("/caseload", status_code=303)
    settings = request.app.state.store.settings
    demo_tokens = settings.var_dir / "demo-tokens.env"
    return render(
        request,
        "pages/index.html",
        {
            "development": settings.environment == "development",
            "demo_tokens": display_path(demo_tokens) if demo_tokens.exists() else None,
            "watches": _watches(request, session.principal if session is not None else None),
        },
    )


def _watches(request: Request, principal: Principal | None) -> list[Watch]:
    """The signed-in searcher's watched searches (names and counts of new matches, never a person), for the
    home page's panel; nothing for anyone who may not search."""
    if principal is None:
        return []
    decision = request.app.state.policy.decide(principal, "record.search")
    with work(request) as uow:
        if not decision.allowed and decision.rule != "purpose_required":
            saved.refresh_watcher(uow, principal)  # a watcher who may no longer search: not evaluated
            return []
        return saved.my_watches(uow, principal, request.app.state.policy, request_id=request_id(request))


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return _pages(request).render(
        request, "docs.html", {"openapi_url": request.app.openapi_url}, csp=DOCS_CSP
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return _pages(request).render(
        request, "redoc.html", {"openapi_url": request.app.openapi_url}, csp=DOCS_CSP
    )
