"""Accounts: registration, tokens, the signed-in user, admin bootstrap, password storage."""

import asyncio
import uuid
from typing import Any

import pytest
from argon2 import PasswordHasher
from httpx import AsyncClient
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from typer.testing import CliRunner

from api.main import create_app
from api.settings import DEFAULT_SECRET, Settings, get_settings
from api.users import service
from api.users.models import User
from api.users.security import create_access_token
from tests.conftest import SECRET, Account, MakeAccount

PASSWORD = "correct horse battery"


def new_email() -> str:
    return f"acct-{uuid.uuid4().hex[:10]}@example.com"


async def register(client: AsyncClient, **body: Any) -> Any:
    return await client.post("/auth/register", json=body)


async def sign_in(client: AsyncClient, email: str, password: str) -> Any:
    return await client.post("/auth/token", data={"username": email, "password": password})


async def user_by_email(engine: AsyncEngine, email: str) -> User | None:
    async with AsyncSession(engine) as session:
        stmt = select(User).where(func.lower(User.email) == email.lower())
        return (await session.execute(stmt)).scalars().first()


async def remove_user(engine: AsyncEngine, email: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(User).where(func.lower(User.email) == email.lower()))


class TestRegister:
    async def test_register_returns_201_with_the_public_user(self, client: AsyncClient) -> None:
        email = new_email()
        response = await register(client, email=email, password=PASSWORD, display_name="Ada")
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "email", "display_name", "is_admin"}
        assert body["email"] == email
        assert body["display_name"] == "Ada"
        assert body["is_admin"] is False
        assert isinstance(body["id"], int)

    async def test_display_name_defaults_to_the_email_local_part(self, client: AsyncClient) -> None:
        email = new_email()
        response = await register(client, email=email, password=PASSWORD)
        assert response.status_code == 201, response.text
        assert response.json()["display_name"] == email.split("@")[0]

    async def test_registered_user_can_sign_in_and_read_me(self, client: AsyncClient) -> None:
        email = new_email()
        created = (await register(client, email=email, password=PASSWORD)).json()
        token = (await sign_in(client, email, PASSWORD)).json()["access_token"]
        me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json() == created

    async def test_taken_email_returns_409(self, client: AsyncClient) -> None:
        email = new_email()
        assert (await register(client, email=email, password=PASSWORD)).status_code == 201
        response = await register(client, email=email, password="another password")
        assert response.status_code == 409
        assert response.json() == {"detail": response.json()["detail"], "code": "email_taken"}

    async def test_taken_email_in_other_case_returns_409(self, client: AsyncClient) -> None:
        email = new_email()
        assert (await register(client, email=email, password=PASSWORD)).status_code == 201
        response = await register(client, email=email.upper(), password=PASSWORD)
        assert response.status_code == 409
        assert response.json()["code"] == "email_taken"

    async def test_email_is_stored_lower_case(self, client: AsyncClient, db: AsyncSession) -> None:
        email = new_email()
        response = await register(
            client, email=email.upper().replace("EXAMPLE.COM", "Example.com"), password=PASSWORD
        )
        assert response.status_code == 201, response.text
        assert response.json()["email"] == email
        assert (await sign_in(client, email.upper(), PASSWORD)).status_code == 200

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"email": "not-an-email", "password": PASSWORD}, id="bad-email"),
            pytest.param({"email": "@example.com", "password": PASSWORD}, id="no-local-part"),
            pytest.param({"email": "{email}", "password": "short"}, id="short-password"),
            pytest.param({"email": "{email}", "password": "x" * 129}, id="long-password"),
            pytest.param(
                {"email": "{email}", "password": PASSWORD, "is_admin": True}, id="extra-field"
            ),
            pytest.param({"email": 5, "password": PASSWORD}, id="email-not-a-string"),
            pytest.param({"email": "{email}", "password": 12345678}, id="password-not-a-string"),
            pytest.param(
                {"email": "{email}", "password": PASSWORD, "display_name": "   "}, id="blank-name"
            ),
            pytest.param(
                {"email": "{email}", "password": PASSWORD, "display_name": "n" * 101},
                id="long-name",
            ),
            pytest.param({"password": PASSWORD}, id="missing-email"),
            pytest.param({"email": "{email}"}, id="missing-password"),
        ],
    )
    async def test_bad_input_returns_422_and_creates_nothing(
        self, client: AsyncClient, db: AsyncSession, body: dict[str, Any]
    ) -> None:
        email = new_email()
        body = {k: (email if v == "{email}" else v) for k, v in body.items()}
        response = await register(client, **body)
        assert response.status_code == 422, response.text
        payload = response.json()
        assert payload["code"] == "validation_error"
        assert isinstance(payload["detail"], str)
        assert payload["errors"] and all("loc" in e and "msg" in e for e in payload["errors"])
        assert (await db.execute(select(User).where(col(User.email) == email))).first() is None

    async def test_extra_field_cannot_make_an_admin(self, client: AsyncClient) -> None:
        response = await register(client, email=new_email(), password=PASSWORD, is_admin=True)
        assert response.status_code == 422

    async def test_password_is_not_echoed_in_validation_errors(self, client: AsyncClient) -> None:
        secret = "tiny"
        response = await register(client, email=new_email(), password=secret)
        assert response.status_code == 422
        assert secret not in response.text


