"""One pagination convention for every list the API returns (docs/api.md, "Conventions"): a caller sends
`limit` and, for every page after the first, the `cursor` the previous page gave as `next`; `next` is null on
the last page (the event feed, which never ends, always gives one).

A cursor is a position in one listing (an offset, or a sequence number for logs that only grow), sealed with
AES-256-GCM under a key derived from the blind-index root for that listing alone, and bound to the filters it
came from. It is opaque: two cursors never say how many rows lay between them, a cursor of one listing is
refused by another, a cursor sent with other filters is refused, and one altered by a bit is refused, each
naming the field and the rule. It holds no personal data, so it may go into URLs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from ..crypto.envelope import TamperedCiphertext, derive_key, open_sealed, seal
from ..domain.errors import InvalidValue
from ..store.uow import UnitOfWork

MAX_LENGTH = 400  # a sealed position and fingerprint, base64: about 120 characters
PATTERN = r"^[A-Za-z0-9_-]+$"


def fingerprint(filters: Any) -> str:
    """What a cursor is bound to: the listing's filters (anything JSON can write, e.g. a dict of them)."""
    text = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Cursors:
    """Seal and open positions in the listing `name` (e.g. "records", "audit", "events")."""

    def __init__(self, root: bytes, name: str) -> None:
        self._key = derive_key(root, f"{name}-cursor")
        self._aad = f"register/v1|{name}|cursor".encode()

    def seal(self, position: int, bound: str | None = None) -> str:
        doc: dict[str, Any] = {"p": position}
        if bound is not None:
            doc["f"] = bound
        sealed = seal(self._key, json.dumps(doc, separators=(",", ":")).encode(), self._aad)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, cursor: str | None, bound: str | None = None, field_name: str = "query.cursor") -> int:
        """The position a cursor holds (0: none given, the start). A cursor this register did not give for
        this listing, or gave for other filters, is refused naming the field and the rule."""
        if cursor is None or cursor == "":
            return 0
        try:
            doc = json.loads(
                open_sealed(self._key, base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), self._aad)
            )
            position = doc["p"]
            ok = isinstance(position, int) and not isinstance(position, bool) and position >= 0
        except (ValueError, TypeError, KeyError, binascii.Error, TamperedCiphertext):
            ok = False
        if not ok:
            raise InvalidValue(
                "cursor_invalid",
                "not a cursor this register gave: send a page's `next` unchanged",
                field_name,
            )
        if doc.get("f") != bound:
            raise InvalidValue(
                "cursor_mismatch",
                "the cursor belongs to a listing with other filters: send it with the filters it came from",
                field_name,
            )
        return int(position)


def cursors(uow: UnitOfWork, name: str) -> Cursors:
    return Cursors(uow.store.keys.blind_root.material, name)


def next_offset(cursors_: Cursors, offset: int, shown: int, total: int, bound: str) -> str | None:
    """The cursor of the page after one that showed `shown` rows from `offset` of `total`; None: the last."""
    return cursors_.seal(offset + shown, bound) if shown and offset + shown < total else None
