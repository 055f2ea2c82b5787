"""Every table, imported in one place for Alembic and the tests."""

from api.audit.models import AuditEntry
from api.lists.models import ListEntry
from api.movies.models import (
    CastCredit,
    Company,
    CrewCredit,
    Genre,
    Keyword,
    Movie,
    MovieCompany,
    MovieCountry,
    MovieDirector,
    MovieGenre,
    MovieKeyword,
    MovieLanguage,
)
from api.outbox import SearchOutbox
from api.people.models import Person
from api.reviews.models import Review
from api.tmdb.models import TmdbRequestToken, TmdbSession
from api.trending.models import MovieActivity, TrendingScore
from api.users.models import ApiKey, RevokedToken, User

__all__ = [
    "AuditEntry",
    "ApiKey", "CastCredit", "Company", "CrewCredit", "Genre", "Keyword", "ListEntry", "Movie",
    "MovieActivity", "MovieCompany", "MovieCountry", "MovieDirector", "MovieGenre", "MovieKeyword",
    "MovieLanguage", "Person", "RevokedToken", "Review", "SearchOutbox", "TmdbRequestToken",
    "TmdbSession", "TrendingScore", "User",
]  # fmt: skip
