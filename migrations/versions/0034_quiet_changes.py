"""a record counts its changes that cannot move the annual statistics, so their kept figures outlive them

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05

The statistics keep a year's figures, and the people behind each figure, until the register changes: the
stamp was every record's version, which every change bumps. Most of a live register's changes are
chronology entries that no figure reads (contacts, home visits, meetings, intelligence), so on a register
written to every few seconds most views worked the figures out afresh. `quiet_changes` counts, for each
record, the changes its version claim marked as unable to move any figure (`domain.history.moves_figures`);
the stamp is the sum of `version - quiet_changes` (decision 91). Every other change, whatever its path,
still moves the stamp: only a claim that says so is quiet. Existing records have made no quiet change."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_changes", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.drop_column("quiet_changes")
