"""Where rows come from: a CSV stream (read twice, never held in memory) or JSON records.

Both yield `(line, values, problems)`: `values` maps each column the row gives to its stripped
text (None when the row cannot be read at all), `problems` are structural errors of the row.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, Any, Protocol

from scoring.imports.result import RowError
from scoring.imports.specs import KindSpec

SourceRow = tuple[int, dict[str, str] | None, tuple[RowError, ...]]

# Uploads and pipes that cannot seek are spooled; past this size the spool goes to disk.
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024


class RowSource(Protocol):
    def rows(self, spec: KindSpec) -> Iterator[SourceRow]: ...


class CsvSource:
    """A UTF-8 CSV with a header row (BOM optional, columns in any order), readable twice."""

    def __init__(self, stream: IO[str] | IO[bytes]) -> None:
        binary = isinstance(stream.read(0), bytes)
        if not _seekable(stream):
            stream, binary = _spool(stream, binary=binary), True
        self._stream: IO[Any] = stream
        self._binary = binary
        self._start = stream.tell()

    def rows(self, spec: KindSpec) -> Iterator[SourceRow]:
        """The data rows; a bad header yields only its errors (line 1) and stops."""
        with self._text() as text:
            reader = csv.reader(text)
            try:
                header = next(reader, None)
            except (UnicodeDecodeError, csv.Error) as exc:
                yield 1, None, (_unreadable(1, exc),)
                return
            columns, problems = _check_header(header, spec)
            if problems:
                yield 1, None, problems
                return
            width = len(columns)
            line = reader.line_num
            while True:
                start = line + 1
                try:
                    cells = next(reader, None)
                except (UnicodeDecodeError, csv.Error) as exc:
                    yield start, None, (_unreadable(start, exc),)
                    return
                if cells is None:
                    return
                line = reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines (and Excel's trailing ",,,," rows) carry no data
                if len(cells) != width:
                    reason = f"has {len(cells)} fields, the header has {width}"
                    yield start, None, (RowError(start, "", "", reason),)
                    continue
                yield start, dict(zip(columns, (cell.strip() for cell in cells), strict=True)), ()

    @contextmanager
    def _text(self) -> Iterator[Iterable[str]]:
        self._stream.seek(self._start)
        if not self._binary:
            yield _without_bom(self._stream)
            return
        text = io.TextIOWrapper(self._stream, encoding="utf-8-sig", newline="")
        try:
            yield text
        finally:
            # Detach so that closing the wrapper does not close the caller's stream.
            text.detach()


class RecordsSource:
    """JSON records (mappings of column → string, number, boolean or null); line = 1-based index."""

    def __init__(self, records: Sequence[object]) -> None:
        self._records = records

    def rows(self, spec: KindSpec) -> Iterator[SourceRow]:
        allowed = set(spec.columns)
        for line, record in enumerate(self._records, start=1):
            if not isinstance(record, Mapping):
                yield line, None, (RowError(line, "", _shown(record), "not an object"),)
                continue
            values: dict[str, str] = {}
            problems: list[RowError] = []
            for key, value in record.items():
                column = str(key)
                if column not in allowed:
                    reason = f"unknown column (expected: {', '.join(spec.columns)})"
                    problems.append(RowError(line, column, _shown(value), reason))
                    continue
                text = _as_text(value)
                if text is None:
                    reason = "not a string, number, boolean or null"
                    problems.append(RowError(line, column, _shown(value), reason))
                    continue
                values[column] = text
            yield line, values, tuple(problems)


def _check_header(
    header: list[str] | None, spec: KindSpec
) -> tuple[list[str], tuple[RowError, ...]]:
    if not header or not any(cell.strip() for cell in header):
        return [], (RowError(1, "", "", "no header row (the first line names the columns)"),)
    columns = [cell.strip().lower() for cell in header]
    problems: list[RowError] = []
    seen: set[str] = set()
    for column, cell in zip(columns, header, strict=True):
        if column in seen:
            problems.append(RowError(1, column, cell, "column given twice"))
        elif column not in spec.columns:
            reason = f"unknown column (expected: {', '.join(spec.columns)})"
            problems.append(RowError(1, column, cell, reason))
        seen.add(column)
    for column in spec.required:
        if column not in seen:
            problems.append(RowError(1, column, "", "missing required column"))
    return columns, tuple(problems)


def _as_text(value: object) -> str | None:
    """A JSON scalar as the text a CSV cell would hold; None for anything else."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # 12.0 is a count of 12; 12.5 stays 12.5; no exponent notation reaches the parsers.
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return None


def _shown(value: object) -> str:
    text = _as_text(value)
    return text if text is not None else repr(value)[:200]


def _unreadable(line: int, exc: Exception) -> RowError:
    if isinstance(exc, UnicodeDecodeError):
        return RowError(line, "", "", "not UTF-8 text (save the file as CSV UTF-8)")
    return RowError(line, "", "", f"not readable as CSV ({exc})")


def _seekable(stream: IO[str] | IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError):
        return False


def _spool(stream: IO[str] | IO[bytes], *, binary: bool) -> IO[bytes]:
    """Copy a one-pass stream to a spooled temporary file so it can be read twice."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES, mode="w+b")  # noqa: SIM115  # lives as long as the source
    if binary:
        shutil.copyfileobj(stream, spool)  # type: ignore[misc]  # binary stream here
    else:
        for chunk in iter(lambda: stream.read(1024 * 1024), ""):
            spool.write(chunk.encode("utf-8"))  # type: ignore[union-attr]  # text stream here
    spool.seek(0)
    return spool  # type: ignore[return-value]  # SpooledTemporaryFile is a binary IO


def _without_bom(stream: IO[str]) -> Iterator[str]:
    """A text stream's lines with a leading byte-order mark removed from the first one."""
    first = True
    for text_line in stream:
        if first:
            text_line = text_line.removeprefix("\ufeff")
            first = False
        yield text_line
