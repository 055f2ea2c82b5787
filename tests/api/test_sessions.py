"""Revocable sign-in tokens: sign-out (that token only, on every route), password change
(every earlier token and TMDB session), admins demoted or deleted, tokens from before
revocation existed, the revocations' purge, and the one query an authenticated request makes."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from api.movies.models import Movie
from api.tmdb.models import TmdbRequestToken, TmdbSession
from api.types import utcnow
from api.users.models import RevokedToken, User
from tests.api.conftest import Catalog
from tests.conftest import SECRET, Account, MakeAccount

PASSWORD = "password123"  # tests.conftest.PASSWORD_HASH's
NEW_PASSWORD = "a brand new passphrase"
AUTH = "/3/authentication"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: AsyncClient, email: str, password: str = PASSWORD) -> Any:
    return await client.post("/auth/token", data={"username": email, "password": password})


async def token_of(client: AsyncClient, account: Account, password: str = PASSWORD) -> str:
    response = await sign_in(client, account.user.email, password)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def logout(client: AsyncClient, headers: dict[str, str], path: str = "/auth/logout") -> Any:
    return await client.post(path, headers=headers)


async def change_password(client: AsyncClient, headers: dict[str, str], **body: Any) -> Any:
    return await client.put("/users/me/password", json=body, headers=headers)


async def tmdb_token(client: AsyncClient, key: str, account: Account) -> dict[str, str]:
    """A request token of the app with this key, approved by the account's login."""
    made = await client.get(f"{AUTH}/token/new", params={"api_key": key})
    token = {"request_token": made.json()["request_token"]}
    login = {"username": account.user.email, "password": PASSWORD, **token}
    url = f"{AUTH}/token/validate_with_login"
    assert (await client.post(url, params={"api_key": key}, json=login)).status_code == 200
    return token


async def tmdb_session(client: AsyncClient, account: Account) -> tuple[str, str]:
    """An API key of the account and a TMDB session made with it (TMDB's three calls)."""
    made = await client.post("/users/me/api-keys", json={"name": "app"}, headers=account.headers)
    key = made.json()["api_key"]
    token = await tmdb_token(client, key, account)
    opened = await client.post(f"{AUTH}/session/new", params={"api_key": key}, json=token)
    assert opened.status_code == 200, opened.text
    return key, str(opened.json()["session_id"])


async def tmdb_account(client: AsyncClient, key: str, session_id: str) -> int:
    params = {"api_key": key, "session_id": session_id}
    return (await client.get("/3/account", params=params)).status_code


@pytest.fixture
async def movie(catalog: Catalog) -> Movie:
    return await catalog.movie(vote_average=6.0, vote_count=2)


