"""audit events carry a MAC made by the application when it writes them

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

Additive only. Events written before this revision have no MAC (NULL); those already sealed stay covered by the
chain. Seal every event (`register audit seal --full`) before upgrading: an unsealed event without a MAC is refused
by the sealer afterwards, as a row inserted by hand would be.

Plain ALTER TABLE on both engines, no batch copy: recreating `audit_event` on SQLite would drop its append-only
triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("mac", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_event", "mac")
