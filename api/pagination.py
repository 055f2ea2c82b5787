"""The page envelope every list answers, and the page/per_page parameters."""

from dataclasses import dataclass
from typing import Annotated, Generic, Self, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def _page_params(
    # Any page past the end is an empty page, not an error; the bound only keeps it an int.
    page: Annotated[int, Query(ge=1, le=2**31 - 1, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="items per page")] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[T]):
    page: int
    per_page: int
    total_results: int
    total_pages: int
    results: list[T]

    @classmethod
    def build(cls, params: PageParams, total: int, results: list[T], **extra: object) -> Self:
        pages = (total + params.per_page - 1) // params.per_page
        return cls(
            page=params.page,
            per_page=params.per_page,
            total_results=total,
            total_pages=pages,
            results=results,
            **extra,
        )
