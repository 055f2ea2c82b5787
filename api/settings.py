"""Configuration: one settings class read from the environment (and .env)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import AfterValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "development-only-secret-key-change-me-in-production"
DATA_DIR = Path(".data")


def _rate_limits(value: str) -> str:
    """A rate limit in the `limits` notation ("5/minute;20/hour": each must hold): refused at
    start-up when it does not parse."""
    parse_many(value)
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limits)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ENVIRONMENT: Literal["development", "test", "production"] = "development"
    DATABASE_URL: str = f"sqlite+aiosqlite:///{DATA_DIR}/marquee.db"
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    # The cache's Redis, when it is not REDIS_URL's: give it a memory bound and allkeys-lru,
    # while the queue's Redis must never evict (README, "Caching").
    CACHE_REDIS_URL: str = ""
    MEILI_URL: str = "http://127.0.0.1:7700"
    MEILI_MASTER_KEY: str = ""
    MEILI_API_KEY: str = ""
    MEILI_INDEX: str = "movies"
    MEILI_TIMEOUT_SECONDS: float = 1.0
    SECRET_KEY: str = DEFAULT_SECRET
    ACCESS_TOKEN_MINUTES: int = 60 * 24
    ADMIN_EMAIL: str | None = None
    ADMIN_PASSWORD: str | None = None
    IMAGE_BASE_URL: str = "https://image.tmdb.org/t/p/w500"
    UPCOMING_WINDOW_DAYS: int = Field(default=90, ge=1)
    NOW_PLAYING_WINDOW_DAYS: int = Field(default=45, ge=1)
    TOP_RATED_MIN_VOTES: int = Field(default=300, ge=0)
    CACHE_TTL_SECONDS: int = Field(default=300, ge=0)
    HTTP_CACHE_MAX_AGE: int = Field(default=0, ge=0)
    # Browser apps' origins allowed to call the API and /3 (comma-separated; "*" for any).
    CORS_ORIGINS: str = ""
    # /docs, /redoc and /openapi.json (and /3's); off by default in production.
    DOCS_ENABLED: bool = Field(default_factory=lambda data: data.get("ENVIRONMENT") != "production")
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=0)
    # Rate limits (api.ratelimit), in the `limits` notation; several, ";"-separated, must all
    # hold, the longer windows making the wait grow. Failed sign-ins per account and per client
    # address, registrations per address, and /3 requests per API key.
    RATE_LIMIT_LOGIN_ACCOUNT: RateLimit = "5/minute;20/hour;100/day"
    RATE_LIMIT_LOGIN_ADDRESS: RateLimit = "20/minute;100/hour;500/day"
    RATE_LIMIT_REGISTER_ADDRESS: RateLimit = "30/hour;100/day"
    RATE_LIMIT_API_KEY: RateLimit = "50/second"
    # TMDB's legacy GET forms of the /3 login (tmdbsimple sends them): the password travels
    # in the URL, so they answer only when switched on.
    TMDB_COMPAT_LEGACY_GET_LOGIN: bool = False
    LOG_LEVEL: str = "INFO"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.ENVIRONMENT == "production" and self.SECRET_KEY == DEFAULT_SECRET:
            raise ValueError("SECRET_KEY must be set to a private value outside development")
        if self.ENVIRONMENT == "production" and len(self.SECRET_KEY) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters in production")
        return self

    @model_validator(mode="after")
    def _admin_bootstrap_complete(self) -> "Settings":
        if bool(self.ADMIN_EMAIL) != bool(self.ADMIN_PASSWORD):
            raise ValueError("set ADMIN_EMAIL and ADMIN_PASSWORD together")
        if self.ADMIN_EMAIL and ("@" not in self.ADMIN_EMAIL or len(self.ADMIN_PASSWORD or "") < 8):
            raise ValueError(
                "ADMIN_EMAIL must be an email and ADMIN_PASSWORD at least 8 characters"
            )
        return self

    @property
    def people_index(self) -> str:
        """The people index lives beside the movie index, named after it."""
        return f"{self.MEILI_INDEX}_people"

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.CORS_ORIGINS.split(",") if origin.strip()]

    @property
    def cache_redis_url(self) -> str:
        return self.CACHE_REDIS_URL or self.REDIS_URL

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
