"""Watched searches (saved_searches/service.py, issue #19 point 8): a record created or changed so that it
newly matches an investigator's saved search is told to them once, found by a search run as the watcher
(restricted to the records changed) on the embedded SQL backend (SQLite and PostgreSQL) and on
Elasticsearch; what the watcher may not see never matches and is not counted; expiry, ending and the audit
trail."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from register.access.policy import Policy
from register.cli import main
from register.config import Settings
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.errors import InvalidValue, NotFound
from register.domain.record import Section
from register.saved_searches import service
from register.saved_searches.schemas import NewSavedSearch
from register.search import indexer as idx
from register.search.backend import SearchBackend
from register.search.elastic import ElasticBackend
from register.search.indexer import SearchIndex
from register.search.query import SearchRequest
from register.search.sql import SqlBackend
from register.store import models as m
from register.store.store import Store
from register.transfers import service as transfers
from register.transfers.schemas import Acceptance, TransferRequest
from register.usecase.guard import Refused
from tests.factories import OFFICER, add, create
from tests.search.test_indexer import make_index

KENT = Principal("kent.inv1", Agency.POLICE, Area.KENT, frozenset({Role.INVESTIGATOR}), "DC Kent")
KENT_2 = Principal("kent.inv2", Agency.POLICE, Area.KENT, frozenset({Role.INVESTIGATOR}), "DC Kent 2")
ESSEX_OFFICER = Principal("essex.om1", Agency.POLICE, Area.ESSEX, frozenset({Role.OFFENDER_MANAGER}), "DC E")
OPERATION = "Op Marrowgate 2026/12"
SURNAME = "Quarrendon"


@pytest.fixture
def policy(settings: Settings) -> Policy:
    return Policy.load(settings.policy_file)


def _person(forenames: str = "Ada", surname: str = SURNAME) -> dict[str, str]:
    return {"forenames": forenames, "surname": surname, "date_of_birth": "1980-01-01", "gender": "female"}


def _save(store: Store, policy: Policy, who: Principal = KENT) -> uuid.UUID:
    request = SearchRequest.model_validate(
        {"query": {"type": "group", "criteria": [{"type": "name", "value": SURNAME}]}}
    )
    with store.unit_of_work(for_caller=True) as uow:
        return service.save(
            uow, who, policy, NewSavedSearch(name="By surname", request=request), operation=OPERATION
        )


def _watch(
    store: Store, policy: Policy, backend: SearchBackend, saved: uuid.UUID, who: Principal = KENT
) -> service.Watch:
    with store.unit_of_work(for_caller=True) as uow:
        return service.start_watch(
            uow,
            who,
            policy,
            backend,
            "test",
            saved,
            operation=OPERATION,
            until=dt.date.today() + dt.timedelta(days=30),
        )


def _new(store: Store, policy: Policy, saved: uuid.UUID, who: Principal = KENT) -> list[uuid.UUID]:
    with store.unit_of_work(for_caller=True) as uow:
        return service.new_matches(uow, who, policy, saved)[2]


def _events(store: Store, tag: str) -> list[m.AuditEvent]:
    with store.session_factory() as s:
        return list(s.scalars(select(m.AuditEvent).where(m.AuditEvent.tag == tag).order_by(m.AuditEvent.seq)))


def _evaluations(store: Store, saved: uuid.UUID) -> list[dict[str, object]]:
    out = []
    for e in _events(store, "search:query:run"):
        details = json.loads(e.details or "{}")
        if details.get("watch_evaluation") == str(saved):
            out.append({"purpose": e.purpose, "actor": e.actor_user, **details})
    return out


def _run(
    store: Store, policy: Policy, backend: SearchBackend, indexed_only: bool = False
) -> service.WatchRun:
    return service.run_watches(store, policy, backend, "test", indexed_only=indexed_only)


def test_a_created_record_that_matches_is_told_once_and_audited_as_a_search(
    store: Store, policy: Policy
) -> None:
    backend = SqlBackend(store)
    with store.unit_of_work() as uow:
        before = create(uow, identity=_person("Bea"))
    saved = _save(store, policy)
    assert _watch(store, policy, backend, saved).new == 0  # what already matched is the baseline, not new
    with store.unit_of_work() as uow:
        created = create(uow, identity=_person("Cal"))
        create(uow, identity=_person("Dot", "Elsewhere"))  # changed too, does not match
    run = _run(store, policy, backend)
    assert run.new == 1 and run.evaluated == 1 and run.refused == 0
    assert _new(store, policy, saved) == [created]
    # Evaluated again (the mark has not passed changes younger than a minute): nothing is new twice
    with store.unit_of_work() as uow:
        add(uow, before, Section.ALIASES, {"forenames": "B", "surname": "Other", "name_type": "alias"}, 1)
    assert _run(store, policy, backend).new == 0
    assert _new(store, policy, saved) == [created]
    # Audited as a search under the operation's purpose, as the watcher, marked as a watch evaluation
    evaluations = _evaluations(store, saved)
    assert evaluations and all(e["purpose"] == OPERATION and e["actor"] == KENT.user_id for e in evaluations)
    assert str(created) in evaluations[0]["ids"]  # type: ignore[operator]
    assert [json.loads(e.details or "{}")["ids"] for e in _events(store, "search:watch:matches")][-1] == [
        str(created)
    ]
    starts = _events(store, "search:watch:start")
    assert len(starts) == 1 and json.loads(starts[0].details or "{}")["baseline"] == 1
    # Marked as seen: no longer told; the panel's count follows
    with store.unit_of_work(for_caller=True) as uow:
        service.mark_seen(uow, KENT, policy, saved)
    assert _new(store, policy, saved) == []
    with store.unit_of_work(for_caller=True) as uow:
        assert [(w.saved_search_id, w.new) for w in service.my_watches(uow, KENT, policy)] == [(saved, 0)]
    assert len(_events(store, "search:watch:seen")) == 1


def test_the_watches_lag_gauge_says_how_long_changes_have_waited_for_an_evaluation(
    store: Store, policy: Policy
) -> None:
    """`register_watches_lag_seconds` (the alert RegisterWatchesStale): while a watch is active, the age of
    the first change `register watches run` has not evaluated it against; nothing while no watch is."""
    from sqlalchemy import update

    from register.store import gauges

    def lag() -> dt.datetime | None:
        with store.session_factory() as s:
            return gauges.read(s, dt.datetime.now(dt.UTC)).watches_oldest_unevaluated

    backend = SqlBackend(store)
    with store.unit_of_work() as uow:
        create(uow, identity=_person("Bea"))
    assert lag() is None  # no watch: nothing waits for one
    saved = _save(store, policy)
    _watch(store, policy, backend, saved)
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with store.unit_of_work() as uow:
        create(uow, identity=_person("Cal"))
    with store.unit_of_work() as uow:  # (a change's outbox row is written as its unit of work commits)
        uow.session.execute(update(m.Outbox).values(created_at=an_hour_ago))  # the runs stopped an hour ago
    assert lag() == an_hour_ago
    assert _run(store, policy, backend).new == 1  # the runs resume
    assert lag() is None
    with store.unit_of_work(for_caller=True) as uow:
        service.end_watch(uow, KENT, policy, saved)
    with store.unit_of_work() as uow:
        create(uow, identity=_person("Dot"))
    with store.unit_of_work() as uow:
        uow.session.execute(update(m.Outbox).values(created_at=an_hour_ago))
    assert lag() is None  # the watch ended: no one waits


def test_a_change_that_makes_an_existing_record_match_is_new(store: Store, policy: Policy) -> None:
    backend = SqlBackend(store)
    with store.unit_of_work() as uow:
        existing = create(uow, identity=_person("Fay", "Underhill"))
    saved = _save(store, policy)
    _watch(store, policy, backend, saved)
    assert _run(store, policy, backend).new == 0  # created before the watch, and does not match
    with store.unit_of_work() as uow:
        add(uow, existing, Section.ALIASES, {"forenames": "Fay", "surname": SURNAME, "name_type": "alias"}, 1)
    assert _run(store, policy, backend).new == 1
    assert _new(store, policy, saved) == [existing]


def test_what_the_watcher_may_not_see_never_matches_and_is_not_counted(store: Store, policy: Policy) -> None:
    backend = SqlBackend(store)
    saved = _save(store, policy)
    _watch(store, policy, backend, saved)
    with store.unit_of_work() as uow:
        hidden = create(uow, ESSEX_OFFICER, area="essex", restricted=True, identity=_person("Gil"))
        kent_restricted = create(uow, restricted=True, identity=_person("Hal"))
    assert _run(store, policy, backend).new == 1  # Kent's own restricted record, not Essex's
    assert _new(store, policy, saved) == [kent_restricted]
    with store.unit_of_work(for_caller=True) as uow:
        assert [w.new for w in service.my_watches(uow, KENT, policy)] == [1]
    assert all(str(hidden) not in e["ids"] for e in _evaluations(store, saved))  # type: ignore[operator]

    # The watcher moves to Essex (their next token says so): at once, Kent's restricted record is no longer
    # counted or listed, and a new one is never matched
    moved = Principal(KENT.user_id, Agency.POLICE, Area.ESSEX, KENT.roles, "DC Kent, now Essex")
    with store.unit_of_work(for_caller=True) as uow:
        assert [w.new for w in service.my_watches(uow, moved, policy)] == [0]
    with store.unit_of_work() as uow:
        later = create(uow, restricted=True, identity=_person("Ivy"))
    with store.unit_of_work() as uow:
        uow.session.execute(  # the saved search belongs to Kent: keep the watcher's area check honest
            m.SavedSearch.__table__.update().where(m.SavedSearch.id == saved).values(area="essex")
        )
    _run(store, policy, backend)
    assert later not in _new(store, policy, saved, moved)
    assert kent_restricted not in _new(store, policy, saved, moved)

    # The watcher is no longer an investigator (their next request says so, refused): the evaluation is
    # refused, and audited
    reader = Principal(KENT.user_id, Agency.POLICE, Area.ESSEX, frozenset({Role.AUDITOR}), "now auditing")
    with store.unit_of_work(for_caller=True) as uow:
        with pytest.raises(Refused):
            service.my_watches(uow, reader, policy)
    with store.unit_of_work() as uow:
        create(uow, identity=_person("Jo"))
    run = _run(store, policy, backend)
    assert run.refused == 1 and run.new == 0
    assert any(e.actor_user == KENT.user_id for e in _events(store, "access:record.search:denied"))


def test_only_its_owner_watches_and_ends_it_and_an_ended_or_expired_watch_is_not_evaluated(
    store: Store, policy: Policy
) -> None:
    backend = SqlBackend(store)
    saved = _save(store, policy)
    with pytest.raises(NotFound):  # another investigator of the same area and operation
        _watch(store, policy, backend, saved, KENT_2)
    with store.unit_of_work(for_caller=True) as uow:
        with pytest.raises(InvalidValue) as too_far:
            service.start_watch(
                uow,
                KENT,
                policy,
                backend,
                "test",
                saved,
                operation=OPERATION,
                until=dt.date.today() + dt.timedelta(days=service.WATCH_DAYS + 1),
            )
    assert too_far.value.rule == "watch_until" and too_far.value.field == "until"
    _watch(store, policy, backend, saved)
    with store.unit_of_work(for_caller=True) as uow:
        with pytest.raises(NotFound):
            service.end_watch(uow, KENT_2, policy, saved)
    with store.unit_of_work(for_caller=True) as uow:
        ended = service.end_watch(uow, KENT, policy, saved)
    assert ended.ended and not ended.expired
    ends = _events(store, "search:watch:end")  # KENT_2's attempt is audited as refused
    assert [(e.actor_user, e.outcome) for e in ends] == [
        (KENT_2.user_id, "failed"),
        (KENT.user_id, "success"),
    ]
    with store.unit_of_work() as uow:
        create(uow, identity=_person("Kit"))
    assert _run(store, policy, backend).evaluated == 0
    assert _new(store, policy, saved) == []

    # Watched again, then past its date: shown as ended (expired), not evaluated
    _watch(store, policy, backend, saved)
    with store.unit_of_work() as uow:
        uow.session.execute(
            m.SearchWatch.__table__.update()
            .where(m.SearchWatch.saved_search_id == saved)
            .values(until=dt.date.today() - dt.timedelta(days=1))
        )
        create(uow, identity=_person("Lou"))
    assert _run(store, policy, backend).evaluated == 0
    with store.unit_of_work(for_caller=True) as uow:
        [watch] = service.my_watches(uow, KENT, policy)
    assert watch.ended and watch.expired and watch.new == 0


@pytest.fixture
def es_index(es_node) -> Iterator[SearchIndex]:  # type: ignore[no-untyped-def]
    index = make_index(es_node.url, f"t-{uuid.uuid4().hex[:12]}")
    index.ensure()
    try:
        yield index
    finally:
        index.client.indices.delete(
            index=f"{index.spec.alias}-*", ignore_unavailable=True, allow_no_indices=True
        )


@pytest.mark.sqlite_only  # the index is the engine here
def test_on_elasticsearch_a_created_record_is_told_once_the_indexer_has_written_it(
    store: Store, policy: Policy, es_index: SearchIndex
) -> None:
    backend = ElasticBackend(es_index)
    with store.unit_of_work() as uow:
        create(uow, identity=_person("Bea"))
    idx.drain_all(store, es_index)
    es_index.refresh()
    saved = _save(store, policy)
    assert _watch(store, policy, backend, saved).new == 0
    with store.unit_of_work() as uow:
        created = create(uow, identity=_person("Cal"))
        hidden = create(uow, ESSEX_OFFICER, area="essex", restricted=True, identity=_person("Gil"))
    # Not yet indexed: not evaluated (and looked at again next time)
    early = _run(store, policy, backend, indexed_only=True)
    assert early.changed == 1 and early.new == 0  # only Bea's creation (indexed, younger than a minute)
    assert _new(store, policy, saved) == []
    idx.drain_all(store, es_index)
    es_index.refresh()
    run = _run(store, policy, backend, indexed_only=True)
    assert run.changed == 3 and run.new == 1
    assert _new(store, policy, saved) == [created]
    assert all(str(hidden) not in e["ids"] for e in _evaluations(store, saved))  # type: ignore[operator]
    assert _run(store, policy, backend, indexed_only=True).new == 0
    assert OFFICER.area == Area.KENT


def test_register_watches_run_evaluates_and_reports(store: Store, policy: Policy, settings: Settings) -> None:
    saved = _save(store, policy)
    _watch(store, policy, SqlBackend(store), saved)
    with store.unit_of_work() as uow:
        created = create(uow, identity=_person("Max"))
    env = {
        "REGISTER_DATABASE_URL": str(settings.database_url),
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_KEY_DIR": str(settings.key_dir),
        "REGISTER_ELASTICSEARCH_URL": "",
    }
    result = CliRunner().invoke(main, ["watches", "run", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["new"] == 1
    assert _new(store, policy, saved) == [created]
    again = CliRunner().invoke(main, ["watches", "run"], env=env)
    assert again.exit_code == 0 and "0 new matches" in again.output


def test_a_told_record_transferred_away_restricted_is_no_longer_counted_or_listed(
    store: Store, policy: Policy
) -> None:
    backend = SqlBackend(store)
    saved = _save(store, policy)
    _watch(store, policy, backend, saved)
    with store.unit_of_work() as uow:
        moving = create(uow, restricted=True, identity=_person("Pam"))
    assert _run(store, policy, backend).new == 1
    assert _new(store, policy, saved) == [moving]
    essex_sup = Principal("essex.sup1", Agency.POLICE, Area.ESSEX, frozenset({Role.SUPERVISOR}), "DS Essex")
    with store.unit_of_work(for_caller=True) as uow:
        transfer_id, version = transfers.start(
            uow, OFFICER, moving, TransferRequest(to_area=Area.ESSEX, reason="moved"), expected_version=1
        )
    with store.unit_of_work(for_caller=True) as uow:
        transfers.accept(uow, essex_sup, transfer_id, Acceptance(managing_unit="Chelmsford MOSOVO"))
    # Now Essex's restricted record: a stub for the Kent watcher, so neither counted nor listed
    with store.unit_of_work(for_caller=True) as uow:
        assert [w.new for w in service.my_watches(uow, KENT, policy)] == [0]
    assert _new(store, policy, saved) == []
    assert version >= 1
