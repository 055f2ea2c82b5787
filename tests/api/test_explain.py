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
from api.movies.models import (
    CastCredit,
    Company,
    CrewCredit,
    Genre,
    Keyword,
    Movie,
    MovieCompany,
    MovieDirector,
    MovieGenre,
    MovieKeyword,
)
from api.people.models import Person
from api.settings import Settings
from indexer.query import MovieFilters, SortSpec
from indexer.sorting import title_sort_key
from tests.conftest import migrate

MOVIES = 2_000
GENRES = ["Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
          "Fantasy", "History", "Horror", "Music", "Mystery", "Romance", "Science Fiction",
          "Thriller", "War", "Western", "Foreign"]  # fmt: skip
LANGUAGES = ["en"] * 80 + ["fr", "de", "ja", "es", "it", "ko", "zh", "ru", "hi", "sv"] * 2
PEOPLE, KEYWORDS, COMPANIES = 3_000, 600, 300
# A person with a handful of credits, as most are (and as users filter by).
PERSON = 17


def _links(rng: random.Random, per_movie: int, pool: int) -> set[tuple[int, int]]:
    """(movie id, linked id) pairs: up to per_movie each, skewed towards the low ids as credits,
    keywords and companies are (a few prolific, most rare)."""
    return {
        (movie, min(pool, int(rng.paretovariate(0.6))))
        for movie in range(1, MOVIES + 1)
        for _ in range(rng.randint(1, per_movie))
    }


async def _fill_credits_and_tags(conn: Any, rng: random.Random) -> None:
    await conn.execute(insert(Person), [{"id": i, "name": f"p{i}"} for i in range(1, PEOPLE + 1)])
    named = [(Keyword, KEYWORDS, "keyword"), (Company, COMPANIES, "company")]
    for model, count, prefix in named:
        await conn.execute(
            insert(model), [{"id": i, "name": f"{prefix} {i}"} for i in range(1, count + 1)]
        )
    cast = [
        {"movie_id": m, "person_id": p, "billing_order": n}
        for n, (m, p) in enumerate(_links(rng, 8, PEOPLE))
    ]
    crew = [
        {"movie_id": m, "person_id": p, "department": "Crew", "job": "Grip"}
        for m, p in _links(rng, 12, PEOPLE)
    ]
    await conn.execute(insert(CastCredit), cast)
    await conn.execute(insert(CrewCredit), crew)
    await conn.execute(
        insert(MovieDirector), [{"movie_id": m, "person_id": p} for m, p in _links(rng, 1, PEOPLE)]
    )
    await conn.execute(
        insert(MovieKeyword),
        [{"movie_id": m, "keyword_id": k} for m, k in _links(rng, 6, KEYWORDS)],
    )
    await conn.execute(
        insert(MovieCompany),
        [{"movie_id": m, "company_id": c} for m, c in _links(rng, 3, COMPANIES)],
    )


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
        runtime = None if rng.random() < 0.05 else rng.randint(60, 200)
        revenue = None if rng.random() < 0.4 else int(rng.paretovariate(1.1) * 1_000_000)
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
                "runtime": runtime,
                "revenue": revenue,
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
            await _fill_credits_and_tags(conn, rng)
        tables = "movie, genre, movie_genre, person, cast_credit, crew_credit, movie_director, "
        tables += "keyword, movie_keyword, company, movie_company"
        async with explain.connect() as conn:
            await conn.execute(text(f"ANALYZE TABLE {tables}"))
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
        f"{r['select_type']} {r['table']}: type={r['type']} key={r['key']} rows={r['rows']} "
        f"extra={r['Extra']}"
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


