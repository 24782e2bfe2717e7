"""The agencies' event feed and webhooks (docs/events.md): use cases for the API routes and the CLI alike.

Events are written by the unit of work with the change they describe (store/events.py); here they are read.
Every read, pulled or pushed, goes through the one policy (`events.read`, decided for the reader's principal
when the page is read or the delivery is sent) and the same visibility a read of the record applies; an
event the reader may not see is absent: not returned, not counted, and the cursor (sealed, see `Cursors`) says
nothing about how many were skipped.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from standardwebhooks.webhooks import Webhook

from ..access.policy import Policy, Scope
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock
from ..domain.actors import Actor, Principal
from ..domain.enums import Agency, Area, Role
from ..domain.errors import InvalidValue, NotFound
from ..store import models as m
from ..store.events import parse
from ..store.store import Store
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.cursors import Cursors
from ..usecase.cursors import cursors as shared_cursors
from . import repository
from .repository import Due, Sight
from .schemas import CreatedSubscription, DeadLetter, NewSubscription, Subscription

ACTION = "events.read"
MAX_LIMIT = 500
CURSOR_HEADER = "register-event-cursor"
WORKER = "system:webhook-delivery"  # named in the audit event of each delivery, beside the subscriber


def cursors(uow: UnitOfWork) -> Cursors:
    """The feed's positions (usecase/cursors.py): sealed, so that two cursors never reveal how many events
    lay between them, whoever could or could not see those events; one altered by a bit is refused."""
    return shared_cursors(uow, "events")


def sight(policy: Policy, principal: Principal) -> Sight | None:
    """What of the feed the policy lets this principal see, or None: nothing (not granted `events.read`)."""
    scope = policy.scope(principal, ACTION)
    if scope is None:
        return None
    visibility = policy.visibility(principal)
    return Sight(
        area=principal.area.value,
        national=scope == Scope.NATIONAL,
        sections=visibility.sections,
        agency=visibility.audience.value if visibility.audience is not None else None,
    )


def _disclosure(
    actor: Actor, tag: Tag, events: list[dict[str, object]], request_id: str | None, **details: object
) -> AuditEntry:
    return AuditEntry(
        Action.DISCLOSURE,
        tag,
        actor,
        request_id=request_id,
        details={
            "events": [str(e["id"]) for e in events],
            "records": sorted({str(e["subject"]) for e in events if e.get("subject")}),
            "count": len(events),
            **details,
        },
    )


@dataclass(frozen=True)
class Page:
    events: list[dict[str, object]]
    next: str


@use_case(Tag.EVENTS_FEED_READ, Action.DISCLOSURE)
def read_feed(
    uow: UnitOfWork,
    actor: Principal,
    policy: Policy,
    *,
    cursor: str | None,
    limit: int = 100,
    request_id: str | None = None,
) -> Page:
    """The next page of events this principal may see after `cursor`. `next` is the position of the last
    event returned (the caller's own position again when there is none). A page that discloses events is
    audited as one disclosure listing their ids and records; an empty page discloses nothing and is not."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidValue("limit_range", f"limit must be between 1 and {MAX_LIMIT}", "limit")
    seal_ = cursors(uow)
    after = seal_.open(cursor)
    seen = sight(policy, actor)
    rows = repository.page(uow.session, seen, after, limit) if seen is not None else []
    events = [parse(text) for _, text in rows]
    if events:
        uow.audit.record(_disclosure(actor, Tag.EVENTS_FEED_READ, events, request_id))
    return Page(events, seal_.seal(rows[-1][0] if rows else after))


# ------------------------------------------------------------------ subscriptions (administrators)


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _subscriber(row: m.WebhookSubscription) -> Principal:
    return Principal(
        user_id=row.client_id,
        agency=Agency(row.agency),
        area=Area(row.area),
        roles=frozenset(Role(r) for r in row.roles.split(",") if r),
    )


def _view(row: m.WebhookSubscription, counts: dict[tuple[uuid.UUID, str], int]) -> dict[str, object]:
    return {
        "id": row.id,
        "url": row.url,
        "client_id": row.client_id,
        "agency": row.agency,
        "area": row.area,
        "roles": [r for r in row.roles.split(",") if r],
        "created_by": row.created_by,
        "created_at": row.created_at,
        "pending": counts.get((row.id, "pending"), 0),
        "delivered": counts.get((row.id, "delivered"), 0),
        "dead": counts.get((row.id, "dead"), 0),
    }


@use_case(Tag.EVENTS_SUBSCRIPTION_CREATE, Action.ADMINISTRATION)
def create_subscription(
    uow: UnitOfWork, actor: Actor, policy: Policy, new: NewSubscription, *, request_id: str | None = None
) -> CreatedSubscription:
    """Subscribe a client system. Its principal must be one the policy lets read the feed; the signing secret
    is generated here, sealed under the subscription's own data key, and returned this once only. Deliveries
    start with the events after this moment (a replay reaches back)."""
    principal = Principal(new.client_id, new.agency, new.area, frozenset(new.roles))
    if policy.scope(principal, ACTION) is None:
        raise InvalidValue(
            "roles_cannot_read_events", "none of these roles may read the event feed (events.read)", "roles"
        )
    subscription_id = uuid.uuid4()
    secret = new_secret()
    key_id = uow.cipher.new_key(subscription_id)
    now = clock.now()
    repository.add_subscription(
        uow.session,
        {
            "id": subscription_id,
            "url": new.url,
            "client_id": new.client_id,
            "agency": new.agency.value,
            "area": new.area.value,
            "roles": principal.roles_label,
            "data_key_id": key_id,
            "secret_sealed": uow.cipher.seal(
                key_id, "webhook_subscription", "secret_sealed", subscription_id, secret.encode()
            ),
            "position": repository.head(uow.session),
            "created_by": actor.user_id,
            "created_at": now,
        },
    )
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.EVENTS_SUBSCRIPTION_CREATE,
            actor,
            request_id=request_id,
            details={
                "subscription": str(subscription_id),
                "client_id": new.client_id,
                "area": new.area.value,
                "agency": new.agency.value,
                "roles": principal.roles_label,
            },
        )
    )
    row = repository.subscription(uow.session, subscription_id)
    assert row is not None
    return CreatedSubscription.model_validate(_view(row, {}) | {"secret": secret})


