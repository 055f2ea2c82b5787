"""Recording index changes: called by services inside their transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import CATALOG, invalidate_after_commit, movie_scope
from api.jobs import enqueue_after_commit
from api.search import queries


async def record_changes(session: AsyncSession, movie_ids: list[int]) -> None:
    """Durably note that these movies' documents must be refreshed, then wake the worker."""
    if not movie_ids:
        return
    await queries.add_entries(session, movie_ids)
    enqueue_after_commit(session, "drain_outbox")
    invalidate_after_commit(session, [CATALOG, *(movie_scope(movie_id) for movie_id in movie_ids)])
