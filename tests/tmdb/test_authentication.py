"""TMDB's request-token login under /3, in process: the key check answer, request tokens
(40 hex, 60 minutes, stored hashed, used once, the app's own), the login (the Marquee email
and password; codes 26, 30, 33), sessions (stored hashed, tied to the key that made them,
revoked at once, ended when idle) and the legacy GET forms behind their setting."""

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import BackgroundTasks
from httpx import AsyncClient
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request

from api.tmdb.models import TmdbRequestToken, TmdbSession
from api.tmdb.sessions import SESSION_IDLE_LIMIT, optional_session_user
from api.types import utcnow
from api.users.models import User
from tests.conftest import Account, MakeAccount
from tests.tmdb.conftest import MakeKey

PASSWORD = "password123"  # tests.conftest.PASSWORD_HASH's
AUTH = "/3/authentication"
TOKEN_NEW = f"{AUTH}/token/new"
VALIDATE = f"{AUTH}/token/validate_with_login"
SESSION_NEW = f"{AUTH}/session/new"
SESSION = f"{AUTH}/session"
HEX40 = re.compile(r"[0-9a-f]{40}")
AUTH_FAILED = {
    "success": False,
    "status_code": 3,
    "status_message": "Authentication failed: You do not have permissions to access the service.",
}
INVALID_TOKEN = {
    "success": False,
    "status_code": 33,
    "status_message": "Invalid request token: The request token is either expired or invalid.",
}
BAD_LOGIN = {
    "success": False,
    "status_code": 30,
    "status_message": "Invalid username and/or password: You did not provide a valid login.",
}
MISSING_LOGIN = {
    "success": False,
    "status_code": 26,
    "status_message": "You must provide a username and password.",
}
SESSION_NOT_FOUND = {
    "success": False,
    "status_code": 37,
    "status_message": "The requested session could not be found.",
}


