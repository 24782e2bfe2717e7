"""The backup's manifest (`manifest.json`) and what the backup and restore use cases report."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite"}
ANCHORS = "audit-anchors.jsonl"
KEYS = "keys.wrapped.json"


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    sha256: str
    bytes: int


class DatabaseInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dialect: Literal["postgresql", "sqlite"]
    format: str  # "pg_dump custom" or "sqlite"
    server_version: str
    alembic_revision: str
    tables: list[str]
    schema_sha256: str  # over every table's column names (repository.schema_digest)


class AuditInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    head_position: int  # the chain's head in the dump (audit_seal's highest position)
    anchors: int  # readable anchors copied
    latest_anchor_position: int | None


class KeysInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wrapping: str  # how the key bundle is wrapped for the operator
    kek_versions: list[str]
    files: list[str]  # the key files the bundle holds


class Manifest(BaseModel):
    """Everything a restore checks before it writes anything. `parts` holds each file's SHA-256; the key
    bundle is wrapped with the rest of the manifest as associated data (`binding`), so a manifest edited after
    the backup is refused even if its checksums were recomputed."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["register-backup"] = "register-backup"
    format_version: Literal[1] = 1
    backup_id: str
    created_at: str
    register_version: str
    database: DatabaseInfo
    counts: dict[str, int]
    audit: AuditInfo
    keys: KeysInfo
    parts: dict[str, Part]  # database, anchors, keys

    def binding(self) -> bytes:
        """What the key bundle is bound to: the manifest without the key bundle's own checksum."""
        doc: dict[str, Any] = self.model_dump()
        doc["parts"] = {k: v for k, v in doc["parts"].items() if k != "keys"}
        canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return b"register-backup-keys|" + hashlib.sha256(canonical).digest()


@dataclass
class BackupResult:
    directory: str
    manifest: Manifest
    keys_file: str
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "directory": self.directory,
            "keys_file": self.keys_file,
            "seconds": round(self.seconds, 2),
            "manifest": self.manifest.model_dump(),
        }


@dataclass
class RestoreResult:
    backup_id: str
    database: str  # the target, password hidden
    revision_restored: str
    revision_now: str
    counts: dict[str, int]
    counts_match: bool
    keys_written: list[str]
    anchors_added: int
    audit_ok: bool
    audit_problems: list[str]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.counts_match and self.audit_ok

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "backup_id": self.backup_id,
            "database": self.database,
            "revision_restored": self.revision_restored,
            "revision_now": self.revision_now,
            "counts": self.counts,
            "counts_match": self.counts_match,
            "keys_written": self.keys_written,
            "anchors_added": self.anchors_added,
            "audit": {"ok": self.audit_ok, "problems": self.audit_problems},
            "warnings": self.warnings,
            "seconds": round(self.seconds, 2),
        }
