"""The database schema (SQLAlchemy 2). Migrations in `migrations/` create exactly this.

Columns ending in `_sealed` hold AES-GCM ciphertext of personal data or narrative;
every other column is operational metadata (codes, dates, levels, staff ids) that
quality checks and statistics scan in bulk. See docs/decisions.md for the split.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DataKey(Base):
    """A per-record data key, wrapped by a versioned key-encryption key."""

    __tablename__ = "data_key"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kek_version: Mapped[str] = mapped_column(String(20), index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Nominal(Base):
    __tablename__ = "nominal"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    # Of the version's changes, those that cannot move the annual statistics (a contact, a home visit:
    # decision 91); the statistics' stamp is the sum of version - quiet_changes.
    quiet_changes: Mapped[int] = mapped_column(Integer, server_default="0")
    status: Mapped[str] = mapped_column(String(20))
    nominal_type: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(40))
    managing_unit: Mapped[str] = mapped_column(String(200))
    lead_agency: Mapped[str] = mapped_column(String(20))
    mappa_category: Mapped[int | None] = mapped_column(SmallInteger)
    mappa_level: Mapped[int | None] = mapped_column(SmallInteger)
    restricted: Mapped[bool] = mapped_column(Boolean)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nominal.id"))
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))
    identity_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    # Derived by domain.notification whenever an input changes; plain so checks and statistics run set-based.
    notification_subject: Mapped[bool] = mapped_column(Boolean, server_default=false())
    notification_indefinite: Mapped[bool | None] = mapped_column(Boolean)
    notification_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    notification_review_from: Mapped[dt.date | None] = mapped_column(Date)
    notification_due_on: Mapped[dt.date | None] = mapped_column(Date)
    archived_reason: Mapped[str | None] = mapped_column(
        String(30)
    )  # plain: retention rules are set per reason
    archived_on: Mapped[dt.date | None] = mapped_column(Date)
    # Retention (archive/retention.yaml): a hold stops disposal; the review date and the year disposal may
    # fall due are plain so the sweep is set-based; the exact disposal date is worked out from the sealed
    # identity.
    legal_hold: Mapped[bool] = mapped_column(Boolean, server_default=false())
    retention_review_on: Mapped[dt.date | None] = mapped_column(Date)
    dispose_from: Mapped[dt.date | None] = mapped_column(Date)
    erased_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_nominal_area_status", "area", "status"),
        Index("ix_nominal_notification_due", "notification_subject", "notification_due_on"),
        Index("ix_nominal_category_level", "mappa_category", "mappa_level"),
        # The earliest record, which every year's statistics read first (migration 0033)
        Index("ix_nominal_created_at", "created_at"),
    )


_CURRENT_OWNER_RISK = "ended_at IS NULL AND section IN ('offender_managers', 'risk_assessments')"


class Item(Base):
    """One item of one section of a record (alias, address, order, assessment...)."""

    __tablename__ = "item"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"))
    section: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(40))
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    checked_on: Mapped[dt.date | None] = mapped_column(Date)
    level: Mapped[int | None] = mapped_column(SmallInteger)
    category: Mapped[int | None] = mapped_column(SmallInteger)
    audience: Mapped[str | None] = mapped_column(String(60))
    ref: Mapped[str | None] = mapped_column(String(100))
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))
    payload_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_agency: Mapped[str] = mapped_column(String(20))
    recorded_area: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(100))
    # Why it ended: the officer's free text, sealed with the record's data key (migration 0013).
    # `ended_reason` holds a reason in clear only on a database not yet through `register db upgrade`'s
    # sealing pass.
    ended_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    ended_reason: Mapped[str | None] = mapped_column(String(200))
    merged_from_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # provenance: the duplicate it came from

    __table_args__ = (
        Index("ix_item_nominal_section", "nominal_id", "section"),
        # Orders of a kind by the date a statistics table counts them on: made (`checked_on`) or revoked
        # (`ends_on`), the year's few out of every record's (migration 0033); each also serves (section, kind)
        Index("ix_item_section_kind_checked", "section", "kind", "checked_on"),
        Index("ix_item_section_kind_ends", "section", "kind", "ends_on"),
        Index("ix_item_section_due", "section", "due_on"),
        Index("ix_item_section_ref", "section", "ref"),  # a caseload: offender managers by user id
        # Every record's latest current offender manager and assessment, in the order the quality run's
        # window reads them, from the index alone (quality/checks.py; migration 0026); on PostgreSQL also
        # whether an offender manager's term has ended, so the workload finds who manages each of an area's
        # records without reading the items (migration 0028).
        Index(
            "ix_item_current_owner_risk",
            "nominal_id",
            "section",
            "starts_on",
            "id",
            postgresql_include=["ref", "status", "ends_on"],
            postgresql_where=text(_CURRENT_OWNER_RISK),
            sqlite_where=text(_CURRENT_OWNER_RISK),
        ),
    )


class ChronologyEntry(Base):
    """The append-only timeline. Rows are never updated: a correction is a new row with `amends_id`."""

    __tablename__ = "chronology_entry"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    amends_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("chronology_entry.id"))
    # For an amendment or withdrawal: the first version of the entry it corrects (statistics count an entry
    # once, as its latest version: migration 0018).
    original_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    breach_of: Mapped[str | None] = mapped_column(
        String(20)
    )  # plain: the annual statistics count breaches and recalls
    outcome: Mapped[str | None] = mapped_column(String(20))
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))
    payload_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_agency: Mapped[str] = mapped_column(String(20))
    recorded_area: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    merged_from_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # provenance: the duplicate it came from
    audience: Mapped[str | None] = mapped_column(
        String(60)
    )  # comma-separated agencies that may see it; None: everyone

    __table_args__ = (
        Index("ix_chronology_nominal_occurred", "nominal_id", "occurred_at"),
        Index("ix_chronology_kind_occurred", "kind", "occurred_at"),
        # Each record's home visits, latest last: the quality run's last visits in one index-only scan
        # (quality/checks.py; migration 0026).
        Index(
            "ix_chronology_home_visit",
            "nominal_id",
            "occurred_at",
            postgresql_where=text("kind = 'home_visit'"),
            sqlite_where=text("kind = 'home_visit'"),
        ),
    )


class BlindToken(Base):
    """Keyed-HMAC tokens of normalised values for exact-match lookups without decryption."""

    __tablename__ = "blind_token"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"), index=True)
    item_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)  # None: the nominal's identity
    kind: Mapped[str] = mapped_column(String(40))
    token: Mapped[bytes] = mapped_column(LargeBinary(16))

    # on PostgreSQL the record id too, so a token lookup (duplicates, associations) reads the index alone;
    # not on SQLite, whose planner then scanned a kind's whole index for one record's pairs (migration 0024)
    __table_args__ = (Index("ix_blind_token_kind_token", "kind", "token", postgresql_include=["nominal_id"]),)


class TextToken(Base):
    """Keyed-HMAC tokens of the words of one narrative piece (an item's or a chronology entry's), for the
    embedded backend's free-text search. Owned by the item or the entry (deleted with it); the audience rule
    is the owner's own `audience` column, joined at query time, so a token can never outlive or widen it."""

    __tablename__ = "text_token"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("item.id", ondelete="CASCADE"), index=True, nullable=True
    )
    entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chronology_entry.id", ondelete="CASCADE"), index=True, nullable=True
    )
    source: Mapped[str] = mapped_column(String(20))
    token: Mapped[bytes] = mapped_column(LargeBinary(16))

    __table_args__ = (Index("ix_text_token_token", "token"),)


