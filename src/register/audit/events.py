"""What the audit log records: the Data Protection Act 2018 s.62 categories of processing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..domain.actors import Actor, Principal
from .tags import Tag


class Action(StrEnum):
    COLLECTION = "collection"  # new data entered
    ALTERATION = "alteration"  # data corrected, ended or re-keyed
    CONSULTATION = "consultation"  # data read (including a restricted stub) or searched
    DISCLOSURE = "disclosure"  # data exported or passed to a third party
    COMBINATION = "combination"  # records merged (or unmerged)
    ERASURE = "erasure"  # personal content erased
    AUTHENTICATION = "authentication"  # a refused token
    ADMINISTRATION = "administration"  # keys and configuration


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


SEALED = "sealed"  # the key in `details` of an event's sealed sensitive values


@dataclass
class AuditEntry:
    """One event as a service states it. `tag` is `subject:section:verb`, e.g. `nominal:addresses:add`,
    one of `Tag`.

    `details` holds field names, ids, counts and codes, never the personal values themselves (those live,
    encrypted, in the record). What an auditor must be able to read but the database must not hold in clear
    (a search's criteria, a free-text reason) goes in `sensitive`: the audit log seals it into `details` under
    `sealed`, with a key derived from the audit root key (audit/repository.py), and opens it for auditors.
    """

    action: Action
    tag: Tag
    actor: Actor
    nominal_id: uuid.UUID | None = None
    section: str | None = None
    item_id: uuid.UUID | None = None
    purpose: str | None = None
    request_id: str | None = None
    outcome: Outcome = Outcome.SUCCESS
    details: dict[str, Any] = field(default_factory=dict)
    sensitive: dict[str, Any] = field(default_factory=dict)
    occurred_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def columns(self, sealed: str | None = None) -> dict[str, Any]:
        """The row's values; `sealed`: `sensitive`, already sealed (base64), kept in `details`."""
        details = {**self.details, SEALED: sealed} if sealed else self.details
        actor = self.actor
        person = actor if isinstance(actor, Principal) else None
        return {
            "event_id": self.event_id,
            "occurred_at": self.occurred_at,
            "action": self.action.value,
            "tag": self.tag,
            "outcome": self.outcome.value,
            "actor_user": actor.user_id,
            "actor_agency": person.agency.value if person else None,
            "actor_area": person.area.value if person else None,
            "actor_roles": person.roles_label if person else None,
            "nominal_id": self.nominal_id,
            "section": self.section,
            "item_id": self.item_id,
            "purpose": self.purpose,
            "request_id": self.request_id,
            "details": json.dumps(details, sort_keys=True, default=str) if details else None,
        }
