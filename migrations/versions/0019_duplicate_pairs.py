"""duplicate pairs: the suspected duplicates kept current instead of searched again on every view

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

Additive. `duplicate_pair` holds each pair of records the duplicate cascade proposes and the rank of its
strongest rule (0 identifier, 1 date of birth and two name sounds, 2 date of birth and one, 3 contact and a
name sound). It is derived from `blind_token` alone, so this migration fills it with the same cascade in SQL
(no keys needed); from then on the unit of work keeps it current (store/duplicates.py)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_SHARED = """
    SELECT a.nominal_id AS first_id, b.nominal_id AS second_id, COUNT(DISTINCT a.token) AS shared
    FROM blind_token a JOIN blind_token b
      ON b.kind = a.kind AND b.token = a.token AND b.nominal_id > a.nominal_id
    WHERE a.kind IN ({kinds})
    GROUP BY a.nominal_id, b.nominal_id"""

_FILL = f"""
INSERT INTO duplicate_pair (first_id, second_id, rank)
SELECT first_id, second_id, MIN(rank) FROM (
    SELECT first_id, second_id, 0 AS rank FROM ({_SHARED.format(kinds="'id_pnc', 'id_cro', 'id_ni'")}) ids
    UNION ALL
    SELECT first_id, second_id, CASE WHEN shared >= 2 THEN 1 ELSE 2 END
    FROM ({_SHARED.format(kinds="'dob_sound'")}) dob
    UNION ALL
    SELECT first_id, second_id, 3 FROM ({_SHARED.format(kinds="'contact_sound'")}) contact
) ranked
GROUP BY first_id, second_id"""


def upgrade() -> None:
    op.create_table(
        "duplicate_pair",
        sa.Column("first_id", sa.Uuid(), nullable=False),
        sa.Column("second_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("first_id", "second_id", name="pk_duplicate_pair"),
    )
    op.create_index("ix_duplicate_pair_second_id", "duplicate_pair", ["second_id"])
    op.execute(_FILL)


def downgrade() -> None:
    op.drop_index("ix_duplicate_pair_second_id", table_name="duplicate_pair")
    op.drop_table("duplicate_pair")
