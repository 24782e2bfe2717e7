"""Which model each section holds, and which sections carry an audience."""

from __future__ import annotations

from .base import Section, SectionItem
from .identity import Alias, Description, Identifier, Mark, Photograph
from .intelligence import Disclosure, Intelligence, VictimSafety
from .management import LevelChange, Meeting, OffenderManager, RiskAssessment, RiskPlan
from .meetings import MeetingAction, MeetingMinutes
from .offending import Offence, Order
from .places import Address, Associate, Contact, Employment, Vehicle

SECTION_MODELS: dict[Section, type[SectionItem]] = {
    cls.section: cls
    for cls in (
        Alias,
        Identifier,
        Description,
        Mark,
        Photograph,
        Address,
        Contact,
        Vehicle,
        Employment,
        Associate,
        Offence,
        Order,
        LevelChange,
        OffenderManager,
        Meeting,
        MeetingMinutes,
        MeetingAction,
        RiskAssessment,
        RiskPlan,
        Intelligence,
        Disclosure,
        VictimSafety,
    )
}
assert set(SECTION_MODELS) == set(Section), "every section has a model"

# The sections whose items may name an audience (`Plain.audience`): each item is seen only by the agencies it
# names.
# Meeting minutes restricted to the agencies present name them as their audience (issue #22).
AUDIENCE_SECTIONS = frozenset({Section.INTELLIGENCE, Section.VICTIM_SAFETY, Section.MEETING_MINUTES})
