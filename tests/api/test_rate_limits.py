"""Rate limits (api.ratelimit): failed sign-ins per account and per address (/auth/token and
/3's validate_with_login alike), registrations per address, each API key's /3 budget, the
client address behind trusted and untrusted proxies, Redis down; and the bounded argon2 pool.

Each test gets limits of its own (tiny windows, so a reset is waited for in seconds) and
client addresses of its own, so no count leaks between tests."""

import asyncio
import logging
import os
import random
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from api.ratelimit import RateLimits
from api.settings import Settings
from api.users import security
from devstack.servers import free_port
from tests.conftest import Account
from tests.tmdb.live import serving, start_procfile_web

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "password123"  # tests.conftest.PASSWORD_HASH's
ROOMY = "1000/minute"
Limits = Callable[..., RateLimits]
FromAddress = Callable[[str], Any]


def new_address() -> str:
    """An address of the benchmarking range (198.18.0.0/15) no other test uses."""
    return f"198.{random.randint(18, 19)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def new_email() -> str:
    return f"limited-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def limits(app: Any, settings: Settings) -> Iterator[Limits]:
    """Swap in the app's limits with these settings (roomy where not given) for the test."""
    real = app.state.rate_limits

    def install(redis: Redis | None = None, **given: str) -> RateLimits:
        names = ("LOGIN_ACCOUNT", "LOGIN_ADDRESS", "REGISTER_ADDRESS", "API_KEY")
        changes = {f"RATE_LIMIT_{name}": given.get(name.lower(), ROOMY) for name in names}
        app.state.rate_limits = RateLimits(
            redis or app.state.redis, settings.model_copy(update=changes)
        )
        return app.state.rate_limits

    yield install
    app.state.rate_limits = real


@pytest.fixture
def from_address(app: Any, client: AsyncClient) -> FromAddress:
    """A client whose requests come from `address` (on the test's rolled-back connection,
    which the `client` fixture installs)."""

    @asynccontextmanager
    async def connect(address: str) -> AsyncIterator[AsyncClient]:
        transport = ASGITransport(app=app, client=(address, 50000))
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            yield http

    return connect


