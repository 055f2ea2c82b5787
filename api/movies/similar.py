"""Similar movies: the ones that share most with a movie (keywords, director, top-billed cast,
genres), scored in the database in one set-based query (README, Similar movies)."""

from typing import Any

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Subquery

from api.movies.models import CastCredit, Movie, MovieDirector, MovieGenre, MovieKeyword
from api.movies.queries import PUBLIC_COLUMNS
from api.pagination import PageParams

# What each shared thing adds to a candidate's score. A shared director weighs most: on TMDB
# 5000 a director's other films then rank first for Inception, while a franchise's sequels
# (which share keywords and cast as well) stay first for its first film.
KEYWORD_WEIGHT = 3
DIRECTOR_WEIGHT = 6
CAST_WEIGHT = 2
GENRE_WEIGHT = 1
# Cast members count only when billed among the first ten on both films: a lead's cameo
# elsewhere says little about likeness.
TOP_BILLED = 10
_MOVIE = sa_inspect(Movie).local_table

# (link table, the column naming what is shared, its weight)
_SHARED: tuple[tuple[Any, str, int], ...] = (
    (MovieKeyword, "keyword_id", KEYWORD_WEIGHT),
    (MovieDirector, "person_id", DIRECTOR_WEIGHT),
    (CastCredit, "person_id", CAST_WEIGHT),
    (MovieGenre, "genre_id", GENRE_WEIGHT),
)


def _pairs(model: Any, key: str, movie_id: int) -> Select[Any]:
    """(other movie, shared thing), once each, for what this link table says the movie shares
    with others: a self-join through the index on `key`."""
    table = sa_inspect(model).local_table
    mine, other = table.alias("mine"), table.alias("other")
    stmt = (
        select(other.c.movie_id, other.c[key].label("shared"))
        .select_from(mine.join(other, other.c[key] == mine.c[key]))
        .where(mine.c.movie_id == movie_id, other.c.movie_id != movie_id)
    )
    if model is CastCredit:
        # A person may hold two roles on one film: count them once.
        billed = (mine.c.billing_order < TOP_BILLED, other.c.billing_order < TOP_BILLED)
        stmt = stmt.where(*billed).distinct()
    return stmt


def scores(movie_id: int) -> Subquery:
    """(movie_id, score) of every movie sharing at least one keyword, director, top-billed cast
    member or genre with this one (never itself): the weighted count of what they share."""
    parts = []
    for model, key, weight in _SHARED:
        pairs = _pairs(model, key, movie_id).subquery()
        parts.append(select(pairs.c.movie_id, literal(weight).label("weight")))
    shared = union_all(*parts).subquery("shared")
    return (
        select(shared.c.movie_id, func.sum(shared.c.weight).label("score"))
        .group_by(shared.c.movie_id)
        .subquery("scores")
    )


def _ranked(scored: Subquery, params: PageParams) -> Select[Any]:
    """The page's rows of PUBLIC_COLUMNS with `total`, the number of candidates. Ranked on a
    narrow row (id, score, popularity) first: the wide public columns are read for the page
    only."""
    candidate = _MOVIE.alias("candidate")
    ranked = (
        select(
            scored.c.movie_id,
            scored.c.score,
            candidate.c.popularity,
            func.count().over().label("total"),
        )
        .join_from(scored, candidate, candidate.c.id == scored.c.movie_id)
        .order_by(scored.c.score.desc(), candidate.c.popularity.desc(), scored.c.movie_id)
        .offset(params.offset)
        .limit(params.per_page)
        .subquery("ranked")
    )
    return (
        select(*PUBLIC_COLUMNS, ranked.c.total)
        .join_from(ranked, _MOVIE, _MOVIE.c.id == ranked.c.movie_id)
        .order_by(ranked.c.score.desc(), ranked.c.popularity.desc(), ranked.c.movie_id)
    )


async def similar_page(
    session: AsyncSession, movie_id: int, params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    """How many movies are like this one, and this page of them as rows of PUBLIC_COLUMNS:
    highest score first, then most popular, then by id (so pages never overlap)."""
    scored = scores(movie_id)
    rows = [row._asdict() for row in await session.execute(_ranked(scored, params))]
    if not rows:  # past the end, or nothing alike: count them apart
        count = select(func.count()).select_from(scored)
        return (await session.execute(count)).scalar_one(), []
    total = rows[0]["total"]
    return total, [{k: v for k, v in row.items() if k != "total"} for row in rows]
