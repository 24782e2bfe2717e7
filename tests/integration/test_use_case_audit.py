"""Each action a user can take is a use case, and each records one audit event: its tag and s.62 category
are asserted here once, rather than in every route test. A refused use case records the same tag with a
failed or denied outcome (tests/api/test_refusal_audit.py)."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import register
from register.audit.events import Action
from register.audit.tags import Tag
from register.domain.record import Identity, Section
from register.nominals import service as nominals
from register.store import models as m
from register.store.listing import ListFilters
from register.store.store import Store
from tests.factories import OFFICER, add, create

# Every capability with a service: a new one is checked without anyone remembering to list it.
CAPABILITIES = tuple(sorted(p.parent.name for p in (Path(register.__file__).parent).glob("*/service.py")))

# Every use case, the tag its event carries (None: named by a section or an argument) and its s.62 category.
EXPECTED: dict[str, tuple[Tag | None, Action]] = {
    "associations.associations": (Tag.NOMINAL_ASSOCIATIONS_READ, Action.CONSULTATION),
    "caseload.caseload": (Tag.NOMINAL_RECORD_LIST, Action.CONSULTATION),
    "caseload.officer_overdue": (Tag.NOMINAL_RECORD_LIST, Action.CONSULTATION),
    "caseload.workload": (Tag.QUALITY_WORKLOAD_READ, Action.CONSULTATION),
    "photos.end_photo": (Tag.NOMINAL_PHOTOGRAPHS_END, Action.ALTERATION),
    "photos.list_photos": (Tag.NOMINAL_PHOTOGRAPHS_LIST, Action.CONSULTATION),
    "photos.upload_photo": (Tag.NOMINAL_PHOTOGRAPHS_ADD, Action.COLLECTION),
    "photos.view_photo": (Tag.NOMINAL_PHOTOGRAPHS_VIEW, Action.CONSULTATION),
    "signin.forged_request_refused": (Tag.AUTH_WEB_CSRF_REFUSED, Action.AUTHENTICATION),
    "signin.session_expired": (Tag.AUTH_WEB_SESSION_EXPIRED, Action.AUTHENTICATION),
    "signin.sign_in_refused": (Tag.AUTH_WEB_SIGN_IN, Action.AUTHENTICATION),
    "signin.signed_in": (Tag.AUTH_WEB_SIGN_IN, Action.AUTHENTICATION),
    "signin.signed_out": (Tag.AUTH_WEB_SIGN_OUT, Action.AUTHENTICATION),
    "archive.archive": (Tag.NOMINAL_RECORD_ARCHIVE, Action.ALTERATION),
    "archive.unarchive": (Tag.NOMINAL_RECORD_UNARCHIVE, Action.ALTERATION),
    "audit.read_log": (None, Action.CONSULTATION),
    "audit.read_event": (Tag.AUDIT_LOG_READ, Action.CONSULTATION),
    "audit.verify_chain": (Tag.AUDIT_CHAIN_VERIFY, Action.CONSULTATION),
    "keys.reencrypt_record": (Tag.KEYS_RECORD_REENCRYPT, Action.ADMINISTRATION),
    "keys.status": (Tag.KEYS_STATUS_READ, Action.ADMINISTRATION),
    "meetings.read_meetings": (Tag.MEETING_RECORD_READ, Action.CONSULTATION),
    "meetings.refer": (Tag.MEETING_REFERRAL_CREATE, Action.COLLECTION),
    "meetings.screen": (Tag.MEETING_REFERRAL_SCREEN, Action.ALTERATION),
    "meetings.schedule": (Tag.MEETING_SCHEDULE, Action.COLLECTION),
    "meetings.save_minutes": (Tag.MEETING_MINUTES_SAVE, Action.COLLECTION),
    "meetings.correct_minutes": (Tag.MEETING_MINUTES_CORRECT, Action.COLLECTION),
    "meetings.agree_minutes": (Tag.MEETING_MINUTES_AGREE, Action.ALTERATION),
    "meetings.complete_action": (Tag.MEETING_ACTION_COMPLETE, Action.ALTERATION),
    "meetings.my_actions": (Tag.MEETING_ACTIONS_MINE, Action.CONSULTATION),
    "meetings.desk": (Tag.MEETING_DESK_READ, Action.CONSULTATION),
    "merges.preview": (Tag.NOMINAL_RECORD_MERGE_PREVIEW, Action.CONSULTATION),
    "merges.merge": (Tag.NOMINAL_RECORD_MERGE, Action.COMBINATION),
    "merges.unmerge": (Tag.NOMINAL_RECORD_UNMERGE, Action.COMBINATION),
    "merges.merges_of": (Tag.NOMINAL_MERGES_READ, Action.CONSULTATION),
    "merges.candidates": (Tag.NOMINAL_DUPLICATES_LIST, Action.CONSULTATION),
    "merges.list_pairs": (Tag.NOMINAL_DUPLICATES_LIST, Action.CONSULTATION),
    "merges.dismiss": (Tag.NOMINAL_DUPLICATES_DISMISS, Action.ALTERATION),
    "merges.area_merges": (Tag.NOMINAL_MERGES_READ, Action.CONSULTATION),
    "merges.merge_history": (Tag.NOMINAL_MERGES_READ, Action.CONSULTATION),
    "nominals.create_nominal": (Tag.NOMINAL_RECORD_CREATE, Action.COLLECTION),
    "nominals.read_record": (Tag.NOMINAL_RECORD_READ, Action.CONSULTATION),
    "nominals.restricted_stub": (Tag.NOMINAL_RECORD_STUB, Action.CONSULTATION),
    "nominals.list_records": (Tag.NOMINAL_RECORD_LIST, Action.CONSULTATION),
    "nominals.add_item": (None, Action.COLLECTION),
    "nominals.correct_item": (None, Action.ALTERATION),
    "nominals.end_item": (None, Action.ALTERATION),
    "nominals.correct_identity": (Tag.NOMINAL_IDENTITY_CORRECT, Action.ALTERATION),
    "nominals.append_chronology": (Tag.NOMINAL_CHRONOLOGY_APPEND, Action.COLLECTION),
    "quality.run": (Tag.QUALITY_RUN_EXECUTE, Action.CONSULTATION),
    "quality.run_areas": (Tag.QUALITY_RUN_EXECUTE, Action.CONSULTATION),
    "quality.read_dashboard": (Tag.QUALITY_DASHBOARD_READ, Action.CONSULTATION),
    "quality.read_worklist": (Tag.QUALITY_WORKLIST_READ, Action.CONSULTATION),
    "quality.worklist_page": (Tag.QUALITY_WORKLIST_READ, Action.CONSULTATION),
    "quality.export_worklist": (Tag.QUALITY_WORKLIST_EXPORT, Action.DISCLOSURE),
    "retention.set_hold": (None, Action.ALTERATION),
    "retention.review": (Tag.NOMINAL_RETENTION_REVIEW, Action.ALTERATION),
    "retention.erase_item": (Tag.NOMINAL_RECORD_ERASE, Action.ERASURE),
    "retention.read_status": (Tag.NOMINAL_RETENTION_READ, Action.CONSULTATION),
    "retention.desk": (Tag.NOMINAL_RETENTION_READ, Action.CONSULTATION),
    "search.search": (None, Action.CONSULTATION),
    "search.export_results": (Tag.SEARCH_RESULTS_EXPORT, Action.DISCLOSURE),
    "saved_searches.save": (Tag.SEARCH_SAVED_CREATE, Action.COLLECTION),
    "saved_searches.for_operation": (Tag.SEARCH_SAVED_LIST, Action.CONSULTATION),
    "saved_searches.open_for_run": (Tag.SEARCH_SAVED_RUN, Action.CONSULTATION),
    "saved_searches.delete": (Tag.SEARCH_SAVED_DELETE, Action.ERASURE),
    "saved_searches.start_watch": (Tag.SEARCH_WATCH_START, Action.COLLECTION),
    "saved_searches.end_watch": (Tag.SEARCH_WATCH_END, Action.ALTERATION),
    "saved_searches.my_watches": (Tag.SEARCH_WATCH_LIST, Action.CONSULTATION),
    "saved_searches.new_matches": (Tag.SEARCH_WATCH_MATCHES, Action.CONSULTATION),
    "saved_searches.mark_seen": (Tag.SEARCH_WATCH_SEEN, Action.ALTERATION),
    "search.evaluate_watch": (Tag.SEARCH_QUERY_RUN, Action.CONSULTATION),
    "statistics.read_tables": (Tag.STATISTICS_TABLES_READ, Action.CONSULTATION),
    "statistics.read_tables_of_areas": (Tag.STATISTICS_TABLES_READ, Action.CONSULTATION),
    "statistics.read_cell": (Tag.STATISTICS_CELL_PEOPLE, Action.CONSULTATION),
    "statistics.read_cell_people": (Tag.STATISTICS_CELL_PEOPLE, Action.CONSULTATION),
    "statistics.read_tables_compared": (Tag.STATISTICS_TABLES_READ, Action.CONSULTATION),
    "events.read_feed": (Tag.EVENTS_FEED_READ, Action.DISCLOSURE),
    "events.create_subscription": (Tag.EVENTS_SUBSCRIPTION_CREATE, Action.ADMINISTRATION),
    "events.list_subscriptions": (Tag.EVENTS_SUBSCRIPTION_LIST, Action.ADMINISTRATION),
    "events.delete_subscription": (Tag.EVENTS_SUBSCRIPTION_DELETE, Action.ADMINISTRATION),
    "events.replay": (Tag.EVENTS_SUBSCRIPTION_REPLAY, Action.ADMINISTRATION),
    "events.dead_letters": (Tag.EVENTS_DEAD_LETTERS_LIST, Action.ADMINISTRATION),
    "events.redeliver": (Tag.EVENTS_DEAD_LETTER_REDELIVER, Action.ADMINISTRATION),
    "transfers.start": (Tag.TRANSFER_REQUEST_CREATE, Action.COLLECTION),
    "transfers.accept": (Tag.TRANSFER_REQUEST_ACCEPT, Action.ALTERATION),
    "transfers.reject": (Tag.TRANSFER_REQUEST_REJECT, Action.ALTERATION),
    "transfers.cancel": (Tag.TRANSFER_REQUEST_CANCEL, Action.ALTERATION),
    "transfers.desk": (Tag.TRANSFER_REQUEST_LIST, Action.CONSULTATION),
    "transfers.listing": (Tag.TRANSFER_REQUEST_LIST, Action.CONSULTATION),
    "events.prune": (Tag.EVENTS_FEED_PRUNE, Action.ADMINISTRATION),
    "transfers.view": (Tag.TRANSFER_REQUEST_READ, Action.CONSULTATION),
}


def use_cases() -> dict[str, Any]:
    found = {}
    for capability in CAPABILITIES:
        module = importlib.import_module(f"register.{capability}.service")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and hasattr(fn, "action"):
                found[f"{capability}.{name}"] = fn
    return found


def test_every_use_case_declares_its_tag_and_category_once() -> None:
    declared = {
        name: (fn.tag if isinstance(fn.tag, Tag) else None, fn.action) for name, fn in use_cases().items()
    }
    assert declared == EXPECTED


def last_event(store: Store) -> tuple[str, str, str]:
    with store.session_factory() as s:
        row = s.execute(
            select(m.AuditEvent.tag, m.AuditEvent.action, m.AuditEvent.outcome).order_by(
                m.AuditEvent.seq.desc()
            )
        ).first()
    assert row is not None
    return (row.tag, row.action, row.outcome)


MARK = {"kind": "scar", "location": "face", "description": "over left eye"}


def _identity() -> Identity:
    return Identity(
        forenames="Quentin", surname="Zabrowska", date_of_birth=dt.date(1971, 2, 3), gender="male"
    )


CASES: dict[str, tuple[Callable[[Any, Any], object], str, Action]] = {
    "create": (lambda uow, nid: create(uow), "nominal:record:create", Action.COLLECTION),
    "read": (
        lambda uow, nid: nominals.read_record(uow, OFFICER, nid, purpose="OP-1"),
        "nominal:record:read",
        Action.CONSULTATION,
    ),
    "stub": (
        lambda uow, nid: nominals.restricted_stub(uow, OFFICER, nid, "kent", purpose="OP-1"),
        "nominal:record:stub",
        Action.CONSULTATION,
    ),
    "list": (
        lambda uow, nid: nominals.list_records(
            uow, OFFICER, ListFilters(area=OFFICER.area, today=dt.date.today()), limit=10
        ),
        "nominal:record:list",
        Action.CONSULTATION,
    ),
    "add": (lambda uow, nid: add(uow, nid, Section.MARKS, MARK, 1), "nominal:marks:add", Action.COLLECTION),
    "correct identity": (
        lambda uow, nid: nominals.correct_identity(uow, OFFICER, nid, _identity(), expected_version=1),
        "nominal:identity:correct",
        Action.ALTERATION,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_use_case_records_its_event(store: Store, case: str) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
    run, tag, action = CASES[case]
    with store.unit_of_work(for_caller=True) as uow:
        run(uow, nid)
    assert last_event(store) == (tag, action.value, "success")
