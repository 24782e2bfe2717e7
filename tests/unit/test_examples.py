"""The API documentation's examples are requests the register accepts: each validates against its model."""

from __future__ import annotations

import pytest

from register.domain.record import SECTION_MODELS, NewNominal, Section
from register.nominals import examples


def test_the_new_record_example_is_a_valid_new_record() -> None:
    assert NewNominal.model_validate(examples.NEW_NOMINAL).identity.surname


@pytest.mark.parametrize("section", list(SECTION_MODELS))
def test_every_section_has_a_valid_example(section: Section) -> None:
    payload = examples.section_examples()[section]
    SECTION_MODELS[section].model_validate(payload)