class TestPasswordStorage:
    async def test_password_is_stored_as_an_argon2_hash(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        email = new_email()
        assert (await register(client, email=email, password=PASSWORD)).status_code == 201
        stored = (
            await db.execute(select(col(User.password_hash)).where(col(User.email) == email))
        ).scalar_one()
        assert stored != PASSWORD
        assert PASSWORD not in stored
        assert stored.startswith("$argon2")
        assert PasswordHasher().verify(stored, PASSWORD)


class TestToken:
    async def test_token_for_correct_credentials(self, client: AsyncClient, user: Account) -> None:
        response = await sign_in(client, user.user.email, "password123")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "bearer"
        me = await client.get(
            "/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert me.json()["id"] == user.id

    async def test_wrong_password_returns_401_invalid_credentials(
        self, client: AsyncClient, user: Account
    ) -> None:
        response = await sign_in(client, user.user.email, "wrong-password")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
        assert "access_token" not in response.json()

    async def test_unknown_email_returns_the_same_401(
        self, client: AsyncClient, user: Account
    ) -> None:
        unknown = await sign_in(client, new_email(), "password123")
        wrong = await sign_in(client, user.user.email, "wrong-password")
        assert unknown.status_code == 401
        assert unknown.json() == wrong.json()

    async def test_token_endpoint_takes_a_form_not_json(
        self, client: AsyncClient, user: Account
    ) -> None:
        response = await client.post(
            "/auth/token", json={"username": user.user.email, "password": "password123"}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    @pytest.mark.parametrize(
        "form",
        [{"username": "a@example.com"}, {"password": "password123"}, {}],
        ids=["no-password", "no-username", "empty"],
    )
    async def test_missing_fields_return_422(
        self, client: AsyncClient, form: dict[str, str]
    ) -> None:
        response = await client.post("/auth/token", data=form)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"
        assert response.json()["errors"]


class TestMe:
    async def test_me_returns_the_signed_in_user(self, client: AsyncClient, user: Account) -> None:
        response = await client.get("/users/me", headers=user.headers)
        assert response.status_code == 200
        assert response.json() == {
            "id": user.id,
            "email": user.user.email,
            "display_name": user.user.display_name,
            "is_admin": False,
        }

    async def test_me_of_an_admin_says_so(self, client: AsyncClient, admin: Account) -> None:
        response = await client.get("/users/me", headers=admin.headers)
        assert response.json()["is_admin"] is True

    async def test_anonymous_gets_401_with_www_authenticate(self, client: AsyncClient) -> None:
        response = await client.get("/users/me")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["code"] == "not_authenticated"

    @pytest.mark.parametrize(
        "authorization",
        ["Bearer not-a-jwt", "Bearer ", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "bearer"],
        ids=["garbage", "empty", "three-parts", "basic", "no-token"],
    )
    async def test_malformed_authorization_returns_401(
        self, client: AsyncClient, authorization: str
    ) -> None:
        response = await client.get("/users/me", headers={"Authorization": authorization})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert set(response.json()) == {"detail", "code"}

    async def test_token_signed_with_another_secret_returns_401(
        self, client: AsyncClient, user: Account
    ) -> None:
        token = create_access_token(user.id, "another-secret-that-is-long-enough-012345", 60)
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"

    async def test_expired_token_returns_401(self, client: AsyncClient, user: Account) -> None:
        token = create_access_token(user.id, SECRET, minutes=-1)
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"

    async def test_token_of_a_deleted_user_returns_401(
        self, client: AsyncClient, db: AsyncSession, user: Account
    ) -> None:
        assert (await client.get("/users/me", headers=user.headers)).status_code == 200
        await db.execute(delete(User).where(col(User.id) == user.id))
        await db.commit()
        response = await client.get("/users/me", headers=user.headers)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"

    async def test_token_with_a_non_numeric_subject_returns_401(self, client: AsyncClient) -> None:
        import jwt

        token = jwt.encode({"sub": "admin", "exp": 4102444800}, SECRET, algorithm="HS256")
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401

    async def test_unsigned_token_is_refused(self, client: AsyncClient, admin: Account) -> None:
        import jwt

        token = jwt.encode({"sub": str(admin.id), "exp": 4102444800}, None, algorithm="none")
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


class TestEnsureAdmin:
    async def test_promotes_an_existing_account_and_sets_its_password(
        self, client: AsyncClient, db: AsyncSession, make_account: MakeAccount
    ) -> None:
        account = await make_account()
        await service.ensure_admin(db, account.user.email.upper(), "new admin password")
        await db.commit()
        # A new password ends the account's sign-ins, as a password change does.
        assert (await client.get("/users/me", headers=account.headers)).status_code == 401
        signed_in = await sign_in(client, account.user.email, "new admin password")
        assert signed_in.status_code == 200
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        assert (await client.get("/users/me", headers=headers)).json()["is_admin"] is True
        assert (await sign_in(client, account.user.email, "password123")).status_code == 401
        count = await db.execute(
            select(func.count()).select_from(User).where(col(User.email) == account.user.email)
        )
        assert count.scalar_one() == 1

    async def test_creates_the_admin_when_absent(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        email = new_email()
        created = await service.ensure_admin(db, email, "admin password")
        await db.commit()
        assert created.is_admin is True
        token = (await sign_in(client, email, "admin password")).json()["access_token"]
        me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["is_admin"] is True


class TestAdminAtStartUp:
    """The lifespan commits for real: each test removes the account it made."""

    async def _start(self, settings: Settings, email: str, password: str) -> None:
        app = create_app(
            settings.model_copy(update={"ADMIN_EMAIL": email, "ADMIN_PASSWORD": password})
        )
        async with app.router.lifespan_context(app):
            pass

    async def test_lifespan_creates_the_admin(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        email = new_email()
        try:
            await self._start(settings, email, "start-up password")
            created = await user_by_email(engine, email)
            assert created is not None
            assert created.is_admin is True
            assert PasswordHasher().verify(created.password_hash, "start-up password")
        finally:
            await remove_user(engine, email)

    async def test_lifespan_promotes_an_existing_account(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        email = new_email()
        try:
            async with AsyncSession(engine) as session:
                session.add(
                    User.model_validate(
                        {"email": email, "password_hash": "x", "display_name": "Pre"}
                    )
                )
                await session.commit()
            await self._start(settings, email, "start-up password")
            promoted = await user_by_email(engine, email)
            assert promoted is not None
            assert promoted.is_admin is True
            assert promoted.display_name == "Pre"
        finally:
            await remove_user(engine, email)

    async def test_lifespan_twice_keeps_one_admin(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        email = new_email()
        try:
            await self._start(settings, email, "start-up password")
            await self._start(settings, email, "start-up password")
            async with AsyncSession(engine) as session:
                stmt = select(func.count()).select_from(User).where(col(User.email) == email)
                assert (await session.execute(stmt)).scalar_one() == 1
        finally:
            await remove_user(engine, email)


class TestCreateAdminCommand:
    """`marquee create-admin` commits to the test database: each test removes its account."""

    @pytest.fixture
    def cli_env(self, settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("DATABASE_URL", settings.DATABASE_URL)
        get_settings.cache_clear()
        yield
        get_settings.cache_clear()

    async def _run(self, *args: str) -> Any:
        from worker.cli import app as cli

        # The command runs its own event loop: give it a thread without one.
        return await asyncio.to_thread(CliRunner().invoke, cli, ["create-admin", *args])

    async def test_creates_an_admin(self, cli_env: None, engine: AsyncEngine) -> None:
        email = new_email()
        try:
            result = await self._run("--email", email, "--password", "operator password")
            assert result.exit_code == 0, result.output
            created = await user_by_email(engine, email)
            assert created is not None
            assert created.is_admin is True
            assert PasswordHasher().verify(created.password_hash, "operator password")
        finally:
            await remove_user(engine, email)

    async def test_promotes_an_existing_account(self, cli_env: None, engine: AsyncEngine) -> None:
        email = new_email()
        try:
            async with AsyncSession(engine) as session:
                session.add(
                    User.model_validate(
                        {"email": email, "password_hash": "x", "display_name": "Op"}
                    )
                )
                await session.commit()
            result = await self._run("--email", email.upper(), "--password", "operator password")
            assert result.exit_code == 0, result.output
            promoted = await user_by_email(engine, email)
            assert promoted is not None and promoted.is_admin is True
            async with AsyncSession(engine) as session:
                stmt = select(func.count()).select_from(User).where(col(User.email) == email)
                assert (await session.execute(stmt)).scalar_one() == 1
        finally:
            await remove_user(engine, email)

    async def test_refuses_a_short_password(self, cli_env: None, engine: AsyncEngine) -> None:
        email = new_email()
        try:
            result = await self._run("--email", email, "--password", "short")
            assert result.exit_code != 0
            assert await user_by_email(engine, email) is None
        finally:
            await remove_user(engine, email)


class TestSettings:
    def test_production_refuses_the_default_secret(self) -> None:
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY=DEFAULT_SECRET)  # type: ignore[call-arg]

    def test_production_refuses_a_short_secret(self) -> None:
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY="short")  # type: ignore[call-arg]

    def test_production_accepts_a_private_secret(self) -> None:
        settings = Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY="s" * 40)  # type: ignore[call-arg]
        assert settings.SECRET_KEY == "s" * 40

    def test_development_allows_the_default_secret(self) -> None:
        settings = Settings(_env_file=None, ENVIRONMENT="development", SECRET_KEY=DEFAULT_SECRET)  # type: ignore[call-arg]
        assert settings.SECRET_KEY == DEFAULT_SECRET

    @pytest.mark.parametrize(
        "admin",
        [
            {"ADMIN_EMAIL": "boss@example.com"},
            {"ADMIN_PASSWORD": "long-enough-password"},
            {"ADMIN_EMAIL": "boss@example.com", "ADMIN_PASSWORD": "short"},
            {"ADMIN_EMAIL": "not-an-email", "ADMIN_PASSWORD": "long-enough-password"},
        ],
    )
    def test_an_incomplete_or_weak_admin_bootstrap_is_refused(self, admin: dict[str, str]) -> None:
        with pytest.raises(ValidationError, match="ADMIN_"):
            Settings(_env_file=None, **admin)  # type: ignore[arg-type]
