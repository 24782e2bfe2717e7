"""Anchors: the audit chain's head, signed and appended outside the database at intervals.

The chain proves that sealed events were not altered, removed or reordered, but not that the tail was not cut
off, or the whole log replaced: someone with database rights can delete the newest events and seals, or empty
both tables, and what is left is a valid chain. An anchor is a line recording, at a moment, the chain's head
(one JSON object per line; shown here over two):

    {"v": 1, "position": 9, "event_seq": 9, "digest": "<hex>",
     "at": "2026-11-30T02:50:00+00:00", "mac": "<hex>"}

`mac` is HMAC-SHA256 over the other fields with a key derived from the audit root key (which the database does
not hold), so an anchor cannot be forged by someone who can only write the anchor store. `verify` checks every
anchor: the chain must reach its position and have its digest there.

Where anchors go is the operators' choice behind `AnchorStore`; `FileAnchors` (JSON lines, 0600, appended with
O_APPEND and fsync) is the default. The store must be append-only to the register (object storage with a
retention lock, a remote syslog server, a write-once file on another host): see docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..crypto.envelope import derive_key

_SIGNED = ("v", "position", "event_seq", "digest", "at")


def anchor_key(audit_root: bytes) -> bytes:
    return derive_key(audit_root, "audit-anchor")


@dataclass(frozen=True)
class Anchor:
    position: int  # the chain position of the head
    event_seq: int  # the event sealed there
    digest: str  # hex of the seal's digest
    at: str  # ISO 8601 UTC, when the anchor was made
    mac: str = ""
    v: int = 1

    def _payload(self) -> bytes:
        return json.dumps(
            {k: getattr(self, k) for k in _SIGNED}, sort_keys=True, separators=(",", ":")
        ).encode()

    def signed(self, key: bytes) -> Anchor:
        return Anchor(
            self.position,
            self.event_seq,
            self.digest,
            self.at,
            hmac.new(key, self._payload(), hashlib.sha256).hexdigest(),
            self.v,
        )

    def authentic(self, key: bytes) -> bool:
        return hmac.compare_digest(hmac.new(key, self._payload(), hashlib.sha256).hexdigest(), self.mac)

    @property
    def made_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)

    def to_json(self) -> str:
        return json.dumps({k: getattr(self, k) for k in (*_SIGNED, "mac")}, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Anchor:
        doc = json.loads(line)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        anchor = cls(
            position=doc["position"],
            event_seq=doc["event_seq"],
            digest=doc["digest"],
            at=doc["at"],
            mac=doc["mac"],
            v=doc.get("v", 1),
        )
        if not (
            isinstance(anchor.position, int)
            and isinstance(anchor.event_seq, int)
            and isinstance(anchor.digest, str)
            and isinstance(anchor.at, str)
            and isinstance(anchor.mac, str)
        ):
            raise ValueError("a field has the wrong type")
        anchor.made_at  # noqa: B018 - raises on a malformed time
        return anchor


@dataclass(frozen=True)
class StoredAnchor:
    """One entry as read back: the anchor, or why it could not be read."""

    where: str  # e.g. "var/audit-anchors.jsonl line 12"
    anchor: Anchor | None
    error: str | None = None


class AnchorStore(Protocol):
    """An append-only place outside the database. `append` must be durable when it returns."""

    @property
    def description(self) -> str: ...

    def append(self, anchor: Anchor) -> None: ...

    def read(self) -> Iterator[StoredAnchor]:
        """Every entry, oldest first."""
        ...

    def recent(self) -> list[Anchor]:
        """The readable anchors among the most recent entries (enough to find the latest); signatures
        unchecked."""
        ...


class FileAnchors:
    """JSON lines in a local file, created 0600 in a 0700 directory, appended and fsynced under an exclusive
    lock.

    Several processes (the API, CLI commands) may append to the same file; their anchors may land out of
    position order, which `verify` accepts (each anchor is checked on its own)."""

    TAIL_BYTES = 64 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return str(self.path)

    def append(self, anchor: Anchor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, (anchor.to_json() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock

    def read(self) -> Iterator[StoredAnchor]:
        try:
            fh = self.path.open("r", encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        with fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield self._parse(line, f"{self.path} line {number}")

    def recent(self) -> list[Anchor]:
        try:
            with self.path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - self.TAIL_BYTES))
                tail = fh.read().decode("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        if len(tail) > 1 and size > self.TAIL_BYTES:
            tail = tail[1:]  # the first line may be cut
        return [
            s.anchor for s in (self._parse(line, "") for line in tail if line.strip()) if s.anchor is not None
        ]

    @staticmethod
    def _parse(line: str, where: str) -> StoredAnchor:
        try:
            return StoredAnchor(where, Anchor.from_json(line))
        except (ValueError, KeyError, TypeError) as exc:
            return StoredAnchor(where, None, f"unreadable ({exc})")


def make_anchor(
    key: bytes, *, position: int, event_seq: int, digest: bytes, at: dt.datetime | None = None
) -> Anchor:
    at = at or dt.datetime.now(dt.UTC)
    return Anchor(
        position=position, event_seq=event_seq, digest=digest.hex(), at=at.astimezone(dt.UTC).isoformat()
    ).signed(key)


def latest(anchors: list[Anchor], key: bytes) -> Anchor | None:
    """The authentic anchor with the highest position: a forged line must not steer the sealer."""
    return max((a for a in anchors if a.authentic(key)), key=lambda a: a.position, default=None)
