"""Turning movie rows into the public shapes of API.md."""

from typing import Any

from api.movies.models import Movie
from api.movies.queries import PUBLIC_FIELDS
from api.movies.schemas import CastPublic, GenrePublic, MovieListItem, MoviePublic, PersonPublic


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


def movie_public(movie: Movie, image_base: str) -> MoviePublic:
    cast = [
        CastPublic(
            id=c.person.id,
            name=c.person.name,
            character=c.character,
            order=c.billing_order,
            profile_path=c.person.profile_path,
        )
        for c in movie.cast_credits
    ]
    directors = [PersonPublic(id=d.person.id, name=d.person.name) for d in movie.director_links]
    return MoviePublic.model_validate(
        {**_common(movie, image_base), "cast": cast, "directors": directors}
    )
