"""Cursors: where a walk through a result list resumes, sealed so that they say nothing to anyone.

A cursor carries the sort key of the last hit shown (its score or its primary surname, and its id) and, on
Elasticsearch, the point in time the walk reads. A surname is personal data and a cursor goes into URLs, logs
and browser histories, so the whole of it is sealed (AES-256-GCM) under a key derived from the blind-index
root: opaque to the client, and one altered by a single bit is refused. It is bound to the query, the
archive switch and the sort it came from (`SearchRequest.fingerprint`), so it cannot move a walk into another
search.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from typing import Any

from ..crypto.envelope import TamperedCiphertext, derive_key, open_sealed, seal
from ..domain.errors import InvalidValue
from .query import SearchRequest

AAD = b"register/v1|search|cursor"
FIELD = "body.cursor"


class Cursors:
    def __init__(self, root: bytes) -> None:
        self._key = derive_key(root, "search-cursor")

    def seal(self, request: SearchRequest, after: list[Any], snapshot: str | None = None) -> str:
        """The cursor for the page after the hit with sort key `after`."""
        doc: dict[str, Any] = {"f": request.fingerprint(), "a": after}
        if snapshot:
            doc["p"] = snapshot
        sealed = seal(self._key, json.dumps(doc, separators=(",", ":")).encode(), AAD)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, request: SearchRequest) -> SearchRequest:
        """The request resuming where its cursor says (unchanged without one); a cursor this register did not
        give, or gave for another query or sort, is refused naming the field and the rule."""
        if request.cursor is None:
            return request
        try:
            text = request.cursor
            doc = json.loads(
                open_sealed(self._key, base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), AAD)
            )
            fingerprint, after, snapshot = doc["f"], doc["a"], doc.get("p")
            ok = _key_shape(after, request.sort) and (snapshot is None or isinstance(snapshot, str))
        except (ValueError, TypeError, KeyError, binascii.Error, TamperedCiphertext):
            ok = False
        if not ok:
            raise InvalidValue(
                "cursor_invalid", "not a cursor this API gave: send a page's `next_cursor` unchanged", FIELD
            )
        if fingerprint != request.fingerprint():
            raise InvalidValue(
                "cursor_mismatch",
                "the cursor belongs to another query or sort: send it with the query and sort it came from",
                FIELD,
            )
        return request.resuming(after, snapshot)


def _key_shape(after: Any, sort: str) -> bool:
    """[score, id] or [surname, id]."""
    if not (isinstance(after, list) and len(after) == 2 and isinstance(after[1], str)):
        return False
    try:
        if str(uuid.UUID(after[1])) != after[1]:
            return False
    except ValueError:
        return False
    first = after[0]
    if sort == "relevance":
        return isinstance(first, (int, float)) and not isinstance(first, bool) and math.isfinite(first)
    return isinstance(first, str)
