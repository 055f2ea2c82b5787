"""The main catalog list queries use our indexes on MariaDB (checked with EXPLAIN).

ANALYZE TABLE commits implicitly, so this module works in a database of its own, filled once
with a realistic catalog and dropped at the end."""

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, and_, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import make_engine
from api.movies import queries
from api.movies.models import Genre, Movie, MovieGenre
from api.settings import Settings
from indexer.query import MovieFilters, SortSpec
from indexer.sorting import title_sort_key
from tests.conftest import migrate

MOVIES = 2_000
GENRES = ["Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
          "Fantasy", "History", "Horror", "Music", "Mystery", "Romance", "Science Fiction",
          "Thriller", "War", "Western", "Foreign"]  # fmt: skip
LANGUAGES = ["en"] * 80 + ["fr", "de", "ja", "es", "it", "ko", "zh", "ru", "hi", "sv"] * 2


def _movie_rows(rng: random.Random) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for i in range(1, MOVIES + 1):
        title = f"{rng.choice(['The', 'A', 'Return of', 'Night of'])} {uuid.uuid4().hex[:8]} {i}"
        votes = int(rng.paretovariate(1.2) * 20) - 20
        average = round(rng.uniform(2, 9), 1) if votes else 0.0
        released = (
            None
            if rng.random() < 0.05
            else date(1950, 1, 1) + timedelta(days=rng.randrange(27_000))
        )
        rows.append(
            {
                "id": i,
                "title": title,
                "original_title": title,
                "sort_title": title_sort_key(title),
                "overview": "",
                "original_language": rng.choice(LANGUAGES),
                "status": "Released",
                "release_date": released,
                "popularity": rng.expovariate(0.05),
                "base_vote_average": average,
                "base_vote_count": votes,
                "user_rating_sum": 0.0,
                "user_rating_count": 0,
                "vote_average": average,
                "vote_count": votes,
                "created_at": now,
                "updated_at": now,
            }  # fmt: skip
        )
    return rows


@pytest.fixture(scope="module")
async def explain_engine(settings: Settings, engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    url = make_url(settings.DATABASE_URL)
    name = f"{url.database}_explain_{uuid.uuid4().hex[:6]}"
    server = make_engine(url.set(database="").render_as_string(hide_password=False))
    async with server.begin() as conn:
        await conn.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    target = url.set(database=name).render_as_string(hide_password=False)
    explain = make_engine(target)
    try:
        await migrate(target)
        rng = random.Random(20261127)
        async with explain.begin() as conn:
            genres = [{"id": i + 1, "name": n} for i, n in enumerate(GENRES)]
            await conn.execute(insert(Genre), genres)
            await conn.execute(insert(Movie), _movie_rows(rng))
            links = {
                (m, rng.randint(1, len(GENRES)))
                for m in range(1, MOVIES + 1)
                for _ in range(rng.randint(1, 3))
            }
            await conn.execute(
                insert(MovieGenre), [{"movie_id": m, "genre_id": g} for m, g in links]
            )
        async with explain.connect() as conn:
            await conn.execute(text("ANALYZE TABLE movie, genre, movie_genre"))
        yield explain
    finally:
        await explain.dispose()
        async with server.begin() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        await server.dispose()


def page_statement(
    filters: MovieFilters, sort: SortSpec, offset: int = 0, limit: int = 20
) -> Select[Any]:
    """The page query of queries.page_movies, built from the same pieces."""
    where = and_(True, *queries.filter_clauses(filters))
    return select(Movie).where(where).order_by(*queries.order_by(sort)).offset(offset).limit(limit)


async def explain(engine: AsyncEngine, stmt: Select[Any]) -> list[dict[str, Any]]:
    sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        result = await conn.execute(text(f"EXPLAIN {sql}"))
        return [dict(row._mapping) for row in result]


def row_for(plan: list[dict[str, Any]], table: str) -> dict[str, Any]:
    rows = [row for row in plan if row["table"] == table]
    assert rows, plan
    return rows[0]


def describe(plan: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['table']}: type={r['type']} key={r['key']} rows={r['rows']} extra={r['Extra']}"
        for r in plan
    )


