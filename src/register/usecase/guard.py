"""The policy check every entry point shares: the API's guards, the web pages and the CLI all ask here.

A refusal is audited (`access:<action>:denied`, outcome denied, the policy's rule in the details) in its
own short transaction before `Refused` is raised, so the attempt leaves a trace although nothing it asked
for happened. The entry point only translates `Refused` into its own language (a problem response, a page,
an exit code).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..access.policy import Decision, Policy, RecordFacts, Visibility
from ..audit.events import Action, AuditEntry, Outcome
from ..audit.floods import FloodSummary, RefusalFloods
from ..audit.tags import Tag
from ..domain.actors import Principal, SystemActor
from ..domain.enums import Agency, Area
from ..domain.errors import Gone, NotFound
from ..store.uow import UnitOfWork

# The s.62 category a denied or performed action belongs to.
ACTION_CATEGORY: dict[str, Action] = {
    "record.read": Action.CONSULTATION,
    "record.search": Action.CONSULTATION,
    "record.list": Action.CONSULTATION,
    "record.create": Action.COLLECTION,
    "record.write": Action.ALTERATION,
    "audit.read": Action.CONSULTATION,
    "quality.run": Action.CONSULTATION,
    "quality.read": Action.CONSULTATION,
    "statistics.read": Action.CONSULTATION,
    "record.archive": Action.ALTERATION,
    "record.merge": Action.COMBINATION,
    "record.retention": Action.ALTERATION,
    "record.erase": Action.ERASURE,
    "transfer.start": Action.COLLECTION,
    "transfer.decide": Action.ALTERATION,
    "transfer.list": Action.CONSULTATION,
    "admin.keys": Action.ADMINISTRATION,
    "self.read": Action.CONSULTATION,
    "meeting.list": Action.CONSULTATION,
    "events.read": Action.DISCLOSURE,
    "events.admin": Action.ADMINISTRATION,
}


class Refused(Exception):
    """The policy said no. Already audited; `status` is what an HTTP caller is told (403, or 400 when
    the purpose the policy asks for is missing)."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason

    @property
    def status(self) -> int:
        return 400 if self.rule == "purpose_required" else 403


@dataclass(frozen=True)
class Access:
    """What the policy allowed on one record, handed to the use case."""

    principal: Principal
    nominal_id: uuid.UUID
    facts: RecordFacts
    purpose: str | None
    stub: bool
    audience: Agency | None
    request_id: str | None
    visibility: Visibility


def refuse(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    decision: Decision,
    *,
    section: str | None = None,
    nominal_id: uuid.UUID | None = None,
    request_id: str | None = None,
) -> Refused:
    """Audit a refusal in its own transaction and build the exception to raise."""
    _audit_refusal(uow, principal, action, Outcome.DENIED, decision.rule, section, nominal_id, request_id)
    return Refused(decision.rule, decision.reason)


def _audit_refusal(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    outcome: Outcome,
    rule: str,
    section: str | None,
    nominal_id: uuid.UUID | None,
    request_id: str | None,
) -> None:
    uow.refused(
        AuditEntry(
            ACTION_CATEGORY[action],
            Tag.denied(action),
            principal,
            nominal_id=nominal_id,
            section=section,
            outcome=outcome,
            request_id=request_id,
            details={"rule": rule},
        )
    )


def authorize(
    uow: UnitOfWork,
    policy: Policy,
    principal: Principal,
    action: str,
    *,
    section: str | None = None,
    purpose: str | None = None,
    record: RecordFacts | None = None,
    request_id: str | None = None,
) -> None:
    """For actions not about one record: may this principal do it at all (and, given `record`, to a record
    owned there)?"""
    decision = policy.decide(principal, action, section=section, record=record, purpose=purpose)
    if not decision.allowed:
        raise refuse(uow, principal, action, decision, section=section, request_id=request_id)


def record_facts(uow: UnitOfWork, nominal_id: uuid.UUID) -> RecordFacts:
    """Who owns a record and whether it is restricted (NotFound when there is no such record)."""
    row = uow.nominals.header_row(nominal_id)
    return RecordFacts(area=Area(row.area), restricted=row.restricted)