# What the blind tokens of the records written before the last `register tokens rebuild` hold: 1, those of
# migration 0022 and before; 2, also vehicles' mark positions, make, model and colour, and offences' words,
# code, year and victims (migration 0023). The embedded search narrows by the new kinds (and by marks' and
# employment's word tokens) only once every record has them, so an upgraded database not yet rebuilt still
# finds every hit.
TOKENS_VERSION = 2


class TokenVersion(Base):
    """One row: the token definitions every record's blind tokens are known to follow (`TOKENS_VERSION`)."""

    __tablename__ = "token_version"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger)


class AuditEvent(Base):
    """The s.62 log. Append-only: the database refuses UPDATE and DELETE (see the baseline migration)."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(20))
    tag: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(20))
    actor_user: Mapped[str] = mapped_column(String(100))
    actor_agency: Mapped[str | None] = mapped_column(String(20))
    actor_area: Mapped[str | None] = mapped_column(String(40))
    actor_roles: Mapped[str | None] = mapped_column(String(200))
    nominal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    section: Mapped[str | None] = mapped_column(String(30))
    item_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    purpose: Mapped[str | None] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[str | None] = mapped_column(Text)
    # HMAC-SHA256 over the event's content with a key derived from the audit root key (not in the database),
    # made by the application as it writes the event: the sealer refuses an event whose MAC is missing or
    # wrong. NULL on events written before migration 0009 (those were sealed by then).
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    __table_args__ = (
        Index("ix_audit_event_nominal", "nominal_id", "seq"),
        Index("ix_audit_event_actor", "actor_user", "seq"),
        Index("ix_audit_event_occurred", "occurred_at"),
        Index("ix_audit_event_tag", "tag", "seq"),
    )


class AuditSeal(Base):
    """The hash chain over audit events, in sealing order. Append-only like the events."""

    __tablename__ = "audit_seal"
    position: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    event_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("audit_event.seq"), unique=True
    )
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    """Changes waiting to reach the search index, written in the same transaction as the change."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    record_version: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_pending", "processed_at", "available_at"),)


