"""TMDB's shared shapes (spec section 3) written from Marquee's native answers: a movie list
item, movie details, credits and people. Each takes the native JSON-ready dict (a
`MovieListItem`/`MoviePublic`/`PersonDetails` dumped with `mode="json"`, or a list item written
from the index), so every /3 route reuses the native queries and search unchanged."""

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from api.tmdb.encoding import id_list, image_path, tmdb_datetime, tmdb_int, tmdb_number
from api.tmdb.paging import total_pages

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
    and unique, and the same on the person's side: `c<movie>x<person>x<order>` for cast,
    `crew_credit_id` for crew."""
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
    crew = [_crew_member(movie_id, member) for member in _crew(movie)]
    return {"id": movie_id, "cast": cast, "crew": crew}


def _crew_member(movie_id: int, member: Native) -> dict[str, Any]:
    department = member.get("department") or DIRECTING
    job = member.get("job") or "Director"
    return {
        **_credit_person(member, department),
        "credit_id": crew_credit_id(movie_id, int(member["id"]), department, job),
        "department": department,
        "job": job,
    }


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


# Movie sub-objects (spec 3.5): what `append_to_response` adds and the standalone routes answer.

POSTER_RATIO, BACKDROP_RATIO = 0.667, 1.778  # TMDB's own: 2:3 posters, 16:9 backdrops
# The one release Marquee knows is its release date: TMDB's type 3 is "Theatrical".
THEATRICAL = 3
RELEASE_COUNTRY = "US"


def _image(path: str, aspect_ratio: float) -> dict[str, Any]:
    """An image's sizes are unknown (null); it has no votes."""
    return {
        "aspect_ratio": aspect_ratio,
        "file_path": path,
        "height": None,
        "iso_639_1": None,
        "vote_average": 0,
        "vote_count": 0,
        "width": None,
    }


def images(movie: Native) -> dict[str, Any]:
    """The movie's poster and backdrop, each the only one of its kind; no logos."""
    poster, backdrop = image_path(movie.get("poster_path")), image_path(movie.get("backdrop_path"))
    return {
        "backdrops": [_image(backdrop, BACKDROP_RATIO)] if backdrop else [],
        "logos": [],
        "posters": [_image(poster, POSTER_RATIO)] if poster else [],
    }


def keywords(movie: Native) -> dict[str, Any]:
    return {
        "keywords": [{"id": int(k["id"]), "name": k["name"]} for k in movie.get("keywords") or ()]
    }


def _release_day(movie: Native) -> date | None:
    value = movie.get("release_date")
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def release_dates(movie: Native) -> dict[str, Any]:
    """One theatrical release on the movie's release date, or none when it is unknown."""
    day = _release_day(movie)
    if day is None:
        return {"results": []}
    release = {
        "certification": "",
        "descriptors": [],
        "iso_639_1": "",
        "note": "",
        "release_date": tmdb_datetime(datetime.combine(day, time(), UTC)),
        "type": THEATRICAL,
    }
    return {"results": [{"iso_3166_1": RELEASE_COUNTRY, "release_dates": [release]}]}


def releases(movie: Native) -> dict[str, Any]:
    """The legacy `/movie/{id}/releases` (tmdbsimple): `countries` with plain dates."""
    day = _release_day(movie)
    if day is None:
        return {"countries": []}
    country = {"certification": "", "iso_3166_1": RELEASE_COUNTRY, "primary": True}
    return {"countries": [{**country, "release_date": day.isoformat()}]}


def external_ids(_: Native) -> dict[str, Any]:
    """Marquee keeps no other site's ids."""
    names = ("imdb_id", "wikidata_id", "facebook_id", "instagram_id", "twitter_id")
    return dict.fromkeys(names)


def _moment(value: datetime | str) -> str:
    return tmdb_datetime(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def review(native: Native) -> dict[str, Any]:
    """A review from a native one (`ReviewPublic`'s fields): the id as a string, the author's
    display name (never their email), the rating whole-valued as an integer (themoviedb types
    it `int`)."""
    name = native["display_name"]
    return {
        "author": name,
        "author_details": {
            "name": name,
            "username": name,
            "avatar_path": None,
            "rating": tmdb_number(native.get("rating")),
        },
        "content": native.get("content") or "",
        "created_at": _moment(native["created_at"]),
        "id": str(native["id"]),
        "updated_at": _moment(native["updated_at"]),
        "url": None,
    }


def page(number: int, total: int, results: list[Any], **extra: Any) -> dict[str, Any]:
    """TMDB's page envelope (spec 1.3), for answers written straight to JSON: `total_pages`
    never below 1 and not capped."""
    return {
        "page": number,
        "results": results,
        "total_pages": total_pages(total),
        "total_results": total,
        **extra,
    }


def crew_credit_id(movie_id: int, person_id: int, department: str, job: str) -> str:
    """A person's crew credit's id: a string, stable and unique per (movie, person, job)."""
    digest = hashlib.blake2b(f"{department}/{job}".encode(), digest_size=4).hexdigest()
    return f"d{movie_id}x{person_id}x{digest}"


def person_movie_credits(person: Native, media_type: bool = False) -> dict[str, Any]:
    """Spec 3.4's `movie_credits` from a native person details dict (`movie_credits.cast`
    rows carry `character` and `order`, `.crew` rows `department` and `job`): each a movie
    list item, with `media_type` for `combined_credits`. The cast's `credit_id`s are those
    of the movie's credits."""
    person_id = int(person["id"])
    native = person.get("movie_credits") or {}
    extra = {"media_type": "movie"} if media_type else {}
    cast = [
        {
            **movie_item(movie),
            **extra,
            "character": movie.get("character") or "",
            "credit_id": f"c{movie['id']}x{person_id}x{movie.get('order') or 0}",
            "order": tmdb_int(movie.get("order")),
        }
        for movie in native.get("cast") or ()
    ]
    crew = [
        {
            **movie_item(movie),
            **extra,
            "credit_id": crew_credit_id(movie["id"], person_id, movie["department"], movie["job"]),
            "department": movie["department"],
            "job": movie["job"],
        }
        for movie in native.get("crew") or ()
    ]
    return {"cast": cast, "crew": crew}


def profile_images(person: Native) -> dict[str, Any]:
    """Spec 3.5's images for a person: their one profile picture (size unknown), if any."""
    path = image_path(person.get("profile_path"))
    return {"profiles": [_image(path, POSTER_RATIO)] if path else []}


def person_external_ids() -> dict[str, Any]:
    """A person's ids elsewhere: Marquee keeps none."""
    names = ("imdb_id", "facebook_id", "freebase_mid", "freebase_id", "tvrage_id")
    more = ("wikidata_id", "instagram_id", "tiktok_id", "twitter_id", "youtube_id")
    return dict.fromkeys(names + more)
