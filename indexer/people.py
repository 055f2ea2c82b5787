"""The people index: a person's search document, and searching people by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from meilisearch_python_sdk import AsyncClient

from indexer.errors import translate_errors
from indexer.search import post_search

KNOWN_FOR = 3  # movies a person's document names


@dataclass(frozen=True)
class PersonSource:
    """What the people index needs about one person, read from the database: their fields by
    name and their best-known movies as (id, title, poster path, release date), most popular
    first."""

    fields: dict[str, Any]
    known_for: list[tuple[int, str, str | None, date | None]] = field(default_factory=list)

    @property
    def id(self) -> int:
        person_id: int = self.fields["id"]
        return person_id


def person_document(src: PersonSource) -> dict[str, Any]:
    """The one definition of a person's search document."""
    return {**src.fields, "known_for": known_for_items(src.known_for)}


def known_for_items(
    movies: list[tuple[int, str, str | None, date | None]],
) -> list[dict[str, Any]]:
    return [
        {
            "id": movie_id,
            "title": title,
            "poster_path": poster,
            "release_date": day.isoformat() if day else None,
        }
        for movie_id, title, poster, day in movies[:KNOWN_FOR]
    ]


@translate_errors
async def search_people(
    client: AsyncClient, uid: str, q: str, page: int, per_page: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total, documents) of one page of people matching q; without q, the most popular.
    Sent as movie searches are (one write, plain JSON back)."""
    query = q.strip()
    body: dict[str, Any] = {"q": query, "page": page, "hitsPerPage": per_page}
    if not query:
        body["sort"] = ["popularity:desc", "id:asc"]
    results = await post_search(client, uid, body)
    return results.get("totalHits") or 0, list(results["hits"])
