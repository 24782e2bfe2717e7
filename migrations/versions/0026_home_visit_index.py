"""each record's home visits get an index of their own

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01

`ix_chronology_home_visit (nominal_id, occurred_at) WHERE kind = 'home_visit'`. A quality run over much of the
register works out every record's last home visit (the VISIT-OVERDUE rule reads it). Without this index it
read about 550,000 home visits from the chronology's heap, spread over nearly every page of it (0.6 s of the
run at 100,000 people, 2 million entries): with it, one index-only scan in the order the grouping needs. Only
home visits are in it, so a chronology entry of any other kind costs nothing more to write (decision 56)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

HOME_VISIT = sa.text("kind = 'home_visit'")


def upgrade() -> None:
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chronology_home_visit",
            ["nominal_id", "occurred_at"],
            unique=False,
            postgresql_where=HOME_VISIT,
            sqlite_where=HOME_VISIT,
        )


def downgrade() -> None:
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_chronology_home_visit")
