"""Turning movie rows into the public shapes of API.md."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.queries import with_parts
from api.movies.schemas import MovieListItem, MoviePublic


def poster_url(image_base: str, path: str | None) -> str | None:
    return f"{image_base.rstrip('/')}{path}" if path else None


def item_fields(fields: dict[str, Any], image_base: str) -> dict[str, Any]:
    """A movie's stored fields (and parts) plus what the API derives from them."""
    return {
        **fields,
        "poster_url": poster_url(image_base, fields["poster_path"]),
        "vote_average": round(fields["vote_average"], 3),
    }


def details(fields: dict[str, Any], image_base: str) -> MoviePublic:
    """A movie read as plain rows (queries.movie_details) in its public shape."""
    return MoviePublic.model_validate(item_fields(fields, image_base))


def list_item(fields: dict[str, Any], image_base: str) -> MovieListItem:
    """A movie read as a list row (queries.page_movies, movies_in_order) in its list shape."""
    return MovieListItem.model_validate(item_fields(fields, image_base))


async def movie_item_fields(
    session: AsyncSession, rows: list[dict[str, Any]], image_base: str
) -> list[dict[str, Any]]:
    """Rows of movies' public fields (and whatever else they carry: a credit's part) as list
    items' fields: with their genres, keywords, companies, countries, languages and poster URL."""
    return [item_fields(row, image_base) for row in await with_parts(session, rows)]
