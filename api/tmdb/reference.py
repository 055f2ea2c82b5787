"""TMDB's static tables, shipped with the code: countries (ISO 3166-1, plus the former ones old
films name), languages (ISO 639-1, plus TMDB's `cn`, `sh` and `xx`), time zones by country (the
tz database's zone.tab), primary translations, image sizes. The JSON files in data/ were made
from Debian's iso-codes and tzdata."""

import functools
import json
import re
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

# The sizes TMDB's image server has for each kind of image (Marquee's paths are TMDB's).
IMAGE_SIZES = {
    "backdrop_sizes": ["w300", "w780", "w1280", "original"],
    "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
    "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
    "profile_sizes": ["w45", "w185", "h632", "original"],
    "still_sizes": ["w92", "w185", "w300", "original"],
}
# A base URL that names no size serves one image per path: that is all there is to advertise.
ORIGINAL_ONLY = {kind: ["original"] for kind in IMAGE_SIZES}
_SIZE_SEGMENT = re.compile(r"/(?:w\d+|h\d+|original)/?$")

# Marquee has no translations (`language` is ignored); clients validate their language
# setting against this list, so it names the usual ones.
PRIMARY_TRANSLATIONS = [
    "af-ZA", "ar-AE", "ar-SA", "be-BY", "bg-BG", "bn-BD", "ca-ES", "ch-GU", "cn-CN", "cs-CZ",
    "cy-GB", "da-DK", "de-AT", "de-CH", "de-DE", "el-GR", "en-AU", "en-CA", "en-GB", "en-IE",
    "en-NZ", "en-US", "eo-EO", "es-ES", "es-MX", "et-EE", "eu-ES", "fa-IR", "fi-FI", "fr-CA",
    "fr-FR", "ga-IE", "gd-GB", "gl-ES", "he-IL", "hi-IN", "hr-HR", "hu-HU", "id-ID", "it-IT",
    "ja-JP", "ka-GE", "kk-KZ", "kn-IN", "ko-KR", "ky-KG", "lt-LT", "lv-LV", "ml-IN", "mr-IN",
    "ms-MY", "ms-SG", "nb-NO", "nl-BE", "nl-NL", "no-NO", "pa-IN", "pl-PL", "pt-BR", "pt-PT",
    "ro-RO", "ru-RU", "si-LK", "sk-SK", "sl-SI", "sq-AL", "sr-RS", "sv-SE", "ta-IN", "te-IN",
    "th-TH", "tl-PH", "tr-TR", "uk-UA", "vi-VN", "zh-CN", "zh-HK", "zh-SG", "zh-TW", "zu-ZA",
]  # fmt: skip

# Every catalog has these, whatever its crew table holds.
BASE_JOBS = {"Acting": ["Actor"], "Directing": ["Director"]}


@functools.cache
def _table(name: str) -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return table


def countries() -> list[dict[str, str]]:
    return _table("countries")


def languages() -> list[dict[str, str]]:
    return _table("languages")


def timezones() -> list[dict[str, Any]]:
    return _table("timezones")


def image_base(image_base_url: str) -> tuple[str, dict[str, list[str]]]:
    """The size-less prefix clients put before `<size><path>` (IMAGE_BASE_URL without its
    `/w500`), and the sizes to advertise with it."""
    stripped = _SIZE_SEGMENT.sub("", image_base_url)
    sizes = IMAGE_SIZES if stripped != image_base_url else ORIGINAL_ONLY
    return stripped.rstrip("/") + "/", sizes
