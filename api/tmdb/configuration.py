"""`/3/configuration` and its sub-lists (TMDB_V3.md 4.1): tmdbapis reads all six when it is
constructed, and cannot start if one is missing."""

import functools
from collections import defaultdict

import orjson
from fastapi import APIRouter, Request, Response

from api.cache import CATALOG
from api.deps import SessionDep, SettingsDep
from api.tmdb import queries, reference
from api.tmdb.cached import cached_answer
from api.tmdb.schemas import (
    Configuration,
    Country,
    Department,
    ImagesConfiguration,
    Language,
    Timezone,
)

router = APIRouter(tags=["configuration"])


@router.get("/configuration")
async def get_configuration(settings: SettingsDep) -> Configuration:
    """Where images are: clients build `secure_base_url + size + path`."""
    base, sizes = reference.image_base(settings.IMAGE_BASE_URL)
    images = ImagesConfiguration(base_url=base, secure_base_url=base, **sizes)
    return Configuration(images=images, change_keys=[])


@router.get("/configuration/countries", response_model=list[Country])
async def list_countries(request: Request, session: SessionDep) -> Response:
    """ISO 3166-1 countries, and any other the catalog names as a production country."""

    async def build() -> bytes:
        table = {c["iso_3166_1"]: c for c in reference.countries()}
        for code, name in (await queries.catalog_countries(session)).items():
            table.setdefault(code, {"iso_3166_1": code, "english_name": name, "native_name": name})
        return orjson.dumps(sorted(table.values(), key=lambda c: c["iso_3166_1"]))

    return await cached_answer(request, [CATALOG], build)


@router.get("/configuration/languages", response_model=list[Language])
async def list_languages(request: Request, session: SessionDep) -> Response:
    """ISO 639-1 languages (and TMDB's `cn`, `sh`, `xx`), and every other code the catalog uses."""

    async def build() -> bytes:
        table = {lang["iso_639_1"]: dict(lang) for lang in reference.languages()}
        for code, name in (await queries.catalog_languages(session)).items():
            known = table.setdefault(code, {"iso_639_1": code, "english_name": name or code})
            known["name"] = known.get("name") or name
        return orjson.dumps(sorted(table.values(), key=lambda lang: lang["iso_639_1"]))

    return await cached_answer(request, [CATALOG], build)


@router.get("/configuration/jobs", response_model=list[Department])
async def list_jobs(request: Request, session: SessionDep) -> Response:
    """Each department with the jobs the catalog's crews hold (and Acting's Actor)."""

    async def build() -> bytes:
        jobs: dict[str, set[str]] = defaultdict(set)
        for department, names in reference.BASE_JOBS.items():
            jobs[department].update(names)
        for department, job in await queries.crew_jobs(session):
            jobs[department].add(job)
        listed = [{"department": d, "jobs": sorted(jobs[d])} for d in sorted(jobs)]
        return orjson.dumps(listed)

    return await cached_answer(request, [CATALOG], build)


@router.get("/configuration/primary_translations", response_model=list[str])
async def list_primary_translations() -> list[str]:
    """Language tags clients may set (`language` is accepted and ignored: no translations)."""
    return reference.PRIMARY_TRANSLATIONS


@router.get("/configuration/timezones", response_model=list[Timezone])
async def list_timezones() -> Response:
    """Each country's time zones (the tz database's zone.tab)."""
    return Response(content=_timezones_json(), media_type="application/json")


@functools.cache
def _timezones_json() -> bytes:
    return orjson.dumps(reference.timezones())
