"""breach and recall events say what was breached and the outcome, in plain columns for the annual statistics

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Additive only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("breach_of", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("breach_of")
