"""The closed vocabularies of the register (domain.md). Values are stable codes stored in the database."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Agency(StrEnum):
    POLICE = "police"
    PROBATION = "probation"
    PRISON = "prison"


class Role(StrEnum):
    READER = "reader"
    OFFENDER_MANAGER = "offender_manager"
    SUPERVISOR = "supervisor"
    INVESTIGATOR = "investigator"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Area(StrEnum):
    """The 42 MAPPA areas of England and Wales (London covers the Met and the City)."""

    AVON_AND_SOMERSET = "avon-and-somerset"
    BEDFORDSHIRE = "bedfordshire"
    CAMBRIDGESHIRE = "cambridgeshire"
    CHESHIRE = "cheshire"
    CLEVELAND = "cleveland"
    CUMBRIA = "cumbria"
    DERBYSHIRE = "derbyshire"
    DEVON_AND_CORNWALL = "devon-and-cornwall"
    DORSET = "dorset"
    DURHAM = "durham"
    DYFED_POWYS = "dyfed-powys"
    ESSEX = "essex"
    GLOUCESTERSHIRE = "gloucestershire"
    GREATER_MANCHESTER = "greater-manchester"
    GWENT = "gwent"
    HAMPSHIRE = "hampshire"
    HERTFORDSHIRE = "hertfordshire"
    HUMBERSIDE = "humberside"
    KENT = "kent"
    LANCASHIRE = "lancashire"
    LEICESTERSHIRE = "leicestershire"
    LINCOLNSHIRE = "lincolnshire"
    LONDON = "london"
    MERSEYSIDE = "merseyside"
    NORFOLK = "norfolk"
    NORTH_WALES = "north-wales"
    NORTH_YORKSHIRE = "north-yorkshire"
    NORTHAMPTONSHIRE = "northamptonshire"
    NORTHUMBRIA = "northumbria"
    NOTTINGHAMSHIRE = "nottinghamshire"
    SOUTH_WALES = "south-wales"
    SOUTH_YORKSHIRE = "south-yorkshire"
    STAFFORDSHIRE = "staffordshire"
    SUFFOLK = "suffolk"
    SURREY = "surrey"
    SUSSEX = "sussex"
    THAMES_VALLEY = "thames-valley"
    WARWICKSHIRE = "warwickshire"
    WEST_MERCIA = "west-mercia"
    WEST_MIDLANDS = "west-midlands"
    WEST_YORKSHIRE = "west-yorkshire"
    WILTSHIRE = "wiltshire"


class NominalType(StrEnum):
    RSO = "rso"  # registered sex offender: notification requirements (Category 1)
    VO = "vo"  # violent offender, 12 months+ or hospital order (Category 2)
    OTHER_DANGEROUS = "other_dangerous"  # Category 3
    TERRORISM = "terrorism"  # Category 4, more restricted
    PDP = "pdp"  # potentially dangerous person, e.g. subject to a Sexual Risk Order


class NominalStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    MERGED = "merged"
    DECEASED = "deceased"
    ERASED = "erased"  # personal content erased under the retention schedule: a tombstone


class MappaCategory(IntEnum):
    SEXUAL = 1
    VIOLENT = 2
    OTHER_DANGEROUS = 3
    TERRORISM = 4


class MappaLevel(IntEnum):
    ORDINARY = 1
    MULTI_AGENCY = 2
    CRITICAL_FEW = 3


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class Ethnicity(StrEnum):
    """Self-defined ethnicity, the 18+1 census categories as police record them."""

    W1 = "W1"  # White: English, Welsh, Scottish, Northern Irish, British
    W2 = "W2"  # White: Irish
    W3 = "W3"  # White: Gypsy or Irish Traveller
    W9 = "W9"  # White: any other
    M1 = "M1"  # Mixed: White and Black Caribbean
    M2 = "M2"  # Mixed: White and Black African
    M3 = "M3"  # Mixed: White and Asian
    M9 = "M9"  # Mixed: any other
    A1 = "A1"  # Asian: Indian
    A2 = "A2"  # Asian: Pakistani
    A3 = "A3"  # Asian: Bangladeshi
    A4 = "A4"  # Asian: Chinese
    A9 = "A9"  # Asian: any other
    B1 = "B1"  # Black: Caribbean
    B2 = "B2"  # Black: African
    B9 = "B9"  # Black: any other
    O2 = "O2"  # Other: Arab
    O9 = "O9"  # Other: any other
    NS = "NS"  # not stated


class NameType(StrEnum):
    BIRTH = "birth"
    ALIAS = "alias"
    NICKNAME = "nickname"
    MARRIED = "married"
    MERGED = "merged"  # a name brought in from a merged duplicate record


class IdentifierKind(StrEnum):
    PNC = "pnc"
    CRO = "cro"
    NI = "ni"
    PASSPORT = "passport"
    PRISON_NUMBER = "prison_number"
    PROBATION_CASE = "probation_case"


class Build(StrEnum):
    SLIGHT = "slight"
    THIN = "thin"
    MEDIUM = "medium"
    STOCKY = "stocky"
    MUSCULAR = "muscular"
    LARGE = "large"
    OBESE = "obese"


class MarkKind(StrEnum):
    SCAR = "scar"
    MARK = "mark"
    TATTOO = "tattoo"
    PIERCING = "piercing"
    DEFORMITY = "deformity"
    OTHER = "other"


class BodyLocation(StrEnum):
    HEAD = "head"
    FACE = "face"
    NECK = "neck"
    LEFT_SHOULDER = "left_shoulder"
    RIGHT_SHOULDER = "right_shoulder"
    CHEST = "chest"
    ABDOMEN = "abdomen"
    BACK = "back"
    LEFT_UPPER_ARM = "left_upper_arm"
    RIGHT_UPPER_ARM = "right_upper_arm"
    LEFT_FOREARM = "left_forearm"
    RIGHT_FOREARM = "right_forearm"
    LEFT_HAND = "left_hand"
    RIGHT_HAND = "right_hand"
    BUTTOCKS = "buttocks"
    GROIN = "groin"
    LEFT_THIGH = "left_thigh"
    RIGHT_THIGH = "right_thigh"
    LEFT_LOWER_LEG = "left_lower_leg"
    RIGHT_LOWER_LEG = "right_lower_leg"
    LEFT_FOOT = "left_foot"
    RIGHT_FOOT = "right_foot"
    OTHER = "other"


class AddressKind(StrEnum):
    HOME = "home"
    SECONDARY = "secondary"
    APPROVED_PREMISES = "approved_premises"
    PRISON = "prison"
    HOSPITAL = "hospital"
    NO_FIXED_ABODE = "no_fixed_abode"
    OUTSIDE_UK = "outside_uk"  # a stay outside the United Kingdom, date_from required; lines: country, place


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ONLINE_IDENTITY = "online_identity"
    DEVICE = "device"


class VehicleRelationship(StrEnum):
    OWNER = "owner"
    KEEPER = "keeper"
    USER = "user"


class EmploymentKind(StrEnum):
    EMPLOYMENT = "employment"
    SELF_EMPLOYMENT = "self_employment"
    EDUCATION = "education"
    VOLUNTEERING = "volunteering"


class AssociateRelationship(StrEnum):
    PARTNER = "partner"
    CHILD_IN_HOUSEHOLD = "child_in_household"
    FAMILY = "family"
    CO_OFFENDER = "co_offender"
    FRIEND = "friend"
    OTHER = "other"


class DisposalKind(StrEnum):
    LIFE_IMPRISONMENT = "life_imprisonment"
    IMPRISONMENT_FOR_PUBLIC_PROTECTION = "imprisonment_for_public_protection"
    IMPRISONMENT = "imprisonment"  # custody_months required (suspended sentences count too)
    # Young offenders' custody, which SOA 2003 s.131 treats as imprisonment: custody_months required.
    DETENTION_AND_TRAINING_ORDER = "detention_and_training_order"  # Sentencing Act 2020 s.233: 4-24 months
    DETENTION = "detention"  # Sentencing Act 2020 s.250 / s.259, before them PCC(S)A 2000 s.91
    HOSPITAL_ORDER_WITH_RESTRICTION = "hospital_order_with_restriction"
    HOSPITAL_ORDER = "hospital_order"
    COMMUNITY_ORDER = "community_order"
    YOUTH_REHABILITATION_ORDER = "youth_rehabilitation_order"
    REFERRAL_ORDER = "referral_order"  # a youth disposal: s.82's "any other description"
    FINE = "fine"
    CAUTION = "caution"
    CONDITIONAL_DISCHARGE = "conditional_discharge"  # discharge_months required
    ABSOLUTE_DISCHARGE = "absolute_discharge"
    OTHER = "other"


# The disposals SOA 2003 s.131 counts as a sentence of imprisonment: each needs its length, custody_months.
CUSTODIAL_DISPOSALS = frozenset(
    {DisposalKind.IMPRISONMENT, DisposalKind.DETENTION_AND_TRAINING_ORDER, DisposalKind.DETENTION}
)


class OffenceFinding(StrEnum):
    """How the person comes within SOA 2003 s.80(1): convicted (or cautioned, a disposal of its own), or one
    of the two findings that are not convictions."""

    CONVICTED = "convicted"  # s.80(1)(a)
    NOT_GUILTY_BY_INSANITY = "not_guilty_by_insanity"  # s.80(1)(b)
    UNDER_DISABILITY_DID_THE_ACT = "under_disability_did_the_act"  # s.80(1)(c)


class VictimAgeBand(StrEnum):
    UNDER_13 = "under_13"
    AGE_13_15 = "13_15"
    AGE_16_17 = "16_17"
    ADULT = "adult"
    OLDER_ADULT = "65_plus"
    UNKNOWN = "unknown"


class VictimRelationship(StrEnum):
    STRANGER = "stranger"
    KNOWN = "known"
    FAMILY = "family"
    UNKNOWN = "unknown"


class OrderKind(StrEnum):
    NOTIFICATION_REQUIREMENT = "notification_requirement"
    SHPO = "shpo"  # Sexual Harm Prevention Order (formerly SOPO)
    SOPO = "sopo"
    SRO = "sro"  # Sexual Risk Order (formerly RoSHO)
    ROSHO = "rosho"
    NOTIFICATION_ORDER = "notification_order"  # convicted abroad
    FOREIGN_TRAVEL_ORDER = "foreign_travel_order"
    DISQUALIFICATION_ORDER = "disqualification_order"
    RESTRAINING_ORDER = "restraining_order"
    LICENCE = "licence"
    COMMUNITY_ORDER = "community_order"
    HOSPITAL_ORDER = "hospital_order"


class OrderStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    DISCHARGED = "discharged"
    BREACHED = "breached"
    REVOKED = "revoked"


class ConditionKind(StrEnum):
    EXCLUSION_ZONE = "exclusion_zone"
    NON_CONTACT = "non_contact"
    CURFEW = "curfew"
    RESIDENCE = "residence"
    DISCLOSE_RELATIONSHIPS = "disclose_relationships"
    DISCLOSE_VEHICLES = "disclose_vehicles"
    FOREIGN_TRAVEL = "foreign_travel"
    INTERNET_USE = "internet_use"
    NO_UNSUPERVISED_CONTACT_WITH_CHILDREN = "no_unsupervised_contact_with_children"
    OTHER = "other"


class RiskTool(StrEnum):
    OASYS = "oasys"
    RISK_MATRIX_2000 = "rm2000"
    ARMS = "arms"
    SARA = "sara"
    ASSETPLUS = "assetplus"
    OSP = "osp"
    OTHER = "other"


class RoshLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class RoshGroup(StrEnum):
    CHILDREN = "children"
    PUBLIC = "public"
    KNOWN_ADULT = "known_adult"
    STAFF = "staff"
    PRISONERS = "prisoners"


class Pillar(StrEnum):
    SUPERVISION = "supervision"
    MONITORING_AND_CONTROL = "monitoring_and_control"
    INTERVENTIONS_AND_TREATMENT = "interventions_and_treatment"
    VICTIM_SAFETY_PLANNING = "victim_safety_planning"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MeetingKind(StrEnum):
    LEVEL_2 = "level_2"
    LEVEL_3 = "level_3"
    ANNUAL_REVIEW = "annual_review"  # the Level 1 full annual review


class MeetingStatus(StrEnum):
    """Where a MAPPA meeting is in its life (docs/meetings.md). A meeting recorded before issue #22 has no
    status: it was recorded once held."""

    REFERRED = "referred"  # referred for Level 2 or 3 management, waiting for the screening decision
    NOT_ACCEPTED = "not_accepted"  # screened out: stays at its level
    SCHEDULED = "scheduled"  # a date and a chair; minutes may be in draft
    AGREED = "agreed"  # minutes agreed and locked


class MinutesStatus(StrEnum):
    DRAFT = "draft"
    AGREED = "agreed"  # locked; a correction is a new version


class ChronologyKind(StrEnum):
    CONTACT = "contact"
    HOME_VISIT = "home_visit"
    NOTIFICATION = "notification"
    ARREST = "arrest"
    CHARGE = "charge"
    CONVICTION = "conviction"
    CAUTION = "caution"
    BREACH = "breach"
    RECALL = "recall"
    RELEASE = "release"
    ADDRESS_CHANGE = "address_change"
    LEVEL_CHANGE = "level_change"
    MEETING = "meeting"
    DISCLOSURE = "disclosure"
    RISK_ASSESSMENT = "risk_assessment"
    INTELLIGENCE = "intelligence"
    TRANSFER = "transfer"
    ARCHIVE = "archive"
    OTHER = "other"
    AMENDMENT = "amendment"  # corrects an earlier entry; never overwrites it
    WITHDRAWAL = "withdrawal"  # the entry it names was recorded in error: it stays, and counts for nothing


class GradingScheme(StrEnum):
    G3X5X2 = "3x5x2"  # from about 2016
    G5X5X5 = "5x5x5"  # older intelligence keeps its grades


class DisclosureRecipient(StrEnum):
    PARTNER = "partner"
    PARENT_OR_CARER = "parent_or_carer"
    EMPLOYER = "employer"
    SCHOOL = "school"
    LANDLORD = "landlord"
    VOLUNTARY_ORGANISATION = "voluntary_organisation"
    OTHER = "other"


class DisclosureDecisionKind(StrEnum):
    DISCLOSE = "disclose"
    DO_NOT_DISCLOSE = "do_not_disclose"


class VictimSafetyKind(StrEnum):
    EXCLUSION_ZONE = "exclusion_zone"
    NON_CONTACT = "non_contact"
    OTHER = "other"


class LeadAgency(StrEnum):
    POLICE = "police"
    PROBATION = "probation"
    PRISON = "prison"


class BreachOf(StrEnum):
    """What a breach (or recall) event was a breach of: the statistics count these."""

    NOTIFICATION = "notification"
    SHPO = "shpo"
    SRO = "sro"
    LICENCE = "licence"
    OTHER_ORDER = "other_order"


class EventOutcome(StrEnum):
    CAUTION = "caution"
    CONVICTION = "conviction"  # convicted; whether to custody not recorded (entries before migration 0018)
    CONVICTION_CUSTODY = "conviction_custody"  # convicted and sentenced to custody
    CONVICTION_NO_CUSTODY = "conviction_nocustody"  # convicted, a sentence other than custody
    RECALL = "recall"  # returned to custody
    WARNING = "warning"
    NO_FURTHER_ACTION = "no_further_action"


class ArchiveReason(StrEnum):
    DIED = "died"
    ELIGIBILITY_ENDED = "eligibility_ended"  # notification and MAPPA eligibility ended
    LEFT_JURISDICTION = "left_jurisdiction"
    OTHER = "other"  # with text
