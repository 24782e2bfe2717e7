"""text tokens: blind-indexed words of narrative for the embedded backend's free-text search

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

Additive. `text_token` holds a keyed HMAC of each word of each narrative piece (chronology summaries,
intelligence text, risk assessment outcomes, plan summaries and actions, modus operandi, marks' descriptions,
employment), owned by its item or chronology entry and deleted with it. The tokens need the blind-index key,
so this migration only creates the table: run `register tokens rebuild` afterwards for records written
before it (until then the embedded backend finds no free text in them; Elasticsearch needs `register reindex`
for index version 3 in any case)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_token",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("item_id", sa.Uuid(), sa.ForeignKey("item.id", ondelete="CASCADE"), nullable=True),
        sa.Column(
            "entry_id", sa.Uuid(), sa.ForeignKey("chronology_entry.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("token", sa.LargeBinary(16), nullable=False),
    )
    op.create_index("ix_text_token_token", "text_token", ["token"])
    op.create_index("ix_text_token_item_id", "text_token", ["item_id"])
    op.create_index("ix_text_token_entry_id", "text_token", ["entry_id"])


def downgrade() -> None:
    op.drop_table("text_token")
