"""What every page route shares: who is signed in, the policy's permission, the CSRF check, one unit of work,
and the pages for refusals and errors.

A page never commits, builds an audit entry or touches the outbox: it opens `work(request)` and calls use
cases.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match

from ..access.policy import Policy
from ..api.deps import Authorize, request_id
from ..domain.actors import Principal
from ..domain.errors import NotFound
from ..signin import service as signin_service
from ..store.uow import UnitOfWork
from ..usecase.guard import Access, Refused, authorize, authorize_record
from . import sessions
from .pages import Pages, thousands

DEFAULT_LANDING = "/"
_LOCAL_PATH = re.compile(r"^/(?![/\\])[\x21-\x7e]{0,499}$")


class PageProblem(Exception):
    """Answer with the error page: a refusal (403), something not found (404), a bad request (400)."""

    def __init__(self, status: int, title: str, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.rule = status, title, message, rule


class SignInRequired(Exception):
    def __init__(self, next_path: str, ended: str | None = None) -> None:
        super().__init__(next_path)
        self.next_path, self.ended = next_path, ended


def pages(request: Request) -> Pages:
    value: Pages = request.app.state.pages
    return value


def page_count(total: int, size: int) -> int:
    """How many pages of `size` a list of `total` takes: at least one, the empty list's."""
    return max(1, -(-total // size))


def page_links(
    page: int, *, size: int, total: int, shown: int, href: Callable[[int], str], noun: str, label: str
) -> dict[str, Any]:
    """The MoJ pagination of page `page` of a list of `total` shown `size` at a time (`shown` on this page):
    links to the first and last pages and to two either side of this one, with a gap wherever two pages or
    more are left out (Kent's Category 1 Level 1 at 100,000 people is 102 pages: never 102 links), previous
    and next, and "Showing x to y of `total`"."""
    pages, first = page_count(total, size), (page - 1) * size + 1
    near = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    # a gap of one page shows that page instead: a "…" is worth it only when it hides two or more
    numbers = sorted({*near, *(n + 1 for n, after in zip(near, near[1:], strict=False) if after == n + 2)})
    items: list[dict[str, Any]] = []
    for n, following in zip(numbers, [*numbers[1:], None], strict=True):
        items.append({"text": str(n), "href": href(n), "selected": n == page})
        if following is not None and following > n + 1:
            items.append({"type": "dots"})
    out: dict[str, Any] = {
        "items": items,
        "results": {  # in GOV.UK style, 5,093; nothing shown stays the number 0, which the macro tests for
            "from": thousands(first) if shown else 0,
            "to": thousands(first + shown - 1) if shown else 0,
            "count": thousands(total) if total else 0,
            "text": noun,
        },
        "landmarkLabel": label,
    }
    if page > 1:
        out["previous"] = {"href": href(page - 1)}
    if page < pages:
        out["next"] = {"href": href(page + 1)}
    return out


# The primary navigation: (text, page, the policy's action that shows it). A user sees the entries their roles
# allow, in this order.
NAVIGATION: list[tuple[str, str, str]] = [
    ("My caseload", "/caseload", "record.list"),
    ("Search", "/search", "record.search"),
    ("Data quality", "/quality", "quality.read"),
    ("Workload", "/workload", "quality.read"),
    ("MAPPA meetings", "/meetings", "meeting.list"),
    ("Transfers", "/transfers", "transfer.list"),
    ("Duplicates", "/duplicates", "record.merge"),
    ("Archive and retention", "/retention", "record.retention"),
    ("Statistics", "/statistics", "statistics.read"),
    ("Audit", "/audit", "audit.read"),
]


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """A page, with the primary navigation the signed-in user's permissions give."""
    session = sessions.current(request)
    navigation = []
    if session is not None and session.principal is not None:
        policy: Policy = request.app.state.policy
        path = request.url.path
        for text, href, action in NAVIGATION:
            decision = policy.decide(session.principal, action)
            # An action that always states a purpose (search) is shown: its page asks for the purpose.
            if decision.allowed or decision.rule == "purpose_required":
                active = path == href or path.startswith(href + "/")
                navigation.append({"text": text, "href": href, "active": active})
    flash_message = session.data.pop(FLASH_KEY, None) if session is not None else None
    return pages(request).render(
        request,
        template,
        {"navigation": navigation, "flash": flash_message, **(context or {})},
        status_code=status_code,
    )


FLASH_KEY = "register.flash"


def flash(request: Request, message: str) -> None:
    """A confirmation shown once, as a success banner, on the next page this session renders."""
    session = sessions.current(request)
    if session is not None:
        session.data[FLASH_KEY] = message


def return_to(request: Request, path: str, fallback: str = "/caseload") -> str:
    """`path` if this register has a page there (a GET route matches it), else `fallback`."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in request.app.router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL and getattr(route, "methods", None) and "GET" in route.methods:
            return path
    return fallback


@contextmanager
def work(request: Request) -> Iterator[UnitOfWork]:
    """One unit of work for a page's action, opened for its caller like an API request's: the use case it runs
    commits its change, audit events and outbox rows together when it returns; a use case refused by the
    register's rules (a stale version, a rule broken) rolls back and is audited; the block's end commits what
    is left (and rolls back on an exception)."""
    with request.app.state.store.unit_of_work(for_caller=True) as uow:
        yield uow


def local_path(value: str | None) -> str:
    """`value` if it is a path on this site (so `next` can never send anyone elsewhere), else the landing
    page."""
    if value and _LOCAL_PATH.match(value) and "//" not in value.split("?", 1)[0]:
        return value
    return DEFAULT_LANDING


def sign_in_url(next_path: str, ended: str | None = None) -> str:
    url = "/sign-in"
    if next_path != DEFAULT_LANDING:
        url += "?next=" + quote(next_path, safe="/")
    if ended:
        url += ("&" if "?" in url else "?") + f"ended={ended}"
    return url


def signed_in(request: Request) -> Principal:
    """The signed-in user, or a redirect to sign-in and back (after auditing a session that just timed
    out)."""
    session = sessions.current(request)
    if session is not None and session.principal is not None:
        return session.principal
    ended = sessions.ended(request)
    if ended is not None and ended.principal is not None:
        with work(request) as uow:
            signin_service.session_expired(
                uow, ended.principal, reason=ended.reason, request_id=request_id(request)
            )
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise SignInRequired(
        local_path(here) if request.method == "GET" else DEFAULT_LANDING, ended.reason if ended else None
    )


SignedIn = Annotated[Principal, Depends(signed_in)]


class PageGuard(Authorize):
    """Declares the action a page performs and asks the policy, for the signed-in user of the session. A
    refusal is audited exactly like the API's and answered with the refusal page."""

    def __call__(self, request: Request, principal: SignedIn) -> Principal:  # type: ignore[override]
        policy: Policy = request.app.state.policy
        try:
            with work(request) as uow:
                authorize(
                    uow, policy, principal, self.action, section=self.section, request_id=request_id(request)
                )
        except Refused as refused:
            raise PageProblem(
                refused.status, "You cannot see this page", refused.reason, rule=refused.rule
            ) from None
        return principal


async def verify_csrf(request: Request) -> None:
    """Every form carries this session's CSRF token in `csrf_token`; a POST without it is refused (and
    audited)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    session = sessions.current(request)
    if session is None and request.url.path == "/sign-out":
        return  # no session to end: nothing a forged sign-out could do
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))


def check_csrf(request: Request, given: object) -> None:
    """`given` must be this session's CSRF token; otherwise the request is refused (and audited). For a form
    parsed by its page itself (a photograph's multipart body, never spooled to disk)."""
    session = sessions.current(request)
    if (
        session is not None
        and isinstance(given, str)
        and hmac.compare_digest(given.encode(), session.csrf_token.encode())
    ):
        return
    with work(request) as uow:
        signin_service.forged_request_refused(
            uow,
            session.principal if session is not None else None,
            path=request.url.path,
            method=request.method,
            request_id=request_id(request),
        )
    raise PageProblem(
        403,
        "This form has expired",
        "The form was not sent from this signed-in session (or the session has ended), so nothing was done. "
        "Go back, reload the page and try again.",
        rule="csrf_token_invalid",
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(PageProblem)
    async def _page_problem(request: Request, exc: PageProblem) -> Response:
        return render(
            request,
            "pages/error.html",
            {"title": exc.title, "message": exc.message, "status": exc.status, "rule": exc.rule},
            status_code=exc.status,
        )

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(sign_in_url(exc.next_path, exc.ended), status_code=303)


def unavailable_page(request: Request, headers: dict[str, str]) -> Response:
    """The page while the database cannot be reached (a restart, a failover): 503, try again shortly."""
    response = render(
        request,
        "pages/error.html",
        {
            "title": "The register is not answering",
            "message": "The register cannot reach its database just now, so nothing was read or changed. "
            "Try again in a minute.",
            "status": 503,
            "rule": "database_unreachable",
        },
        status_code=503,
    )
    response.headers.update(headers)
    return response


def record_access(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    nominal_id: uuid.UUID,
    section: str | None,
    *,
    purpose: str | None = None,
) -> Access:
    """The policy's answer for an action on one record (a refusal is audited and answered with the refusal
    page; a record that does not exist with the not-found page)."""
    try:
        return authorize_record(
            uow,
            request.app.state.policy,
            principal,
            action,
            nominal_id,
            section=section,
            purpose=purpose,
            request_id=request_id(request),
        )
    except Refused as refused:
        raise PageProblem(refused.status, "You cannot do this", refused.reason, rule=refused.rule) from None
    except NotFound:
        raise not_found() from None


def not_found() -> PageProblem:
    return PageProblem(404, "Page not found", "There is no such record, or it is not yours to see.")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
