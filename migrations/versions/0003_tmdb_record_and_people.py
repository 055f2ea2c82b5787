"""the whole TMDB record: keywords, companies, countries, languages, crew, money, people's details

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:22:21.473133
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_company_name", "company", ["name"], unique=False)
    op.create_table(
        "keyword",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_keyword_name", "keyword", ["name"], unique=False)
    op.create_table(
        "crew_credit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_crew_credit_movie", "crew_credit", ["movie_id", "position"], unique=False)
    op.create_index("ix_crew_credit_person", "crew_credit", ["person_id", "movie_id"], unique=False)
    op.create_table(
        "movie_company",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("movie_id", "company_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_movie_company_company", "movie_company", ["company_id", "movie_id"], unique=False
    )
    op.create_table(
        "movie_country",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("iso_3166_1", sa.String(length=2), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("movie_id", "iso_3166_1"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_table(
        "movie_keyword",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("keyword_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["keyword_id"], ["keyword.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("movie_id", "keyword_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_movie_keyword_keyword", "movie_keyword", ["keyword_id", "movie_id"], unique=False
    )
    op.create_table(
        "movie_language",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("iso_639_1", sa.String(length=2), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("movie_id", "iso_639_1"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.add_column("movie", sa.Column("budget", sa.BigInteger(), nullable=True))
    op.add_column("movie", sa.Column("revenue", sa.BigInteger(), nullable=True))
    op.add_column(
        "movie", sa.Column("homepage", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
    )
    op.create_index("ix_movie_revenue", "movie", ["revenue"], unique=False)
    op.create_index("ix_movie_runtime", "movie", ["runtime"], unique=False)
    # Ascending sorts put unknown revenue and runtime last through an index. SQLite cannot
    # add a stored generated column to a table with rows; a virtual one indexes as well there.
    stored = op.get_bind().dialect.name != "sqlite"
    for name, kind, expression in (
        ("revenue_sort", sa.BigInteger(), "coalesce(revenue, 9223372036854775807)"),
        ("runtime_sort", sa.Integer(), "coalesce(runtime, 2147483647)"),
    ):
        computed = sa.Computed(expression, persisted=stored)
        op.add_column("movie", sa.Column(name, kind, computed, nullable=True))
        op.create_index(f"ix_movie_{name}", "movie", [name], unique=False)
    # Existing rows get the defaults; `marquee import tmdb` fills them in (README, Upgrading).
    op.add_column(
        "person",
        sa.Column("gender", sa.SmallInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "person",
        sa.Column(
            "known_for_department", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
    )
    op.add_column(
        "person",
        sa.Column(
            "popularity",
            sa.Double()
            .with_variant(mysql.DOUBLE(), "mariadb")
            .with_variant(mysql.DOUBLE(), "mysql"),
            nullable=False,
            server_default=sa.text("0"),
        ),
    )
    op.create_index("ix_person_popularity", "person", ["popularity"], unique=False)
    # Outbox entries for people's documents too: one of movie_id and person_id is set.
    with op.batch_alter_table("search_outbox") as batch:  # SQLite rebuilds the table
        batch.alter_column("movie_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("person_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # A table's indexes go with it (dropping one that a foreign key needs first would fail).
    op.execute("DELETE FROM search_outbox WHERE movie_id IS NULL")
    with op.batch_alter_table("search_outbox") as batch:
        batch.drop_column("person_id")
        batch.alter_column("movie_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_person_popularity", table_name="person")
    op.drop_column("person", "popularity")
    op.drop_column("person", "known_for_department")
    op.drop_column("person", "gender")
    for name in ("runtime_sort", "revenue_sort"):  # before the columns they are computed from
        op.drop_index(f"ix_movie_{name}", table_name="movie")
        op.drop_column("movie", name)
    op.drop_index("ix_movie_runtime", table_name="movie")
    op.drop_index("ix_movie_revenue", table_name="movie")
    op.drop_column("movie", "homepage")
    op.drop_column("movie", "revenue")
    op.drop_column("movie", "budget")
    op.drop_table("movie_language")
    op.drop_table("movie_keyword")
    op.drop_table("movie_country")
    op.drop_table("movie_company")
    op.drop_table("crew_credit")
    op.drop_table("keyword")
    op.drop_table("company")
