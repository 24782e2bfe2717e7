"""One API convention (issue #21 point 4, docs/api.md "Conventions"): readable operation ids, one path
style, every error declared as the problem+json it is, 415 for a body in a media type the operation does not
take, and a Python client generated from the document (openapi-python-client) that works against the running
server."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from sqlalchemy import func, select

from register.config import Settings
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import PERSON, Minter, auth, running_api

PROBLEM = {"$ref": "#/components/schemas/Problem"}
SEGMENT = re.compile(r"^([a-z0-9_]+|\{[a-z_]+\})$")


def operations(client: TestClient) -> list[tuple[str, str, dict]]:
    doc = client.app.openapi()  # type: ignore[attr-defined]
    return [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


@pytest.mark.sqlite_only
def test_operation_ids_are_unique_readable_names_and_paths_have_one_style(client: TestClient) -> None:
    ops = operations(client)
    ids = [op["operationId"] for _, _, op in ops]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    # what a generated client calls: read_nominal, accept_transfer; never FastAPI's path-and-method default
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) and "_v1_" not in i for i in ids), ids
    assert {"read_nominal", "append_chronology", "accept_transfer", "search_records"} <= set(ids)
    # one path style: snake_case segments, the same words as the sections and JSON fields
    bad = [p for p, _, _ in ops if not all(SEGMENT.match(s) for s in p.strip("/").split("/"))]
    assert not bad, bad


@pytest.mark.sqlite_only
def test_the_document_is_valid_openapi_and_passes_the_linters_rules(client: TestClient) -> None:
    doc = client.app.openapi()  # type: ignore[attr-defined]
    validate(doc)  # openapi-spec-validator: strictly against the OpenAPI 3.1 schema
    for path, method, op in operations(client):
        where = (method, path)
        # the rules of a strict linter (Spectral's oas ruleset): a summary, a tag, a success response, every
        # path parameter declared, no trailing slash or query string in a path
        assert op.get("summary") and op.get("tags"), where
        assert any(status[0] in "23" for status in op["responses"]), where
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([a-z_]+)\}", path)), where
        assert (path == "/" or not path.endswith("/")) and "?" not in path, where
        assert all(p.get("schema") for p in op.get("parameters", [])), where


@pytest.mark.sqlite_only
def test_every_paged_list_pages_one_way_limit_cursor_next(client: TestClient) -> None:
    doc = client.app.openapi()  # type: ignore[attr-defined]
    schemas = doc["components"]["schemas"]
    paged = []
    for path, method, op in operations(client):
        query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        body_fields = set(schemas[body["$ref"].rsplit("/", 1)[1]]["properties"]) if "$ref" in body else set()
        # no other paging words anywhere: no page numbers, offsets or sequence numbers to continue after
        old = {"page", "page_size", "offset", "after", "after_seq", "before_seq"}
        assert not (query | body_fields) & old, (method, path, (query | body_fields) & old)
        if "cursor" in query | body_fields and (
            method == "get" or path == "/v1/search"
        ):  # replay: a position
            assert "limit" in query | body_fields, (method, path)
            answer = (
                op["responses"]
                .get("200", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            if "$ref" in answer:
                fields = set(schemas[answer["$ref"].rsplit("/", 1)[1]]["properties"])
                assert "next" in fields and not fields & {"next_cursor", "next_after_seq", "page"}, (
                    path,
                    fields,
                )
            paged.append(path)
    assert {
        "/v1/nominals",
        "/v1/duplicates",
        "/v1/transfers",
        "/v1/quality/worklist",
        "/v1/audit/events",
        "/v1/events",
        "/v1/search",
    } <= set(paged), paged


@pytest.mark.sqlite_only
def test_the_record_reads_declare_their_tag_and_the_304_if_none_match_gives(client: TestClient) -> None:
    by_id = {op["operationId"]: op for _, _, op in operations(client)}
    reads = ["read_nominal", "read_identity", "read_chronology", "read_marks", "read_victim_safety"]
    for name in reads + ["read_meetings_overview", "list_photographs"]:
        responses = by_id[name]["responses"]
        assert "304" in responses and "ETag" in responses["200"]["headers"], name
    assert all("304" not in op["responses"] for _, method, op in operations(client) if method != "get")


@pytest.mark.sqlite_only
def test_every_error_is_declared_as_the_problem_json_it_is(client: TestClient) -> None:
    for path, method, op in operations(client):
        errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
        if path.startswith("/v1/"):
            assert "503" in errors, (method, path)  # any operation can meet a database outage
        if "requestBody" in op:
            assert "415" in errors, (method, path)
        for status, response in errors.items():
            assert set(response["content"]) == {"application/problem+json"}, (method, path, status)
            assert response["content"]["application/problem+json"]["schema"] == PROBLEM
    schemas = client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
    assert "HTTPValidationError" not in schemas  # FastAPI's shape, never sent by the register
    assert not [k for k in schemas if k.startswith("register__")]  # every schema has a name a client can use


@pytest.mark.sqlite_only
def test_a_body_in_a_media_type_the_operation_does_not_take_is_415_and_writes_nothing(
    client: TestClient, store: Store, token: Minter
) -> None:
    om = token()
    with store.session_factory() as s:
        before = s.scalar(select(func.count()).select_from(m.Nominal))
    for content_type, body in (
        ("text/plain", json.dumps(PERSON)),
        ("application/x-www-form-urlencoded", "surname=Hartley"),
        ("application/xml", "<nominal/>"),
    ):
        r = client.post("/v1/nominals", content=body, headers={**auth(om), "Content-Type": content_type})
        assert r.status_code == 415, (content_type, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["rule"] == "unsupported_media_type" and "application/json" in r.json()["detail"]
    with store.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.Nominal)) == before
    # JSON with its parameters, or a +json type, is JSON
    ok = client.post(
        "/v1/nominals",
        content=json.dumps(PERSON),
        headers={**auth(om), "Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert ok.status_code == 201, ok.text
    # the photograph upload takes multipart/form-data, and nothing else
    nid = ok.json()["id"]
    r = client.post(
        f"/v1/nominals/{nid}/photographs", json={"image": "x"}, headers=auth(om, **{"If-Match": '"1"'})
    )
    assert r.status_code == 415 and "multipart/form-data" in r.json()["detail"]


def generate_client(client: TestClient, into: Path) -> object:
    """The register's Python client, generated from its OpenAPI document as `make client` generates it."""
    document = into / "openapi.json"
    document.write_text(json.dumps(client.app.openapi()))  # type: ignore[attr-defined]
    config = into / "client.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run over the generated code
    package = f"register_client_{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(into / package),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=into,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # the document must generate whole: a schema the generator cannot read is a class missing from the client
    assert "Unable to" not in done.stdout + done.stderr and "Warning" not in done.stdout + done.stderr, (
        done.stdout
    )
    sys.path.insert(0, str(into))
    return importlib.import_module(package)


