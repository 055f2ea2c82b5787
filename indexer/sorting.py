"""The sort key for titles, shared by the index and the database so both order alike."""

import unicodedata

SORT_TITLE_LENGTH = 300


def title_sort_key(title: str) -> str:
    """Case- and accent-folded title: 'Amélie' and 'amelie' sort together, byte by byte."""
    decomposed = unicodedata.normalize("NFKD", title.strip())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return folded[:SORT_TITLE_LENGTH]
