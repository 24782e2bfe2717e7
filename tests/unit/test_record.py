"""The record validates itself: closed vocabularies, dates in order, plausible values, and errors that name
field and rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from register.domain import rules
from register.domain.enums import MappaCategory, MappaLevel, NominalType
from register.domain.errors import RuleViolation, field_errors
from register.domain.record import (
    SECTION_MODELS,
    ChronologyEntry,
    Header,
    Identity,
    LevelChange,
    NewNominal,
    Section,
)
from register.domain.rules import parse_item

TODAY = dt.date(2026, 11, 22)


def errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(field path, rule) of each error, as the API reports them."""
    return [(e["field"], e["rule"]) for e in field_errors(exc)]


def test_every_section_has_a_validating_model() -> None:
    assert set(SECTION_MODELS) == set(Section)


@pytest.mark.parametrize(
    "section,payload,expected",
    [
        (
            Section.ADDRESSES,
            {"kind": "home", "postcode": "ME16 8RP", "date_from": "2024-01-01", "date_to": "2023-01-01"},
            ("date_to", "dates_in_order"),
        ),
        (Section.ADDRESSES, {"kind": "castle", "postcode": "ME16 8RP"}, ("kind", "enum")),
        (Section.ADDRESSES, {"kind": "home"}, ("lines", "address_required")),
        (Section.ADDRESSES, {"kind": "home", "postcode": "NOT A POSTCODE"}, ("postcode", "postcode_format")),
        (
            Section.ADDRESSES,
            {"kind": "home", "postcode": "ME16 8RP", "latitude": 51.2},
            ("longitude", "coordinates_pair"),
        ),
        (
            Section.DESCRIPTIONS,
            {"observed_on": "2024-01-01", "height_cm": 320},
            ("height_cm", "less_than_equal"),
        ),
        (Section.IDENTIFIERS, {"kind": "pnc", "value": "2003/0412876Z"}, ("value", "pnc_check_letter")),
        (Section.IDENTIFIERS, {"kind": "cro", "value": "12/34"}, ("value", "cro_format")),
        (Section.VEHICLES, {"vrm": "!"}, ("vrm", "vrm_format")),
        (
            Section.OFFENCES,
            {"offence": "x", "conviction_date": "2020-01-01", "disposal": {"kind": "imprisonment"}},
            ("disposal.custody_months", "custody_length_required"),
        ),
        (
            Section.OFFENCES,
            {
                "offence": "x",
                "offence_date": "2021-01-01",
                "conviction_date": "2020-01-01",
                "disposal": {"kind": "fine"},
            },
            ("offence_date", "dates_in_order"),
        ),
        (
            Section.OFFENCES,
            {
                "offence": "x",
                "conviction_date": "2020-01-01",
                "disposal": {"kind": "detention_and_training_order"},
            },
            ("disposal.custody_months", "custody_length_required"),
        ),
        (
            Section.OFFENCES,
            {"offence": "x", "conviction_date": "2020-01-01", "disposal": {"kind": "detention"}},
            ("disposal.custody_months", "custody_length_required"),
        ),
        (
            Section.OFFENCES,
            {
                "offence": "x",
                "conviction_date": "2020-01-01",
                "disposal": {"kind": "detention_and_training_order", "custody_months": 30},
            },
            ("disposal.custody_months", "detention_and_training_order_term"),
        ),
        (
            Section.OFFENCES,
            {
                "offence": "x",
                "conviction_date": "2020-01-01",
                "finding": "not_guilty_by_insanity",
                "disposal": {"kind": "imprisonment", "custody_months": 12},
            },
            ("disposal.kind", "disposal_after_finding"),
        ),
        (Section.ADDRESSES, {"kind": "outside_uk", "date_from": "2025-01-01"}, ("lines", "place_required")),
        (Section.ADDRESSES, {"kind": "outside_uk", "lines": ["Malta"]}, ("date_from", "stay_dates_required")),
        (
            Section.ADDRESSES,
            {"kind": "outside_uk", "lines": ["Malta"], "date_from": "2025-01-01", "postcode": "ME16 8RP"},
            ("postcode", "not_in_the_uk"),
        ),
        (
            Section.ORDERS,
            {"kind": "shpo", "made_on": "2020-01-01", "starts_on": "2019-01-01"},
            ("starts_on", "dates_in_order"),
        ),
        (
            Section.INTELLIGENCE,
            {
                "received_on": "2024-01-01",
                "text": "t",
                "scheme": "3x5x2",
                "source_evaluation": "D",
                "intelligence_assessment": 1,
                "handling_code": "P",
            },
            ("source_evaluation", "grading_3x5x2_source"),
        ),
        (
            Section.INTELLIGENCE,
            {
                "received_on": "2024-01-01",
                "text": "t",
                "scheme": "3x5x2",
                "source_evaluation": "A",
                "intelligence_assessment": 1,
                "handling_code": "C",
            },
            ("handling_conditions", "handling_conditions_required"),
        ),
        (
            Section.INTELLIGENCE,
            {"received_on": "2024-01-01", "text": "t", "source_evaluation": "A"},
            ("scheme", "grading_scheme_required"),
        ),
        (Section.ASSOCIATES, {"relationship": "partner"}, ("person", "associate_party")),
        (
            Section.RISK_ASSESSMENTS,
            {"tool": "oasys", "assessed_on": "2024-01-01", "assessor": "x", "next_review_on": "2023-01-01"},
            ("next_review_on", "dates_in_order"),
        ),
        (
            Section.VICTIM_SAFETY,
            {"kind": "exclusion_zone", "victim": "v", "details": "d", "managed_by": []},
            ("managed_by", "too_short"),
        ),
        (
            Section.MARKS,
            {"kind": "tattoo", "location": "left_forearm", "description": "dragon", "colour": "green"},
            ("colour", "extra_forbidden"),
        ),
    ],
)
def test_invalid_items_name_the_field_and_rule(
    section: Section, payload: dict[str, Any], expected: tuple[str, str]
) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_item(section, payload, TODAY)
    assert expected in errors(exc.value)


