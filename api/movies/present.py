"""Turning movie rows into the public shapes of API.md."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import Movie
from api.movies.queries import PUBLIC_FIELDS, genres_of
from api.movies.schemas import GenrePublic, MovieListItem, MoviePublic


def poster_url(image_base: str, path: str | None) -> str | None:
    return f"{image_base.rstrip('/')}{path}" if path else None


def _common(movie: Movie, image_base: str) -> dict[str, object]:
    fields: dict[str, Any] = {name: getattr(movie, name) for name in PUBLIC_FIELDS}
    fields["genres"] = [GenrePublic(id=g.id, name=g.name) for g in movie.genres]
    return _derived(fields, image_base)


def _derived(fields: dict[str, Any], image_base: str) -> dict[str, Any]:
    """A movie's stored fields plus what the API derives from them."""
    return {
        **fields,
        "poster_url": poster_url(image_base, fields["poster_path"]),
        "vote_average": round(fields["vote_average"], 3),
    }


def details(fields: dict[str, Any], image_base: str) -> MoviePublic:
    """A movie read as plain rows (queries.movie_details) in its public shape."""
    return MoviePublic.model_validate(_derived(fields, image_base))


def list_item(movie: Movie, image_base: str) -> MovieListItem:
    return MovieListItem.model_validate(_common(movie, image_base))


async def movie_item_fields(
    session: AsyncSession, rows: list[dict[str, Any]], image_base: str
) -> list[dict[str, Any]]:
    """Rows of movies' public fields (and whatever else they carry: a credit's part) as list
    items' fields: with their genres and poster URL."""
    ids = sorted({row["id"] for row in rows})
    genres: dict[int, list[dict[str, Any]]] = {movie_id: [] for movie_id in ids}
    for movie_id, genre_id, name in (await session.execute(genres_of(ids))).all():
        genres[movie_id].append({"id": genre_id, "name": name})
    return [{**_derived(row, image_base), "genres": genres[row["id"]]} for row in rows]
