"""How values are written so that every TMDB client parses them (spec 1.2): JSON integers
where TMDB has integers, `YYYY-MM-DD` dates ("" when unknown), ISO 8601 UTC timestamps with
milliseconds, whole ratings as integers, image paths (never URLs), lists never null."""

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TypeVar

T = TypeVar("T")


def tmdb_int(value: float | int | None) -> int:
    """A count or an amount as an integer (`11800.0` breaks themoviedb); unknown is 0, as TMDB
    writes an unknown budget or runtime."""
    return 0 if value is None else int(value)


def tmdb_number(value: float | int | None) -> float | int:
    """A float field (`popularity`, `vote_average`): whole values as integers, so fields some
    clients type `int` (a review's rating) parse too."""
    if value is None:
        return 0
    return int(value) if float(value).is_integer() else float(value)


def tmdb_date(value: date | None) -> str:
    """`YYYY-MM-DD`, or "" for an unknown date, as TMDB writes it."""
    return value.isoformat() if value is not None else ""


def tmdb_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: `2024-01-01T00:00:00.000Z`."""
    moment = value.astimezone(UTC) if value.tzinfo is not None else value
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tmdb_expiry(value: datetime) -> str:
    """How TMDB writes a token's `expires_at`: `2024-01-01 00:00:00 UTC`."""
    moment = value.astimezone(UTC) if value.tzinfo is not None else value
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def image_path(path: str | None) -> str | None:
    """An image path as TMDB gives it (`/abc.jpg`): clients prefix the configuration's
    `secure_base_url` and a size. None stays null."""
    if not path:
        return None
    return path if path.startswith("/") else f"/{path}"


def id_list(values: Iterable[int | None]) -> list[int]:
    """`genre_ids` and the like: integers, never objects, never null."""
    return [int(value) for value in values if value is not None]


def never_null(values: Iterable[T] | None) -> list[T]:
    return list(values) if values is not None else []