@use_case(Tag.EVENTS_SUBSCRIPTION_LIST, Action.ADMINISTRATION)
def list_subscriptions(uow: UnitOfWork, actor: Actor, *, request_id: str | None = None) -> list[Subscription]:
    counts = repository.delivery_counts(uow.session)
    rows = repository.subscriptions(uow.session)
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.EVENTS_SUBSCRIPTION_LIST,
            actor,
            request_id=request_id,
            details={"count": len(rows)},
        )
    )
    return [Subscription.model_validate(_view(r, counts)) for r in rows]


def _get(uow: UnitOfWork, subscription_id: uuid.UUID) -> m.WebhookSubscription:
    row = repository.subscription(uow.session, subscription_id)
    if row is None:
        raise NotFound("subscription_not_found", f"no subscription {subscription_id}")
    return row


@use_case(Tag.EVENTS_SUBSCRIPTION_DELETE, Action.ADMINISTRATION)
def delete_subscription(
    uow: UnitOfWork, actor: Actor, subscription_id: uuid.UUID, *, request_id: str | None = None
) -> None:
    """Unsubscribe: its deliveries go with it and its secret's data key is deleted (crypto-shredded)."""
    row = _get(uow, subscription_id)
    repository.remove_subscription(uow.session, subscription_id, row.data_key_id)
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.EVENTS_SUBSCRIPTION_DELETE,
            actor,
            request_id=request_id,
            details={"subscription": str(subscription_id), "client_id": row.client_id},
        )
    )


@use_case(Tag.EVENTS_SUBSCRIPTION_REPLAY, Action.ADMINISTRATION)
def replay(
    uow: UnitOfWork,
    actor: Actor,
    subscription_id: uuid.UUID,
    cursor: str | None,
    *,
    request_id: str | None = None,
) -> None:
    """Deliver again the events after `cursor` (none: from the first): the next delivery run queues them, as
    the subscriber's principal may see them then. Receivers tell a repeat by its `webhook-id` (the event
    id)."""
    _get(uow, subscription_id)
    position = cursors(uow).open(cursor, field_name="body.cursor")
    repository.move_position(uow.session, subscription_id, position)
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.EVENTS_SUBSCRIPTION_REPLAY,
            actor,
            request_id=request_id,
            details={"subscription": str(subscription_id), "from_start": cursor is None},
        )
    )