async def sign_in(http: AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/auth/token", data={"username": email, "password": password})


async def statuses(http: AsyncClient, email: str, password: str, times: int) -> list[int]:
    return [(await sign_in(http, email, password)).status_code for _ in range(times)]


def retry_after(response: httpx.Response) -> int:
    return int(response.headers["retry-after"])


def assert_throttled(response: httpx.Response, at_most: int) -> None:
    """429 in the error envelope, with a Retry-After of 1 to `at_most` seconds."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "too_many_requests" and body["detail"].startswith("Too many")
    assert 1 <= retry_after(response) <= at_most


class TestSignInByAccount:
    async def test_failures_past_the_account_limit_answer_429(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="3/minute")
        async with from_address(new_address()) as http:
            assert await statuses(http, user.user.email, "wrong", 3) == [401, 401, 401]
            assert_throttled(await sign_in(http, user.user.email, "wrong"), 60)

    async def test_the_right_password_after_the_limit_still_waits(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="2/minute")
        async with from_address(new_address()) as http:
            assert await statuses(http, user.user.email, "wrong", 2) == [401, 401]
            assert_throttled(await sign_in(http, user.user.email, PASSWORD), 60)
        async with from_address(new_address()) as other:  # the account's limit, anywhere
            assert_throttled(await sign_in(other, user.user.email, PASSWORD), 60)

    async def test_an_unknown_email_is_limited_as_an_account_is(
        self, limits: Limits, from_address: FromAddress
    ) -> None:
        limits(login_account="2/minute")
        email = new_email()
        async with from_address(new_address()) as http:
            assert await statuses(http, email, "wrong", 2) == [401, 401]
            assert_throttled(await sign_in(http, email.upper(), "wrong"), 60)

    async def test_a_success_forgets_the_accounts_failures(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="3/minute")
        async with from_address(new_address()) as http:
            assert await statuses(http, user.user.email, "wrong", 2) == [401, 401]
            assert (await sign_in(http, user.user.email, PASSWORD)).status_code == 200
            assert await statuses(http, user.user.email, "wrong", 3) == [401, 401, 401]
            assert (await sign_in(http, user.user.email, "wrong")).status_code == 429

    async def test_the_limit_resets_after_its_window(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="2/2 seconds")
        async with from_address(new_address()) as http:
            assert await statuses(http, user.user.email, "wrong", 2) == [401, 401]
            refused = await sign_in(http, user.user.email, PASSWORD)
            assert_throttled(refused, 2)
            await asyncio.sleep(retry_after(refused) + 0.1)
            assert (await sign_in(http, user.user.email, PASSWORD)).status_code == 200

    async def test_a_longer_window_makes_the_wait_grow(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="2/2 seconds;3/minute")
        async with from_address(new_address()) as http:
            assert await statuses(http, user.user.email, "wrong", 2) == [401, 401]
            first = await sign_in(http, user.user.email, "wrong")
            assert_throttled(first, 2)
            await asyncio.sleep(retry_after(first) + 0.1)
            assert (await sign_in(http, user.user.email, "wrong")).status_code == 401
            await asyncio.sleep(2)  # the short window has room again; the minute has none
            longer = await sign_in(http, user.user.email, PASSWORD)
            assert_throttled(longer, 60)
            assert retry_after(longer) > 2


class TestSignInByAddress:
    async def test_another_account_from_the_same_address_is_limited(
        self, limits: Limits, from_address: FromAddress, make_account: Any
    ) -> None:
        limits(login_address="3/minute")
        first, second, third = [await make_account() for _ in range(3)]
        address = new_address()
        async with from_address(address) as http:
            assert await statuses(http, first.user.email, "wrong", 2) == [401, 401]
            assert (await sign_in(http, second.user.email, "wrong")).status_code == 401
            assert_throttled(await sign_in(http, third.user.email, PASSWORD), 60)
        async with from_address(new_address()) as elsewhere:
            assert (await sign_in(elsewhere, third.user.email, PASSWORD)).status_code == 200

    async def test_a_success_does_not_reset_the_address_for_other_accounts(
        self, limits: Limits, from_address: FromAddress, make_account: Any
    ) -> None:
        limits(login_address="3/minute")
        first, second, third = [await make_account() for _ in range(3)]
        async with from_address(new_address()) as http:
            assert await statuses(http, first.user.email, "wrong", 2) == [401, 401]
            assert (await sign_in(http, second.user.email, PASSWORD)).status_code == 200
            assert (await sign_in(http, third.user.email, "wrong")).status_code == 401
            assert_throttled(await sign_in(http, second.user.email, PASSWORD), 60)


class TestPasswordConfirmations:
    """A stolen token cannot guess the password through the routes that confirm it."""

    async def test_wrong_passwords_on_deletion_count_as_failed_sign_ins(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="2/minute")
        async with from_address(new_address()) as http:
            for _ in range(2):
                refused = await http.request(
                    "DELETE", "/users/me", json={"password": "wrong"}, headers=user.headers
                )
                assert refused.status_code == 403
            assert_throttled(await sign_in(http, user.user.email, PASSWORD), 60)
            right = await http.request(
                "DELETE", "/users/me", json={"password": PASSWORD}, headers=user.headers
            )
            assert_throttled(right, 60)  # the account still exists
            assert (await http.get("/users/me", headers=user.headers)).status_code == 200

    async def test_wrong_current_passwords_on_a_change_count_too(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="2/minute")
        body = {"current_password": "wrong", "new_password": "a new password 1"}
        async with from_address(new_address()) as http:
            for _ in range(2):
                refused = await http.put("/users/me/password", json=body, headers=user.headers)
                assert refused.status_code == 403
            right = {**body, "current_password": PASSWORD}
            assert_throttled(
                await http.put("/users/me/password", json=right, headers=user.headers), 60
            )


class TestRegistration:
    async def test_registrations_past_the_address_limit_answer_429(
        self, limits: Limits, from_address: FromAddress
    ) -> None:
        limits(register_address="2/minute")

        async def register(http: AsyncClient) -> httpx.Response:
            return await http.post(
                "/auth/register", json={"email": new_email(), "password": PASSWORD}
            )

        async with from_address(new_address()) as http:
            assert [(await register(http)).status_code for _ in range(2)] == [201, 201]
            assert_throttled(await register(http), 60)
        async with from_address(new_address()) as elsewhere:
            assert (await register(elsewhere)).status_code == 201


async def new_key(http: AsyncClient, owner: Account) -> str:
    created = await http.post("/users/me/api-keys", json={"name": "limited"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    key: str = created.json()["api_key"]
    return key


class TestApiKeyBudget:
    async def test_requests_past_the_budget_answer_tmdbs_429_code_25(
        self, limits: Limits, client: AsyncClient, user: Account
    ) -> None:
        limits(api_key="3/minute")
        key, other = await new_key(client, user), await new_key(client, user)
        answers = [await client.get("/3/authentication", params={"api_key": key}) for _ in range(4)]
        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.json() == {
            "success": False,
            "status_code": 25,
            "status_message": "Your request count (#) is over the allowed limit of (3).",
        }
        assert 1 <= retry_after(refused) <= 60
        assert not any(name.startswith("x-ratelimit") for name in refused.headers)
        # The budget is the key's: another key (the same account's) is untouched.
        bearer = {"Authorization": f"Bearer {other}"}
        assert (await client.get("/3/authentication", headers=bearer)).status_code == 200

    async def test_the_budget_has_room_again_after_its_window(
        self, limits: Limits, client: AsyncClient, user: Account
    ) -> None:
        limits(api_key="2/2 seconds")
        params = {"api_key": await new_key(client, user)}
        for _ in range(2):
            assert (await client.get("/3/authentication", params=params)).status_code == 200
        refused = await client.get("/3/authentication", params=params)
        assert refused.status_code == 429
        await asyncio.sleep(retry_after(refused) + 0.1)
        assert (await client.get("/3/authentication", params=params)).status_code == 200


class TestTmdbLogin:
    async def approve(self, http: AsyncClient, key: str, email: str, password: str) -> Any:
        token = (await http.get("/3/authentication/token/new", params={"api_key": key})).json()
        body = {"username": email, "password": password, "request_token": token["request_token"]}
        return await http.post(
            "/3/authentication/token/validate_with_login", params={"api_key": key}, json=body
        )

    async def test_validate_with_login_shares_the_sign_in_limit(
        self, limits: Limits, from_address: FromAddress, user: Account
    ) -> None:
        limits(login_account="2/minute")
        email = user.user.email
        async with from_address(new_address()) as http:
            key = await new_key(http, user)
            assert (await sign_in(http, email, "wrong")).status_code == 401
            wrong = await self.approve(http, key, email, "wrong")
            assert (wrong.status_code, wrong.json()["status_code"]) == (401, 30)
            refused = await self.approve(http, key, email, PASSWORD)
            assert refused.status_code == 429 and refused.json()["status_code"] == 25
            assert refused.json()["success"] is False
            assert 1 <= retry_after(refused) <= 60
            assert (await sign_in(http, email, PASSWORD)).status_code == 429


class TestRedisDown:
    async def test_requests_pass_and_one_warning_is_logged(
        self,
        limits: Limits,
        from_address: FromAddress,
        user: Account,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        down = Redis(host="127.0.0.1", port=9, socket_timeout=0.2, socket_connect_timeout=0.2)
        tight = {name: "1/minute" for name in ("login_account", "login_address", "api_key")}
        limits(redis=down, register_address="1/minute", **tight)
        try:
            with caplog.at_level(logging.WARNING, logger="api.ratelimit"):
                async with from_address(new_address()) as http:
                    assert await statuses(http, user.user.email, "wrong", 3) == [401, 401, 401]
                    assert (await sign_in(http, user.user.email, PASSWORD)).status_code == 200
                    for _ in range(2):
                        body = {"email": new_email(), "password": PASSWORD}
                        assert (await http.post("/auth/register", json=body)).status_code == 201
                    params = {"api_key": await new_key(http, user)}
                    for _ in range(2):
                        response = await http.get("/3/authentication", params=params)
                        assert response.status_code == 200
        finally:
            await down.aclose()
        warnings = [r.getMessage() for r in caplog.records if r.name == "api.ratelimit"]
        assert len(warnings) == 1 and warnings[0].startswith("rate limits are off")


# -- the client address behind a proxy: the Procfile's command (uvicorn --proxy-headers), for real


@asynccontextmanager
async def served(settings: Settings, log: Path, trusted: str) -> AsyncIterator[AsyncClient]:
    """A client of the Procfile's web command, which trusts proxy headers from `trusted` only
    and allows two failed sign-ins a minute per address (and plenty per account)."""
    port = free_port()
    limits = {"RATE_LIMIT_LOGIN_ADDRESS": "2/minute", "RATE_LIMIT_LOGIN_ACCOUNT": ROOMY}
    process = start_procfile_web(settings, port, log, FORWARDED_ALLOW_IPS=trusted, **limits)
    async with serving(process, port, log) as url, AsyncClient(base_url=url, timeout=30) as http:
        yield http


async def forwarded_sign_in(http: AsyncClient, forwarded_for: str) -> int:
    form = {"username": new_email(), "password": "wrong"}
    response = await http.post("/auth/token", data=form, headers={"X-Forwarded-For": forwarded_for})
    return response.status_code


class TestClientAddress:
    @pytest.mark.timeout(90)
    async def test_a_trusted_proxys_forwarded_address_is_the_clients(
        self, settings: Settings, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        first, second = new_address(), new_address()
        async with served(settings, tmp_path / "uvicorn.log", "127.0.0.1") as http:
            assert [await forwarded_sign_in(http, first) for _ in range(2)] == [401, 401]
            assert await forwarded_sign_in(http, second) == 401  # another client
            assert await forwarded_sign_in(http, first) == 429

    @pytest.mark.timeout(90)
    async def test_an_untrusted_peers_forwarded_address_is_ignored(
        self, settings: Settings, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        async with served(settings, tmp_path / "uvicorn.log", "192.0.2.1") as http:
            # Each claims another address; all come from 127.0.0.1, whose limit is two.
            claimed = [await forwarded_sign_in(http, new_address()) for _ in range(3)]
            assert claimed == [401, 401, 429]


# -- argon2's pool


class TestPasswordPool:
    async def test_past_the_queue_a_check_is_refused_at_once(self) -> None:
        pool = security._PasswordPool(workers=1, queue=1)
        release = threading.Event()
        running = [pool.submit(release.wait, 10), pool.submit(release.wait, 10)]
        with pytest.raises(security.PasswordsBusy) as refused:
            pool.submit(release.wait, 10)
        assert refused.value.status_code == 503 and refused.value.headers == {"Retry-After": "1"}
        release.set()
        assert [await asyncio.wrap_future(future) for future in running] == [True, True]
        assert await asyncio.wrap_future(pool.submit(release.wait, 10)) is True
        pool._executor.shutdown()

    async def test_checks_run_in_the_pool_at_a_lower_priority(self) -> None:
        digest = await security.hash_password_async(PASSWORD)
        assert await security.verify_password_async(PASSWORD, digest) is True
        assert await security.verify_password_async("wrong", digest) is False
        assert await security.verify_password_async(PASSWORD, None) is False

        def where() -> tuple[str, int]:
            me = threading.current_thread()
            return me.name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        name, niceness = await asyncio.wrap_future(security._password_pool().submit(where))
        here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert name.startswith("argon2")
        assert niceness == min(here + security.PASSWORD_NICENESS, 19)
