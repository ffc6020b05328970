"""event access code (audience admission)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: the event is open to anyone; otherwise audience members give this code.
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("access_code")