class KeyCheck(Base):
    """A check value per key, written with the first key seen: a wrong key is refused before any write."""

    __tablename__ = "key_check"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    check_value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class QualityRun(Base):
    """One sweep of the quality rules over an area; its findings are kept so trends can be shown."""

    __tablename__ = "quality_run"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    area: Mapped[str] = mapped_column(String(40))
    run_on: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("ix_quality_run_area_started", "area", "started_at"),)


class QualityFinding(Base):
    """A record that breaks a rule in its area's latest run. Plain metadata only: who must act, where, and the
    record's id. Only each area's latest run's findings are kept (decision 71): a run keeps the rows it finds
    again unchanged, adds the new and deletes those it no longer finds, and its counts per rule stay in
    `quality_count` for the trend."""

    __tablename__ = "quality_finding"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    who: Mapped[str] = mapped_column(String(30))
    nominal_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    area: Mapped[str] = mapped_column(String(40))
    managing_unit: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(100))
    audience: Mapped[str | None] = mapped_column(
        String(20)
    )  # the agency it was evaluated for; None: the same for every agency
    # The day the area's runs first found it, in an unbroken line up to the latest run (the worklist's "found
    # since"): kept while the runs find it again, carried to a row whose unit, owner or severity changed.
    first_found_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_quality_finding_area_rule", "area", "rule_id"),
        Index("ix_quality_finding_area_owner", "area", "owner"),
        Index(
            "ix_quality_finding_nominal_rule", "nominal_id", "rule_id"
        ),  # one record's findings; a day carried
    )


class QualityCount(Base):
    """How many people a run found breaking each rule, as each reader may see them: every agency's
    (`seen_by` an agency: the findings for everyone and those evaluated for it) and a system actor's
    (`seen_by` = "all"). Written with the run, never changed: the dashboard's trend."""

    __tablename__ = "quality_count"
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seen_by: Mapped[str] = mapped_column(String(20), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)


class Transfer(Base):
    """A record moving between areas. Until accepted the sending area stays responsible and keeps editing
    rights."""

    __tablename__ = "transfer"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"), index=True)
    from_area: Mapped[str] = mapped_column(String(40))
    to_area: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # pending | accepted | rejected | cancelled
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))
    details_sealed: Mapped[bytes] = mapped_column(
        LargeBinary
    )  # reason, new address, handover notes, decision reason
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_transfer_to_status", "to_area", "status"),
        Index("ix_transfer_from_status", "from_area", "status"),
    )


class Merge(Base):
    """Two records of one person combined: the merged one is a tombstone pointing at the survivor. What moved
    is marked on the moved rows (`merged_from_id`), so an unmerge moves exactly those back; nothing is
    copied."""

    __tablename__ = "merge"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    survivor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"), index=True)
    merged_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"), index=True)
    area: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # merged | unmerged
    merged_status_before: Mapped[str] = mapped_column(String(20))
    added_item_ids: Mapped[str] = mapped_column(
        Text
    )  # JSON list: the aliases the merge created on the survivor
    rule: Mapped[str | None] = mapped_column(String(40))  # the cascade rule that proposed the pair, if any
    merged_by: Mapped[str] = mapped_column(String(100))
    merged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    unmerged_by: Mapped[str | None] = mapped_column(String(100))
    unmerged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    data_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("data_key.id")
    )  # the survivor's, for the reason below
    unmerge_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class DuplicatePair(Base):
    """A pair of records the duplicate cascade proposes (first < second) and the rank of its strongest rule,
    kept current as records change (store/duplicates.py). Derived from the blind tokens: rebuilt, never
    edited."""

    __tablename__ = "duplicate_pair"
    first_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    second_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (Index("ix_duplicate_pair_second_id", "second_id"),)


