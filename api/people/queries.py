"""People reads, shared by the API and the worker: pages, credits, index sources, and the
derived fields (popularity, known-for department) kept current from their movies."""

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import case, func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.movies.models import CastCredit, CrewCredit, Movie, MovieDirector
from api.movies.queries import PUBLIC_COLUMNS
from api.people.models import Person
from indexer.documents import SEARCHED_JOBS
from indexer.people import KNOWN_FOR, PersonSource, known_for_items

# A person's popularity is the sum, over their credits, of the movie's popularity weighted by
# the part: a top-billed role (the first TOP_BILLED) counts fully, a smaller role a quarter, a
# key crew job (each movie once) half, another crew job a tenth. README, "People".
TOP_BILLED = 5
WEIGHT_TOP, WEIGHT_SMALL = 1.0, 0.25
# A key crew job (directing, writing, the score, photography) half; any other a tenth.
WEIGHT_KEY_CREW, WEIGHT_CREW = 0.5, 0.1
PUBLIC_FIELDS = ["id", "name", "gender", "profile_path", "known_for_department", "popularity"]
_PERSON = [col(getattr(Person, name)) for name in PUBLIC_FIELDS]


def _weights(person_ids: Sequence[int]) -> Any:
    """(person id, weighted movie popularity) of every credit of these people."""
    role = case((col(CastCredit.billing_order) < TOP_BILLED, WEIGHT_TOP), else_=WEIGHT_SMALL)
    cast: Any = (
        select(
            col(CastCredit.person_id).label("person_id"), (col(Movie.popularity) * role).label("w")
        )
        .join(Movie, col(Movie.id) == col(CastCredit.movie_id))
        .where(col(CastCredit.person_id).in_(person_ids))
    )
    job = case((col(CrewCredit.job).in_(SEARCHED_JOBS), WEIGHT_KEY_CREW), else_=WEIGHT_CREW)
    jobs = union_all(
        select(col(CrewCredit.person_id), col(CrewCredit.movie_id), job.label("w")).where(
            col(CrewCredit.person_id).in_(person_ids)
        ),
        select(
            col(MovieDirector.person_id), col(MovieDirector.movie_id), literal(WEIGHT_KEY_CREW)
        ).where(col(MovieDirector.person_id).in_(person_ids)),
    ).subquery()
    # Each movie once, at its best-weighted job, however many jobs they held on it.
    best = (
        select(jobs.c.person_id, jobs.c.movie_id, func.max(jobs.c.w).label("w"))
        .group_by(jobs.c.person_id, jobs.c.movie_id)
        .subquery()
    )
    crew = select(best.c.person_id, (col(Movie.popularity) * best.c.w).label("w")).join(
        Movie, col(Movie.id) == best.c.movie_id
    )
    return union_all(cast, crew).subquery()


async def refresh_people(session: AsyncSession, person_ids: Sequence[int]) -> None:
    """Recompute these people's popularity and known-for department from their credits."""
    if not person_ids:
        return
    weights = _weights(person_ids)
    sums = select(weights.c.person_id, func.sum(weights.c.w)).group_by(weights.c.person_id)
    popularity: dict[int, float] = {
        pid: total for pid, total in (await session.execute(sums)).all()
    }
    departments = await _departments(session, person_ids)
    person: Any = Person.__table__  # type: ignore[attr-defined]
    # One statement for the whole batch: an executemany is a round trip per person.
    values = {pid: round(popularity.get(pid) or 0.0, 3) for pid in person_ids}
    stmt = (
        update(person)
        .where(person.c.id.in_(person_ids))
        .values(
            popularity=case(values, value=person.c.id, else_=person.c.popularity),
            known_for_department=case(
                departments, value=person.c.id, else_=person.c.known_for_department
            )
            if departments
            else person.c.known_for_department,
        )
    )
    await session.execute(stmt)