def test_valid_items_are_normalised() -> None:
    address = parse_item(
        Section.ADDRESSES, {"kind": "home", "lines": ["1 High St"], "postcode": "me16 8rp"}, TODAY
    )
    assert address.postcode == "ME16 8RP"  # type: ignore[attr-defined]
    ident = parse_item(Section.IDENTIFIERS, {"kind": "ni", "value": "ab 12 34 56 c"}, TODAY)
    assert ident.value == "AB123456C"  # type: ignore[attr-defined]
    assert ("id_ni", "AB123456C") in ident.tokens()
    vehicle = parse_item(Section.VEHICLES, {"vrm": "gk19 xbw"}, TODAY)
    assert {("vrm", "GK19XBW"), ("vrm_3gram", "19X")} <= set(vehicle.tokens())


def test_plausible_age_is_measured_when_written_but_not_when_read_back() -> None:
    dob = TODAY.replace(year=TODAY.year - 5)
    with pytest.raises(ValidationError) as exc:
        Identity.model_validate(
            {"forenames": "A", "surname": "B", "date_of_birth": dob.isoformat()}, context={"today": TODAY}
        )
    assert ("date_of_birth", "age_plausible") in errors(exc.value)
    old = Identity.model_validate(
        {"forenames": "A", "surname": "B", "date_of_birth": "1916-01-01"}, context={"trusted": True}
    )
    assert old.date_of_birth == dt.date(1916, 1, 1)


@given(st.sampled_from(list(NominalType)), st.sampled_from([None, *MappaCategory]))
def test_category_must_fit_the_nominal_type(
    nominal_type: NominalType, category: MappaCategory | None
) -> None:
    data = {
        "nominal_type": nominal_type,
        "area": "kent",
        "managing_unit": "u",
        "lead_agency": "police",
        "mappa_category": category,
    }
    fits = (
        category is None
        or {
            NominalType.RSO: 1,
            NominalType.VO: 2,
            NominalType.OTHER_DANGEROUS: 3,
            NominalType.TERRORISM: 4,
            NominalType.PDP: None,
        }[nominal_type]
        == category
    )
    if fits:
        assert Header.model_validate(data).mappa_category == category
    else:
        with pytest.raises(ValidationError) as exc:
            Header.model_validate(data)
        assert ("mappa_category", "category_matches_type") in errors(exc.value)


def test_level_needs_category_and_areas_are_closed() -> None:
    base = {"nominal_type": "rso", "managing_unit": "u", "lead_agency": "police"}
    with pytest.raises(ValidationError) as exc:
        Header.model_validate({**base, "area": "kent", "mappa_level": 2})
    assert ("mappa_level", "level_needs_category") in errors(exc.value)
    with pytest.raises(ValidationError) as exc:
        Header.model_validate({**base, "area": "atlantis"})
    assert ("area", "enum") in errors(exc.value)


def test_chronology_amendments_reference_and_timezones() -> None:
    with pytest.raises(ValidationError) as exc:
        ChronologyEntry.model_validate(
            {"occurred_at": "2024-05-01T10:00:00Z", "kind": "amendment", "summary": "fix"}
        )
    assert ("amends", "amendment_reference") in errors(exc.value)
    with pytest.raises(ValidationError) as exc:
        ChronologyEntry.model_validate(
            {"occurred_at": "2024-05-01T10:00:00", "kind": "contact", "summary": "s"}
        )
    assert ("occurred_at", "timezone_required") in errors(exc.value)
    entry = ChronologyEntry.model_validate(
        {"occurred_at": "2024-05-01T11:00:00+01:00", "kind": "contact", "summary": "s"}
    )
    assert entry.occurred_at == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)


def test_level_history_decides_the_current_level() -> None:
    header = Header(
        nominal_type=NominalType.RSO,
        area="kent",
        managing_unit="u",
        lead_agency="police",
        mappa_category=MappaCategory.SEXUAL,
        mappa_level=MappaLevel.ORDINARY,
    )
    history = [
        LevelChange(
            category=MappaCategory.SEXUAL,
            level=MappaLevel.MULTI_AGENCY,
            effective_from=dt.date(2025, 1, 1),
            rationale="r",
        ),
        LevelChange(
            category=MappaCategory.SEXUAL,
            level=MappaLevel.CRITICAL_FEW,
            effective_from=dt.date(2027, 1, 1),
            rationale="future",
        ),
    ]
    assert rules.current_level(header, history, TODAY).mappa_level == MappaLevel.MULTI_AGENCY
    with pytest.raises(RuleViolation) as err:
        rules.check_level_change(
            header,
            LevelChange(
                category=MappaCategory.VIOLENT,
                level=MappaLevel.ORDINARY,
                effective_from=dt.date(2025, 1, 1),
                rationale="r",
            ),
        )
    assert err.value.rule == "category_matches_type"


def test_new_nominal_requires_identity() -> None:
    with pytest.raises(ValidationError) as exc:
        NewNominal.model_validate(
            {"nominal_type": "rso", "area": "kent", "managing_unit": "u", "lead_agency": "police"}
        )
    assert ("identity", "missing") in errors(exc.value)


def test_read_only_statuses() -> None:
    from register.domain.enums import NominalStatus

    rules.ensure_editable(NominalStatus.ACTIVE)
    for status in (NominalStatus.ARCHIVED, NominalStatus.MERGED):
        with pytest.raises(RuleViolation):
            rules.ensure_editable(status)
