"""The one list of event types (store/events.py): which audited change becomes which CloudEvents type."""

from __future__ import annotations

from register.audit.tags import Tag
from register.domain.record import Section
from register.store.events import ALL_TYPES, EVENT_TYPES, EventType, event_type


def test_every_section_items_change_is_a_record_change_and_its_erasure_an_erasure() -> None:
    for section in Section:
        for verb in ("add", "correct", "end"):
            assert event_type(Tag.section_item(section.value, verb)) == EventType.RECORD_CHANGED
        assert event_type(Tag.section_item(section.value, "erase")) == EventType.RECORD_ERASED


def test_reads_refusals_and_administration_are_not_events() -> None:
    for tag in (
        Tag.NOMINAL_RECORD_READ,
        Tag.NOMINAL_RECORD_STUB,
        Tag.NOMINAL_PHOTOGRAPHS_VIEW,
        Tag.NOMINAL_PHOTOGRAPHS_LIST,
        Tag.NOMINAL_RECORD_MERGE_PREVIEW,
        Tag.NOMINAL_RETENTION_READ,
        Tag.TRANSFER_REQUEST_LIST,
        Tag.SEARCH_QUERY_RUN,
        Tag.ACCESS_RECORD_WRITE_DENIED,
        Tag.EVENTS_FEED_READ,
        Tag.EVENTS_WEBHOOK_DELIVER,
        Tag.KEYS_KEK_ROTATE,
    ):
        assert event_type(tag) is None, tag


def test_the_changes_the_agencies_follow_each_have_a_type() -> None:
    assert set(EVENT_TYPES.values()) | {EventType.RECORD_CHANGED} == set(ALL_TYPES)
    assert all(t.startswith("uk.gov.mappa.register.") for t in ALL_TYPES)
    assert EVENT_TYPES[Tag.TRANSFER_REQUEST_ACCEPT] == EventType.TRANSFER_ACCEPTED
    assert EVENT_TYPES[Tag.NOMINAL_RECORD_MERGE] == EventType.RECORD_MERGED
