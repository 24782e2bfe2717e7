"""audiences on chronology entries and quality findings: what a caller may not see leaves no trace for them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Additive only. `chronology_entry.audience`: the agencies that may see an entry (the note left by erasing an item
with an audience carries that audience; an amendment carries the audience of the entry it amends); NULL: everyone.
`quality_finding.audience`: the agency a finding was evaluated for, when its rule looks at items with an audience;
NULL: the finding is the same for every agency.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.String(length=60), nullable=True))
    with op.batch_alter_table("quality_finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quality_finding", schema=None) as batch_op:
        batch_op.drop_column("audience")
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.drop_column("audience")
