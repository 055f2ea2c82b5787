"""TMDB's shared shapes (spec section 3) written from Marquee's native answers: a movie list
item, movie details, credits and people. Each takes the native JSON-ready dict (a
`MovieListItem`/`MoviePublic`/`PersonDetails` dumped with `mode="json"`, or a list item written
from the index), so every /3 route reuses the native queries and search unchanged."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from api.tmdb.encoding import id_list, image_path, tmdb_int, tmdb_number

Native = Mapping[str, Any]

ACTING, DIRECTING = "Acting", "Directing"


def _date(value: date | str | None) -> str:
    """`YYYY-MM-DD` or "" (a native dict holds a date or its ISO string)."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def movie_item(movie: Native) -> dict[str, Any]:
    """Spec 3.1: the list item every movie list, search and credit carries."""
    return {
        "adult": False,
        "backdrop_path": image_path(movie.get("backdrop_path")),
        "genre_ids": id_list(genre["id"] for genre in movie.get("genres") or ()),
        "id": int(movie["id"]),
        "original_language": movie.get("original_language") or "",
        "original_title": movie.get("original_title") or movie.get("title") or "",
        "overview": movie.get("overview") or "",
        "popularity": tmdb_number(movie.get("popularity")),
        "poster_path": image_path(movie.get("poster_path")),
        "release_date": _date(movie.get("release_date")),
        "title": movie.get("title") or "",
        "video": False,
        "vote_average": tmdb_number(movie.get("vote_average")),
        "vote_count": tmdb_int(movie.get("vote_count")),
    }


def movie_media_item(movie: Native) -> dict[str, Any]:
    """A movie item where TMDB mixes media types (trending, search/multi, known_for)."""
    return {**movie_item(movie), "media_type": "movie"}


def movie_details(movie: Native) -> dict[str, Any]:
    """Spec 3.2: the list item's fields less `genre_ids`, with the record Marquee keeps."""
    item = movie_item(movie)
    del item["genre_ids"]
    return {
        **item,
        "belongs_to_collection": None,
        "budget": tmdb_int(movie.get("budget")),
        "genres": [{"id": int(g["id"]), "name": g["name"]} for g in movie.get("genres") or ()],
        "homepage": movie.get("homepage") or "",
        "imdb_id": None,
        "origin_country": [c["iso_3166_1"] for c in movie.get("production_countries") or ()],
        "production_companies": [
            {"id": int(c["id"]), "logo_path": None, "name": c["name"], "origin_country": ""}
            for c in movie.get("production_companies") or ()
        ],
        "production_countries": [
            {"iso_3166_1": c["iso_3166_1"], "name": c["name"]}
            for c in movie.get("production_countries") or ()
        ],
        "revenue": tmdb_int(movie.get("revenue")),
        "runtime": movie.get("runtime"),
        "spoken_languages": [
            {"english_name": lang["name"], "iso_639_1": lang["iso_639_1"], "name": lang["name"]}
            for lang in movie.get("spoken_languages") or ()
        ],
        "status": movie.get("status") or "Released",
        "tagline": movie.get("tagline") or "",
    }


def _credit_person(person: Native, department: str) -> dict[str, Any]:
    return {
        "adult": False,
        "gender": tmdb_int(person.get("gender")),
        "id": int(person["id"]),
        "known_for_department": person.get("known_for_department") or department,
        "name": person["name"],
        "original_name": person["name"],
        "popularity": tmdb_number(person.get("popularity")),
        "profile_path": image_path(person.get("profile_path")),
    }


def credits(movie: Native) -> dict[str, Any]:
    """Spec 3.3 from a native details dict: cast in billing order, then the whole crew (with
    `job`: clients find directors by `job == "Director"`). `credit_id`s are strings, stable
    and unique: `c<movie>x<person>x<order>` for cast, `d<movie>x<person>x<n>` for crew."""
    movie_id = int(movie["id"])
    cast = [
        {
            **_credit_person(member, ACTING),
            "cast_id": tmdb_int(member.get("order")),
            "character": member.get("character") or "",
            "credit_id": f"c{movie_id}x{member['id']}x{member.get('order') or 0}",
            "order": tmdb_int(member.get("order")),
        }
        for member in movie.get("cast") or ()
    ]
    crew = [
        {
            **_credit_person(member, member.get("department") or DIRECTING),
            "credit_id": f"d{movie_id}x{member['id']}x{n}",
            "department": member.get("department") or DIRECTING,
            "job": member.get("job") or "Director",
        }
        for n, member in enumerate(_crew(movie))
    ]
    return {"id": movie_id, "cast": cast, "crew": crew}


def _crew(movie: Native) -> list[Native]:
    """The native `crew` (every credit); a movie without one falls back to its directors."""
    crew = list(movie.get("crew") or ())
    if crew:
        return crew
    return [{**d, "department": DIRECTING, "job": "Director"} for d in movie.get("directors") or ()]


def person_item(person: Native, known_for: list[Native] | None = None) -> dict[str, Any]:
    """Spec 3.4's list item (search/person, trending/person); `known_for` holds native movie
    dicts (up to 3 are kept) or, when None, the person's own `known_for` if it has one."""
    movies = known_for if known_for is not None else person.get("known_for") or []
    return {
        **_credit_person(person, ACTING),
        "known_for": [movie_media_item(m) for m in list(movies)[:3]],
        "media_type": "person",
    }


def person_details(person: Native) -> dict[str, Any]:
    """Spec 3.4's details: the list item's fields less `known_for`, and what TMDB has that
    Marquee does not keep, empty."""
    return {
        **_credit_person(person, ACTING),
        "also_known_as": [],
        "biography": "",
        "birthday": None,
        "deathday": None,
        "homepage": None,
        "imdb_id": None,
        "place_of_birth": None,
    }
