"""Rendering pages: Jinja2 templates with GOV.UK Frontend's macros, the built assets, and a
Content-Security-Policy with a fresh nonce on every page (no inline script runs without it; nothing loads from
another host)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import __version__
from .assets import Assets

TEMPLATES = Path(__file__).parent / "templates"

# Pages: scripts only from the register itself or inline with this response's nonce.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The API documentation pages: Swagger UI and ReDoc set inline styles and ReDoc searches in a blob: worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class Pages:
    def __init__(self, assets: Assets) -> None:
        self.assets = assets
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
        self.env.globals.update(asset=assets.url, version=__version__, serviceName="The register")

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
        html = self.env.get_template(template).render(
            {"request": request, "cspNonce": nonce, **(context or {})}
        )
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={
                "Content-Security-Policy": csp.format(nonce=nonce),
                "Cache-Control": "no-store",
            },
        )
