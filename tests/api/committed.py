"""Rows committed for real, for the concurrency tests: the per-test rollback shares one
connection, so simultaneous requests need data every connection of the app's pool can see."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.movies.models import Movie
from api.outbox import SearchOutbox
from api.users.models import User
from api.users.security import create_access_token
from tests.conftest import PASSWORD_HASH, SECRET


@dataclass
class Committed:
    """Users and movies committed through the app's own sessionmaker, removed at the end."""

    sessionmaker: async_sessionmaker[AsyncSession]
    user_ids: list[int] = field(default_factory=list)
    movie_ids: list[int] = field(default_factory=list)

    async def users(self, count: int) -> list[dict[str, str]]:
        """`count` new users; returns their auth headers."""
        async with self.sessionmaker() as session:
            users = [_user() for _ in range(count)]
            session.add_all(users)
            await session.commit()
        self.user_ids += [u.id for u in users if u.id is not None]
        return [_headers(u) for u in users]

    async def movie(self, **fields: Any) -> int:
        title = f"Concurrent {uuid.uuid4().hex[:8]}"
        async with self.sessionmaker() as session:
            movie = Movie.model_validate({"title": title, "original_title": title, **fields})
            session.add(movie)
            await session.commit()
        assert movie.id is not None
        self.movie_ids.append(movie.id)
        return movie.id

    async def reload(self, movie_id: int) -> Movie:
        async with self.sessionmaker() as session:
            movie = await session.get(Movie, movie_id)
            assert movie is not None
            return movie

    async def cleanup(self) -> None:
        """Movies and users go; their reviews, list entries and activity cascade."""
        async with self.sessionmaker() as session:
            await session.execute(delete(Movie).where(Movie.id.in_(self.movie_ids)))  # type: ignore[union-attr]
            await session.execute(delete(User).where(User.id.in_(self.user_ids)))  # type: ignore[union-attr]
            outbox = SearchOutbox.movie_id.in_(self.movie_ids)  # type: ignore[attr-defined]
            await session.execute(delete(SearchOutbox).where(outbox))
            await session.commit()


def _user() -> User:
    email = f"race-{uuid.uuid4().hex[:10]}@example.com"
    return User.model_validate(
        {"email": email, "password_hash": PASSWORD_HASH, "display_name": email[:20]}
    )


def _headers(user: User) -> dict[str, str]:
    assert user.id is not None
    return {"Authorization": f"Bearer {create_access_token(user.id, SECRET, 60)}"}


@asynccontextmanager
async def committed_world(app: Any) -> AsyncIterator[tuple[Committed, AsyncClient]]:
    """Committed rows plus a client on the app's real sessionmaker (never swapped here)."""
    world = Committed(app.state.sessionmaker)
    transport = ASGITransport(app=app)
    try:
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            yield world, http
    finally:
        await world.cleanup()