class CaseFactsRow(Base):
    """One record's caseload facts (store/case_facts.py): the dates what is due on it follows from, kept
    current by the writes. Derived from its items and chronology entries: rebuilt, never edited."""

    __tablename__ = "case_facts"
    nominal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    assessed_on: Mapped[dt.date | None] = mapped_column(Date)  # the latest current risk assessment
    assessment_review_on: Mapped[dt.date | None] = mapped_column(Date)  # its review date, as recorded
    plan_review_on: Mapped[dt.date | None] = mapped_column(Date)  # the latest current plan's review date
    last_meeting_on: Mapped[dt.date | None] = mapped_column(Date)  # the latest current MAPPA meeting
    level_since: Mapped[dt.date | None] = mapped_column(Date)  # the latest current MAPPA level change
    # the last home visit each agency may see (an entry with an audience is seen by the agencies it names)
    last_visit_police: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_visit_probation: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_visit_prison: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the latest current offender manager's user id and the latest current risk assessment's overall RoSH,
    # "latest" as for the assessment above (migration 0030, decision 69): the quality run's owner and level
    owner: Mapped[str | None] = mapped_column(String(100))
    risk_level: Mapped[str | None] = mapped_column(String(40))


class CaseOfficerRow(Base):
    """One current offender manager of one record (an `offender_managers` item not ended), with what the
    supervisor's workload counts of the record: its header's plain columns and its kept facts (store/
    case_facts.py, decision 72). Derived from the item, the record's header and `case_facts`: rebuilt with
    them, never edited. An area's workload is then one index range of this table, not a lookup a record."""

    __tablename__ = "case_officer"
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the offender manager's item
    nominal_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    officer: Mapped[str | None] = mapped_column(String(100))  # the item's ref: the officer's user id
    starts_on: Mapped[dt.date | None] = mapped_column(Date)  # the term, as the item gives it
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    # the record's header, as `nominal` holds it
    area: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    managing_unit: Mapped[str] = mapped_column(String(200))
    mappa_level: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    notification_subject: Mapped[bool | None] = mapped_column(Boolean)
    notification_due_on: Mapped[dt.date | None] = mapped_column(Date)
    notification_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    # the record's kept facts, as `case_facts` holds them
    assessed_on: Mapped[dt.date | None] = mapped_column(Date)
    assessment_review_on: Mapped[dt.date | None] = mapped_column(Date)
    plan_review_on: Mapped[dt.date | None] = mapped_column(Date)
    last_meeting_on: Mapped[dt.date | None] = mapped_column(Date)
    level_since: Mapped[dt.date | None] = mapped_column(Date)
    last_visit_police: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_visit_probation: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_visit_prison: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_case_officer_area_status", "area", "status"),
        Index("ix_case_officer_nominal", "nominal_id"),
    )


class DuplicateDismissal(Base):
    """A pair of records a supervisor has said are two people (or that were unmerged): never proposed
    again."""

    __tablename__ = "duplicate_dismissal"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    first_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"))  # the smaller id of the pair
    second_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"))
    reason: Mapped[str] = mapped_column(String(20))  # not_duplicate | unmerged
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))  # the first record's
    reason_sealed: Mapped[bytes] = mapped_column(
        LargeBinary
    )  # the supervisor's words: personal data may be in them

    __table_args__ = (UniqueConstraint("first_id", "second_id"),)


class Photo(Base):
    """One stored variant (the re-encoded original, or its thumbnail) of a photograph on a record.

    The photograph itself is an item of the record's PHOTOGRAPHS section (`photo_id` is that item's id, and
    the item's reference names it): who uploaded it, when, the date it was taken and its description live
    there, sealed like every item, so the record's photo history is the section's items. This table holds
    only the image bytes, sealed under the data key of the record it was collected for (`nominal_id`; bound
    into the seal with the photo's id and the variant, so bytes moved to another photo, variant or record
    fail to open), and the technical facts a page needs before it fetches them. Deleting (erasing) the item
    deletes its images with it.
    """

    __tablename__ = "photo"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(12))  # full | thumbnail
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"))  # the record it was collected for
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))
    content_type: Mapped[str] = mapped_column(String(20))  # image/jpeg | image/png
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    image_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("photo_id", "variant"), Index("ix_photo_nominal", "nominal_id"))


class SavedSearch(Base):
    """A search an operation keeps to run again (src/register/saved_searches/). Its criteria, name and
    operation reference are personal data: sealed together under the saved search's own data key
    (`data_key.nominal_id` holds the saved search's id, its owner), bound to the row's id. The operation is
    found by a keyed token of its normalised reference (the blind index), never by its text; a search belongs
    to the area whose investigators saved it."""

    __tablename__ = "saved_search"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    area: Mapped[str] = mapped_column(String(40))
    operation_token: Mapped[bytes] = mapped_column(LargeBinary(16))
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))
    search_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # name, operation, criteria, form answers
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_saved_search_area_operation", "area", "operation_token"),)


