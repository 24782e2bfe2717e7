"""sealed end reasons: why an item ended is the officer's free text about a person, kept sealed; audit events
by tag

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

Additive. `item.ended_reason_sealed` holds the reason sealed with the record's data key (AES-256-GCM, like the
item's payload). A migration holds no keys, so reasons written before this revision stay in `ended_reason`
until `register db upgrade` seals them, straight after migrating, in batches (store/records.py,
`seal_plain_reasons`); the register reads either. The audit log's page finds the chain's last verification as
the newest event with its tag: an index on (tag, seq) keeps that from scanning the log."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("item", sa.Column("ended_reason_sealed", sa.LargeBinary(), nullable=True))
    op.create_index("ix_audit_event_tag", "audit_event", ["tag", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_tag", table_name="audit_event")
    with op.batch_alter_table("item") as batch:
        batch.drop_column("ended_reason_sealed")
