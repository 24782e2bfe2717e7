"""The interactive OpenAPI documentation at /docs (Swagger UI), under a Content-Security-Policy of its own.

FastAPI's page loads Swagger UI from a CDN and starts it with one inline script; the policy allows that CDN and that one
script by its hash (the page is built once here, from nothing a caller sends), no other inline script. ReDoc is not
served: it needs web fonts and blob workers from elsewhere, and /docs already shows the same document.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def add_docs(app: FastAPI) -> None:
    page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - Swagger UI",
                               swagger_ui_parameters=app.swagger_ui_parameters)
    html = bytes(page.body).decode()
    inline = [_sha256(script) for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)]
    policy = (f"default-src 'self'; script-src 'self' {CDN} {' '.join(inline)}; style-src 'self' {CDN} 'unsafe-inline'; "
              "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
              "form-action 'self'; object-src 'none'")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})
