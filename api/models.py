"""Every table, imported in one place for Alembic and the tests."""

from api.movies.models import CastCredit, Genre, Movie, MovieDirector, MovieGenre
from api.people.models import Person
from api.search.models import SearchOutbox
from api.users.models import User

__all__ = ["CastCredit", "Genre", "Movie", "MovieDirector", "MovieGenre", "Person", "SearchOutbox", "User"]
