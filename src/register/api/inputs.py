"""Checks on every request before any route sees it, in one place rather than on each field or route.

A body the route cannot read as it declares is refused with 415 (rule `unsupported_media_type`): a `/v1`
route that takes JSON takes `application/json` (or a `+json` type; no Content-Type at all is read as JSON, as
FastAPI does), the photograph upload `multipart/form-data`, each as its OpenAPI document declares. Before, a
form or text body reached the model and came back as a 422 about the model's fields: the wrong problem.

NUL ("\\u0000") is refused in every path parameter, query parameter and JSON string (keys too): PostgreSQL
cannot store it in text (psycopg refuses the statement, which was a 500), and no name, address or note has
one.
"""

from __future__ import annotations

import contextlib
import json
from email.message import Message
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from .problems import ApiProblem

RULE = "no_nul_character"
MESSAGE = "text must not contain the NUL character (U+0000)"
_MOST = 50  # errors reported at most: a body of a million NULs needs no million-line answer


def _walk(value: Any, loc: tuple[str | int, ...], out: list[dict[str, Any]]) -> None:
    if len(out) >= _MOST:
        return
    if isinstance(value, str):
        if "\x00" in value:
            out.append(
                {"type": RULE, "loc": loc, "msg": MESSAGE, "input": value.replace("\x00", "\\u0000")[:100]}
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                out.append(
                    {
                        "type": RULE,
                        "loc": (*loc, key.replace("\x00", "\\u0000")),
                        "msg": MESSAGE,
                        "input": None,
                    }
                )
            else:
                _walk(item, (*loc, key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, (*loc, i), out)


async def reject_nul_characters(request: Request) -> None:
    """An app-wide dependency: a 422 naming each field (`path.x`, `query.x`, `body.a.0.b`) with rule
    `no_nul_character`."""
    errors: list[dict[str, Any]] = []
    _walk(dict(request.path_params), ("path",), errors)
    for key, value in request.query_params.multi_items():
        _walk({key: value}, ("query",), errors)
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and "json" in request.headers.get(
        "content-type", ""
    ):
        raw = await request.body()  # cached: the route reads the same bytes
        if b"\\u0000" in raw or b"\x00" in raw:
            with contextlib.suppress(ValueError):  # not JSON: FastAPI answers that itself
                _walk(json.loads(raw), ("body",), errors)
    if errors:
        raise RequestValidationError(errors)


def _media_type(value: str) -> str:
    message = Message()
    message["content-type"] = value
    return message.get_content_type()  # lower case, without parameters; text/plain when unreadable


def _accepts(route: APIRoute) -> str | None:
    """The media type a route's body is declared in (`application/json`, `multipart/form-data`...), or None
    for a route that takes no body."""
    field = route.body_field
    return None if field is None else str(getattr(field.field_info, "media_type", "application/json"))


async def require_media_type(request: Request) -> None:
    """An app-wide dependency: 415 for a `/v1` body sent in a media type the route does not take."""
    route = request.scope.get("route")
    if (
        request.method not in ("POST", "PUT", "PATCH")
        or not request.url.path.startswith("/v1/")
        or not isinstance(route, APIRoute)
    ):
        return
    accepts = _accepts(route)
    sent = request.headers.get("content-type")
    if accepts is None or sent is None:
        return
    given = _media_type(sent)
    if accepts == "application/json":
        fits = given == "application/json" or (given.startswith("application/") and given.endswith("+json"))
    else:
        fits = given == accepts
    if not fits:
        raise ApiProblem(
            415,
            "unsupported_media_type",
            f"this operation takes a body in {accepts}, not {given}",
        )
