"""Normalisation of the values investigators match on: every spelling of one identifier finds the others."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from register.domain import values
from register.domain.errors import InvalidValue

years4 = st.integers(min_value=1970, max_value=2039)
serials = st.integers(min_value=0, max_value=9_999_999)


def valid_pnc(year: int, serial: int) -> str:
    s = f"{serial:07d}"
    return f"{year}/{s}{values.check_letter(f'{year % 100:02d}{s}')}"


def test_known_pnc_check_letters() -> None:
    # (YY + 7-digit serial) mod 23 indexes ZABCDEFGHJKLMNPQRTUVWXY
    assert values.check_letter("030412876") == "ZABCDEFGHJKLMNPQRTUVWXY"[30412876 % 23]
    assert values.normalise_pnc(
        "2012/0000001" + values.check_letter("120000001")
    ) == "2012/0000001" + values.check_letter("120000001")


@given(years4, serials)
def test_pnc_spellings_normalise_to_one_form(year: int, serial: int) -> None:
    canonical = valid_pnc(year, serial)
    letter = canonical[-1]
    short_year = f"{year % 100:02d}"
    spellings = [
        canonical,
        canonical.lower(),
        canonical.replace("/", ""),
        f" {year} / {serial}{letter} ",
        f"{short_year}/{serial}{letter}",
    ]
    for spelling in spellings:
        assert values.normalise_pnc(spelling) == canonical


@given(years4, serials, st.sampled_from("ZABCDEFGHJKLMNPQRTUVWXY"))
def test_pnc_with_a_wrong_check_letter_is_refused(year: int, serial: int, letter: str) -> None:
    canonical = valid_pnc(year, serial)
    assume(letter != canonical[-1])
    with pytest.raises(InvalidValue) as err:
        values.normalise_pnc(canonical[:-1] + letter)
    assert err.value.rule == "pnc_check_letter"


@pytest.mark.parametrize(
    "raw", ["", "2003", "2003/12345678A", "ABCD/0412876A", "2003/0412876", "20033/1234567A"]
)
def test_malformed_pnc_names_the_format_rule(raw: str) -> None:
    with pytest.raises(InvalidValue) as err:
        values.normalise_pnc(raw)
    assert err.value.rule == "pnc_format"


@given(st.integers(min_value=1, max_value=999_999), st.integers(min_value=0, max_value=99))
def test_cro_round_trip_and_padding(serial: int, year: int) -> None:
    padded = f"{serial:06d}"
    letter = values.check_letter(f"{year:02d}{padded}")
    canonical = f"{padded}/{year:02d}{letter}"
    assert values.normalise_cro(f"{serial}/{year:02d}{letter.lower()}") == canonical
    assert values.normalise_cro(canonical) == canonical


def test_cro_known_values_from_the_published_format() -> None:
    assert values.normalise_cro("265416/21G") == "265416/21G"
    assert values.normalise_cro("SF05/482703J") == "SF05/482703J"
    with pytest.raises(InvalidValue, match="check letter"):
        values.normalise_cro("265416/21H")


@pytest.mark.parametrize("raw,expected", [("ab 12 34 56 c", "AB123456C"), ("JT482193C", "JT482193C")])
def test_ni_numbers(raw: str, expected: str) -> None:
    assert values.normalise_ni(raw) == expected


@pytest.mark.parametrize("raw", ["GB123456A", "DA123456A", "QQ123456C", "AB123456E", "AB12345C", "AO123456A"])
def test_ni_numbers_never_issued_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue) as err:
        values.normalise_ni(raw)
    assert err.value.rule == "ni_format"


@pytest.mark.parametrize(
    "raw,expected,district,sector",
    [
        ("me16 8rp", "ME16 8RP", "ME16", "ME16 8"),
        ("SW1A1AA", "SW1A 1AA", "SW1A", "SW1A 1"),
        (" ct2  8af ", "CT2 8AF", "CT2", "CT2 8"),
    ],
)
def test_postcodes(raw: str, expected: str, district: str, sector: str) -> None:
    pc = values.normalise_postcode(raw)
    assert (pc, values.postcode_district(pc), values.postcode_sector(pc)) == (expected, district, sector)


@given(st.text(max_size=12))
def test_postcode_normalisation_is_idempotent_or_refuses(raw: str) -> None:
    try:
        once = values.normalise_postcode(raw)
    except InvalidValue as err:
        assert err.rule == "postcode_format"
        return
    assert values.normalise_postcode(once) == once


@given(st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789 -", min_size=2, max_size=12))
def test_vrm_normalisation_ignores_spacing_and_case(raw: str) -> None:
    try:
        once = values.normalise_vrm(raw)
    except InvalidValue as err:
        assert err.rule == "vrm_format"
        return
    assert once == once.upper() and " " not in once
    assert values.normalise_vrm(raw.lower()) == once
    assert values.normalise_vrm(once) == once


@pytest.mark.parametrize("raw", ["+44 7700 900123", "07700 900123", "0044-7700-900123", "(07700) 900 123"])
def test_uk_phone_spellings_agree(raw: str) -> None:
    assert values.normalise_phone(raw) == "07700900123"


def test_name_tokens_fold_accents_punctuation_and_case() -> None:
    assert values.name_tokens("Zoë", "O'Brien-Smith") == ["zoe", "obrien", "smith"]
    with pytest.raises(InvalidValue) as err:
        values.check_name("   ", "surname")
    assert err.value.rule == "name_required"


def test_cached_name_words_and_sounds_are_fresh_for_every_caller() -> None:
    """A name's words and a word's phonetic keys are cached for the reindex (decision 61): what one record's
    document does with its lists must not reach the next record that bears the name."""
    from register.search.documents import sounds

    first = values.name_tokens("Mary-Ann", "Smith")
    first.append("changed")
    assert values.name_tokens("Mary-Ann", "Smith") == ["mary", "ann", "smith"]
    keys = sounds("smith")
    expected = {
        "metaphone": ["SM0"],
        "double_metaphone": ["SM0", "XMT"],
        "soundex": ["S530"],
        "nysiis": ["SNAT"],
    }
    assert keys == expected
    for found in keys.values():
        found.append("changed")
    assert sounds("smith") == expected