@pytest.mark.sqlite_only
def test_a_generated_python_client_works_against_the_running_register(
    client: TestClient, settings: Settings, store: Store, token: Minter, tmp_path: Path
) -> None:
    package = generate_client(client, tmp_path)
    name = package.__name__  # type: ignore[attr-defined]
    api = lambda module: importlib.import_module(f"{name}.api.{module}")  # noqa: E731
    models = importlib.import_module(f"{name}.models")
    om = token()
    with (
        running_api(settings, store) as base_url,
        importlib.import_module(f"{name}.client").AuthenticatedClient(base_url=base_url, token=om) as c,
    ):
        me = api("system.who_am_i").sync(client=c)
        assert me.area == "kent" and me.roles == ["offender_manager"]

        created = api("nominals.create_nominal").sync_detailed(
            client=c, body=models.NewNominal.from_dict(PERSON)
        )
        assert created.status_code == 201, created.content
        nid = created.parsed.id
        record = api("nominals.read_nominal").sync(nid, client=c)
        assert record.identity.surname == PERSON["identity"]["surname"] and record.version == 1

        entry = models.ChronologyEntry.from_dict(
            {"kind": "home_visit", "occurred_at": "2026-11-02T10:00:00Z", "summary": "Seen at home, well"}
        )
        appended = api("nominals.append_chronology").sync_detailed(nid, client=c, body=entry, if_match='"1"')
        assert appended.status_code == 201, appended.content
        stale = api("nominals.append_chronology").sync_detailed(nid, client=c, body=entry, if_match='"1"')
        # an error comes back as the client's Problem model, naming its rule
        assert stale.status_code == 412 and stale.parsed.rule == "version_stale"
        chronology = api("nominals.read_chronology").sync(nid, client=c)
        assert [e.data.summary for e in chronology.entries] == ["Seen at home, well"]
