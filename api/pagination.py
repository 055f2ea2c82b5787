"""The page envelope every list answers, and what page of it was asked for."""

from dataclasses import dataclass
from typing import Generic, Self, TypeVar

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
