"""Normalisation and validation of the values the register matches on.

Every function takes what a user typed and returns the one canonical form the
register stores, indexes and compares, or raises `InvalidValue` naming the rule
that failed. The same canonical form feeds the blind indexes, so two spellings
of one identifier always find each other.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from .errors import InvalidValue

# PNC and CRO check characters: (digits) mod 23 indexes this alphabet, in which
# I, O and S are left out and Z stands for 0.
_CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"


def _compact(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw).upper()


def check_letter(digits: str) -> str:
    return _CHECK_LETTERS[int(digits) % 23]


_PNC = re.compile(r"^(\d{2}|\d{4})/?(\d{1,7})([A-Z])$")


def normalise_pnc(raw: str) -> str:
    """PNC ID: `YYYY/NNNNNNNX` (year, 7-digit serial, check letter).

    Accepts a two-digit year (19YY from 40 upwards, else 20YY: the PNC began
    in the 1970s) and a serial without its leading zeros.
    """
    match = _PNC.match(_compact(raw))
    if not match:
        raise InvalidValue(
            "pnc_format", "a PNC ID is YYYY/NNNNNNNX: year, serial of up to 7 digits, check letter"
        )
    year, serial, letter = match.groups()
    if len(year) == 2:
        year = ("19" if int(year) >= 40 else "20") + year
    serial = serial.zfill(7)
    if check_letter(year[2:] + serial) != letter:
        raise InvalidValue("pnc_check_letter", "the PNC ID's check letter does not match its year and serial")
    return f"{year}/{serial}{letter}"


_CRO = re.compile(r"^(\d{1,6})/(\d{2})([A-Z])$")
_CRO_SF = re.compile(r"^SF(\d{2})/(\d{1,6})([A-Z])$")


def normalise_cro(raw: str) -> str:
    """CRO number: `NNNNNN/YYX`, or the fingerprint-only form `SFYY/NNNNNNX`."""
    value = _compact(raw)
    if match := _CRO.match(value):
        serial, year, letter = match.groups()
        serial = serial.zfill(6)
        if check_letter(year + serial) != letter:
            raise InvalidValue(
                "cro_check_letter", "the CRO number's check letter does not match its serial and year"
            )
        return f"{serial}/{year}{letter}"
    if match := _CRO_SF.match(value):
        year, serial, letter = match.groups()
        if check_letter(year + serial) != letter:
            raise InvalidValue(
                "cro_check_letter", "the CRO number's check letter does not match its serial and year"
            )
        return f"SF{year}/{serial}{letter}"
    raise InvalidValue("cro_format", "a CRO number is NNNNNN/YYX or SFYY/NNNNNNX")


# HMRC: first letter not D, F, I, Q, U, V; second not those nor O; some prefixes never issued.
_NI = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")


def normalise_ni(raw: str) -> str:
    value = _compact(raw)
    if not _NI.match(value):
        raise InvalidValue(
            "ni_format", "a National Insurance number is two letters, six digits and A-D (e.g. AB123456C)"
        )
    return value


def normalise_passport(raw: str) -> str:
    value = _compact(raw)
    if not re.fullmatch(r"[A-Z0-9]{5,20}", value):
        raise InvalidValue("passport_format", "a passport number is 5 to 20 letters and digits")
    return value


def normalise_prison_number(raw: str) -> str:
    value = _compact(raw)
    if not re.fullmatch(r"[A-Z]\d{4}[A-Z]{2}", value):
        raise InvalidValue(
            "prison_number_format", "a prison number is a letter, four digits and two letters (e.g. A1234BC)"
        )
    return value


def normalise_case_reference(raw: str) -> str:
    value = _compact(raw)
    if not re.fullmatch(r"[A-Z0-9/]{4,20}", value):
        raise InvalidValue("case_reference_format", "a case reference is 4 to 20 letters, digits or '/'")
    return value


_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[ABD-HJLNP-UW-Z]{2})$")


def normalise_postcode(raw: str) -> str:
    """UK postcode in its printed form: outward code, one space, inward code."""
    value = _compact(raw)
    if value == "GIR0AA":
        return "GIR 0AA"
    match = _POSTCODE.match(value)
    if not match:
        raise InvalidValue("postcode_format", "not a UK postcode (e.g. ME14 1XX)")
    return f"{match.group(1)} {match.group(2)}"


def postcode_district(postcode: str) -> str:
    """`ME14 1XX` -> `ME14`."""
    return postcode.split(" ")[0]


def postcode_sector(postcode: str) -> str:
    """`ME14 1XX` -> `ME14 1`."""
    outward, inward = postcode.split(" ")
    return f"{outward} {inward[0]}"


def normalise_vrm(raw: str) -> str:
    """Vehicle registration mark: letters and digits only, upper case.

    UK marks are up to 7 characters; foreign plates are kept up to 10.
    """
    value = re.sub(r"[^A-Za-z0-9]", "", raw).upper()
    if not re.fullmatch(r"[A-Z0-9]{2,10}", value):
        raise InvalidValue("vrm_format", "a registration mark is 2 to 10 letters and digits")
    return value


def normalise_phone(raw: str) -> str:
    """Phone numbers compare on their digits; +44 becomes the national 0."""
    value = re.sub(r"[\s\-().]", "", raw)
    if value.startswith("+44"):
        value = "0" + value[3:]
    elif value.startswith("0044"):
        value = "0" + value[4:]
    if not re.fullmatch(r"\+?\d{7,15}", value):
        raise InvalidValue("phone_format", "a phone number is 7 to 15 digits, optionally starting with +")
    return value


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_email(raw: str) -> str:
    value = raw.strip().casefold()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidValue("email_format", "not an email address")
    return value


def normalise_username(raw: str) -> str:
    value = raw.strip().lstrip("@").casefold()
    if not value or len(value) > 100 or re.search(r"\s", value):
        raise InvalidValue("username_format", "an online username is 1 to 100 characters without spaces")
    return value


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Strip accents and case: `Zoë` and `ZOE` fold to one form. Cached: the same names, towns and makes come
    back on every record of a reindex."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_NAME_GAP = re.compile(r"[\s\-]+")
_NOT_LETTER = re.compile(r"[^a-z]")


@functools.lru_cache(maxsize=1 << 16)
def _name_words(name: str) -> tuple[str, ...]:
    """One name's tokens (see `name_tokens`). Cached as `fold` is: a reindex reads each name several times."""
    return tuple(token for word in _NAME_GAP.split(fold(name)) if (token := _NOT_LETTER.sub("", word)))


def name_tokens(*names: str) -> list[str]:
    """The words of a name, folded, letters only: `O'Brien-Smith` -> `obrien`, `smith`."""
    tokens: list[str] = []
    for name in names:
        for token in _name_words(name):
            if token not in tokens:
                tokens.append(token)
    return tokens


def check_name(raw: str, field: str) -> str:
    value = re.sub(r"\s+", " ", raw).strip()
    if not value:
        raise InvalidValue("name_required", f"{field} must not be blank")
    if len(value) > 100:
        raise InvalidValue("name_length", f"{field} is at most 100 characters")
    if not name_tokens(value):
        raise InvalidValue("name_letters", f"{field} must contain letters")
    return value
