"""Catalog builders for the API tests: rows inserted through the test's session (rolled back),
and with --api-cache an empty cache at each test's start."""

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import CATALOG, movie_scope
from api.movies.models import CastCredit, Genre, Movie, MovieGenre
from api.people.models import Person
from tests.conftest import clear_cache


@pytest.fixture(autouse=True)
async def fresh_cache(api_cache: bool, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """With --api-cache, each test that has the app starts with an empty cache: the rows of
    the test before were rolled back, which no cache version sees."""
    if api_cache and "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        await clear_cache(app.state.cache.redis)
    yield


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Catalog:
    """Builds movies, genres and people directly in the database, and then tells the app's
    cache what changed, as the API's own writes do (so a test may read, add and read again
    with the cache on)."""

    db: AsyncSession
    app: Any = None

    async def _changed(self, scopes: list[str]) -> None:
        cache = self.app.state.cache if self.app is not None else None
        if cache is not None and cache.enabled:
            await cache.bump(scopes)

    async def genre(self, name: str | None = None) -> Genre:
        genre = Genre.model_validate({"name": name or unique("genre")})
        self.db.add(genre)
        await self.db.flush()
        await self._changed([CATALOG])
        return genre

    async def person(self, name: str | None = None, profile_path: str | None = None) -> Person:
        person = Person.model_validate(
            {"name": name or unique("person"), "profile_path": profile_path}
        )
        self.db.add(person)
        await self.db.flush()
        await self._changed([CATALOG])
        return person

    async def movie(
        self,
        title: str | None = None,
        genres: Sequence[Genre] = (),
        cast: Sequence[Person] = (),
        **fields: Any,
    ) -> Movie:
        """A movie; vote_average/vote_count also set the imported base_* so they agree."""
        votes = {"vote_average": 0.0, "vote_count": 0}
        votes.update({k: fields.pop(k) for k in list(fields) if k in votes})
        title = title or unique("Movie")
        movie = Movie.model_validate(
            {
                "title": title,
                "original_title": title,
                "base_vote_average": votes["vote_average"],
                "base_vote_count": votes["vote_count"],
                **votes,
                **fields,
            }
        )
        self.db.add(movie)
        await self.db.flush()
        assert movie.id is not None
        for genre in genres:
            self.db.add(MovieGenre.model_validate({"movie_id": movie.id, "genre_id": genre.id}))
        for order, person in enumerate(cast):
            credit = {"movie_id": movie.id, "person_id": person.id, "billing_order": order}
            self.db.add(CastCredit.model_validate(credit))
        await self.db.commit()
        await self._changed([CATALOG, movie_scope(movie.id)])
        return movie


@pytest.fixture
def catalog(db: AsyncSession, request: pytest.FixtureRequest) -> Catalog:
    app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    return Catalog(db, app)


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["results"]]


def days(n: int) -> date:
    """Today plus n days."""
    return date.today() + timedelta(days=n)
