"""`register webhooks`: client systems' subscriptions to the event feed, their dead letters, replays, and the
delivery worker (docs/events.md, docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import click

from ..access.policy import Policy
from ..config import Settings
from ..domain.actors import SystemActor
from ..domain.enums import Agency, Area, Role
from ..domain.errors import InvalidValue
from ..events import service
from ..events.schemas import NewSubscription
from .base import json_option, main, open_store, report

ACTOR = SystemActor("webhooks-cli")


@main.group()
def webhooks() -> None:
    """Webhook subscriptions of the agencies' systems, and the delivery worker."""


@webhooks.command("create")
@click.option("--url", required=True, help="where deliveries go (https://; http:// only to loopback)")
@click.option("--client-id", required=True, help="the client system's id at the identity provider")
@click.option("--agency", required=True, type=click.Choice([a.value for a in Agency]))
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option(
    "--role", "roles", multiple=True, default=["reader"], type=click.Choice([r.value for r in Role])
)
@json_option
@click.pass_obj
def create(
    settings: Settings,
    url: str,
    client_id: str,
    agency: str,
    area: str,
    roles: tuple[str, ...],
    as_json: bool,
) -> None:
    """Subscribe a client system; prints its signing secret, this once only."""
    try:
        new = NewSubscription(
            url=url,
            client_id=client_id,
            agency=Agency(agency),
            area=Area(area),
            roles=[Role(r) for r in roles],
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        created = service.create_subscription(uow, ACTOR, Policy.load(settings.policy_file), new)
    report(
        created.model_dump(mode="json"),
        as_json,
        lambda r: [
            f"subscription {r['id']} for {r['client_id']} ({r['agency']}, {r['area']}) -> {r['url']}",
            f"secret (shown once): {r['secret']}",
        ],
    )


@webhooks.command("list")
@json_option
@click.pass_obj
def list_(settings: Settings, as_json: bool) -> None:
    """The subscriptions, with their deliveries pending, delivered and dead."""
    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        subs = service.list_subscriptions(uow, ACTOR)
    report(
        {"subscriptions": [s.model_dump(mode="json") for s in subs]},
        as_json,
        lambda r: [
            f"{s['id']} {s['client_id']} ({s['agency']}, {s['area']}) -> {s['url']}: "
            f"{s['pending']} pending, {s['delivered']} delivered, {s['dead']} dead"
            for s in r["subscriptions"]
        ]
        or ["no subscriptions"],
    )


@webhooks.command("delete")
@click.argument("subscription_id", type=click.UUID)
@click.pass_obj
def delete(settings: Settings, subscription_id: uuid.UUID) -> None:
    """Unsubscribe (its deliveries and secret go with it)."""
    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        service.delete_subscription(uow, ACTOR, subscription_id)
    click.echo(f"subscription {subscription_id} deleted")


@webhooks.command("dead-letters")
@click.argument("subscription_id", type=click.UUID)
@json_option
@click.pass_obj
def dead_letters(settings: Settings, subscription_id: uuid.UUID, as_json: bool) -> None:
    """Deliveries that failed their last attempt."""
    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        rows = service.dead_letters(uow, ACTOR, subscription_id)
    report(
        {"dead_letters": [r.model_dump(mode="json") for r in rows]},
        as_json,
        lambda r: [
            f"{d['delivery_id']} event {d['event_id']} {d['type']}: "
            f"{d['attempts']} attempts, {d['last_error']}"
            for d in r["dead_letters"]
        ]
        or ["no dead letters"],
    )


@webhooks.command("redeliver")
@click.argument("subscription_id", type=click.UUID)
@click.argument("delivery_id", type=click.UUID)
@click.pass_obj
def redeliver(settings: Settings, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> None:
    """Put a dead letter back in the queue, due now."""
    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        service.redeliver(uow, ACTOR, subscription_id, delivery_id)
    click.echo(f"delivery {delivery_id} queued again")


@webhooks.command("replay")
@click.argument("subscription_id", type=click.UUID)
@click.option("--cursor", default=None, help="a feed cursor; without it, from the first event")
@click.pass_obj
def replay(settings: Settings, subscription_id: uuid.UUID, cursor: str | None) -> None:
    """Deliver again the events after a cursor."""
    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        try:
            service.replay(uow, ACTOR, subscription_id, cursor)
        except InvalidValue as exc:
            raise click.BadParameter(str(exc), param_hint="--cursor") from None
    click.echo(f"subscription {subscription_id} replays from {'the cursor' if cursor else 'the first event'}")


@webhooks.command("deliver")
@click.option("--once", is_flag=True, help="one pass, then exit (cron); otherwise run until stopped")
@click.option("--interval", default=5.0, show_default=True, help="seconds between passes with nothing due")
@click.option("--max-attempts", default=8, show_default=True, help="failed attempts before a dead letter")
@click.option(
    "--base-delay", default=30.0, show_default=True, help="seconds before the first retry (doubling)"
)
@click.option("--max-delay", default=3600.0, show_default=True, help="the longest wait between attempts")
@click.option("--timeout", default=10.0, show_default=True, help="seconds a receiver has to answer")
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="touch this file after every pass: a liveness probe's signal",
)
@json_option
@click.pass_obj
def deliver(
    settings: Settings,
    once: bool,
    interval: float,
    max_attempts: int,
    base_delay: float,
    max_delay: float,
    timeout: float,
    heartbeat: Path | None,
    as_json: bool,
) -> None:
    """The delivery worker: queue each subscriber's new events, send what is due, retry with backoff."""
    backoff = service.Backoff(
        base=dt.timedelta(seconds=base_delay), cap=dt.timedelta(seconds=max_delay), max_attempts=max_attempts
    )
    policy = Policy.load(settings.policy_file)
    with open_store(settings) as store:
        while True:
            run = service.deliver(store, policy, backoff=backoff, timeout=timeout)
            if heartbeat is not None:
                heartbeat.touch()
            if once or run.queued or run.delivered or run.failed or run.dead:
                _print_run(run.as_dict(), as_json)
            if once:
                return
            if not (run.queued or run.delivered or run.failed or run.dead):
                time.sleep(interval)


def _print_run(result: dict[str, Any], as_json: bool) -> None:
    report(
        result,
        as_json,
        lambda r: [
            f"queued {r['queued']}, delivered {r['delivered']}, to retry {r['failed']}, dead {r['dead']}, "
            f"withheld {r['withheld']}"
        ],
    )


@main.group()
def events() -> None:
    """The event feed itself (docs/events.md)."""


@events.command("prune")
@click.option(
    "--keep-days",
    type=click.IntRange(1, 36_500),
    default=service.DEFAULT_KEEP_DAYS,
    show_default=True,
    envvar="REGISTER_EVENT_KEEP_DAYS",
    help="keep the events of this many days (and any a subscriber still needs)",
)
@json_option
@click.pass_obj
def prune(settings: Settings, keep_days: int, as_json: bool) -> None:
    """Remove old events no subscriber still needs (daily, e.g. a CronJob); audited."""
    with open_store(settings, whole_register=True) as store, store.unit_of_work(for_caller=True) as uow:
        removed = service.prune(uow, ACTOR, keep_days=keep_days)
    report(
        {"removed": removed, "keep_days": keep_days},
        as_json,
        lambda r: [
            f"removed {r['removed']} events older than {r['keep_days']} days that no subscriber needs"
        ],
    )
