"""one clock anchor per rehearsal instant

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 14:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Keep the newest anchor of each instant, then make the instant unique: processes that
    # start together race on the insert instead of each making an anchor of its own.
    op.execute(
        "DELETE FROM clock_anchors WHERE id NOT IN "
        "(SELECT MAX(id) FROM clock_anchors GROUP BY requested_now)"
    )
    with op.batch_alter_table("clock_anchors", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_clock_anchors_requested_now"), ["requested_now"]
        )


def downgrade() -> None:
    with op.batch_alter_table("clock_anchors", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_clock_anchors_requested_now"), type_="unique")
