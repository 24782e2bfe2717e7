"""events: the feed of changes for the agencies' systems, webhook subscriptions and their deliveries

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

Additive. `register_event` holds a CloudEvent per change, written by the unit of work in the change's own
transaction (store/events.py), in `seq` order (the feed's cursor). `webhook_subscription` holds a client
system's endpoint, its principal and its sealed Standard Webhooks secret; `webhook_delivery` one event to one
subscriber with its attempts. Nothing is backfilled: the feed starts at the upgrade (docs/events.md)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "register_event",
        sa.Column("seq", _BIG, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.Uuid(), nullable=True),
        sa.Column("areas", sa.String(length=200), nullable=False),
        sa.Column("section", sa.String(length=30), nullable=True),
        sa.Column("audience", sa.String(length=60), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cloudevent", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_register_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_register_event_event_id")),
    )
    op.create_index("ix_register_event_subject", "register_event", ["subject"], unique=False)
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("agency", sa.String(length=20), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("position", _BIG, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["data_key_id"], ["data_key.id"], name=op.f("fk_webhook_subscription_data_key_id_data_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_seq", _BIG, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"], ["register_event.seq"], name=op.f("fk_webhook_delivery_event_seq_register_event")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "available_at"], unique=False)
    op.create_index(
        "ix_webhook_delivery_subscription", "webhook_delivery", ["subscription_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_subscription", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
    op.drop_index("ix_register_event_subject", table_name="register_event")
    op.drop_table("register_event")
