"""Reading the import files: plain or gzipped CSV, streamed, with byte progress."""

import csv
import gzip
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

csv.field_size_limit(sys.maxsize)  # credits rows carry whole JSON casts

Row = dict[str, str]


class CsvSource:
    """A CSV file opened for streaming; `progress()` is the fraction of its bytes read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._raw: IO[bytes] = path.open("rb")
        is_gzip = self._raw.read(2) == b"\x1f\x8b"
        self._raw.seek(0)
        binary: IO[bytes] = gzip.GzipFile(fileobj=self._raw) if is_gzip else self._raw  # type: ignore[assignment]
        self._text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        self._row_start = self._row_end = 1  # physical lines; the header is line 1

    def rows(self) -> Iterator[Row]:
        reader = csv.DictReader(self._text)
        for row in reader:
            # quoted fields may span lines (TMDB overviews do): count lines, not rows
            self._row_start, self._row_end = self._row_end + 1, reader.line_num
            yield row

    def line_of_last_row(self) -> int:
        """The line on which the row last yielded by `rows()` starts."""
        return self._row_start

    def bytes_read(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._text.close()
        self._raw.close()


class KeyedReader:
    """Finds rows of a secondary file by key. Files in the same order as the primary
    (as TMDB's are) are read in constant memory; otherwise skipped rows wait in a buffer."""

    def __init__(self, rows: Iterator[Row], key: Callable[[Row], str]) -> None:
        self._rows = rows
        self._key = key
        self._waiting: dict[str, Row] = {}
        self._exhausted = False

    def pop(self, wanted: str) -> Row | None:
        while wanted not in self._waiting and not self._exhausted:
            row = next(self._rows, None)
            if row is None:
                self._exhausted = True
            else:
                self._waiting[self._key(row)] = row
        return self._waiting.pop(wanted, None)
