"""Reading the index's documents into the public movie shape, derived from MovieListItem: each
field is read as indexer.to_document stores it, so a field added to the shape (and to the
movie's row) needs nothing here. A list a document lacks (one indexed by an older version,
until `marquee reindex`) reads as empty."""

import types
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Union, get_args, get_origin

from api.movies.present import poster_url
from api.movies.schemas import MovieListItem

Reader = Callable[[dict[str, Any], str], Any]  # (document, image base) -> the field's value


def _named(ids: str, names: str) -> tuple[Reader, list[str]]:
    """A list of {"id", "name"} that the document holds as two lists in step: the ids (which
    filters match) and the names (which search matches)."""

    def read(hit: dict[str, Any], _: str) -> list[dict[str, Any]]:
        pairs = zip(hit.get(ids) or [], hit.get(names) or [], strict=False)
        return [{"id": item_id, "name": name} for item_id, name in pairs]

    return read, [ids, names]


def _read_poster_url(hit: dict[str, Any], image_base: str) -> str | None:
    return poster_url(image_base, hit.get("poster_path"))


# Fields the document does not hold as they are: (reader, the document fields it reads).
_SPECIAL: dict[str, tuple[Reader, list[str]]] = {
    "genres": _named("genre_ids", "genres"),
    "keywords": _named("keyword_ids", "keywords"),
    "production_companies": _named("company_ids", "companies"),
    "poster_url": (_read_poster_url, []),
}


def _reader(name: str, annotation: Any) -> tuple[Reader, list[str]]:
    if name in _SPECIAL:
        return _SPECIAL[name]
    kind = _without_none(annotation)
    if kind is datetime:
        return (lambda hit, _: _utc(hit[name])), [name]
    if kind is date:  # stored as a timestamp, with its ISO form beside it
        iso = f"{name}_iso"
        return (lambda hit, _: hit.get(iso)), [iso]
    if kind is float:  # JSON may hold a whole number as an integer
        return (lambda hit, _: float(hit[name])), [name]
    if get_origin(kind) is list:  # stored as the API writes it
        return (lambda hit, _: hit.get(name) or []), [name]
    return (lambda hit, _: hit.get(name)), [name]


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [kind for kind in get_args(annotation) if kind is not type(None)]
        return kinds[0] if len(kinds) == 1 else annotation
    return annotation


def _fields(model: type[MovieListItem]) -> list[tuple[str, Any]]:
    return list(model.model_fields.items())


def _utc(iso: str) -> str:
    # Documents hold isoformat() of UTC times; the API writes UTC as pydantic does, with "Z".
    return iso[:-6] + "Z" if iso.endswith("+00:00") else iso


_READERS = [
    (name, _reader(name, info.annotation)) for name, info in MovieListItem.model_fields.items()
]
# What a result renders: the document fields the list item reads, so answers stay small (a
# full cast's ids and directors roughly doubled them) and decode faster.
RETRIEVED = sorted({field for _, (_, fields) in _READERS for field in fields})


def list_item(hit: dict[str, Any], image_base: str) -> dict[str, Any]:
    """A MovieListItem's fields, in its order and JSON form, from an index document."""
    return {name: read(hit, image_base) for name, (read, _) in _READERS}
