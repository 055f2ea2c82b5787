"""The /3 layer's own reads of the catalog: genres, and the codes and jobs the catalog uses
(which the configuration lists must include)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.movies.models import CrewCredit, Genre, Movie, MovieCountry, MovieLanguage


async def movie_genres(session: AsyncSession) -> list[tuple[int, str]]:
    """Every genre, by name."""
    stmt = select(col(Genre.id), col(Genre.name)).order_by(col(Genre.name), col(Genre.id))
    return [(row[0], row[1]) for row in await session.execute(stmt) if row[0] is not None]


async def catalog_languages(session: AsyncSession) -> dict[str, str]:
    """Each language code the catalog uses (original or spoken), with a name where it has one."""
    spoken = select(col(MovieLanguage.iso_639_1), col(MovieLanguage.name)).distinct()
    named = {row[0]: row[1] for row in await session.execute(spoken)}
    original = select(col(Movie.original_language)).distinct()
    for (code,) in await session.execute(original):
        named.setdefault(code, "")
    return named


async def catalog_countries(session: AsyncSession) -> dict[str, str]:
    """Each production country the catalog names, with its name."""
    stmt = select(col(MovieCountry.iso_3166_1), col(MovieCountry.name)).distinct()
    return {row[0]: row[1] for row in await session.execute(stmt)}


async def crew_jobs(session: AsyncSession) -> list[tuple[str, str]]:
    """(department, job) of every crew job in the catalog."""
    stmt = select(col(CrewCredit.department), col(CrewCredit.job)).distinct()
    return [(row[0], row[1]) for row in await session.execute(stmt)]
