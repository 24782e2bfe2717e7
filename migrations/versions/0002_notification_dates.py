"""notification dates derived from the record, kept plain for set-based checks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Additive only: the previous release keeps working against the new columns (it never reads them). Existing records
get their dates on their next change (or `register notification refresh`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notification_subject", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("notification_indefinite", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("notification_ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("notification_review_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("notification_due_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_nominal_notification_due", ["notification_subject", "notification_due_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.drop_index("ix_nominal_notification_due")
        batch_op.drop_column("notification_due_on")
        batch_op.drop_column("notification_review_from")
        batch_op.drop_column("notification_ends_on")
        batch_op.drop_column("notification_indefinite")
        batch_op.drop_column("notification_subject")