DEFAULT_KEEP_DAYS = 90


@use_case(Tag.EVENTS_FEED_PRUNE, Action.ADMINISTRATION)
def prune(uow: UnitOfWork, actor: Actor, *, keep_days: int, request_id: str | None = None) -> int:
    """Remove the feed's events older than `keep_days` that no subscriber still needs (not yet queued for one,
    or a delivery pending or dead), set-based; audited with the cut-off and how many went. The audit log keeps
    every change they described. A reader of the pull feed further behind than `keep_days` misses what was
    removed (docs/events.md: read the records again)."""
    if not 1 <= keep_days <= 36_500:
        raise InvalidValue("keep_days_range", "keep_days must be between 1 and 36,500", "keep_days")
    before = clock.now() - dt.timedelta(days=keep_days)
    removed = repository.prune(uow.session, before)
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.EVENTS_FEED_PRUNE,
            actor,
            request_id=request_id,
            details={"keep_days": keep_days, "before": before.isoformat(), "removed": removed},
        )
    )
    return removed


@use_case(Tag.EVENTS_DEAD_LETTERS_LIST, Action.ADMINISTRATION)
def dead_letters(
    uow: UnitOfWork, actor: Actor, subscription_id: uuid.UUID, *, request_id: str | None = None
) -> list[DeadLetter]:
    """Deliveries that failed their last attempt: the event's id and type, never its content."""
    _get(uow, subscription_id)
    rows = repository.dead_letters(uow.session, subscription_id)
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.EVENTS_DEAD_LETTERS_LIST,
            actor,
            request_id=request_id,
            details={"subscription": str(subscription_id), "count": len(rows)},
        )
    )
    return [
        DeadLetter(
            delivery_id=r.id,
            event_id=r.event_id,
            type=r.type,
            attempts=r.attempts,
            last_attempt_at=r.last_attempt_at,
            last_error=r.last_error,
        )
        for r in rows
    ]


@use_case(Tag.EVENTS_DEAD_LETTER_REDELIVER, Action.ADMINISTRATION)
def redeliver(
    uow: UnitOfWork,
    actor: Actor,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    request_id: str | None = None,
) -> None:
    """A dead letter back in the queue, due now, its attempts counted afresh."""
    _get(uow, subscription_id)
    if not repository.redeliver(uow.session, subscription_id, delivery_id, clock.now()):
        raise NotFound(
            "delivery_not_found", f"no dead letter {delivery_id} of subscription {subscription_id}"
        )
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.EVENTS_DEAD_LETTER_REDELIVER,
            actor,
            request_id=request_id,
            details={"subscription": str(subscription_id), "delivery": str(delivery_id)},
        )
    )


# ------------------------------------------------------------------ the delivery worker


@dataclass(frozen=True)
class Backoff:
    """Retries: the n-th failed attempt waits `base * 2**(n-1)` (capped at `cap`) before the next; after
    `max_attempts` failures the delivery is a dead letter."""

    base: dt.timedelta = dt.timedelta(seconds=30)
    cap: dt.timedelta = dt.timedelta(hours=1)
    max_attempts: int = 8

    def delay(self, failures: int) -> dt.timedelta:
        return min(self.cap, self.base * (2 ** max(0, failures - 1)))


@dataclass
class DeliveryRun:
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    withheld: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("queued", "delivered", "failed", "dead", "withheld")}


def sign(secret: str, message_id: str, timestamp: dt.datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for one delivery (`v1,` HMAC-SHA256 of `id.timestamp.body`)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }


Sender = Callable[[str, str, dict[str, str]], httpx.Response]


def _http_sender(timeout: float) -> tuple[Sender, Callable[[], None]]:
    client = httpx.Client(timeout=timeout, follow_redirects=False)
    return (lambda url, body, headers: client.post(url, content=body.encode(), headers=headers)), client.close


