"""The /3 contract's shapes for configuration and genres (TMDB's field names)."""

from pydantic import BaseModel


class ImagesConfiguration(BaseModel):
    base_url: str
    secure_base_url: str
    backdrop_sizes: list[str]
    logo_sizes: list[str]
    poster_sizes: list[str]
    profile_sizes: list[str]
    still_sizes: list[str]


class Configuration(BaseModel):
    images: ImagesConfiguration
    change_keys: list[str]


class Country(BaseModel):
    iso_3166_1: str
    english_name: str
    native_name: str


class Language(BaseModel):
    iso_639_1: str
    english_name: str
    name: str


class Department(BaseModel):
    department: str
    jobs: list[str]


class Timezone(BaseModel):
    iso_3166_1: str
    zones: list[str]


class Genre(BaseModel):
    id: int
    name: str


class GenreList(BaseModel):
    genres: list[Genre]