class SearchWatch(Base):
    """A saved search watched by the investigator who saved it (saved_searches/service.py): records that newly
    match it are told to them until `until` (or until they end it). The watcher's agency, area and roles are
    the principal the register last knew for them (refreshed whenever they use the register): evaluation runs
    as that principal, so what they may no longer see never matches."""

    __tablename__ = "search_watch"
    saved_search_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("saved_search.id"), primary_key=True)
    watcher_user: Mapped[str] = mapped_column(String(100))
    watcher_agency: Mapped[str] = mapped_column(String(20))
    watcher_area: Mapped[str] = mapped_column(String(40))
    watcher_roles: Mapped[str] = mapped_column(String(200))  # comma-separated role values
    until: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_search_watch_watcher", "watcher_user"),
        Index("ix_search_watch_active", "ended_at", "until"),
    )


class SearchWatchMatch(Base):
    """A record found by a watch, once per (watch, record): `baseline` when it already matched as the watch
    started (never told), otherwise a new match, told until `seen_at`."""

    __tablename__ = "search_watch_match"
    saved_search_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("search_watch.saved_search_id"), primary_key=True
    )
    nominal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    matched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    baseline: Mapped[bool] = mapped_column(Boolean)
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SearchWatchMark(Base):
    """How far through the outbox watches have been evaluated (`register watches run`)."""

    __tablename__ = "search_watch_mark"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger)


class NominalHistory(Base):
    """Effective-dated history of what the annual statistics count (docs/statistics.md): each row says, from
    `effective_at`, the record's area, MAPPA category, level, status (active, died, notification_ended,
    revoked, archived) or custody (community, in_custody, detained_in_hospital): only the columns it sets;
    the others stay as earlier rows left them. `recorded_at` says when the register learnt it, so a year's
    figures can be computed as they were known on publication and a later correction shown as a revision.
    A row from an item (a level change, a custody address, a notification order) is `superseded_at` when the
    item is corrected or ended; a row `source` "initial" (the values at creation, or backfilled by migration
    0018) is the fallback any other row effective by then overrides. Written only by the service layer
    (register.history); codes and dates only: no personal data."""

    __tablename__ = "nominal_history"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominal.id"))
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    effective_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    area: Mapped[str | None] = mapped_column(String(40))
    managing_unit: Mapped[str | None] = mapped_column(String(200))  # set with the area
    category: Mapped[int | None] = mapped_column(SmallInteger)
    level: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str | None] = mapped_column(String(20))
    custody: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_nominal_history_nominal_effective", "nominal_id", "effective_at"),
        Index("ix_nominal_history_source", "source_id"),
        Index("ix_nominal_history_area", "area", "nominal_id"),  # an area's people, for its statistics
    )


class RegisterEvent(Base):
    """An event for the agencies' systems (docs/events.md): a CloudEvent written in the transaction of the
    change it describes (store/events.py). `seq` is the feed's order; `areas` (",kent,essex,") the areas it
    concerns; `section` and `audience` the section changed and the changed item's audience, so the feed hides
    from a caller exactly what a read of the record would. Codes and ids only: never personal data."""

    __tablename__ = "register_event"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    type: Mapped[str] = mapped_column(String(80))
    subject: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    areas: Mapped[str] = mapped_column(String(200))
    section: Mapped[str | None] = mapped_column(String(30))
    audience: Mapped[str | None] = mapped_column(String(60))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cloudevent: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_register_event_subject", "subject"),)


class WebhookSubscription(Base):
    """A client system's subscription: where to deliver, as which principal (the policy decides per event at
    delivery time), its Standard Webhooks secret sealed under its own data key (`data_key.nominal_id` holds
    the subscription's id), and how far the feed has been queued for it (`position`, a
    `register_event.seq`)."""

    __tablename__ = "webhook_subscription"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(100))
    agency: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(40))
    roles: Mapped[str] = mapped_column(String(200))
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"))
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    position: Mapped[int] = mapped_column(BigId, default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event to one subscriber: pending (retried with backoff until `available_at`), delivered, dead
    (after the last attempt; redelivered on request) or withheld (the policy no longer lets the subscriber see
    it)."""

    __tablename__ = "webhook_delivery"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("register_event.seq"))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "available_at"),
        Index("ix_webhook_delivery_subscription", "subscription_id", "status"),
    )