def signed_in_routes(movie_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """A route of each signed-in kind: method, path, JSON body."""
    return [
        ("GET", "/users/me", None),
        ("GET", "/users/me/reviews", None),
        ("POST", f"/reviews/{movie_id}", {"rating": 7}),
        ("POST", f"/watchlist/{movie_id}", None),
        ("GET", "/favorites", None),
        ("POST", "/users/me/api-keys", {"name": "after"}),
        ("PUT", "/users/me/password", {"current_password": PASSWORD, "new_password": "x" * 12}),
        ("POST", "/auth/logout", None),
    ]


async def refused_everywhere(client: AsyncClient, headers: dict[str, str], movie_id: int) -> None:
    for method, path, body in signed_in_routes(movie_id):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["code"] == "invalid_token", (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


class TestLogout:
    async def test_logout_returns_204_and_the_token_answers_401_on_every_route(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        headers = bearer(await token_of(client, user))
        assert (await client.get("/users/me", headers=headers)).status_code == 200
        response = await logout(client, headers)
        assert response.status_code == 204
        assert response.content == b""
        await refused_everywhere(client, headers, movie.id)  # type: ignore[arg-type]

    async def test_a_signed_out_admin_token_answers_401_on_admin_routes(
        self, client: AsyncClient, admin: Account, movie: Movie
    ) -> None:
        assert (await logout(client, admin.headers)).status_code == 204
        created = await client.post("/movies/", json={"title": "Nope"}, headers=admin.headers)
        assert (created.status_code, created.json()["code"]) == (401, "invalid_token")
        removed = await client.delete(f"/movies/{movie.id}", headers=admin.headers)
        assert (removed.status_code, removed.json()["code"]) == (401, "invalid_token")
        assert (await client.get(f"/movies/{movie.id}")).status_code == 200

    async def test_the_users_other_tokens_keep_working(
        self, client: AsyncClient, user: Account
    ) -> None:
        first, second = bearer(await token_of(client, user)), bearer(await token_of(client, user))
        assert (await logout(client, first)).status_code == 204
        assert (await client.get("/users/me", headers=first)).status_code == 401
        me = await client.get("/users/me", headers=second)
        assert (me.status_code, me.json()["id"]) == (200, user.id)
        assert (await client.get("/users/me", headers=user.headers)).status_code == 200

    async def test_trailing_slash_answers_the_same(
        self, client: AsyncClient, user: Account
    ) -> None:
        headers = bearer(await token_of(client, user))
        assert (await logout(client, headers, "/auth/logout/")).status_code == 204
        assert (await client.get("/users/me", headers=headers)).status_code == 401

    async def test_without_a_token_returns_401_not_authenticated(self, client: AsyncClient) -> None:
        response = await logout(client, {})
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")

    async def test_the_revocation_is_kept_until_the_token_expires(
        self, client: AsyncClient, db: AsyncSession, user: Account
    ) -> None:
        token = await token_of(client, user)
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        assert (await logout(client, bearer(token))).status_code == 204
        row = await db.get(RevokedToken, claims["jti"])
        assert row is not None
        assert row.user_id == user.id
        assert int(row.expires_at.timestamp()) == claims["exp"]

    async def test_revocations_of_expired_tokens_are_purged_at_the_next_logout(
        self, client: AsyncClient, db: AsyncSession, user: Account, make_account: MakeAccount
    ) -> None:
        other = await make_account()
        now = utcnow()
        fields = {"user_id": other.id, "revoked_at": now - timedelta(days=2)}
        gone = RevokedToken.model_validate(
            {**fields, "token_id": "a" * 32, "expires_at": now - timedelta(seconds=5)}
        )
        kept = RevokedToken.model_validate(
            {**fields, "token_id": "b" * 32, "expires_at": now + timedelta(hours=1)}
        )
        db.add_all([gone, kept])
        await db.commit()
        assert (await logout(client, user.headers)).status_code == 204
        stmt = select(col(RevokedToken.token_id)).where(
            col(RevokedToken.user_id).in_([other.id, user.id])
        )
        left = set((await db.execute(stmt)).scalars())
        assert "a" * 32 not in left
        assert "b" * 32 in left
        assert len(left) == 2  # kept, and the user's own token just signed out

    async def test_a_token_from_before_revocation_existed_is_refused(
        self, client: AsyncClient, user: Account
    ) -> None:
        now = utcnow()
        claims = {"sub": str(user.id), "iat": now, "exp": now + timedelta(hours=1)}
        old = jwt.encode(claims, SECRET, algorithm="HS256")  # no `jti`, no `ver`
        response = await client.get("/users/me", headers=bearer(old))
        assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


class TestOneQueryPerRequest:
    @pytest.fixture
    def selects(self, connection: AsyncConnection) -> Iterator[list[str]]:
        seen: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        event.listen(connection.sync_connection, "before_cursor_execute", note)
        yield seen
        event.remove(connection.sync_connection, "before_cursor_execute", note)

    async def test_reading_me_makes_one_select_that_also_checks_the_revocation(
        self, client: AsyncClient, user: Account, selects: list[str]
    ) -> None:
        assert (await client.get("/users/me", headers=user.headers)).status_code == 200
        assert len(selects) == 1
        assert "revoked_token" in selects[0]


class TestPasswordChange:
    async def test_every_earlier_token_answers_401_and_the_new_password_signs_in(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        earlier = [user.headers, bearer(await token_of(client, user))]
        used = bearer(await token_of(client, user))
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        response = await change_password(client, used, **body)
        assert (response.status_code, response.content) == (204, b"")
        for headers in [*earlier, used]:  # the token used included: sign in again
            await refused_everywhere(client, headers, movie.id)  # type: ignore[arg-type]
        old = await sign_in(client, user.user.email, PASSWORD)
        assert (old.status_code, old.json()["code"]) == (401, "invalid_credentials")
        fresh = bearer(await token_of(client, user, NEW_PASSWORD))
        me = await client.get("/users/me", headers=fresh)
        assert (me.status_code, me.json()["id"]) == (200, user.id)

    async def test_a_second_change_ends_the_tokens_of_the_first(
        self, client: AsyncClient, user: Account
    ) -> None:
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        assert (await change_password(client, user.headers, **body)).status_code == 204
        between = bearer(await token_of(client, user, NEW_PASSWORD))
        again = {"current_password": NEW_PASSWORD, "new_password": "third time lucky"}
        assert (await change_password(client, between, **again)).status_code == 204
        assert (await client.get("/users/me", headers=between)).status_code == 401
        latest = bearer(await token_of(client, user, "third time lucky"))
        assert (await client.get("/users/me", headers=latest)).status_code == 200

    async def test_wrong_current_password_returns_403_and_changes_nothing(
        self, client: AsyncClient, db: AsyncSession, user: Account
    ) -> None:
        before = await db.get(User, user.id)
        assert before is not None
        stored = (before.password_hash, before.token_version)
        body = {"current_password": "not my password", "new_password": NEW_PASSWORD}
        response = await change_password(client, user.headers, **body)
        assert (response.status_code, response.json()["code"]) == (403, "wrong_password")
        assert (await client.get("/users/me", headers=user.headers)).status_code == 200
        assert (await sign_in(client, user.user.email, PASSWORD)).status_code == 200
        assert (await sign_in(client, user.user.email, NEW_PASSWORD)).status_code == 401
        stored_now = select(col(User.password_hash), col(User.token_version))
        after = (await db.execute(stored_now.where(col(User.id) == user.id))).one()
        assert tuple(after) == stored

    @pytest.mark.parametrize(
        "body",
        [
            {"current_password": PASSWORD, "new_password": "short"},
            {"current_password": PASSWORD, "new_password": "x" * 129},
            {"current_password": PASSWORD},
            {"new_password": NEW_PASSWORD},
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "is_admin": True},
        ],
        ids=["too-short", "too-long", "no-new", "no-current", "extra-field"],
    )
    async def test_a_new_password_is_validated_as_at_registration(
        self, client: AsyncClient, user: Account, body: dict[str, Any]
    ) -> None:
        response = await change_password(client, user.headers, **body)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")
        assert (await client.get("/users/me", headers=user.headers)).status_code == 200
        assert (await sign_in(client, user.user.email, PASSWORD)).status_code == 200

    async def test_the_users_tmdb_sessions_end_and_others_stay(
        self, client: AsyncClient, db: AsyncSession, user: Account, make_account: MakeAccount
    ) -> None:
        other = await make_account()
        key, session_id = await tmdb_session(client, user)
        other_key, other_session = await tmdb_session(client, other)
        # A request token the user approved that no app has used yet would make a session.
        token = await tmdb_token(client, key, user)
        assert await tmdb_account(client, key, session_id) == 200
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        assert (await change_password(client, user.headers, **body)).status_code == 204
        assert await tmdb_account(client, key, session_id) == 401
        assert await tmdb_account(client, other_key, other_session) == 200
        reused = await client.post(f"{AUTH}/session/new", params={"api_key": key}, json=token)
        assert reused.status_code == 401
        live = (
            select(func.count())
            .select_from(TmdbSession)
            .where(col(TmdbSession.user_id) == user.id, col(TmdbSession.revoked_at).is_(None))
        )
        assert (await db.execute(live)).scalar_one() == 0
        approved = (
            select(func.count())
            .select_from(TmdbRequestToken)
            .where(col(TmdbRequestToken.user_id) == user.id)
        )
        assert (await db.execute(approved)).scalar_one() == 0
        # API keys belong to applications: they keep working.
        assert (await client.get("/3/authentication", params={"api_key": key})).status_code == 200


class TestAdminLosesAccessAtOnce:
    async def test_a_demoted_admin_gets_403_on_admin_routes_with_the_same_token(
        self, client: AsyncClient, db: AsyncSession, admin: Account, movie: Movie
    ) -> None:
        made = await client.post("/movies/", json={"title": "Before"}, headers=admin.headers)
        assert made.status_code == 201, made.text
        await db.execute(update(User).where(col(User.id) == admin.id).values(is_admin=False))
        await db.commit()
        refused = await client.post("/movies/", json={"title": "After"}, headers=admin.headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "admin_required")
        edit = await client.patch(f"/movies/{movie.id}", json={"title": "X"}, headers=admin.headers)
        assert (edit.status_code, edit.json()["code"]) == (403, "admin_required")
        me = await client.get("/users/me", headers=admin.headers)
        assert (me.status_code, me.json()["is_admin"]) == (200, False)

    async def test_a_deleted_admin_gets_401_on_admin_routes(
        self, client: AsyncClient, db: AsyncSession, admin: Account
    ) -> None:
        await db.execute(delete(User).where(col(User.id) == admin.id))
        await db.commit()
        refused = await client.post("/movies/", json={"title": "Gone"}, headers=admin.headers)
        assert (refused.status_code, refused.json()["code"]) == (401, "invalid_token")
