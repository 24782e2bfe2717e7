"""Rendering pages: Jinja2 templates with GOV.UK Frontend's macros, the built assets, and a
Content-Security-Policy with a fresh nonce on every page (no inline script runs without it; nothing loads from
another host)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import __version__
from ..domain.notification import age_on
from .assets import Assets

TEMPLATES = Path(__file__).parent / "templates"

# Pages: scripts only from the register itself or inline with this response's nonce.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'{form_targets}; frame-ancestors 'none'"
)
# The API documentation pages: Swagger UI and ReDoc set inline styles and ReDoc searches in a blob: worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def label(code: object) -> str:
    """A code as words: `offender_manager` -> `Offender manager`, `kent` -> `Kent`."""
    text = str(getattr(code, "value", code)).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def long_date(day: dt.date | None) -> str:
    """GOV.UK style: 3 March 2025."""
    return f"{day.day} {day:%B %Y}" if day is not None else ""


def short_date(day: dt.date | None) -> str:
    """GOV.UK style, in tables: 3 Mar 2025."""
    return f"{day.day} {day:%b %Y}" if day is not None else ""


LONDON = ZoneInfo("Europe/London")


def _time(at: dt.datetime) -> str:
    hour = at.hour % 12 or 12
    return f"{hour}:{at:%M}{at:%p}".lower() if at.minute else f"{hour}{at:%p}".lower()


def moj_date(timestamp: str | dt.datetime, kind: str | None = None) -> str:
    """MoJ Frontend's `mojDate` filter, in Europe/London: datetime "1 January 1970 at 1:32pm", shortdatetime,
    date, shortdate, time."""
    at = dt.datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else timestamp
    if at.tzinfo is not None:
        at = at.astimezone(LONDON)
    if kind == "datetime":
        return f"{long_date(at.date())} at {_time(at)}"
    if kind == "shortdatetime":
        return f"{short_date(at.date())} at {_time(at)}"
    if kind == "shortdate":
        return short_date(at.date())
    if kind == "time":
        return _time(at)
    return long_date(at.date())


def age(born: dt.date | None, today: dt.date | None = None) -> int | None:
    if born is None:
        return None
    return age_on(born, today or dt.date.today())


def thousands(n: int) -> str:
    """A count as GOV.UK writes it: 5,093."""
    return f"{n:,}"


class Pages:
    def __init__(self, assets: Assets, *, form_targets: list[str] | None = None) -> None:
        """`form_targets`: other origins a form's answer may redirect to (sign-out goes on to the identity
        provider's end-session endpoint, and browsers hold redirects after a form to the page's
        form-action)."""
        self.assets = assets
        self.form_targets = "".join(f" {origin}" for origin in form_targets or [])
        self.env = Environment(
            loader=ChoiceLoader(
                [
                    FileSystemLoader(TEMPLATES),
                    PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
                ]
            ),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            asset=assets.url,
            version=__version__,
            serviceName="The register",
            label=label,
            age=age,
            long_date=long_date,
            short_date=short_date,
        )
        self.env.filters["mojDate"] = moj_date
        self.env.filters["thousands"] = thousands

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        csp: str = PAGE_CSP,
    ) -> HTMLResponse:
        nonce = secrets.token_urlsafe(18)
        session = getattr(
            request.state, "web_session", None
        )  # web/sessions.py: who is signed in, the CSRF token
        html = self.env.get_template(template).render(
            {
                "request": request,
                "cspNonce": nonce,
                "user": session.principal if session is not None else None,
                "csrf_token": session.csrf_token if session is not None else None,
                **(context or {}),
            }
        )
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={
                "Content-Security-Policy": csp.format(nonce=nonce, form_targets=self.form_targets),
                "Cache-Control": "no-store",
            },
        )
