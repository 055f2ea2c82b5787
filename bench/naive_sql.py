"""The naive alternative to a search engine: MySQL `LIKE` and `FULLTEXT` over title and overview.

`ensure_fulltext` adds a FULLTEXT(title, overview) index (only ever in a benchmark database);
`like_search` and `fulltext_search` return the ids of the top 10 movies for a query, as an app
without a search engine would: LIKE ranked by popularity, MATCH … AGAINST ranked by its score.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

FULLTEXT_INDEX = "ft_movie_title_overview"
LIMIT = 10

_LIKE = text(
    "SELECT id FROM movie WHERE title LIKE :pattern OR overview LIKE :pattern "
    "ORDER BY popularity DESC, id LIMIT :limit"
)
_MATCH = text(
    "SELECT id FROM movie WHERE MATCH(title, overview) AGAINST (:q IN NATURAL LANGUAGE MODE) "
    "ORDER BY MATCH(title, overview) AGAINST (:q IN NATURAL LANGUAGE MODE) DESC, id LIMIT :limit"
)


async def ensure_fulltext(engine: AsyncEngine) -> None:
    database = engine.url.database or ""
    assert database.startswith("marquee_bench"), f"FULLTEXT only in bench databases: {database}"
    async with engine.begin() as conn:
        rows = await conn.execute(
            text("SHOW INDEX FROM movie WHERE Key_name = :n"), {"n": FULLTEXT_INDEX}
        )
        if rows.first() is None:
            await conn.execute(
                text(f"ALTER TABLE movie ADD FULLTEXT INDEX {FULLTEXT_INDEX} (title, overview)")
            )


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def like_search(conn: AsyncConnection, q: str, limit: int = LIMIT) -> list[int]:
    pattern = f"%{_escape_like(q)}%"
    rows = await conn.execute(_LIKE, {"pattern": pattern, "limit": limit})
    return [r[0] for r in rows]


async def fulltext_search(conn: AsyncConnection, q: str, limit: int = LIMIT) -> list[int]:
    rows = await conn.execute(_MATCH, {"q": q, "limit": limit})
    return [r[0] for r in rows]


SEARCHES = {"LIKE %q%": like_search, "FULLTEXT MATCH": fulltext_search}
