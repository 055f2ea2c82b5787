"""The operator command line: `marquee migrate | import tmdb | create-admin | create-api-key |
worker | reindex`."""

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from alembic import command
from alembic.config import Config
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from api.audit import service as audit
from api.db import make_engine, make_sessionmaker
from api.errors import NotFound
from api.jobs import Job, enqueue
from api.search.queries import count_movies
from api.settings import get_settings
from api.users import api_keys
from api.users import service as users_service
from importer.tmdb import ImportReport, import_tmdb
from indexer import SearchFailed, SearchUnavailable

if TYPE_CHECKING:
    from worker.resources import Resources

app = typer.Typer(help="Marquee operator commands.", no_args_is_help=True, add_completion=False)
import_app = typer.Typer(help="Import catalog data.", no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console(stderr=True)

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    url = database_url or get_settings().DATABASE_URL
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Bring the database schema up to date."""
    _ensure_sqlite_dir(get_settings().DATABASE_URL)
    command.upgrade(alembic_config(), revision)
    console.print(f"[green]database migrated to {revision}[/]")


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


@import_app.command("tmdb")
def import_tmdb_command(
    movies: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="tmdb_5000_movies.csv[.gz]")
    ],
    credits: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="tmdb_5000_credits.csv[.gz]")
    ] = None,
    posters: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="posters CSV")
    ] = None,
) -> None:
    """Import TMDB 5000 CSV files (plain or gzipped); movies already present are skipped."""
    report = asyncio.run(_import(movies, credits, posters))
    console.print(
        f"imported {report.imported} movies, filled in {report.filled} already present that "
        f"lacked part of their record, skipped {report.skipped_existing} already complete and "
        f"{report.skipped_invalid} invalid; created {report.people_created} people and "
        f"{report.genres_created} genres"
    )
    for problem in report.problems:
        console.print(f"  [yellow]skipped[/] {problem}")
    if report.imported or report.filled:
        queued = asyncio.run(_wake_worker())
        note = "the worker is indexing them" if queued else "the worker indexes them when it runs"
        console.print(f"search: {note} (outbox)")


async def _wake_worker() -> bool:
    from worker.resources import connect_redis

    try:
        redis = await connect_redis(get_settings(), retries=0)
    except Exception:  # noqa: BLE001 - no Redis: the worker's cron drains the outbox later
        return False
    try:
        return await enqueue(redis, Job.DRAIN_OUTBOX) is not None
    finally:
        await redis.aclose()


async def _import(movies: Path, credits: Path | None, posters: Path | None) -> ImportReport:
    engine = make_engine(get_settings().DATABASE_URL)
    columns = [TextColumn("importing"), BarColumn(), DownloadColumn(), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("import", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return await import_tmdb(make_sessionmaker(engine), movies, credits, posters, advance)
    finally:
        await engine.dispose()


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="the admin's email")],
    password: Annotated[
        str, typer.Option(help="at least 8 characters", prompt=True, hide_input=True)
    ],
) -> None:
    """Create an admin account, or promote an existing one (and set its password)."""
    if len(password) < 8 or "@" not in email:
        raise typer.BadParameter("give a valid email and a password of at least 8 characters")
    asyncio.run(_create_admin(email, password))
    console.print(f"[green]{email} is an admin[/]")


async def _create_admin(email: str, password: str) -> None:
    engine = make_engine(get_settings().DATABASE_URL)
    try:
        async with make_sessionmaker(engine)() as session:
            await users_service.ensure_admin(session, email, password, audit.CLI)
            await session.commit()
    finally:
        await engine.dispose()


@app.command("create-api-key")
def create_api_key(
    email: Annotated[str, typer.Option(help="the email of the account the key acts for")],
    name: Annotated[str, typer.Option(help="what the key is for, e.g. the app's name")],
) -> None:
    """Create an API key for the TMDB-compatible layer (/3) and print it: it is shown once."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise typer.BadParameter("give a name of 1 to 100 characters")
    try:
        key = asyncio.run(_create_api_key(email, name))
    except NotFound as exc:
        raise typer.Exit(_fail(exc.detail)) from None
    console.print(f"[green]API key {name!r} created for {email}[/] (shown once; store it now):")
    typer.echo(key)  # alone on standard output, for scripts


async def _create_api_key(email: str, name: str) -> str:
    engine = make_engine(get_settings().DATABASE_URL)
    try:
        async with make_sessionmaker(engine)() as session:
            _, key = await api_keys.create_for_email(session, email, name)
            await session.commit()
    finally:
        await engine.dispose()
    return key


@app.command()
def worker() -> None:
    """Run the arq worker: keeps the search index in sync and runs the crons."""
    from worker.main import run

    logging.basicConfig(
        level=get_settings().LOG_LEVEL, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per Meilisearch request (a task is polled every 5-50 ms) drowns the worker's own.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(run(get_settings()))


@app.command()
def reindex(
    enqueue: Annotated[
        bool, typer.Option("--enqueue", help="hand the rebuild to the worker")
    ] = False,
) -> None:
    """Rebuild the search index from the database and swap it in with no downtime."""
    if enqueue:
        job_id = asyncio.run(_enqueue_reindex())
        console.print(f"[green]reindex queued for the worker[/] (job {job_id})")
        return
    try:
        asyncio.run(_reindex())
    except (KeyboardInterrupt, asyncio.CancelledError):
        # The rebuild deleted its unfinished index on the way out; the live one is untouched.
        raise typer.Exit(_fail("reindex interrupted: the live index is unchanged")) from None


async def _enqueue_reindex() -> str:
    from worker.resources import connect_redis

    redis = await connect_redis(get_settings())
    try:
        job_id = await enqueue(redis, Job.REINDEX)
    finally:
        await redis.aclose()
    if job_id is None:
        raise typer.Exit(_fail("could not queue the reindex: Redis did not take it"))
    return job_id


async def _reindex() -> None:
    from worker import sync
    from worker.locks import LockBusy
    from worker.main import cancel_on_sigterm
    from worker.resources import connect_redis, open_resources

    cancel_on_sigterm()
    settings = get_settings()
    res = await open_resources(settings, redis=await connect_redis(settings))
    try:
        async with res.sessionmaker() as session:
            total = await count_movies(session)
        columns = [TextColumn("reindexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("reindex", total=total)
            rebuilt = await sync.rebuild_index(res, lambda n: progress.update(task, completed=n))
        console.print(f"[green]reindexed {rebuilt.indexed} movies[/]; the new index is live")
        if rebuilt.replayed:
            await _catch_up(res, rebuilt.replayed)
    except LockBusy:
        raise typer.Exit(
            _fail("another reindex is running; try again when it has finished")
        ) from None
    finally:
        assert res.redis is not None
        await res.redis.aclose()
        await res.close()


async def _catch_up(res: "Resources", replayed: int) -> None:
    """Index the changes made during the rebuild now, or leave them to a busy worker."""
    from worker import sync
    from worker.locks import LockBusy

    what = f"{replayed} movies and people changed during the rebuild (or just before it)"
    try:
        await sync.drain(res)
    except LockBusy:
        assert res.redis is not None
        await enqueue(res.redis, Job.DRAIN_OUTBOX)  # in case its drain was just ending
        console.print(f"{what}: queued; the worker is draining and indexes them next")
    except (SearchUnavailable, SearchFailed) as exc:
        console.print(f"[yellow]{what}: queued; Meilisearch did not answer ({exc})[/]")
    else:
        console.print(f"{what}: indexed")


def _fail(message: str) -> int:
    console.print(f"[red]{message}[/]")
    return 1


if __name__ == "__main__":
    app()
