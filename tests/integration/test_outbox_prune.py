"""The outbox keeps a row for every change until nothing needs it (decision 87): `register outbox prune`
removes rows indexed long ago and old waiting rows a newer change to the same record supersedes, and keeps
everything the indexer, a rebuild's catch-up and the watched searches may still read."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from register.cli import main
from register.config import Settings
from register.domain.actors import SystemActor
from register.domain.errors import InvalidValue
from register.domain.record import Section
from register.search import service
from register.store import models as m
from register.store.store import Store
from tests.factories import add, create

ACTOR = SystemActor("test")
NOW = dt.datetime.now(dt.UTC)
LONG_AGO = NOW - dt.timedelta(days=10)
LATELY = NOW - dt.timedelta(days=1)
MARK = {"kind": "scar", "location": "face", "description": "over left eye"}


def changes(store: Store, count: int) -> tuple[uuid.UUID, list[int]]:
    """A record created and changed `count - 1` times: its outbox rows' numbers, oldest first."""
    with store.unit_of_work() as uow:
        nid = create(uow)
        version = 1
        for _ in range(count - 1):
            _, version = add(uow, nid, Section.MARKS, MARK, version)
    return nid, rows_of(store, nid)


def rows_of(store: Store, nid: uuid.UUID) -> list[int]:
    with store.session_factory() as s:
        return list(s.scalars(select(m.Outbox.id).where(m.Outbox.nominal_id == nid).order_by(m.Outbox.id)))


def remaining(store: Store) -> set[int]:
    with store.session_factory() as s:
        return set(s.scalars(select(m.Outbox.id)))


def set_rows(store: Store, ids: list[int], **values: object) -> None:
    with store.session_factory.begin() as s:
        s.execute(update(m.Outbox).where(m.Outbox.id.in_(ids)).values(**values))


def set_watch_mark(store: Store, outbox_id: int) -> None:
    with store.session_factory.begin() as s:
        s.add(m.SearchWatchMark(name="watches", outbox_id=outbox_id))


def prune_events(store: Store) -> list[dict[str, int]]:
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.action, m.AuditEvent.details)
            .where(m.AuditEvent.tag == "search:outbox:prune")
            .order_by(m.AuditEvent.seq)
        ).all()
    assert all(r.action == "administration" for r in rows)
    return [json.loads(r.details) for r in rows]


def states(store: Store) -> dict[str, list[int]]:
    """One record in each state the prune must tell apart; every row made long ago unless said otherwise."""
    _, done_long_ago = changes(store, 2)  # both indexed ten days ago: nothing needs them
    _, done_lately = changes(store, 2)  # indexed yesterday: a rebuild started since may replay them
    _, waiting = changes(store, 3)  # never indexed (the embedded backend, an outage): the newest is kept
    _, alone = changes(store, 1)  # the only waiting row of its record
    _, parked = changes(store, 2)  # parked after failures: an operator's to look at
    everything = done_long_ago + done_lately + waiting + alone + parked
    set_rows(store, everything, created_at=LONG_AGO)
    set_rows(store, done_long_ago, processed_at=LONG_AGO)
    set_rows(store, done_lately, processed_at=LATELY)
    set_rows(store, parked, parked=True, attempts=8)
    return {
        "done_long_ago": done_long_ago,
        "done_lately": done_lately,
        "waiting": waiting,
        "alone": alone,
        "parked": parked,
    }


def test_a_prune_removes_what_nothing_needs_and_keeps_the_rest(store: Store) -> None:
    rows = states(store)
    kept = remaining(store) - set(rows["done_long_ago"]) - set(rows["waiting"][:-1])

    pruned = service.prune_outbox(store, ACTOR, keep_days=7)

    assert remaining(store) == kept
    assert (pruned.removed, pruned.superseded, pruned.kept_after) == (2, 2, None)
    [event] = prune_events(store)
    assert (event["keep_days"], event["removed"], event["superseded"]) == (7, 2, 2)
    assert service.prune_outbox(store, ACTOR, keep_days=7).removed == 0  # nothing more to remove


def test_rows_made_within_the_kept_days_stay_even_when_superseded(store: Store) -> None:
    _, waiting = changes(store, 3)
    set_rows(store, waiting, created_at=LATELY)  # still recent: an operator may look at the backlog

    pruned = service.prune_outbox(store, ACTOR, keep_days=7)

    assert (pruned.removed, pruned.superseded) == (0, 0)
    assert remaining(store) == set(waiting)
    pruned = service.prune_outbox(store, ACTOR, keep_days=1)  # a shorter keep makes them old enough
    assert pruned.superseded == 2
    assert remaining(store) == {waiting[-1]}


def test_rows_the_watched_searches_have_not_evaluated_stay(store: Store) -> None:
    _, first = changes(store, 2)
    _, second = changes(store, 2)
    set_rows(store, first + second, created_at=LONG_AGO, processed_at=LONG_AGO)
    set_watch_mark(store, first[-1])  # `register watches run` has looked at the first record's rows only

    pruned = service.prune_outbox(store, ACTOR, keep_days=7)

    assert remaining(store) == set(second)
    assert (pruned.removed, pruned.kept_after) == (2, first[-1])


def test_a_prune_in_small_windows_removes_the_same_rows_and_audits_each_window(store: Store) -> None:
    rows = states(store)
    kept = remaining(store) - set(rows["done_long_ago"]) - set(rows["waiting"][:-1])
    span = max(remaining(store)) - min(remaining(store)) + 1
    seen: list[tuple[int, int]] = []

    pruned = service.prune_outbox(
        store, ACTOR, keep_days=7, window=3, progress=lambda done, total: seen.append((done, total))
    )

    assert remaining(store) == kept
    assert (pruned.removed, pruned.superseded) == (2, 2)
    events = prune_events(store)
    assert len(events) == -(-span // 3)  # a transaction, and an event, for each window of three row numbers
    assert sum(e["removed"] for e in events) == 2
    assert seen[0] == (0, span) and seen[-1] == (span, span)  # the progress the command line shows


def test_a_keep_of_less_than_a_day_is_refused(store: Store) -> None:
    with pytest.raises(InvalidValue, match="keep_days must be between 1 and 36,500"):
        service.prune_outbox(store, ACTOR, keep_days=0)


def test_the_command_prunes_and_reports(settings: Settings, store: Store) -> None:
    rows = states(store)
    runner = CliRunner()
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
    }

    result = runner.invoke(main, ["outbox", "prune", "--keep-days", "7", "--json"], env=env)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["removed"], report["superseded"], report["keep_days"]) == (2, 2, 7)
    assert not set(rows["done_long_ago"]) & remaining(store)
    refused = runner.invoke(main, ["outbox", "prune", "--keep-days", "0"], env=env)
    assert refused.exit_code == 2 and "--keep-days" in refused.output