# Each filter, and the index its link table must be read through (the tables' primary keys
# start with movie_id: a plan reading them would visit every movie's links).
LINK_FILTERS: dict[str, tuple[MovieFilters, dict[str, str]]] = {
    "crew": (
        MovieFilters(crew_all=[PERSON]),
        {"crew_credit": "ix_crew_credit_person", "movie_director": "ix_movie_director_person"},
    ),
    "crew_all_of_two": (
        MovieFilters(crew_all=[PERSON, PERSON + 1]),
        {"crew_credit": "ix_crew_credit_person", "movie_director": "ix_movie_director_person"},
    ),
    "crew_any_of_two": (
        MovieFilters(crew_any=[PERSON, PERSON + 1]),
        {"crew_credit": "ix_crew_credit_person", "movie_director": "ix_movie_director_person"},
    ),
    "people": (
        MovieFilters(people_all=[PERSON]),
        {
            "cast_credit": "ix_cast_credit_person",
            "crew_credit": "ix_crew_credit_person",
            "movie_director": "ix_movie_director_person",
        },
    ),
    "people_any_of_two": (
        MovieFilters(people_any=[PERSON, PERSON + 1]),
        {
            "cast_credit": "ix_cast_credit_person",
            "crew_credit": "ix_crew_credit_person",
            "movie_director": "ix_movie_director_person",
        },
    ),
    "keyword": (MovieFilters(keyword_groups=[[40]]), {"movie_keyword": "ix_movie_keyword_keyword"}),
    "keywords_all_of_two": (
        MovieFilters(keyword_groups=[[40], [41]]),
        {"movie_keyword": "ix_movie_keyword_keyword"},
    ),
    "company": (MovieFilters(company_groups=[[30]]), {"movie_company": "ix_movie_company_company"}),
    "companies_any_of_two": (
        MovieFilters(company_groups=[[30, 31]]),
        {"movie_company": "ix_movie_company_company"},
    ),
}


class TestNewFiltersAndSortsUseIndexes:
    @pytest.mark.parametrize("case", list(LINK_FILTERS))
    @pytest.mark.parametrize("sort", ["popularity", "revenue"])
    async def test_link_filters_read_the_links_by_person_keyword_or_company(
        self, explain_engine: AsyncEngine, case: str, sort: str
    ) -> None:
        filters, indexes = LINK_FILTERS[case]
        stmt = page_statement(filters, SortSpec(sort, sort == "popularity"))  # type: ignore[arg-type]
        plan = await explain(explain_engine, stmt)
        for table, index in indexes.items():
            reads = [row for row in plan if row["table"] == table]
            # The first read finds the movies by the index; a second (all of two) may check
            # one movie's link by its primary key.
            assert reads and reads[0]["key"] == index, describe(plan)
            assert all(row["key"] in (index, "PRIMARY") for row in reads), describe(plan)
        assert row_for(plan, "movie")["key"] is not None, describe(plan)

    @pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
    async def test_runtime_range_sorted_by_runtime_uses_the_runtime_index(
        self, explain_engine: AsyncEngine, descending: bool
    ) -> None:
        window = MovieFilters(runtime_gte=180, runtime_lte=190)
        plan = await explain(
            explain_engine, page_statement(window, SortSpec("runtime", descending))
        )
        movie = row_for(plan, "movie")
        assert movie["key"] == "ix_movie_runtime", describe(plan)
        assert movie["type"] == "range", describe(plan)

    async def test_short_runtime_sorted_by_popularity_uses_an_index(
        self, explain_engine: AsyncEngine
    ) -> None:
        stmt = page_statement(MovieFilters(runtime_lte=65), SortSpec("popularity", True))
        plan = await explain(explain_engine, stmt)
        movie = row_for(plan, "movie")
        assert movie["key"] in ("ix_movie_runtime", "ix_movie_popularity"), describe(plan)

    @pytest.mark.parametrize(
        ("field", "descending", "index"),
        [
            ("revenue", True, "ix_movie_revenue"),
            ("revenue", False, "ix_movie_revenue_sort"),
            ("runtime", True, "ix_movie_runtime"),
            ("runtime", False, "ix_movie_runtime_sort"),
        ],
    )
    async def test_unfiltered_revenue_and_runtime_sorts_read_their_index(
        self, explain_engine: AsyncEngine, field: str, descending: bool, index: str
    ) -> None:
        stmt = page_statement(MovieFilters(), SortSpec(field, descending))  # type: ignore[arg-type]
        plan = await explain(explain_engine, stmt)
        movie = row_for(plan, "movie")
        assert movie["key"] == index, describe(plan)
        assert "filesort" not in (movie["Extra"] or ""), describe(plan)

    @pytest.mark.parametrize(("model", "name"), [(Keyword, "Keyword 40"), (Company, "COMPANY 30")])
    async def test_names_are_looked_up_through_the_name_index(
        self, explain_engine: AsyncEngine, model: type[Keyword] | type[Company], name: str
    ) -> None:
        lookup = queries.names_lookup(model, {name.lower()}, explain_engine.dialect.name)
        plan = await explain(explain_engine, lookup)
        table = model.__tablename__
        assert row_for(plan, str(table))["key"] == f"ix_{table}_name", describe(plan)
