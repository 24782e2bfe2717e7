"""The backlog gauges /metrics reads at scrape time (store/gauges.py): right on both engines, one query per
figure whatever the register's size."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import event

from register.store import gauges
from register.store import models as m
from register.store.store import Store
from tests.factories import create


def _near(value: dt.datetime | None, expected: dt.datetime) -> bool:
    return value is not None and abs((value - expected).total_seconds()) < 1


def test_gauges_count_the_outbox_the_unsealed_audit_tail_quality_runs_and_key_versions(store: Store) -> None:
    store.seal_after_commit = False  # the create's audit event stays unsealed until store.seal() below
    with store.unit_of_work() as uow:
        nid = create(uow)
        create(uow, identity={"forenames": "Ann", "surname": "Other", "date_of_birth": "1980-01-01"})
    now = dt.datetime.now(dt.UTC)
    hour = dt.timedelta(hours=1)

    def row(created: dt.datetime, **values: object) -> m.Outbox:
        defaults: dict[str, object] = {"available_at": created, "attempts": 0, "parked": False}
        return m.Outbox(
            nominal_id=nid, record_version=1, topic="t", created_at=created, **{**defaults, **values}
        )

    with store.session_factory() as s:
        s.add_all(
            [
                row(now - 5 * hour, available_at=now + hour, attempts=3),  # pending, waiting a retry
                row(now - 9 * hour, attempts=8, parked=True),  # parked: not pending
                row(now - 20 * hour, processed_at=now - 19 * hour),  # done
            ]
        )
        for area, finished in (("kent", now - 30 * hour), ("kent", now - 2 * hour), ("essex", None)):
            s.add(
                m.QualityRun(
                    id=uuid.uuid4(),
                    area=area,
                    run_on=now.date(),
                    started_at=now - 40 * hour,
                    finished_at=finished,
                    started_by="test",
                )
            )
        s.commit()

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.session_factory() as s:
            figures = gauges.read(s, now)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    # one a figure, set-based, and one for the watches' lag: no watch is active, so nothing more (decision 89)
    assert len(statements) == 5, statements

    with store.session_factory() as s:
        created = s.query(m.Outbox).filter(m.Outbox.attempts == 0, m.Outbox.processed_at.is_(None)).all()
    assert len(created) == 2  # the two creates' own rows, due now
    assert figures.outbox_pending == 3 and figures.outbox_parked == 1
    assert _near(figures.outbox_oldest_pending, now - 5 * hour)  # the parked and the done rows do not count
    assert _near(
        figures.outbox_oldest_due, min(r.available_at for r in created)
    )  # not the one waiting a retry
    assert figures.audit_unsealed >= 2 and figures.audit_oldest_unsealed is not None
    assert figures.quality_last_run.keys() == {"kent"} and _near(
        figures.quality_last_run["kent"], now - 2 * hour
    )
    assert figures.data_keys_by_version == {"1": 2}
    assert figures.watches_oldest_unevaluated is None

    store.seal()
    with store.session_factory() as s:
        sealed = gauges.read(s, dt.datetime.now(dt.UTC))
    assert sealed.audit_unsealed == 0 and sealed.audit_oldest_unsealed is None
