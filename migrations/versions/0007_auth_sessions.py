"""auth sessions: sign-in tokens that can be revoked

Each access token carries an id (`jti`) and its user's token version (`ver`). Signing out
records the token's id in `revoked_token` (kept until the token would have expired anyway);
changing the password raises `user.token_version`, which ends every token issued before. The
check is a join in the one query that already reads the user, so revocation costs no query.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Microsecond timestamps on MySQL, as in 0001 and 0002.
TIMESTAMP6 = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "user",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "revoked_token",
        sa.Column("token_id", sa.CHAR(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", TIMESTAMP6, nullable=False),
        sa.Column("expires_at", TIMESTAMP6, nullable=False),
        # The account goes with its revocations (DELETE /users/me).
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    # Rows whose token has expired are purged by range; the foreign key needs its own index.
    op.create_index("ix_revoked_token_expires", "revoked_token", ["expires_at"], unique=False)
    op.create_index("ix_revoked_token_user", "revoked_token", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("revoked_token")  # its indexes go with it
    with op.batch_alter_table("user") as batch:  # SQLite rebuilds the table to drop a column
        batch.drop_column("token_version")
