"""watched searches: an investigator told when a record newly matches a saved search of their operation

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

Additive only. `search_watch` is a saved search being watched by the investigator who saved it, until a date
(at most 90 days ahead, renewable), with the principal the register last knew for them (their agency, area and
roles: evaluation runs as that principal). `search_watch_match` holds each (watch, record) pair found, once:
the records that already matched when the watch started (`baseline`, never told) and those that newly matched
since (told until marked as seen). `search_watch_mark` is the high-water mark over the outbox: records changed
after it are evaluated by the next `register watches run`. No personal data in clear: the criteria, the name
and the operation stay sealed in `saved_search`."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_watch",
        sa.Column("saved_search_id", sa.Uuid(), nullable=False),
        sa.Column("watcher_user", sa.String(length=100), nullable=False),
        sa.Column("watcher_agency", sa.String(length=20), nullable=False),
        sa.Column("watcher_area", sa.String(length=40), nullable=False),
        sa.Column("watcher_roles", sa.String(length=200), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["saved_search_id"],
            ["saved_search.id"],
            name=op.f("fk_search_watch_saved_search_id_saved_search"),
        ),
        sa.PrimaryKeyConstraint("saved_search_id", name=op.f("pk_search_watch")),
    )
    op.create_index("ix_search_watch_watcher", "search_watch", ["watcher_user"], unique=False)
    op.create_index("ix_search_watch_active", "search_watch", ["ended_at", "until"], unique=False)
    op.create_table(
        "search_watch_match",
        sa.Column("saved_search_id", sa.Uuid(), nullable=False),
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline", sa.Boolean(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["saved_search_id"],
            ["search_watch.saved_search_id"],
            name=op.f("fk_search_watch_match_saved_search_id_search_watch"),
        ),
        sa.PrimaryKeyConstraint("saved_search_id", "nominal_id", name=op.f("pk_search_watch_match")),
    )
    op.create_table(
        "search_watch_mark",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_watch_mark")),
    )


def downgrade() -> None:
    op.drop_table("search_watch_mark")
    op.drop_table("search_watch_match")
    op.drop_index("ix_search_watch_active", table_name="search_watch")
    op.drop_index("ix_search_watch_watcher", table_name="search_watch")
    op.drop_table("search_watch")
