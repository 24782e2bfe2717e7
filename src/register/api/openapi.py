"""The OpenAPI document as a generated client needs it (issue #21 point 4, docs/api.md "Conventions"): errors
declared as they are sent, one readable name per schema, operation ids from the route functions' names.

FastAPI writes the document from the routes; `tidy` corrects what it gets wrong for this API once, when the
document is first asked for, so no route has to remember."""

from __future__ import annotations

import json
import re
from typing import Any

from . import problems

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
_UNAVAILABLE = "Service unavailable: the database cannot be reached (retry after `Retry-After` seconds)"


def declare_problems(doc: dict[str, Any]) -> dict[str, Any]:
    """Every error response in the OpenAPI document as it is sent: `application/problem+json` with the
    Problem schema (FastAPI puts a response model under `application/json`), its example kept; 415 on every
    operation that takes a body and 503 on every `/v1` operation, since any of them can answer those.
    FastAPI's own validation error schemas, never sent by the register, are dropped."""
    for path, operations in doc.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("415", {"description": problems.TITLES[415]})
            if path.startswith("/v1/"):
                responses.setdefault("503", {"description": _UNAVAILABLE})
            for status, response in responses.items():
                if status[:1] not in ("4", "5"):
                    continue
                content = response.get("content", {})
                declared = {**content.get("application/json", {}), **content.get(problems.MEDIA_TYPE, {})}
                example = {k: v for k, v in declared.items() if k in ("example", "examples")}
                response["content"] = {problems.MEDIA_TYPE: {"schema": PROBLEM_SCHEMA, **example}}
    schemas = doc.get("components", {}).get("schemas", {})
    text = json.dumps(doc.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f'/{unused}"' not in text:
            del schemas[unused]
    return doc


# pydantic names a schema by its module when two models share a class name (a record's Address and the
# search's Address criterion): `register__search__query__Address`. A generated client cannot name a class
# that. The record's own model keeps the plain name; another capability's gets it in front (`SearchAddress`).
_QUALIFIED = re.compile(r"^register__(?P<capability>[a-z_]+?)__(?:[a-z_]+__)*(?P<name>[A-Za-z0-9]+)$")


def readable_names(doc: dict[str, Any]) -> dict[str, Any]:
    schemas = doc.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    for key in list(schemas):
        found = _QUALIFIED.match(key)
        if found is None:
            continue
        capability, name = found["capability"], found["name"]
        new = name if capability == "domain" else capability.title().replace("_", "") + name
        if new in schemas or new in renames.values():
            raise ValueError(f"two schemas would be called {new}: name one of them (model_config title)")
        renames[key] = new
    if not renames:
        return doc
    text = json.dumps(doc)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    tidied: dict[str, Any] = json.loads(text)
    schemas = tidied["components"]["schemas"]
    for old, new in renames.items():
        schemas[new] = {**schemas.pop(old), "title": new}
    return tidied


def tidy(doc: dict[str, Any]) -> dict[str, Any]:
    return declare_problems(readable_names(doc))
