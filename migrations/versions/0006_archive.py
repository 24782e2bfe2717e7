"""archive reason and date, plain: retention is configured per reason

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Additive only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_reason", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("archived_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.drop_column("archived_on")
        batch_op.drop_column("archived_reason")
