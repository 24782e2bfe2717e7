"""The meetings' domain models (issue #22): meetings recorded before structured actions are read as they are,
only a held meeting counts as a review, and the rules a referral, minutes and an action keep."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from register.domain.enums import MeetingStatus
from register.domain.record import Meeting, MeetingAction, MeetingMinutes, Referral

DAY = dt.date(2025, 9, 10)


def test_a_meeting_recorded_before_issue_22_is_read_with_its_free_text_actions_and_counts_as_held() -> None:
    stored = (
        '{"kind": "level_2", "held_on": "2025-03-04", "level": 2, "agencies_present": ["police"], '
        '"actions": ["home visit within 3 months"], "minutes_reference": "M/2025/1"}'
    )
    meeting = Meeting.model_validate_json(stored, context={"trusted": True})
    assert meeting.actions == ["home visit within 3 months"] and meeting.status is None
    assert meeting.held and meeting.plain().starts_on == dt.date(2025, 3, 4)


def test_only_a_held_meeting_has_the_date_reviews_count_from() -> None:
    scheduled = Meeting(kind="level_2", held_on=DAY, status=MeetingStatus.SCHEDULED)
    assert scheduled.plain().starts_on is None and scheduled.plain().due_on == DAY
    agreed = scheduled.model_copy(update={"status": MeetingStatus.AGREED})
    assert agreed.plain().starts_on == DAY
    with pytest.raises(ValidationError, match="meeting_date_required|a meeting needs its date"):
        Meeting(kind="level_2", status=MeetingStatus.SCHEDULED)


def test_a_referral_seeks_level_2_or_3_and_its_decision_is_dated() -> None:
    base = {"referred_on": DAY, "referred_by": "Sam Reed", "referrer_agency": "police", "reason": "risk"}
    assert Referral(**base, level_sought=2).accepted is None
    with pytest.raises(ValidationError, match="Level 2 or Level 3"):
        Referral(**base, level_sought=1)
    with pytest.raises(ValidationError, match="decision needs its date"):
        Referral(**base, level_sought=3, accepted=True)


def test_restricted_minutes_name_their_audience_and_a_completed_action_its_evidence() -> None:
    minutes = MeetingMinutes(meeting_id=uuid.uuid4(), held_on=DAY, restricted_to=["probation", "police"])
    assert minutes.plain().audience == "police,probation"
    assert MeetingMinutes(meeting_id=uuid.uuid4(), held_on=DAY).plain().audience is None
    with pytest.raises(ValidationError, match="review_on must not be before held_on"):
        MeetingMinutes(meeting_id=uuid.uuid4(), held_on=DAY, review_on=DAY - dt.timedelta(days=1))
    action = {
        "meeting_id": uuid.uuid4(),
        "description": "visit",
        "owner_name": "Sam",
        "owner_agency": "police",
        "due_on": DAY,
    }
    assert MeetingAction(**action, owner_user_id="kent.om").plain().ref == "kent.om"
    with pytest.raises(ValidationError, match="records its evidence"):
        MeetingAction(**action, status="completed", completed_on=DAY)
