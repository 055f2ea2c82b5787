"""catalog and accounts

Revision ID: 0001
Revises:
Create Date: 2026-11-27 02:57:28.100326
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import mysql

# Microsecond timestamps on MySQL: newest-first lists need them to order stably.
API_IDS_START = 100_000_000
TIMESTAMP6 = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "genre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_genre_name"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_table(
        "movie",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("original_title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column(
            "sort_title",
            sa.String(300).with_variant(
                mysql.VARCHAR(300, collation="utf8mb4_bin"), "mysql", "mariadb"
            ),
            nullable=False,
        ),
        sa.Column("overview", sa.Text(), nullable=False),
        sa.Column("tagline", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column(
            "release_sort",
            sa.Date(),
            sa.Computed("coalesce(release_date, '9999-12-31')", persisted=True),
            nullable=True,
        ),
        sa.Column("original_language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("runtime", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("poster_path", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("backdrop_path", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column(
            "popularity",
            sa.Double()
            .with_variant(mysql.DOUBLE(), "mariadb")
            .with_variant(mysql.DOUBLE(), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "base_vote_average",
            sa.Double()
            .with_variant(mysql.DOUBLE(), "mariadb")
            .with_variant(mysql.DOUBLE(), "mysql"),
            nullable=False,
        ),
        sa.Column("base_vote_count", sa.Integer(), nullable=False),
        sa.Column(
            "user_rating_sum",
            sa.Double()
            .with_variant(mysql.DOUBLE(), "mariadb")
            .with_variant(mysql.DOUBLE(), "mysql"),
            nullable=False,
        ),
        sa.Column("user_rating_count", sa.Integer(), nullable=False),
        sa.Column(
            "vote_average",
            sa.Double()
            .with_variant(mysql.DOUBLE(), "mariadb")
            .with_variant(mysql.DOUBLE(), "mysql"),
            nullable=False,
        ),
        sa.Column("vote_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.Column("updated_at", TIMESTAMP6, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_movie_language_popularity", "movie", ["original_language", "popularity"], unique=False
    )
    op.create_index("ix_movie_popularity", "movie", ["popularity"], unique=False)
    op.create_index("ix_movie_release_date", "movie", ["release_date"], unique=False)
    op.create_index("ix_movie_release_sort", "movie", ["release_sort"], unique=False)
    op.create_index("ix_movie_sort_title", "movie", ["sort_title"], unique=False)
    op.create_index("ix_movie_vote_average", "movie", ["vote_average"], unique=False)
    op.create_index("ix_movie_vote_count", "movie", ["vote_count"], unique=False)
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("profile_path", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_person_name", "person", ["name"], unique=False)
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.Column("processed_at", TIMESTAMP6, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_search_outbox_pending", "search_outbox", ["processed_at", "id"], unique=False
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", name="uq_user_email"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_table(
        "cast_credit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("character", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("billing_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_cast_credit_movie_order", "cast_credit", ["movie_id", "billing_order"], unique=False
    )
    op.create_index("ix_cast_credit_person", "cast_credit", ["person_id", "movie_id"], unique=False)
    op.create_table(
        "movie_director",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("movie_id", "person_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_movie_director_person", "movie_director", ["person_id"], unique=False)
    op.create_table(
        "movie_genre",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("genre_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["genre_id"], ["genre.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("movie_id", "genre_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_movie_genre_genre", "movie_genre", ["genre_id", "movie_id"], unique=False)
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        # Rows created through the API take ids far above TMDB's, so a later import of TMDB
        # data never meets an id that already means something else.
        for table in ("movie", "person", "genre"):
            op.execute(f"ALTER TABLE {table} AUTO_INCREMENT = {API_IDS_START}")


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails where a foreign key needs one.
    op.drop_table("movie_genre")
    op.drop_table("movie_director")
    op.drop_table("cast_credit")
    op.drop_table("user")
    op.drop_table("search_outbox")
    op.drop_table("person")
    op.drop_table("movie")
    op.drop_table("genre")