def authorize_record(
    uow: UnitOfWork,
    policy: Policy,
    principal: Principal,
    action: str,
    nominal_id: uuid.UUID,
    *,
    section: str | None = None,
    purpose: str | None = None,
    request_id: str | None = None,
) -> Access:
    """For an action on one record: the policy also sees who owns it, whether it is restricted, and the
    purpose. Raises NotFound when there is no such record, audited like any refusal (someone asked for it)."""
    try:
        facts = record_facts(uow, nominal_id)
    except (NotFound, Gone) as exc:
        _audit_refusal(uow, principal, action, Outcome.FAILED, exc.rule, section, nominal_id, request_id)
        raise
    decision = policy.decide(principal, action, section=section, record=facts, purpose=purpose)
    if not decision.allowed:
        raise refuse(
            uow, principal, action, decision, section=section, nominal_id=nominal_id, request_id=request_id
        )
    visibility = policy.visibility(principal)
    return Access(
        principal, nominal_id, facts, purpose, decision.stub, visibility.audience, request_id, visibility
    )


def authorize_new(
    uow: UnitOfWork,
    policy: Policy,
    principal: Principal,
    action: str,
    facts: RecordFacts,
    *,
    section: str | None = None,
    request_id: str | None = None,
) -> None:
    """For creating a record: the policy sees the area the new record would belong to."""
    decision = policy.decide(principal, action, section=section, record=facts)
    if not decision.allowed:
        raise refuse(uow, principal, action, decision, section=section, request_id=request_id)


def _summaries(summaries: list[FloodSummary]) -> list[AuditEntry]:
    return [
        AuditEntry(
            Action.AUTHENTICATION,
            Tag.AUTH_REFUSALS_SUMMARY,
            SystemActor("unauthenticated"),
            outcome=Outcome.FAILED,
            details=summary.details(),
        )
        for summary in summaries
    ]


def unauthenticated_refusal(uow: UnitOfWork, floods: RefusalFloods, source: str, entry: AuditEntry) -> None:
    """A refusal with nobody signed in: audited on its own while its source is under the interval's allowance,
    counted beyond it (audit/floods.py); the summaries of intervals now over are written with it."""
    individual, due = floods.admit(source, entry.tag, entry.occurred_at)
    entries = _summaries(due) + ([entry] if individual else [])
    if entries:
        uow.refused(*entries)


def write_flood_summaries(uow: UnitOfWork, floods: RefusalFloods) -> None:
    """Every interval's count still open (the register is stopping)."""
    entries = _summaries(floods.drain())
    if entries:
        uow.refused(*entries)


def token_refused(
    uow: UnitOfWork,
    reason: str,
    *,
    claim: str | None,
    path: str,
    method: str,
    source: str,
    floods: RefusalFloods,
    request_id: str | None = None,
) -> None:
    """A bearer token was refused: audited with no actor but `unauthenticated`, floods counted per source."""
    unauthenticated_refusal(
        uow,
        floods,
        source,
        AuditEntry(
            Action.AUTHENTICATION,
            Tag.AUTH_TOKEN_REFUSED,
            SystemActor("unauthenticated"),
            outcome=Outcome.FAILED,
            request_id=request_id,
            details={
                "reason": reason,
                "path": path,
                "method": method,
                "source": source,
                **({"claim": claim} if claim else {}),
            },
        ),
    )


def request_refused(
    uow: UnitOfWork,
    principal: Principal | None,
    *,
    status: int,
    rule: str,
    route: str,
    method: str,
    source: str,
    floods: RefusalFloods,
    nominal_id: uuid.UUID | None = None,
    request_id: str | None = None,
    summarise: bool = False,
) -> None:
    """A request refused before any use case ran (a missing If-Match, a body the operation does not take...):
    audited against the signed-in user (their own rate limit bounds how many), or, with nobody signed in,
    summarised per source like a refused token. `route` is the operation's path template, never the path
    with its values."""
    entry = AuditEntry(
        Action.AUTHENTICATION
        if principal is None
        else Action.ALTERATION
        if method != "GET"
        else Action.CONSULTATION,
        Tag.API_REQUEST_REFUSED,
        principal if principal is not None else SystemActor("unauthenticated"),
        nominal_id=nominal_id,
        outcome=Outcome.DENIED if status in (403, 409, 428, 429) else Outcome.FAILED,
        request_id=request_id,
        details={"status": status, "rule": rule, "route": route, "method": method}
        | ({"source": source} if principal is None else {}),
    )
    if principal is None or summarise:  # summarise: over the user's rate limit, counted per user
        unauthenticated_refusal(uow, floods, source if principal is None else principal.user_id, entry)
    else:
        uow.refused(entry)
