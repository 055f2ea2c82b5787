"""The Redis cache of public reads: served from Redis until a write, exact after it, and
optional (Redis down: served uncached). HTTP caching: ETag, Cache-Control, 304."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import ANSWERS, PREFIX, Cache
from api.deps import _settings
from api.http_cache import MAX_CACHED_QUERY
from api.main import create_app
from api.movies.models import Movie
from tests.api.conftest import Catalog, ids, unique
from tests.conftest import Account


async def rename_behind_the_cache(db: AsyncSession, movie_id: int, title: str) -> None:
    """Change a row without going through the API: no cache version moves."""
    await db.execute(update(Movie).where(Movie.id == movie_id).values(title=title))  # type: ignore[arg-type]
    await db.commit()


async def get_json(client: AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.usefixtures("cache_on")
class TestRedisCache:
    async def test_details_are_served_from_the_cache(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession
    ) -> None:
        movie = await catalog.movie("Original Cut")
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "Original Cut"
        await rename_behind_the_cache(db, movie.id, "Changed Quietly")  # type: ignore[arg-type]
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "Original Cut"

    async def test_an_admin_write_is_visible_at_once(
        self, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        movie = await catalog.movie("Before Edit", popularity=987654.0)
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "Before Edit"
        assert (await get_json(client, "/movies/popular"))["results"][0]["title"] == "Before Edit"
        patched = await client.patch(
            f"/movies/{movie.id}", json={"title": "After Edit"}, headers=admin.headers
        )
        assert patched.status_code == 200
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "After Edit"
        assert (await get_json(client, "/movies/popular"))["results"][0]["title"] == "After Edit"

    async def test_a_rating_moves_the_cached_numbers_at_once(
        self, client: AsyncClient, catalog: Catalog, user: Account
    ) -> None:
        movie = await catalog.movie(vote_average=6.0, vote_count=1, popularity=987655.0)
        assert (await get_json(client, f"/movies/{movie.id}"))["vote_count"] == 1
        await get_json(client, "/movies", sort_by="popularity.desc")
        rated = await client.post(f"/reviews/{movie.id}", json={"rating": 10}, headers=user.headers)
        assert rated.status_code == 201
        details = await get_json(client, f"/movies/{movie.id}")
        assert (details["vote_count"], details["vote_average"]) == (2, 8.0)
        listed = await get_json(client, "/movies", sort_by="popularity.desc")
        assert listed["results"][0]["vote_count"] == 2

    async def test_a_deleted_movie_is_gone_from_cached_lists(
        self, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        genre = await catalog.genre(unique("Cached"))
        movie = await catalog.movie(genres=[genre])
        assert (await get_json(client, "/movies", genre=genre.name))["total_results"] == 1
        await client.delete(f"/movies/{movie.id}", headers=admin.headers)
        assert (await get_json(client, "/movies", genre=genre.name))["total_results"] == 0
        assert (await client.get(f"/movies/{movie.id}")).status_code == 404

    async def test_different_queries_are_cached_apart(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        await catalog.movie(popularity=987656.0)
        first = await get_json(client, "/movies/popular", per_page=1)
        second = await get_json(client, "/movies/popular", per_page=2)
        assert (first["per_page"], second["per_page"]) == (1, 2)

    async def test_errors_are_not_cached(
        self, app: Any, client: AsyncClient, db: AsyncSession
    ) -> None:
        missing = 2_000_000_000
        assert (await client.get(f"/movies/{missing}")).status_code == 404
        assert await stored_answers(app.state.redis) == 0
        # The movie appears behind the cache (no version moves): a stored 404 would be served.
        await Catalog(db).movie("Late Arrival", id=missing)
        found = await client.get(f"/movies/{missing}")
        assert found.status_code == 200 and found.json()["title"] == "Late Arrival"
        assert await stored_answers(app.state.redis) == 1  # answers are stored, errors not


async def stored_answers(redis: Redis) -> int:
    return len([key async for key in redis.scan_iter(match=f"{ANSWERS}:*")])


@pytest.mark.usefixtures("cache_on")
class TestCacheKeys:
    async def test_parameters_the_route_ignores_share_its_entry(
        self, app: Any, client: AsyncClient, catalog: Catalog
    ) -> None:
        await catalog.movie(popularity=987658.0)
        first = await get_json(client, "/movies/popular", per_page=2)
        stored = await stored_answers(app.state.redis)
        for n in range(5):  # made-up parameters, as a cache-filling client sends them
            assert await get_json(client, "/movies/popular", per_page=2, junk=n) == first
        assert await stored_answers(app.state.redis) == stored

    async def test_a_repeated_parameter_is_read_last_in_either_order(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre(unique("Order"))
        low = await catalog.movie("Aardwolf Dawn", genres=[genre], popularity=1.0)
        high = await catalog.movie("Zebu Dusk", genres=[genre], popularity=2.0)
        by_title_last = f"/movies?genre={genre.name}&sort_by=popularity.desc&sort_by=title.asc"
        by_popularity_last = f"/movies?genre={genre.name}&sort_by=title.asc&sort_by=popularity.desc"
        for _ in range(2):  # the second round is answered from the cache
            assert ids((await client.get(by_title_last)).json()) == [low.id, high.id]
            assert ids((await client.get(by_popularity_last)).json()) == [high.id, low.id]

    async def test_evicted_versions_never_revive_an_old_answer(
        self, app: Any, client: AsyncClient, catalog: Catalog, db: AsyncSession
    ) -> None:
        movie = await catalog.movie("Kept Answer")
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "Kept Answer"
        await rename_behind_the_cache(db, movie.id, "Renamed Meanwhile")  # type: ignore[arg-type]
        # A memory-bounded Redis evicts the versions (allkeys-lru), not the answer.
        versions = [key async for key in app.state.redis.scan_iter(match=f"{PREFIX}:v:*")]
        await app.state.redis.delete(*versions)
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "Renamed Meanwhile"


class Answer(BaseModel):
    text: str


def answer(text: str) -> Callable[[], Awaitable[BaseModel]]:
    async def build() -> BaseModel:
        return Answer(text=text)

    return build


class TestVersionStamps:
    async def test_an_answer_is_served_until_its_scope_is_bumped(self, cache_on: Cache) -> None:
        name, scopes = unique("answer"), ["stamp-test"]
        assert await cache_on.get_or_build(name, scopes, answer("one")) == b'{"text":"one"}'
        assert await cache_on.get_or_build(name, scopes, answer("two")) == b'{"text":"one"}'
        await cache_on.bump(scopes)
        assert await cache_on.get_or_build(name, scopes, answer("three")) == b'{"text":"three"}'

    async def test_an_answer_built_across_a_write_is_never_served(self, cache_on: Cache) -> None:
        name, scopes = unique("answer"), ["stamp-test", "other-scope"]
        before = await cache_on.lookup(name, scopes)
        assert before is not None and before.body is None
        await cache_on.bump(["other-scope"])  # a write commits while the answer is built
        await cache_on.get_or_build(name, scopes, answer("old"), before.stamp)
        after = await cache_on.lookup(name, scopes)
        assert after is not None and after.stamp != before.stamp and after.body is None


@pytest.fixture
def route_calls(app: Any) -> Any:
    """How many requests reached a route (every movie route takes the settings dependency)."""
    calls: list[str] = []

    async def counted() -> Any:
        calls.append("route")
        return app.state.settings

    app.dependency_overrides[_settings] = counted
    yield calls
    app.dependency_overrides.pop(_settings)


@pytest.mark.usefixtures("cache_on")
class TestHitsAnsweredBeforeRouting:
    async def test_a_hit_never_reaches_the_route(
        self, client: AsyncClient, catalog: Catalog, route_calls: list[str]
    ) -> None:
        movie = await catalog.movie("Fast Lane")
        first = await client.get(f"/movies/{movie.id}")
        assert route_calls == ["route"]
        again = await client.get(f"/movies/{movie.id}/")
        assert route_calls == ["route"]
        assert again.status_code == 200 and again.json() == first.json()
        for header in ("etag", "cache-control", "content-type", "content-length"):
            assert again.headers[header] == first.headers[header], header

    async def test_reordered_parameters_hit_the_same_answer(
        self, client: AsyncClient, catalog: Catalog, route_calls: list[str]
    ) -> None:
        await catalog.movie(popularity=987657.0)
        first = await get_json(client, "/movies", sort_by="popularity.desc", per_page=3)
        again = await client.get("/movies?per_page=3&sort_by=popularity%2Edesc")
        assert route_calls == ["route"] and again.json() == first

    async def test_a_hit_answers_304_to_its_etag(
        self, client: AsyncClient, catalog: Catalog, route_calls: list[str]
    ) -> None:
        etag = (await client.get("/movies/popular")).headers["etag"]
        again = await client.get("/movies/popular", headers={"If-None-Match": f"W/{etag}"})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and route_calls == ["route"]

    async def test_after_a_write_the_route_answers_again(
        self, client: AsyncClient, catalog: Catalog, admin: Account, route_calls: list[str]
    ) -> None:
        movie = await catalog.movie("First Print")
        await client.get(f"/movies/{movie.id}")
        patched = await client.patch(
            f"/movies/{movie.id}", json={"title": "Second Print"}, headers=admin.headers
        )
        assert patched.status_code == 200
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "Second Print"
        assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "Second Print"
        # The first read, the PATCH, the read after it; the last one was a hit.
        assert route_calls == ["route"] * 3

    async def test_very_long_urls_are_answered_uncached(
        self, client: AsyncClient, cache_on: Cache, route_calls: list[str]
    ) -> None:
        # Made-up URLs must not grow what the process remembers per URL without bound.
        junk = "x" * (MAX_CACHED_QUERY + 1)
        for _ in range(2):
            response = await client.get("/movies/popular", params={"junk": junk})
            assert response.status_code == 200 and response.headers["etag"]
        assert route_calls == ["route"] * 2
        assert not any(junk in target for target in cache_on.reads)

    async def test_invalid_parameters_still_get_their_error(
        self, client: AsyncClient, route_calls: list[str]
    ) -> None:
        for _ in range(2):
            response = await client.get("/movies/popular?per_page=100000")
            assert response.status_code == 422 and "etag" not in response.headers
        # Both went through the route's validation: nothing was remembered for the URL.
        assert route_calls == ["route"] * 2


class TestWithoutRedis:
    async def test_reads_and_writes_work_with_redis_down(
        self, app: Any, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        real_cache = app.state.cache
        down = Redis(host="127.0.0.1", port=9, socket_timeout=0.2, socket_connect_timeout=0.2)
        app.state.cache = Cache(down, 300)
        try:
            movie = await catalog.movie("No Redis Today")
            assert (await get_json(client, f"/movies/{movie.id}"))["title"] == "No Redis Today"
            assert (await get_json(client, "/movies/popular"))["total_results"] >= 1
            patched = await client.patch(
                f"/movies/{movie.id}", json={"runtime": 99}, headers=admin.headers
            )
            assert patched.status_code == 200
            assert (await get_json(client, f"/movies/{movie.id}"))["runtime"] == 99
        finally:
            app.state.cache = real_cache
            await down.aclose()


class TestHttpCaching:
    async def test_public_reads_carry_an_etag_and_answer_304(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        first = await client.get(f"/movies/{movie.id}")
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, no-cache"
        again = await client.get(f"/movies/{movie.id}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag

    async def test_a_change_changes_the_etag(
        self, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        movie = await catalog.movie()
        etag = (await client.get(f"/movies/{movie.id}")).headers["etag"]
        await client.patch(f"/movies/{movie.id}", json={"runtime": 101}, headers=admin.headers)
        fresh = await client.get(f"/movies/{movie.id}", headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.headers["etag"] != etag

    async def test_lists_and_genres_are_tagged(self, client: AsyncClient) -> None:
        for path in ("/movies/popular", "/genres", "/movies?genre=drama"):
            response = await client.get(path)
            assert response.status_code == 200 and response.headers["etag"].startswith('"')

    async def test_personal_answers_are_never_stored(
        self, app: Any, client: AsyncClient, user: Account, cache_on: Cache
    ) -> None:
        for path in ("/users/me", "/watchlist", "/favorites", "/users/me/reviews"):
            response = await client.get(path, headers=user.headers)
            assert response.status_code == 200
            assert response.headers["cache-control"] == "private, no-store"
            assert "etag" not in response.headers
        assert await stored_answers(app.state.redis) == 0  # nor in the server's cache
        assert (await client.get("/movies/popular")).status_code == 200
        assert await stored_answers(app.state.redis) == 1  # where a public read is

    async def test_head_is_get_without_the_body(
        self, client: AsyncClient, catalog: Catalog, user: Account
    ) -> None:
        movie = await catalog.movie()
        got = await client.get(f"/movies/{movie.id}")
        head = await client.head(f"/movies/{movie.id}")
        assert head.status_code == 200 and head.content == b""
        for header in ("etag", "content-length", "content-type"):
            assert head.headers[header] == got.headers[header]
        mine = await client.head("/users/me", headers=user.headers)
        assert mine.status_code == 200 and mine.headers["cache-control"] == "private, no-store"
        assert (await client.head("/movies/2000000000")).status_code == 404

    async def test_only_routes_that_declare_it_are_public(self, settings: Any) -> None:
        app = create_app(settings)

        @app.get("/movies/undeclared", include_in_schema=False)
        async def undeclared() -> dict[str, str]:
            return {"who": "someone in particular"}

        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as fresh:
            for path in ("/movies/undeclared", "/health"):
                response = await fresh.get(path)
                assert response.headers["cache-control"] == "private, no-store", path
                assert "etag" not in response.headers

    async def test_errors_carry_no_etag(self, client: AsyncClient) -> None:
        response = await client.get("/movies/2000000000")
        assert response.status_code == 404 and "etag" not in response.headers

    async def test_an_unexpected_error_is_still_a_500_in_json(self, settings: Any) -> None:
        # The HTTP edge runs outside FastAPI's error middleware; errors must still be rendered.
        app = create_app(settings)

        @app.get("/movies/broken", include_in_schema=False)
        async def broken() -> None:
            raise RuntimeError("boom")

        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as fresh:
            response = await fresh.get("/movies/broken/")
        assert response.status_code == 500 and "etag" not in response.headers
        assert response.json()["code"] == "internal_error"
