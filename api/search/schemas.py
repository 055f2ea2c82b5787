"""The search and filter HTTP contract: pages with facets, results with highlights."""

from pydantic import BaseModel

from api.movies.schemas import MovieListItem
from api.pagination import Page


class Highlights(BaseModel):
    title: str
    cast: list[str] = []


class SearchResult(MovieListItem):
    highlights: Highlights


class Facets(BaseModel):
    genres: dict[str, int] = {}
    language: dict[str, int] = {}
    decade: dict[str, int] = {}


class SearchPage(Page[SearchResult]):
    facets: Facets


class FilterPage(Page[MovieListItem]):
    facets: Facets