async def _departments(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """Each person's department with the most credits (acting for a cast credit)."""
    credits = union_all(
        select(col(CastCredit.person_id).label("pid"), literal("Acting").label("dept")).where(
            col(CastCredit.person_id).in_(person_ids)
        ),
        select(col(CrewCredit.person_id), col(CrewCredit.department)).where(
            col(CrewCredit.person_id).in_(person_ids)
        ),
        select(col(MovieDirector.person_id), literal("Directing")).where(
            col(MovieDirector.person_id).in_(person_ids)
        ),
    ).subquery()
    counted = select(credits.c.pid, credits.c.dept, func.count()).group_by(
        credits.c.pid, credits.c.dept
    )
    best: dict[int, tuple[int, str]] = {}
    for pid, dept, count in (await session.execute(counted)).all():
        if pid not in best or (count, dept) > (best[pid][0], best[pid][1]):
            best[pid] = (count, dept)
    return {pid: dept for pid, (_, dept) in best.items()}


def credited_movies(person_ids: Sequence[int]) -> Any:
    """(person id, movie id) of every credit of these people (a pair may repeat: a director
    who also wrote it)."""
    return union_all(
        select(col(CastCredit.person_id), col(CastCredit.movie_id)).where(
            col(CastCredit.person_id).in_(person_ids)
        ),
        select(col(CrewCredit.person_id), col(CrewCredit.movie_id)).where(
            col(CrewCredit.person_id).in_(person_ids)
        ),
        select(col(MovieDirector.person_id), col(MovieDirector.movie_id)).where(
            col(MovieDirector.person_id).in_(person_ids)
        ),
    ).subquery()


async def movie_ids_of(session: AsyncSession, person_id: int) -> list[int]:
    credits = credited_movies([person_id])
    stmt = select(credits.c[1]).distinct()
    return sorted((await session.execute(stmt)).scalars())


async def people_of(session: AsyncSession, movie_ids: Sequence[int]) -> list[int]:
    """Everyone credited on these movies (cast, crew, directors)."""
    if not movie_ids:
        return []
    parts = [
        select(col(CastCredit.person_id)).where(col(CastCredit.movie_id).in_(movie_ids)),
        select(col(CrewCredit.person_id)).where(col(CrewCredit.movie_id).in_(movie_ids)),
        select(col(MovieDirector.person_id)).where(col(MovieDirector.movie_id).in_(movie_ids)),
    ]
    found: set[int] = set()
    for stmt in parts:
        found.update((await session.execute(stmt)).scalars())
    return sorted(found)


async def person_sources(session: AsyncSession, person_ids: Sequence[int]) -> list[PersonSource]:
    """The people index's view of these people (missing ids, and people without a single
    credit, are left out: they go from the index)."""
    if not person_ids:
        return []
    rows = (await session.execute(select(*_PERSON).where(col(Person.id).in_(person_ids)))).all()
    known = await _known_for(session, person_ids)
    return [PersonSource(row._asdict(), known[row.id]) for row in rows if row.id in known]


async def _known_for(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, list[Any]]:
    """Each person's KNOWN_FOR most popular movies, ranked by the database: a prolific
    person's other credits never leave it."""
    credits = credited_movies(person_ids)
    pairs = select(credits.c[0].label("pid"), credits.c[1].label("mid")).distinct().subquery()
    rank = func.row_number().over(
        partition_by=pairs.c.pid, order_by=(col(Movie.popularity).desc(), col(Movie.id))
    )
    ranked = (
        select(
            pairs.c.pid, col(Movie.id), col(Movie.title), col(Movie.poster_path),
            col(Movie.release_date), rank.label("n"),
        )
        .join(Movie, col(Movie.id) == pairs.c.mid)
        .subquery()
    )  # fmt: skip
    stmt = (
        select(ranked.c.pid, ranked.c.id, ranked.c.title, ranked.c.poster_path)
        .add_columns(ranked.c.release_date)
        .where(ranked.c.n <= KNOWN_FOR)
        .order_by(ranked.c.pid, ranked.c.n)
    )
    known: dict[int, list[Any]] = defaultdict(list)
    for pid, *movie in (await session.execute(stmt)).all():
        known[pid].append(tuple(movie))
    return known


async def iter_person_batches(
    sessionmaker: async_sessionmaker[AsyncSession], batch_size: int
) -> AsyncIterator[list[PersonSource]]:
    """Every person with a credit, in id order, a batch at a time (their derived fields
    refreshed first: a database imported before people had them gets them here)."""
    last_id = 0
    while True:
        async with sessionmaker() as session:
            page = select(col(Person.id)).where(col(Person.id) > last_id).order_by(col(Person.id))
            ids = [i for i in (await session.execute(page.limit(batch_size))).scalars() if i]
            if not ids:
                return
            await refresh_people(session, ids)
            await session.commit()
            batch = await person_sources(session, ids)
        last_id = ids[-1]
        yield batch


# Newest first, undated (announced) films before them, as TMDB lists a filmography.
_NEWEST: list[Any] = [col(Movie.release_sort).desc(), col(Movie.id).desc()]


async def person_row(session: AsyncSession, person_id: int) -> dict[str, Any] | None:
    row = (await session.execute(select(*_PERSON).where(col(Person.id) == person_id))).first()
    return None if row is None else row._asdict()


async def cast_credits(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    """The movies they act in, as plain rows of the movie's public fields with their part."""
    stmt = (
        select(*PUBLIC_COLUMNS, col(CastCredit.character), col(CastCredit.billing_order))
        .join(CastCredit, col(CastCredit.movie_id) == col(Movie.id))
        .where(col(CastCredit.person_id) == person_id)
        .order_by(*_NEWEST, col(CastCredit.id))
    )
    return [{**row._asdict(), "order": row.billing_order} for row in (await session.execute(stmt))]


async def crew_credits(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    """The movies they worked on, one row per job (a director credit counts as one)."""
    crew = (
        select(*PUBLIC_COLUMNS, col(CrewCredit.department), col(CrewCredit.job))
        .join(CrewCredit, col(CrewCredit.movie_id) == col(Movie.id))
        .where(col(CrewCredit.person_id) == person_id)
    )
    directing = (
        select(
            *PUBLIC_COLUMNS,
            literal("Directing").label("department"),
            literal("Director").label("job"),
        )
        .join(MovieDirector, col(MovieDirector.movie_id) == col(Movie.id))
        .where(col(MovieDirector.person_id) == person_id)
    )
    rows = [*(await session.execute(crew)), *(await session.execute(directing))]
    unique = {(r.id, r.department, r.job): r._asdict() for r in rows}
    return sorted(unique.values(), key=_newest_first)


_DIRECTING, _DIRECTOR = literal("Directing").label("department"), literal("Director").label("job")


def _newest_first(movie: dict[str, Any]) -> tuple[int, int]:
    day = movie["release_date"]
    return (-(day.toordinal() if day else 10**7), -movie["id"])


async def popular_page(
    session: AsyncSession, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page) of people with a credit, most popular first."""
    credited = col(Person.popularity) > 0
    total = (await session.execute(select(func.count()).where(credited))).scalar_one()
    stmt = (
        select(*_PERSON)
        .where(credited)
        .order_by(col(Person.popularity).desc(), col(Person.id))
        .offset(offset)
        .limit(limit)
    )
    rows = [row._asdict() for row in await session.execute(stmt)]
    known = await _known_for(session, [row["id"] for row in rows])
    return total, [{**row, "known_for": known_for_items(known[row["id"]])} for row in rows]
