"""statistics history: effective-dated area, category, level, status and custody; chronology corrections
point at the entry they correct

Revision ID: 0018
Revises: 0013
Create Date: 2026-11-30

Additive. `nominal_history` (models.NominalHistory, docs/statistics.md) is what the annual statistics read: a
year's snapshot and the area an event belongs to come from it, never from a record's current values. A record
that exists before this revision has no history, so it is backfilled from what the database holds:
- its current area, category and level (and status active, in the community) from its creation (`created_at`),
  source "initial": the fallback any dated change overrides;
- the level changes in force (`item` rows of section mappa_levels), from their effective dates;
- prison and hospital addresses in force: detained from their first day, in the community from their last;
- notification requirements revoked, expired or discharged: from their end dates;
- an archived record: archived from `archived_on` (died, when that was the reason);
- a notification requirement whose derived end date (`notification_ends_on`, decision 20) is known: ended
  from that day;
- recalls (and breaches ending in recall) in the chronology: in custody from when they happened.
Each backfilled row is recorded when its source was (the record's creation, the item's or entry's recording,
the archiving), so a year's figures as published before this revision stay as they were. Dates take effect at
midnight UK local time, worked out here in Python (the same rule as domain/history.py)
in batches. `chronology_entry.original_id` names, for an amendment, the first version of the entry it
corrects: backfilled by following `amends_id` until it stops."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None

LONDON = ZoneInfo("Europe/London")
BATCH = 5000


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


def upgrade() -> None:
    op.create_table(
        "nominal_history",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=True),
        sa.Column("managing_unit", sa.String(length=200), nullable=True),
        sa.Column("category", sa.SmallInteger(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("custody", sa.String(length=20), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["nominal_id"], ["nominal.id"], name=op.f("fk_nominal_history_nominal_id_nominal")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nominal_history")),
    )
    op.create_index(
        "ix_nominal_history_nominal_effective",
        "nominal_history",
        ["nominal_id", "effective_at"],
        unique=False,
    )
    op.create_index("ix_nominal_history_source", "nominal_history", ["source_id"], unique=False)
    op.create_index("ix_nominal_history_area", "nominal_history", ["area", "nominal_id"], unique=False)
    op.add_column("chronology_entry", sa.Column("original_id", sa.Uuid(), nullable=True))
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    meta = sa.MetaData()
    nominal = sa.Table(
        "nominal",
        meta,
        sa.Column("id", sa.Uuid()),
        sa.Column("area", sa.String()),
        sa.Column("managing_unit", sa.String()),
        sa.Column("mappa_category", sa.SmallInteger()),
        sa.Column("mappa_level", sa.SmallInteger()),
        sa.Column("status", sa.String()),
        sa.Column("archived_reason", sa.String()),
        sa.Column("archived_on", sa.Date()),
        sa.Column("notification_ends_on", sa.Date()),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    item = sa.Table(
        "item",
        meta,
        sa.Column("id", sa.Uuid()),
        sa.Column("nominal_id", sa.Uuid()),
        sa.Column("section", sa.String()),
        sa.Column("kind", sa.String()),
        sa.Column("status", sa.String()),
        sa.Column("starts_on", sa.Date()),
        sa.Column("ends_on", sa.Date()),
        sa.Column("category", sa.SmallInteger()),
        sa.Column("level", sa.SmallInteger()),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    entry = sa.Table(
        "chronology_entry",
        meta,
        sa.Column("id", sa.Uuid()),
        sa.Column("nominal_id", sa.Uuid()),
        sa.Column("kind", sa.String()),
        sa.Column("amends_id", sa.Uuid()),
        sa.Column("original_id", sa.Uuid()),
        sa.Column("outcome", sa.String()),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
    )
    hist = sa.Table(
        "nominal_history",
        meta,
        sa.Column("nominal_id", sa.Uuid()),
        sa.Column("source", sa.String()),
        sa.Column("source_id", sa.Uuid()),
        sa.Column("effective_at", sa.DateTime(timezone=True)),
        sa.Column("area", sa.String()),
        sa.Column("managing_unit", sa.String()),
        sa.Column("category", sa.SmallInteger()),
        sa.Column("level", sa.SmallInteger()),
        sa.Column("status", sa.String()),
        sa.Column("custody", sa.String()),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
        sa.Column("recorded_by", sa.String()),
    )
    now = dt.datetime.now(dt.UTC)

    def row(nid, source, at, source_id=None, recorded=None, **values):  # type: ignore[no-untyped-def]
        return {
            "nominal_id": nid,
            "source": source,
            "source_id": source_id,
            "effective_at": at,
            "area": values.get("area"),
            "managing_unit": values.get("managing_unit"),
            "category": values.get("category"),
            "level": values.get("level"),
            "status": values.get("status"),
            "custody": values.get("custody"),
            "recorded_at": recorded or now,
            "recorded_by": "migration:0018",
        }

    def insert_all(query, make) -> None:  # type: ignore[no-untyped-def]
        batch: list[dict] = []
        for r in conn.execute(query):
            batch.extend(make(r))
            if len(batch) >= BATCH:
                conn.execute(sa.insert(hist), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(hist), batch)

    def initial(r):  # type: ignore[no-untyped-def]
        rows = [
            row(
                r.id,
                "initial",
                r.created_at,
                recorded=r.created_at,
                area=r.area,
                managing_unit=r.managing_unit,
                category=r.mappa_category,
                level=r.mappa_level,
                status="active",
                custody="community",
            )
        ]
        if r.notification_ends_on is not None:  # derived (decision 20): over from that day
            rows.append(
                row(
                    r.id,
                    "notification",
                    _midnight(r.notification_ends_on),
                    recorded=r.created_at,
                    status="notification_ended",
                )
            )
        if r.status == "archived" and r.archived_on is not None:
            archived = _midnight(r.archived_on)
            if r.archived_reason == "died":
                rows.append(row(r.id, "archive", archived, recorded=archived, status="died"))
            rows.append(row(r.id, "archive", archived, recorded=archived, status="archived"))
        return rows

    insert_all(sa.select(nominal), initial)

    def from_item(r):  # type: ignore[no-untyped-def]
        if r.section == "mappa_levels" and r.starts_on is not None and r.level is not None:
            return [
                row(
                    r.nominal_id,
                    r.section,
                    _midnight(r.starts_on),
                    r.id,
                    r.recorded_at,
                    category=r.category,
                    level=r.level,
                )
            ]
        if r.section == "addresses" and r.starts_on is not None:
            custody = "in_custody" if r.kind == "prison" else "detained_in_hospital"
            out = [row(r.nominal_id, r.section, _midnight(r.starts_on), r.id, r.recorded_at, custody=custody)]
            if r.ends_on is not None:
                out.append(
                    row(r.nominal_id, r.section, _midnight(r.ends_on), r.id, r.recorded_at, custody="community")
                )
            return out
        if r.section == "orders" and r.ends_on is not None:
            status = "revoked" if r.status == "revoked" else "notification_ended"
            return [row(r.nominal_id, r.section, _midnight(r.ends_on), r.id, r.recorded_at, status=status)]
        return []

    insert_all(
        sa.select(item).where(
            item.c.ended_at.is_(None),
            sa.or_(
                item.c.section == "mappa_levels",
                sa.and_(item.c.section == "addresses", item.c.kind.in_(["prison", "hospital"])),
                sa.and_(
                    item.c.section == "orders",
                    item.c.kind == "notification_requirement",
                    item.c.status.in_(["revoked", "expired", "discharged"]),
                ),
            ),
        ),
        from_item,
    )
    insert_all(
        sa.select(entry).where(
            sa.or_(
                entry.c.kind == "recall",
                sa.and_(entry.c.kind == "breach", entry.c.outcome == "recall"),
                entry.c.kind == "release",
            )
        ),
        lambda r: [
            row(
                r.nominal_id,
                "chronology",
                r.occurred_at,
                r.id,
                r.recorded_at,
                custody="community" if r.kind == "release" else "in_custody",
            )
        ],
    )
    # an amendment's original: its amends_id, then that entry's original, until nothing changes
    conn.execute(sa.update(entry).where(entry.c.amends_id.is_not(None)).values(original_id=entry.c.amends_id))
    parent = entry.alias("parent")
    for _ in range(100):
        deeper = (
            sa.select(parent.c.original_id)
            .where(parent.c.id == entry.c.original_id, parent.c.original_id.is_not(None))
            .scalar_subquery()
        )
        done = conn.execute(
            sa.update(entry)
            .where(sa.exists().where(parent.c.id == entry.c.original_id, parent.c.original_id.is_not(None)))
            .values(original_id=deeper)
        )
        if not done.rowcount:
            break


def downgrade() -> None:
    with op.batch_alter_table("chronology_entry") as batch:
        batch.drop_column("original_id")
    op.drop_index("ix_nominal_history_area", table_name="nominal_history")
    op.drop_index("ix_nominal_history_source", table_name="nominal_history")
    op.drop_index("ix_nominal_history_nominal_effective", table_name="nominal_history")
    op.drop_table("nominal_history")
