"""Cached /3 answers served before routing (api.http_cache through api.tmdb.auth's key gate):
only to a key whose marker in the cache's Redis says it works, so a revoked or unknown key is
refused at once; counted against the key's budget and recording its use after they are sent;
one stored answer for every key."""

from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.cache import PREFIX, VALID, Cache, key_scope
from api.movies.models import Keyword
from api.ratelimit import RateLimits
from api.settings import Settings
from api.users import api_keys
from api.users.models import ApiKey
from tests.api.conftest import Catalog, unique
from tests.api.test_cache import rename_behind_the_cache, stored_answers
from tests.conftest import API_CACHE_TTL, Account
from tests.tmdb.conftest import MakeKey

PASSWORD = "password123"  # tests.conftest.PASSWORD_HASH's
INVALID_KEY = (401, 7)
HEADERS = ("content-type", "content-length", "cache-control")


@pytest.fixture
def key_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys `require_app_key` looked up: a request answered before routing adds none."""
    checked: list[str] = []
    find_active = api_keys.find_active

    async def counted(session: AsyncSession, key: str) -> api_keys.KeyHolder | None:
        checked.append(key)
        return await find_active(session, key)

    monkeypatch.setattr(api_keys, "find_active", counted)
    return checked


async def get(client: AsyncClient, path: str, key: str | None = None, **params: Any) -> Any:
    if key is not None:
        params["api_key"] = key
    return await client.get(path, params=params)


def tmdb_error(response: Any) -> tuple[int, int]:
    return response.status_code, response.json()["status_code"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def marker_of(redis: Redis, key: str) -> bytes | None:
    digest = api_keys.key_digest(key)
    assert digest is not None
    value: bytes | None = await redis.get(f"{PREFIX}:v:{key_scope(digest)}")
    return value


@pytest.mark.usefixtures("cache_on")
class TestHitsBeforeRouting:
    async def test_a_second_request_is_answered_without_the_key_check(
        self, client: AsyncClient, catalog: Catalog, api_key: str, key_checks: list[str]
    ) -> None:
        movie = await catalog.movie("Quick Answer")
        first = await get(client, f"/3/movie/{movie.id}", api_key)
        assert first.status_code == 200 and key_checks == [api_key]
        again = await get(client, f"/3/movie/{movie.id}", api_key)
        assert again.status_code == 200 and key_checks == [api_key]
        assert again.content == first.content and again.json()["title"] == "Quick Answer"
        for header in HEADERS:
            assert again.headers[header] == first.headers[header], header

    async def test_a_hit_has_no_etag_and_no_304_as_its_route(
        self, client: AsyncClient, api_key: str, key_checks: list[str]
    ) -> None:
        first = await get(client, "/3/genre/movie/list", api_key)
        assert first.headers["cache-control"] == "private, no-store"
        assert "etag" not in first.headers
        again = await client.get(
            "/3/genre/movie/list", params={"api_key": api_key}, headers={"If-None-Match": "*"}
        )
        assert again.status_code == 200 and again.content == first.content
        assert "etag" not in again.headers
        head = await client.head("/3/genre/movie/list", params={"api_key": api_key})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == first.headers["content-length"]
        assert key_checks == [api_key]

    async def test_searches_are_answered_before_routing(
        self, client: AsyncClient, db: AsyncSession, api_key: str, key_checks: list[str]
    ) -> None:
        name = unique("hitword")
        db.add(Keyword.model_validate({"name": name}))
        await db.commit()
        first = await get(client, "/3/search/keyword", api_key, query=name)
        assert [item["name"] for item in first.json()["results"]] == [name]
        again = await get(client, "/3/search/keyword", api_key, query=name)
        assert again.status_code == 200 and again.content == first.content
        assert key_checks == [api_key]

    async def test_a_bearer_key_is_answered_before_routing(
        self, client: AsyncClient, catalog: Catalog, api_key: str, key_checks: list[str]
    ) -> None:
        movie = await catalog.movie("Token Holder")
        first = await client.get(f"/3/movie/{movie.id}", headers=bearer(api_key))
        again = await client.get(f"/3/movie/{movie.id}", headers=bearer(api_key))
        assert again.status_code == 200 and again.content == first.content
        assert key_checks == [api_key]

    async def test_one_answer_is_stored_for_every_key(
        self,
        app: Any,
        client: AsyncClient,
        catalog: Catalog,
        db: AsyncSession,
        user: Account,
        make_key: MakeKey,
    ) -> None:
        movie = await catalog.movie("Shared Print")
        (_, first_key), (_, second_key) = await make_key(user), await make_key(user, "other")
        assert (await get(client, f"/3/movie/{movie.id}", first_key)).status_code == 200
        await rename_behind_the_cache(db, movie.id, "Reprinted")  # type: ignore[arg-type]
        shared = await get(client, f"/3/movie/{movie.id}", second_key)
        assert shared.json()["title"] == "Shared Print"
        assert await stored_answers(app.state.redis) == 1
        assert not any("api_key" in read.target for read in app.state.cache.reads.values())


@pytest.mark.usefixtures("cache_on")
class TestKeysThatNoLongerWork:
    async def test_a_revoked_key_gets_401_at_once_though_its_url_is_cached(
        self, client: AsyncClient, catalog: Catalog, user: Account, make_key: MakeKey
    ) -> None:
        movie = await catalog.movie("Closing Time")
        key_id, key = await make_key(user)
        for _ in range(2):  # the second one is a hit
            assert (await get(client, f"/3/movie/{movie.id}", key)).status_code == 200
        revoked = await client.delete(f"/users/me/api-keys/{key_id}", headers=user.headers)
        assert revoked.status_code == 204
        assert tmdb_error(await get(client, f"/3/movie/{movie.id}", key)) == INVALID_KEY

    async def test_a_deleted_accounts_keys_get_401_at_once(
        self, client: AsyncClient, catalog: Catalog, user: Account, make_key: MakeKey
    ) -> None:
        movie = await catalog.movie("Last Showing")
        _, key = await make_key(user)
        for _ in range(2):
            assert (await get(client, f"/3/movie/{movie.id}", key)).status_code == 200
        body = {"password": PASSWORD}
        deleted = await client.request("DELETE", "/users/me", json=body, headers=user.headers)
        assert deleted.status_code == 204
        assert tmdb_error(await get(client, f"/3/movie/{movie.id}", key)) == INVALID_KEY

    async def test_an_unknown_or_missing_key_on_a_cached_url_gets_401(
        self, client: AsyncClient, catalog: Catalog, api_key: str
    ) -> None:
        movie = await catalog.movie("Members Only")
        for _ in range(2):  # the URL (no key in it: Bearer) is cached and remembered
            response = await client.get(f"/3/movie/{movie.id}", headers=bearer(api_key))
            assert response.status_code == 200
        unknown = await client.get(f"/3/movie/{movie.id}", headers=bearer("0" * 32))
        assert tmdb_error(unknown) == INVALID_KEY
        assert tmdb_error(await client.get(f"/3/movie/{movie.id}")) == INVALID_KEY

    async def test_a_check_that_raced_the_revocation_cannot_revive_the_key(
        self, cache_on: Cache
    ) -> None:
        marker = key_scope(unique("digest"))
        await cache_on.admit(marker, 1, 60)
        await cache_on.bump([marker])  # the revocation, after its commit
        await cache_on.admit(marker, 1, 60)  # a check that read the row before the commit
        found = await cache_on.lookup(unique("answer"), ["catalog"], marker)
        assert found is not None and found.marker is not None
        assert not found.marker.startswith(VALID)


@pytest.fixture
def budget(app: Any, settings: Settings) -> Iterator[None]:
    """Three /3 requests an hour per key (the window starts at a key's first request)."""
    real = app.state.rate_limits
    tight = settings.model_copy(update={"RATE_LIMIT_API_KEY": "3/hour"})
    app.state.rate_limits = RateLimits(app.state.redis, tight)
    yield
    app.state.rate_limits = real


@pytest.mark.usefixtures("cache_on")
class TestHitsCount:
    @pytest.mark.usefixtures("budget")
    async def test_hits_past_the_budget_turn_into_429_within_one_request(
        self, client: AsyncClient, api_key: str, key_checks: list[str]
    ) -> None:
        answers = [await get(client, "/3/genre/movie/list", api_key) for _ in range(5)]
        # The first is routed, the next three are hits (counted once sent: the third of them
        # finds the budget spent), and the fifth is routed again, to TMDB's 429.
        assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
        assert answers[-1].json()["status_code"] == 25 and answers[-1].headers["retry-after"]
        assert key_checks == [api_key, api_key]

    async def test_a_hit_records_the_keys_use(
        self,
        client: AsyncClient,
        db: AsyncSession,
        user: Account,
        make_key: MakeKey,
        key_checks: list[str],
    ) -> None:
        key_id, key = await make_key(user)
        assert (await get(client, "/3/genre/movie/list", key)).status_code == 200
        forget = update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=None)
        await db.execute(forget)
        await db.commit()
        assert (await get(client, "/3/genre/movie/list", key)).status_code == 200
        assert key_checks == [key]  # the second was a hit
        used = select(col(ApiKey.last_used_at)).where(col(ApiKey.id) == key_id)
        assert (await db.execute(used)).scalar_one() is not None


class TestMarkers:
    async def test_a_checked_key_is_marked_valid(
        self, app: Any, client: AsyncClient, cache_on: Cache, user: Account, make_key: MakeKey
    ) -> None:
        key_id, key = await make_key(user)
        assert (await get(client, "/3/genre/movie/list", key)).status_code == 200
        assert await marker_of(app.state.redis, key) == VALID + str(key_id).encode()

    async def test_a_failed_marker_write_does_not_fail_the_request(
        self, app: Any, client: AsyncClient, api_key: str
    ) -> None:
        real = app.state.cache
        down = Redis(host="127.0.0.1", port=9, socket_timeout=0.2, socket_connect_timeout=0.2)
        # Lookups through the real pipe; every write (answers, the marker) fails.
        app.state.cache = Cache(down, API_CACHE_TTL, real.pipe)
        try:
            for _ in range(2):
                response = await get(client, "/3/genre/movie/list", api_key)
                assert response.status_code == 200 and response.json()["genres"] is not None
        finally:
            app.state.cache = real
            await down.aclose()
        assert await marker_of(app.state.redis, api_key) is None