class TestListQueriesUseIndexes:
    async def test_popularity_desc_without_filters_reads_the_popularity_index(
        self, explain_engine: AsyncEngine
    ) -> None:
        plan = await explain(
            explain_engine, page_statement(MovieFilters(), SortSpec("popularity", True))
        )
        movie = row_for(plan, "movie")
        assert movie["key"] == "ix_movie_popularity", describe(plan)
        assert "filesort" not in (movie["Extra"] or ""), describe(plan)

    async def test_language_filter_sorted_by_popularity_uses_the_language_index(
        self, explain_engine: AsyncEngine
    ) -> None:
        plan = await explain(
            explain_engine,
            page_statement(MovieFilters(languages=["fr"]), SortSpec("popularity", True)),
        )
        movie = row_for(plan, "movie")
        assert movie["key"] == "ix_movie_language_popularity", describe(plan)
        assert "filesort" not in (movie["Extra"] or ""), describe(plan)

    async def test_genre_filter_uses_the_genre_link_index(
        self, explain_engine: AsyncEngine
    ) -> None:
        stmt = page_statement(MovieFilters(genres_all=[5]), SortSpec("popularity", True))
        plan = await explain(explain_engine, stmt)
        link = row_for(plan, "movie_genre")
        assert link["key"] in ("PRIMARY", "ix_movie_genre_genre"), describe(plan)
        assert row_for(plan, "movie")["key"] is not None, describe(plan)

    async def test_two_genres_all_of_use_the_genre_link_index(
        self, explain_engine: AsyncEngine
    ) -> None:
        stmt = page_statement(MovieFilters(genres_all=[5, 7]), SortSpec("popularity", True))
        plan = await explain(explain_engine, stmt)
        links = [row for row in plan if row["table"] == "movie_genre"]
        assert links and all(row["key"] is not None for row in links), describe(plan)

    @pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
    async def test_release_date_range_sorted_by_release_date_uses_the_date_index(
        self, explain_engine: AsyncEngine, descending: bool
    ) -> None:
        window = MovieFilters(release_date_gte=date(2000, 1, 1), release_date_lte=date(2000, 3, 31))
        plan = await explain(
            explain_engine, page_statement(window, SortSpec("release_date", descending))
        )
        movie = row_for(plan, "movie")
        assert movie["key"] == "ix_movie_release_date", describe(plan)
        assert movie["type"] == "range", describe(plan)

    async def test_vote_count_minimum_sorted_by_vote_average_uses_an_index(
        self, explain_engine: AsyncEngine
    ) -> None:
        stmt = page_statement(MovieFilters(vote_count_gte=300), SortSpec("vote_average", True))
        plan = await explain(explain_engine, stmt)
        movie = row_for(plan, "movie")
        assert movie["key"] in ("ix_movie_vote_count", "ix_movie_vote_average"), describe(plan)

    @pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
    async def test_title_sort_reads_the_title_index(
        self, explain_engine: AsyncEngine, descending: bool
    ) -> None:
        plan = await explain(
            explain_engine, page_statement(MovieFilters(), SortSpec("title", descending))
        )
        movie = row_for(plan, "movie")
        assert movie["key"] == "ix_movie_sort_title", describe(plan)
        assert "filesort" not in (movie["Extra"] or ""), describe(plan)

    async def test_unfiltered_release_date_asc_reads_an_index(
        self, explain_engine: AsyncEngine
    ) -> None:
        plan = await explain(
            explain_engine, page_statement(MovieFilters(), SortSpec("release_date", False))
        )
        movie = row_for(plan, "movie")
        assert movie["key"] is not None and "filesort" not in (movie["Extra"] or ""), describe(plan)

    @pytest.mark.parametrize("field", ["vote_average", "vote_count", "release_date"])
    async def test_unfiltered_descending_sorts_read_their_index(
        self, explain_engine: AsyncEngine, field: str
    ) -> None:
        plan = await explain(explain_engine, page_statement(MovieFilters(), SortSpec(field, True)))  # type: ignore[arg-type]
        movie = row_for(plan, "movie")
        assert movie["key"] == f"ix_movie_{field}", describe(plan)
        assert "filesort" not in (movie["Extra"] or ""), describe(plan)