def tmdb_error(response: Any, status: int, body: dict[str, Any]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def new_token(client: AsyncClient, key: str) -> str:
    response = await client.get(TOKEN_NEW, params={"api_key": key})
    assert response.status_code == 200, response.text
    return str(response.json()["request_token"])


async def approve(client: AsyncClient, key: str, email: str, password: str, token: str) -> Any:
    body = {"username": email, "password": password, "request_token": token}
    return await client.post(VALIDATE, params={"api_key": key}, json=body)


async def login(client: AsyncClient, key: str, account: Account) -> str:
    """A session of the account made with this key, through TMDB's three calls."""
    token = await new_token(client, key)
    assert (await approve(client, key, account.user.email, PASSWORD, token)).status_code == 200
    response = await client.post(
        SESSION_NEW, params={"api_key": key}, json={"request_token": token}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["session_id"])


async def account_id_of(client: AsyncClient, key: str, session_id: str) -> Any:
    return await client.get("/3/account", params={"api_key": key, "session_id": session_id})


class TestKeyCheck:
    async def test_a_working_key_answers_tmdbs_success(
        self, client: AsyncClient, api_key: str
    ) -> None:
        response = await client.get(AUTH, params={"api_key": api_key})
        assert response.status_code == 200
        assert response.json() == {"success": True, "status_code": 1, "status_message": "Success."}

    async def test_without_a_key_returns_401_code_7(self, client: AsyncClient) -> None:
        response = await client.get(AUTH)
        assert response.status_code == 401
        assert response.json()["status_code"] == 7


class TestRequestToken:
    async def test_a_token_is_40_hex_and_expires_in_60_minutes_in_tmdbs_format(
        self, client: AsyncClient, api_key: str
    ) -> None:
        before = utcnow().replace(microsecond=0)
        body = (await client.get(TOKEN_NEW, params={"api_key": api_key})).json()
        assert set(body) == {"success", "expires_at", "request_token"}
        assert body["success"] is True
        assert HEX40.fullmatch(body["request_token"])
        expires = datetime.strptime(body["expires_at"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        assert before + timedelta(minutes=60) <= expires <= utcnow() + timedelta(minutes=60)

    async def test_only_the_sha256_of_a_token_is_stored_with_its_key(
        self, client: AsyncClient, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        key_id, key = await make_key(user)
        token = await new_token(client, key)
        rows = (
            (
                await db.execute(
                    select(TmdbRequestToken).where(col(TmdbRequestToken.api_key_id) == key_id)
                )
            )
            .scalars()
            .all()
        )
        assert [(r.token_hash, r.user_id) for r in rows] == [(sha256(token), None)]

    async def test_each_token_is_new(self, client: AsyncClient, api_key: str) -> None:
        assert await new_token(client, api_key) != await new_token(client, api_key)

    async def test_long_expired_tokens_are_purged_when_a_new_one_is_made(
        self, client: AsyncClient, api_key: str, db: AsyncSession
    ) -> None:
        old = await new_token(client, api_key)
        await _expire(db, old, timedelta(days=2))
        await new_token(client, api_key)
        found = await db.execute(
            select(TmdbRequestToken).where(col(TmdbRequestToken.token_hash) == sha256(old))
        )
        assert found.first() is None


async def _expire(db: AsyncSession, token: str, ago: timedelta) -> None:
    stmt = update(TmdbRequestToken).where(col(TmdbRequestToken.token_hash) == sha256(token))
    await db.execute(stmt.values(expires_at=utcnow() - ago))
    await db.commit()


class TestValidateWithLogin:
    async def test_the_email_and_password_approve_the_token(
        self, client: AsyncClient, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        _, key = await make_key(user)
        issued = (await client.get(TOKEN_NEW, params={"api_key": key})).json()
        token = issued["request_token"]
        response = await approve(client, key, user.user.email.upper(), PASSWORD, token)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "success": True,
            **{k: issued[k] for k in ("expires_at", "request_token")},
        }
        row = (
            await db.execute(
                select(TmdbRequestToken.user_id).where(
                    col(TmdbRequestToken.token_hash) == sha256(token)
                )
            )
        ).one()
        assert row.user_id == user.id

    async def test_a_wrong_password_returns_401_code_30(
        self, client: AsyncClient, user: Account, api_key: str
    ) -> None:
        token = await new_token(client, api_key)
        tmdb_error(
            await approve(client, api_key, user.user.email, "wrong-pass", token), 401, BAD_LOGIN
        )

    async def test_an_unknown_email_returns_the_same_401_code_30(
        self, client: AsyncClient, api_key: str
    ) -> None:
        token = await new_token(client, api_key)
        response = await approve(client, api_key, "nobody@example.com", PASSWORD, token)
        tmdb_error(response, 401, BAD_LOGIN)

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"password": PASSWORD},
            {"username": "a@example.com"},
            {"username": "", "password": ""},
        ],
    )
    async def test_without_username_or_password_returns_400_code_26(
        self, client: AsyncClient, api_key: str, body: dict[str, str]
    ) -> None:
        token = await new_token(client, api_key)
        response = await client.post(
            VALIDATE, params={"api_key": api_key}, json={**body, "request_token": token}
        )
        tmdb_error(response, 400, MISSING_LOGIN)

    async def test_without_a_body_returns_400_code_26(
        self, client: AsyncClient, api_key: str
    ) -> None:
        tmdb_error(await client.post(VALIDATE, params={"api_key": api_key}), 400, MISSING_LOGIN)

    @pytest.mark.parametrize("token", [None, "", "f" * 40, "not-a-token", "F" * 39])
    async def test_an_unknown_token_returns_401_code_33(
        self, client: AsyncClient, user: Account, api_key: str, token: str | None
    ) -> None:
        response = await approve(client, api_key, user.user.email, PASSWORD, token)  # type: ignore[arg-type]
        tmdb_error(response, 401, INVALID_TOKEN)

    async def test_an_expired_token_returns_401_code_33(
        self, client: AsyncClient, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        token = await new_token(client, api_key)
        await _expire(db, token, timedelta(seconds=1))
        tmdb_error(
            await approve(client, api_key, user.user.email, PASSWORD, token), 401, INVALID_TOKEN
        )

    async def test_another_apps_token_returns_401_code_33(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        _, mine = await make_key(user, "mine")
        _, theirs = await make_key(user, "theirs")
        token = await new_token(client, theirs)
        tmdb_error(
            await approve(client, mine, user.user.email, PASSWORD, token), 401, INVALID_TOKEN
        )

    async def test_a_bad_json_body_returns_400_code_18(
        self, client: AsyncClient, api_key: str
    ) -> None:
        headers = {"Content-Type": "application/json"}
        response = await client.post(
            VALIDATE, params={"api_key": api_key}, content=b"{", headers=headers
        )
        assert response.status_code == 400
        assert response.json()["status_code"] == 18


class TestSessionNew:
    async def test_an_approved_token_makes_a_session_of_its_account(
        self, client: AsyncClient, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        key_id, key = await make_key(user)
        session_id = await login(client, key, user)
        assert HEX40.fullmatch(session_id)
        row = (
            await db.execute(
                select(TmdbSession).where(col(TmdbSession.session_hash) == sha256(session_id))
            )
        ).scalar_one()
        assert (row.user_id, row.api_key_id, row.revoked_at) == (user.id, key_id, None)
        assert (await account_id_of(client, key, session_id)).json()["id"] == user.id

    async def test_the_answer_is_tmdbs(
        self, client: AsyncClient, user: Account, api_key: str
    ) -> None:
        token = await new_token(client, api_key)
        await approve(client, api_key, user.user.email, PASSWORD, token)
        response = await client.post(
            SESSION_NEW, params={"api_key": api_key}, json={"request_token": token}
        )
        assert response.status_code == 200
        assert set(response.json()) == {"success", "session_id"}
        assert response.json()["success"] is True

    async def test_a_token_works_once_then_returns_401_code_33(
        self, client: AsyncClient, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        token = await new_token(client, api_key)
        await approve(client, api_key, user.user.email, PASSWORD, token)
        params = {"api_key": api_key}
        assert (
            await client.post(SESSION_NEW, params=params, json={"request_token": token})
        ).status_code == 200
        again = await client.post(SESSION_NEW, params=params, json={"request_token": token})
        tmdb_error(again, 401, INVALID_TOKEN)
        tmdb_error(
            await approve(client, api_key, user.user.email, PASSWORD, token), 401, INVALID_TOKEN
        )

    async def test_a_token_not_approved_returns_401_code_17(
        self, client: AsyncClient, api_key: str
    ) -> None:
        token = await new_token(client, api_key)
        response = await client.post(
            SESSION_NEW, params={"api_key": api_key}, json={"request_token": token}
        )
        tmdb_error(
            response,
            401,
            {"success": False, "status_code": 17, "status_message": "Session denied."},
        )

    async def test_an_expired_approved_token_returns_401_code_33(
        self, client: AsyncClient, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        token = await new_token(client, api_key)
        await approve(client, api_key, user.user.email, PASSWORD, token)
        await _expire(db, token, timedelta(seconds=1))
        response = await client.post(
            SESSION_NEW, params={"api_key": api_key}, json={"request_token": token}
        )
        tmdb_error(response, 401, INVALID_TOKEN)

    async def test_another_apps_approved_token_returns_401_code_33(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        _, mine = await make_key(user, "mine")
        _, theirs = await make_key(user, "theirs")
        token = await new_token(client, theirs)
        await approve(client, theirs, user.user.email, PASSWORD, token)
        response = await client.post(
            SESSION_NEW, params={"api_key": mine}, json={"request_token": token}
        )
        tmdb_error(response, 401, INVALID_TOKEN)

    @pytest.mark.parametrize("body", [None, {}, {"request_token": "0" * 40}])
    async def test_no_or_an_unknown_token_returns_401_code_33(
        self, client: AsyncClient, api_key: str, body: dict[str, str] | None
    ) -> None:
        response = await client.post(SESSION_NEW, params={"api_key": api_key}, json=body)
        tmdb_error(response, 401, INVALID_TOKEN)


class TestSessionUse:
    async def test_no_session_returns_401_code_3(self, client: AsyncClient, api_key: str) -> None:
        tmdb_error(await client.get("/3/account", params={"api_key": api_key}), 401, AUTH_FAILED)

    @pytest.mark.parametrize("session_id", ["", "0" * 40, "nope"])
    async def test_an_unknown_session_returns_401_code_3(
        self, client: AsyncClient, api_key: str, session_id: str
    ) -> None:
        tmdb_error(await account_id_of(client, api_key, session_id), 401, AUTH_FAILED)

    async def test_a_session_is_refused_with_another_apps_key(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        _, mine = await make_key(user, "mine")
        _, theirs = await make_key(user, "theirs")
        session_id = await login(client, mine, user)
        tmdb_error(await account_id_of(client, theirs, session_id), 401, AUTH_FAILED)
        assert (await account_id_of(client, mine, session_id)).status_code == 200

    async def test_a_session_is_refused_with_another_users_key(
        self, client: AsyncClient, user: Account, make_account: MakeAccount, make_key: MakeKey
    ) -> None:
        other = await make_account()
        _, mine = await make_key(user)
        _, theirs = await make_key(other)
        session_id = await login(client, mine, user)
        tmdb_error(await account_id_of(client, theirs, session_id), 401, AUTH_FAILED)

    async def test_a_session_stops_with_its_revoked_key(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        key_id, key = await make_key(user)
        session_id = await login(client, key, user)
        await client.delete(f"/users/me/api-keys/{key_id}", headers=user.headers)
        response = await account_id_of(client, key, session_id)
        assert (response.status_code, response.json()["status_code"]) == (401, 7)

    async def test_a_session_as_bearer_key_works_too(
        self, client: AsyncClient, user: Account, api_key: str
    ) -> None:
        session_id = await login(client, api_key, user)
        headers = {"Authorization": f"Bearer {api_key}"}
        response = await client.get(
            "/3/account", params={"session_id": session_id}, headers=headers
        )
        assert response.json()["id"] == user.id

    async def test_a_use_is_recorded_after_the_answer_once_a_minute(
        self, client: AsyncClient, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        session_id = await login(client, api_key, user)
        await account_id_of(client, api_key, session_id)
        first = await _last_used(db, session_id)
        assert first is not None and utcnow() - first < timedelta(minutes=1)
        await account_id_of(client, api_key, session_id)
        assert await _last_used(db, session_id) == first

    async def test_a_session_unused_past_the_idle_limit_stops_working(
        self, client: AsyncClient, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        session_id = await login(client, api_key, user)
        idle = utcnow() - SESSION_IDLE_LIMIT - timedelta(minutes=1)
        stmt = update(TmdbSession).where(col(TmdbSession.session_hash) == sha256(session_id))
        await db.execute(stmt.values(created_at=idle, last_used_at=idle))
        await db.commit()
        tmdb_error(await account_id_of(client, api_key, session_id), 401, AUTH_FAILED)

    async def test_sessions_go_with_their_account(
        self, client: AsyncClient, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        session_id = await login(client, api_key, user)
        await db.execute(delete(User).where(col(User.id) == user.id))
        await db.commit()
        assert await _last_used(db, session_id, missing=True) is None


async def _last_used(db: AsyncSession, session_id: str, missing: bool = False) -> datetime | None:
    stmt = select(TmdbSession.last_used_at).where(
        col(TmdbSession.session_hash) == sha256(session_id)
    )
    row = (await db.execute(stmt.execution_options(populate_existing=True))).first()
    assert (row is None) == missing
    return row[0] if row is not None else None


class TestSessionDelete:
    async def test_delete_ends_the_session_at_once(
        self, client: AsyncClient, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        session_id = await login(client, api_key, user)
        response = await client.request(
            "DELETE", SESSION, params={"api_key": api_key}, json={"session_id": session_id}
        )
        assert (response.status_code, response.json()) == (200, {"success": True})
        tmdb_error(await account_id_of(client, api_key, session_id), 401, AUTH_FAILED)
        row = (
            await db.execute(
                select(TmdbSession.revoked_at).where(
                    col(TmdbSession.session_hash) == sha256(session_id)
                )
            )
        ).one()
        assert row.revoked_at is not None

    async def test_a_session_ended_already_returns_404_code_37(
        self, client: AsyncClient, user: Account, api_key: str
    ) -> None:
        session_id = await login(client, api_key, user)
        body = {"session_id": session_id}
        await client.request("DELETE", SESSION, params={"api_key": api_key}, json=body)
        again = await client.request("DELETE", SESSION, params={"api_key": api_key}, json=body)
        tmdb_error(again, 404, SESSION_NOT_FOUND)

    @pytest.mark.parametrize("body", [None, {}, {"session_id": "0" * 40}, {"session_id": "x"}])
    async def test_no_or_an_unknown_session_returns_404_code_37(
        self, client: AsyncClient, api_key: str, body: dict[str, str] | None
    ) -> None:
        response = await client.request("DELETE", SESSION, params={"api_key": api_key}, json=body)
        tmdb_error(response, 404, SESSION_NOT_FOUND)

    async def test_another_apps_session_returns_404_code_37_and_keeps_working(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        _, mine = await make_key(user, "mine")
        _, theirs = await make_key(user, "theirs")
        session_id = await login(client, mine, user)
        response = await client.request(
            "DELETE", SESSION, params={"api_key": theirs}, json={"session_id": session_id}
        )
        tmdb_error(response, 404, SESSION_NOT_FOUND)
        assert (await account_id_of(client, mine, session_id)).status_code == 200

    async def test_the_session_may_come_as_a_query_parameter(
        self, client: AsyncClient, user: Account, api_key: str
    ) -> None:
        session_id = await login(client, api_key, user)
        params = {"api_key": api_key, "session_id": session_id}
        assert (await client.delete(SESSION, params=params)).json() == {"success": True}
        tmdb_error(await account_id_of(client, api_key, session_id), 401, AUTH_FAILED)


@pytest.fixture
def legacy_login(app: Any) -> Iterator[None]:
    """TMDB_COMPAT_LEGACY_GET_LOGIN switched on for this test."""
    real = app.state.settings
    app.state.settings = real.model_copy(update={"TMDB_COMPAT_LEGACY_GET_LOGIN": True})
    yield
    app.state.settings = real


class TestLegacyGetForms:
    async def test_off_by_default_they_answer_405_code_42(
        self, client: AsyncClient, user: Account, api_key: str
    ) -> None:
        token = await new_token(client, api_key)
        params = {
            "api_key": api_key,
            "username": user.user.email,
            "password": PASSWORD,
            "request_token": token,
        }
        refused = await client.get(VALIDATE, params=params)
        assert (refused.status_code, refused.json()["status_code"]) == (405, 42)
        assert refused.headers["allow"] == "POST"
        refused = await client.get(SESSION_NEW, params={"api_key": api_key, "request_token": token})
        assert (refused.status_code, refused.json()["status_code"]) == (405, 42)
        assert (
            await client.post(
                SESSION_NEW, params={"api_key": api_key}, json={"request_token": token}
            )
        ).status_code == 401

    async def test_switched_on_they_log_in(
        self, client: AsyncClient, user: Account, api_key: str, legacy_login: None
    ) -> None:
        token = await new_token(client, api_key)
        params = {
            "api_key": api_key,
            "username": user.user.email,
            "password": PASSWORD,
            "request_token": token,
        }
        assert (await client.get(VALIDATE, params=params)).json()["request_token"] == token
        created = await client.get(SESSION_NEW, params={"api_key": api_key, "request_token": token})
        session_id = created.json()["session_id"]
        assert (await account_id_of(client, api_key, session_id)).json()["id"] == user.id

    async def test_switched_on_a_wrong_password_still_returns_401_code_30(
        self, client: AsyncClient, user: Account, api_key: str, legacy_login: None
    ) -> None:
        token = await new_token(client, api_key)
        params = {
            "api_key": api_key,
            "username": user.user.email,
            "password": "nope-nope",
            "request_token": token,
        }
        tmdb_error(await client.get(VALIDATE, params=params), 401, BAD_LOGIN)


def _request(app: Any, query: str, headers: dict[str, str] | None = None) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/3/movie/1",
        "query_string": query.encode(),
        "headers": raw,
        "app": app,
    }
    return Request(scope)


class TestOptionalSessionUser:
    """The helper other /3 routes call where a session only adds to the answer."""

    async def test_a_working_session_gives_its_user(
        self, client: AsyncClient, app: Any, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        session_id = await login(client, api_key, user)
        found = await optional_session_user(
            _request(app, f"api_key={api_key}&session_id={session_id}"), db
        )
        assert found is not None and found.id == user.id
        bearer = {"Authorization": f"Bearer {api_key}"}
        found = await optional_session_user(
            _request(app, f"session_id={session_id}", bearer), db, BackgroundTasks()
        )
        assert found is not None and found.id == user.id

    async def test_no_unknown_or_another_apps_session_gives_none(
        self, client: AsyncClient, app: Any, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        _, mine = await make_key(user, "mine")
        _, theirs = await make_key(user, "theirs")
        session_id = await login(client, mine, user)
        for query in (
            f"api_key={mine}",
            f"api_key={mine}&session_id={'0' * 40}",
            f"api_key={theirs}&session_id={session_id}",
            f"session_id={session_id}",
        ):
            assert await optional_session_user(_request(app, query), db) is None, query

    async def test_a_revoked_session_gives_none(
        self, client: AsyncClient, app: Any, user: Account, api_key: str, db: AsyncSession
    ) -> None:
        session_id = await login(client, api_key, user)
        await client.request(
            "DELETE", SESSION, params={"api_key": api_key}, json={"session_id": session_id}
        )
        query = f"api_key={api_key}&session_id={session_id}"
        assert await optional_session_user(_request(app, query), db) is None
