"""Every table, imported in one place for Alembic and the tests."""

from api.lists.models import ListEntry
from api.movies.models import CastCredit, Genre, Movie, MovieDirector, MovieGenre
from api.outbox import SearchOutbox
from api.people.models import Person
from api.reviews.models import Review
from api.trending.models import MovieActivity, TrendingScore
from api.users.models import User

__all__ = [
    "CastCredit", "Genre", "ListEntry", "Movie", "MovieActivity", "MovieDirector", "MovieGenre",
    "Person", "Review", "SearchOutbox", "TrendingScore", "User",
]  # fmt: skip
