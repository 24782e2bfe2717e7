"""The front door and the API documentation: served by the register itself, loading nothing from another
host."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from register.web.routes import router as web_router
from tests.api.helpers import Minter, auth

pytestmark = pytest.mark.sqlite_only


class _References(HTMLParser):
    """Every address a page refers to: src, href, action, srcset, and url() in inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in (
                "src",
                "href",
                "action",
                "data",
                "poster",
                "formaction",
                "spec-url",
                "data-openapi-url",
            ):
                self.found.append(value)
            elif name == "srcset":
                self.found += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name == "style":
                self.found += re.findall(r"url\(['\"]?([^'\")]+)", value)


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.found


def elsewhere(address: str) -> bool:
    """True if a browser would fetch or follow this address on another host."""
    parts = urlsplit(address)
    return bool(parts.netloc) or parts.scheme not in ("", "data")


def public_pages(client: TestClient) -> list[str]:
    """Every GET route without path parameters that answers without a token: the pages (outside the OpenAPI
    document) and every operation in it."""
    pages = {r.path for r in web_router.routes if isinstance(r, APIRoute) and "GET" in r.methods}
    operations = {path for path, ops in client.get("/openapi.json").json()["paths"].items() if "get" in ops}
    paths = sorted(p for p in pages | operations | {"/openapi.json"} if "{" not in p)
    return [p for p in paths if client.get(p).status_code == 200]


def test_no_page_the_register_serves_loads_or_links_anything_from_another_host(client: TestClient) -> None:
    pages = public_pages(client)
    assert {"/", "/docs", "/redoc", "/health", "/openapi.json"} <= set(pages)
    checked_styles = 0
    for page in pages:
        response = client.get(page)
        if not response.headers["content-type"].startswith("text/html"):
            continue
        found = references(response.text)
        assert found, f"{page} refers to nothing: the parser missed its links"
        assert [a for a in found if elsewhere(a)] == [], f"{page} refers to another host"
        for address in found:  # what each page loads must be there, and stylesheets must not reach out either
            target = urljoin(page, address)
            if urlsplit(target).path.startswith(("/static/", "/assets/")):
                loaded = client.get(target)
                assert loaded.status_code == 200, target
                if target.endswith(".css"):
                    checked_styles += 1
                    urls = re.findall(r"url\(['\"]?([^'\")]+)", loaded.text)
                    assert [u for u in urls if elsewhere(u)] == [], f"{target} loads from another host"
                    for u in {u for u in urls if u.startswith("/")}:
                        assert client.get(u).status_code == 200, f"{target} needs {u}"
    assert checked_styles >= 3  # GOV.UK, MoJ and the register's own stylesheet, at least


def test_the_front_door_says_what_the_register_is_and_where_to_go(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>The register</title>" in page.text
    assert 'id="main-content"' in page.text and 'href="#main-content"' in page.text  # skip link
    for link in ("/docs", "/redoc", "/openapi.json", "/health", "/ready"):
        assert f'href="{link}"' in page.text
    # development: where the demo users' tokens are (written by `register demo`; none yet in this test's data
    # dir)
    assert 'data-qa="demo-users"' in page.text and "register dev-token" in page.text
    # the one inline script (GOV.UK's js-enabled marker) runs only under this response's nonce
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)  # type: ignore[union-attr]
    assert re.findall(r"<script(?: nonce=\"([^\"]*)\")?", page.text) == [nonce]
    assert (
        client.get("/").headers["content-security-policy"] != page.headers["content-security-policy"]
    )  # fresh each time


def test_the_front_door_names_the_demo_token_file_once_the_demo_wrote_it(client: TestClient) -> None:
    settings = client.app.state.store.settings
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    (settings.var_dir / "demo-tokens.env").write_text("export KENT_READER=x\n")
    page = client.get("/").text
    assert "demo-tokens.env" in page and "KENT_OFFENDER_MANAGER" in page
    assert "export KENT_READER=x" not in page  # where the tokens are, never the tokens


def test_the_api_documentation_is_served_from_the_register(client: TestClient) -> None:
    for page, needs in (
        ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js")),
        ("/redoc", ("redoc.standalone.js",)),
    ):
        html = client.get(page)
        assert html.status_code == 200
        scripts = [a for a in references(html.text) if a.startswith("/static/")]
        for name in needs:
            stem, ext = name.rsplit(".", 1)
            [asset] = [
                a for a in scripts if re.fullmatch(rf"/static/{re.escape(stem)}-[0-9a-f]{{12}}\.{ext}", a)
            ]
            loaded = client.get(asset)
            assert loaded.status_code == 200 and len(loaded.content) > 300
            assert loaded.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert 'data-openapi-url="/openapi.json"' in client.get("/docs").text
    assert client.get("/openapi.json").json()["info"]["title"] == "The register"


def test_an_asset_name_that_was_not_built_is_a_404_not_a_file_elsewhere(client: TestClient) -> None:
    assert client.get("/static/nothing-here.js").status_code == 404
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/assets/%2e%2e/manifest.json").status_code == 404


def test_the_pages_sit_beside_the_api_not_in_its_document(client: TestClient, token: Minter) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/docs" not in paths
    assert client.get("/v1/me", headers=auth(token())).status_code == 200
