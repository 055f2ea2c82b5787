"""The trending HTTP contract: the window parameter (pages are of movie list items)."""

from typing import Literal

Window = Literal["day", "week"]
