"""Hostile and odd inputs (issue #17, F11): each is refused with the right 4xx and a problem naming the field
and the rule, never a 500, on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from register.domain.enums import Role
from tests.api.helpers import PERSON, Minter, auth, create


def _fields(r) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return [(e["field"], e["rule"]) for e in r.json()["errors"]]


def test_an_age_measured_at_a_date_before_year_121_is_refused_not_a_crash(
    client: TestClient, token: Minter
) -> None:
    query = {
        "query": {"type": "group", "criteria": [{"type": "age", "min": 0, "max": 120, "at": "0100-01-01"}]}
    }
    r = client.post(
        "/v1/search", json=query, params={"purpose": "OP-1"}, headers=auth(token(Role.INVESTIGATOR))
    )
    assert r.status_code == 422, r.text
    [(field, rule)] = _fields(r)
    assert (field, rule) == ("body.query.criteria.0.at", "age_at_range")


@pytest.mark.parametrize("row", ["²", "٣", "99999999999999999999", "x"])
def test_a_statistics_cell_with_a_row_that_is_no_number_is_refused(
    client: TestClient, token: Minter, row: str
) -> None:
    r = client.get(
        "/v1/statistics/cell",
        params={"year": 2024, "table": "eligible_on_31_march", "row": row, "column": "1"},
        headers=auth(token(Role.SUPERVISOR)),
    )
    assert r.status_code == 422, r.text
    assert _fields(r) == [("query.row", "integer")]


def test_a_statistics_cell_of_a_text_table_takes_any_text(client: TestClient, token: Minter) -> None:
    """The policing-unit table is keyed by free text: a unit named "2" or "²" is an empty cell, not an
    error."""
    for row in ("2", "²", "Maidstone MOSOVO"):
        r = client.get(
            "/v1/statistics/cell",
            params={"year": 2024, "table": "registered_sex_offenders_by_unit", "row": row, "column": "count"},
            headers=auth(token(Role.SUPERVISOR)),
        )
        assert r.status_code == 200 and r.json()["nominal_ids"] == [], r.text


def test_nul_characters_are_refused_in_body_fields_naming_each(client: TestClient, token: Minter) -> None:
    body = {
        **PERSON,
        "managing_unit": "Maid\u0000stone",
        "identity": {**PERSON["identity"], "surname": "Hart\u0000ley"},
    }
    r = client.post("/v1/nominals", json=body, headers=auth(token()))
    assert r.status_code == 422, r.text
    assert sorted(_fields(r)) == [
        ("body.identity.surname", "no_nul_character"),
        ("body.managing_unit", "no_nul_character"),
    ]


def test_nul_characters_are_refused_in_nested_lists_and_search_criteria(
    client: TestClient, token: Minter
) -> None:
    om = token()
    nid, etag = create(client, om)
    r = client.post(
        f"/v1/nominals/{nid}/addresses",
        json={"kind": "home", "lines": ["14 Tonbridge Road", "\u0000"], "postcode": "ME16 8RP"},
        headers=auth(om, **{"If-Match": etag}),
    )
    assert r.status_code == 422 and _fields(r) == [("body.lines.1", "no_nul_character")], r.text
    query = {"query": {"type": "group", "criteria": [{"type": "name", "value": "Hart\u0000ley"}]}}
    r = client.post(
        "/v1/search", json=query, params={"purpose": "OP-1"}, headers=auth(token(Role.INVESTIGATOR))
    )
    assert r.status_code == 422 and _fields(r) == [("body.query.criteria.0.value", "no_nul_character")], (
        r.text
    )


def test_nul_characters_are_refused_in_query_parameters(client: TestClient, token: Minter) -> None:
    om = token()
    nid, _ = create(client, om)
    r = client.get(
        f"/v1/nominals/{nid}",
        params={"purpose": "OP\u00001"},
        headers=auth(token(Role.INVESTIGATOR, area="essex")),
    )
    assert r.status_code == 422 and _fields(r) == [("query.purpose", "no_nul_character")], r.text
    r = client.get(
        "/v1/statistics/cell",
        params={
            "year": 2024,
            "table": "registered_sex_offenders_by_unit",
            "row": "\u0000",
            "column": "count",
        },
        headers=auth(token(Role.SUPERVISOR)),
    )
    assert r.status_code == 422 and _fields(r) == [("query.row", "no_nul_character")], r.text


def test_nul_characters_in_the_path_of_an_unauthenticated_call_are_refused(client: TestClient) -> None:
    r = client.get("/v1/nominals/%00")
    assert r.status_code in (401, 422), r.text


@pytest.mark.sqlite_only
def test_a_chunked_body_over_the_limit_is_413(client: TestClient, token: Minter) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"nominal_type": "rso", "notes": "'
        for _ in range(1100):
            yield b"x" * 1000
        yield b'"}'

    r = client.post(
        "/v1/nominals", content=chunks(), headers=auth(token(), **{"Content-Type": "application/json"})
    )
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413, r.text
    assert r.json()["rule"] == "body_too_large"


@pytest.mark.sqlite_only
def test_every_operation_refuses_nul_in_its_body_and_query_before_anything_else(
    client: TestClient, token: Minter
) -> None:
    """One app-wide check, so no operation (today's or a future one) can let a NUL through to PostgreSQL."""
    every_role = token(Role.ADMINISTRATOR)
    checked = 0
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        url = path
        for name in ("nominal_id", "item_id", "transfer_id", "merge_id", "hold_id"):
            url = url.replace("{" + name + "}", "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869")
        url = url.replace("{section}", "addresses")
        for method, operation in operations.items():
            headers = auth(every_role, **{"If-Match": '"1"'})
            if "requestBody" in operation:
                r = client.request(
                    method,
                    url,
                    json={"note": "a\u0000b", "items": ["ok", "\u0000"]},
                    params={"purpose": "OP-1"},
                    headers=headers,
                )
                assert r.status_code == 422 and sorted(_fields(r)) == [
                    ("body.items.1", RULE),
                    ("body.note", RULE),
                ], (method, path, r.text)
            r = client.request(method, url, params={"purpose": "OP\u00001"}, headers=headers)
            assert r.status_code == 422 and _fields(r) == [("query.purpose", RULE)], (method, path, r.text)
            checked += 1
    assert checked > 90


RULE = "no_nul_character"