def deliver(
    store: Store,
    policy: Policy,
    *,
    backoff: Backoff = Backoff(),
    batch: int = 200,
    lease: dt.timedelta = dt.timedelta(minutes=2),
    timeout: float = 10.0,
    now: dt.datetime | None = None,
) -> DeliveryRun:
    """One pass of the delivery worker: queue each subscription's new visible events, send what is due (no
    transaction is held open while a receiver answers), then record the outcomes. The subscriber's principal
    is asked of the policy when its events are queued and again when each is sent, so an event it may no
    longer see (the record since restricted, the subscription's principal since changed) is withheld.
    Delivered events are audited as a disclosure to the subscriber, one event per subscription per pass."""
    run = DeliveryRun()
    now = now or clock.now()
    with store.unit_of_work() as uow:
        subs = {s.id: s for s in repository.subscriptions(uow.session)}
        for sub in subs.values():
            seen = sight(policy, _subscriber(sub))
            if seen is None:
                continue
            rows = repository.page(uow.session, seen, sub.position, batch)
            if rows:
                repository.enqueue(uow.session, sub.id, [seq for seq, _ in rows], now)
                repository.move_position(uow.session, sub.id, rows[-1][0])
                run.queued += len(rows)
        due = repository.claim_due(uow.session, now, lease, batch)
        secrets_: dict[uuid.UUID, str] = {}
        withheld: list[uuid.UUID] = []
        sendable: list[Due] = []
        by_sub: dict[uuid.UUID, list[Due]] = {}
        for d in due:
            by_sub.setdefault(d.subscription_id, []).append(d)
        for sub_id, items in by_sub.items():
            sub = subs[sub_id]
            seen = sight(policy, _subscriber(sub))
            ok = repository.visible_among(uow.session, seen, [d.event_seq for d in items]) if seen else set()
            sendable += [d for d in items if d.event_seq in ok]
            withheld += [d.id for d in items if d.event_seq not in ok]
            if any(d.event_seq in ok for d in items):
                uow.cipher.load([sub.data_key_id])
                secrets_[sub_id] = uow.cipher.open(
                    sub.data_key_id, "webhook_subscription", "secret_sealed", sub.id, sub.secret_sealed
                ).decode()
        repository.mark(uow.session, withheld, status="withheld")
        run.withheld = len(withheld)
        urls = {s.id: s.url for s in subs.values()}
        principals = {s.id: _subscriber(s) for s in subs.values()}
        seal_ = cursors(uow)
        positions = {d.id: seal_.seal(d.event_seq) for d in sendable}

    send, close = _http_sender(timeout)
    outcomes: list[tuple[Due, str | None]] = []
    try:
        for d in sendable:
            # signed when sent (not when the pass began): receivers refuse a timestamp minutes old
            headers = sign(secrets_[d.subscription_id], str(d.event_id), clock.now(), d.cloudevent)
            headers |= {"content-type": "application/cloudevents+json", CURSOR_HEADER: positions[d.id]}
            try:
                response = send(urls[d.subscription_id], d.cloudevent, headers)
                error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}"
            outcomes.append((d, error))
    finally:
        close()

    # The outcomes, one statement per kind of outcome and attempt count (not one per delivery).
    groups: dict[tuple[str, int, str | None], list[uuid.UUID]] = {}
    delivered: dict[uuid.UUID, list[dict[str, object]]] = {}
    for d, error in outcomes:
        tries = d.attempts + 1
        if error is None:
            groups.setdefault(("delivered", tries, None), []).append(d.id)
            delivered.setdefault(d.subscription_id, []).append(parse(d.cloudevent))
            run.delivered += 1
        elif tries >= backoff.max_attempts:
            groups.setdefault(("dead", tries, error), []).append(d.id)
            run.dead += 1
        else:
            groups.setdefault(("pending", tries, error), []).append(d.id)
            run.failed += 1
        if error is not None:
            run.errors.append(error)
    with store.unit_of_work() as uow:
        for (status, tries, error), ids in groups.items():
            retry = {"available_at": now + backoff.delay(tries)} if status == "pending" else {}
            repository.mark(
                uow.session,
                ids,
                status=status,
                attempts=tries,
                last_attempt_at=now,
                last_error=error,
                **retry,
            )
        for sub_id, events in delivered.items():
            uow.audit.record(
                _disclosure(
                    principals[sub_id],
                    Tag.EVENTS_WEBHOOK_DELIVER,
                    events,
                    None,
                    subscription=str(sub_id),
                    by=WORKER,
                )
            )
    return run
