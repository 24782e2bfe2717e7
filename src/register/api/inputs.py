"""Checks on every request's text before any route sees it, in one place rather than on each field.

NUL ("\\u0000") is refused in every path parameter, query parameter and JSON string (keys too): PostgreSQL
cannot store it in text (psycopg refuses the statement, which was a 500), and no name, address or note has
one.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

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
