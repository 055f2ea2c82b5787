"""TMDB's pages: 20 results, `page` from 1 to 500 (anything else is TMDB's 400 with code 22),
and the envelope `{page, results, total_pages, total_results}` every list answers."""

from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

from api.pagination import PageParams

PAGE_SIZE = 20  # fixed: TMDB has no page-size parameter (a `per_page` sent is ignored)
MAX_PAGE = 500

T = TypeVar("T")


async def _tmdb_page(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1 to 500; 20 results a page")] = 1,
) -> PageParams:
    return PageParams(page=page, per_page=PAGE_SIZE)


# A validation error on `page` renders as TMDB's code 22 (api.tmdb.handlers).
TmdbPageDep = Annotated[PageParams, Depends(_tmdb_page)]


def total_pages(total_results: int) -> int:
    """TMDB's count: never below 1 (an empty answer has one empty page), and not capped at
    500 although no page past 500 can be asked for (TMDB answers the same)."""
    return max(1, -(-total_results // PAGE_SIZE))


class TmdbPage(BaseModel, Generic[T]):
    """A page as TMDB answers it; a page past the end has no results and the true totals.
    Extras some lists carry (`dates`, the movie's `id`) go in as extra fields."""

    model_config = ConfigDict(extra="allow")

    page: int
    results: list[T]
    total_pages: int
    total_results: int

    @classmethod
    def build(cls, params: PageParams, total: int, results: list[T], **extra: Any) -> Self:
        return cls(
            page=params.page,
            results=results,
            total_pages=total_pages(total),
            total_results=total,
            **extra,
        )
