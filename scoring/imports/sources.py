"""Where rows come from: a CSV stream (read twice, never held in memory) or JSON records.

Both yield `(line, values, problems)`: `values` maps each column the row gives to its stripped
text (None when the row cannot be read at all), `problems` are structural errors of the row.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any, Protocol

from scoring.imports.result import RowError
from scoring.imports.specs import KindSpec

SourceRow = tuple[int, dict[str, str] | None, tuple[RowError, ...]]

NOT_UTF8 = "not UTF-8 text (save the file as CSV UTF-8)"
HAS_NUL = "contains a NUL character (0x00), which no text can hold"

# Binary streams are read in blocks of about this many bytes (cut after their last line end).
BLOCK_BYTES = 1 << 20

# Uploads and pipes that cannot seek are spooled; past this size the spool goes to disk.
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024


class RowSource(Protocol):
    def rows(self, spec: KindSpec) -> Iterator[SourceRow]: ...


class CsvSource:
    """A UTF-8 CSV with a header row (BOM optional, columns in any order), readable twice.

    Line numbers are the file's physical lines (what a text editor shows, and a spreadsheet's
    row numbers while no cell holds a line break): a row that a quoted cell spreads over several
    lines is reported, every error of it, on the line where it starts, and the next row is
    numbered from the line after its end.
    """

    def __init__(self, stream: IO[str] | IO[bytes]) -> None:
        binary = isinstance(stream.read(0), bytes)
        if not _seekable(stream):
            stream, binary = _spool(stream, binary=binary), True
        self._stream: IO[Any] = stream
        self._binary = binary
        self._start = stream.tell()

    def rows(self, spec: KindSpec) -> Iterator[SourceRow]:
        """The data rows; a bad header yields only its errors (line 1) and stops."""
        self._stream.seek(self._start)
        lines = PhysicalLines(self._stream, binary=self._binary)
        reader = csv.reader(lines)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            yield 1, None, (_unreadable(1, exc),)
            return
        if header is not None and lines.take_suspect(reader.line_num) and _undecodable(header):
            yield 1, None, (RowError(1, "", "", NOT_UTF8),)
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
            except csv.Error as exc:
                yield start, None, (_unreadable(start, exc),)
                return
            if cells is None:
                return
            line = reader.line_num
            suspect = lines.take_suspect(line)
            stripped = [cell.strip() for cell in cells]
            if not any(stripped):
                continue  # blank lines (and Excel's trailing ",,,," rows) carry no data
            if len(cells) != width:
                reason = f"has {len(cells)} fields, the header has {width}"
                errors = [RowError(start, "", "", reason)]
                if suspect and _undecodable(cells):
                    errors.append(RowError(start, "", "", NOT_UTF8))
                yield start, None, tuple(errors)
                continue
            values = dict(zip(columns, stripped, strict=True))
            if not suspect:
                yield start, values, ()
                continue
            problems = tuple(_text_problems(start, values))
            yield start, values, problems

    def plain(self, spec: KindSpec) -> PlainCsv | None:
        """The file for a database's own CSV reader, or None when its header line is not plain
        or not right for the kind (then `rows` reports it)."""
        self._stream.seek(self._start)
        first = b""
        try:
            while b"\n" not in first:
                data = self._read_bytes()
                if not data:
                    break
                first += data
        except NotPlain:
            return None
        first = first.removeprefix(codecs.BOM_UTF8)
        end = first.find(b"\n") + 1 or len(first)
        try:
            header = first[:end].decode("utf-8")
        except UnicodeDecodeError:
            return None
        if '"' in header or "\x00" in header or "\r" in header.rstrip("\r\n"):
            return None
        columns, problems = _check_header(header.rstrip("\r\n").split(","), spec)
        if problems:
            return None
        return PlainCsv(columns, first[end:], iter(self._read_bytes, b""))

    def _read_bytes(self) -> bytes:
        try:
            data = self._stream.read(BLOCK_BYTES)
        except UnicodeDecodeError:  # a text stream over bytes that are not UTF-8
            raise NotPlain from None
        return data if self._binary else data.encode("utf-8", "surrogatepass")


class NotPlain(Exception):
    """The file holds what only the row-by-row reader reads as `CsvSource.rows` does."""


class PlainCsv:
    """A CSV file without quotes that a database's own CSV reader can take as it is.

    `columns` are the header's columns in file order; `blocks` yields the UTF-8 bytes after the
    header line and raises NotPlain at the first character that would make the database's
    reading differ from `CsvSource.rows`: a quote (a quoted cell may span lines, so line
    numbers would drift), a NUL, a backslash-dot (COPY's end-of-data marker). What the
    database refuses itself (a row of another width, a blank line, bytes that are not UTF-8,
    mixed line ends) makes its COPY fail; `lines` (the data lines read) lets the caller check
    the database read one row per line. Either way the caller reads the file again with
    `rows`, which reports it.
    """

    SPECIAL = (b'"', b"\x00", b"\\.")

    def __init__(self, columns: list[str], first: bytes, rest: Iterator[bytes]) -> None:
        self.columns = columns
        self.lines = 0
        # Told the data lines read so far, after each block (a progress display listens here).
        self.on_lines: Callable[[int], None] | None = None
        self._first = first
        self._rest = rest

    def blocks(self) -> Iterator[bytes]:
        last = b""
        for block in itertools.chain((self._first,), self._rest):
            if not block:
                continue
            if any(special in block for special in self.SPECIAL) or (last + block[:1]) == b"\\.":
                raise NotPlain
            self.lines += block.count(b"\n")
            last = block[-1:]
            yield block
            if self.on_lines is not None:
                self.on_lines(self.lines)
        if last and last != b"\n":
            self.lines += 1  # the last line has no line end


class PhysicalLines:
    """The lines of a CSV stream as text, one physical line at a time, BOM removed.

    A binary stream is decoded line by line. A TextIOWrapper decodes 8 KiB ahead of the line the
    csv reader is on, so a byte that is not UTF-8 used to raise while the reader was still
    dozens of lines before it (line 4879 for a byte on line 5001), and the error ended the
    reading. Decoded one line at a time, the error is on the line that holds the byte, and the
    line goes on with its bad bytes kept as surrogate escapes, so every other row is still
    checked. Lines with such bytes or a NUL character (which PostgreSQL cannot store in text)
    are remembered as suspect: only their cells are searched for what to report.

    Lines end at a line feed, a carriage return and line feed, or a lone carriage return.
    """

    def __init__(self, stream: IO[Any], *, binary: bool) -> None:
        self._stream = stream
        self._binary = binary
        self._suspect: list[int] = []

    def __iter__(self) -> Iterator[str]:
        return self._binary_lines() if self._binary else self._text_lines()

    def take_suspect(self, up_to: int) -> bool:
        """Whether any line up to this one is suspect; forgets them, they are dealt with."""
        if not self._suspect or self._suspect[0] > up_to:
            return False
        while self._suspect and self._suspect[0] <= up_to:
            self._suspect.pop(0)
        return True

    def _binary_lines(self) -> Iterator[str]:
        """Blocks of whole lines: a block that is valid UTF-8 without NUL is split in C (most
        files are nothing else); any other block is taken line by line, as described above."""
        number = 0
        first = True
        carry = b""
        while True:
            data = self._stream.read(BLOCK_BYTES)
            block = carry + data
            if not block:
                return
            cut = block.rfind(b"\n") + 1 if data else len(block)
            if cut == 0:
                carry = block  # no line end yet: read on
                continue
            block, carry = block[:cut], block[cut:]
            if first:
                block = block.removeprefix(codecs.BOM_UTF8)
                first = False
            try:
                text = block.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and "\x00" not in text:
                # newline="": lines end at \n, \r\n or a lone \r, kept as they are.
                for line in io.StringIO(text, newline=""):
                    number += 1
                    yield line
                continue
            for line in self._suspect_block(block, number):
                number += 1
                yield line

    def _suspect_block(self, block: bytes, number: int) -> Iterator[str]:
        for chunk in io.BytesIO(block):  # split at b"\n" only
            # A lone \r ends a line too (universal newlines); \r\n stays one line end.
            cr = chunk.find(b"\r")
            one_line = cr < 0 or cr == len(chunk) - 1 or chunk.endswith(b"\r\n", cr)
            parts = (chunk,) if one_line else chunk.splitlines(True)
            for raw in parts:
                number += 1
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("utf-8", "surrogateescape")
                    self._suspect.append(number)
                else:
                    if "\x00" in text:
                        self._suspect.append(number)
                yield text

    def _text_lines(self) -> Iterator[str]:
        first = True
        for number, text in enumerate(self._stream, start=1):
            if first:
                text = text.removeprefix("\ufeff")
                first = False
            if "\x00" in text or not _encodable(text):
                self._suspect.append(number)
            yield text


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
                    problems.append(RowError(line, visible(column), _shown(value), reason))
                    continue
                try:
                    text = _as_text(value)
                except ValueError as exc:
                    problems.append(RowError(line, column, _shown(value), str(exc)))
                    continue
                if text is None:
                    reason = "not a string, number, boolean or null"
                    problems.append(RowError(line, column, _shown(value), reason))
                    continue
                values[column] = text
            problems.extend(_text_problems(line, values))
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
            problems.append(RowError(1, visible(column), visible(cell), reason))
        seen.add(column)
    for column in spec.required:
        if column not in seen:
            problems.append(RowError(1, column, "", "missing required column"))
    return columns, tuple(problems)


# A JSON number beyond this is no figure any column holds; its text would not even be built
# (Python refuses to print integers of more than 4,300 digits).
_LARGEST_NUMBER = 10**40


def _as_text(value: object) -> str | None:
    """A JSON scalar as the text a CSV cell would hold; None for anything else.

    Raises ValueError (the reason) for a number too large to be any value.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        if abs(value) >= _LARGEST_NUMBER:
            raise ValueError("number too large")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)  # nan, inf: the parsers refuse them as text
        if abs(value) >= _LARGEST_NUMBER:
            raise ValueError("number too large")
        # 12.0 is a count of 12; 12.5 stays 12.5; no exponent notation reaches the parsers.
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        if value.is_finite() and abs(value) >= _LARGEST_NUMBER:
            raise ValueError("number too large")
        return format(value, "f") if value.is_finite() else str(value)
    return None


def _shown(value: object) -> str:
    try:
        text = _as_text(value)
        return visible(text if text is not None else repr(value)[:200])
    except ValueError:
        return ""  # holds a number too large to print


def visible(text: str) -> str:
    """Text safe to print and store: a byte that was not UTF-8 as \\xNN, a NUL as \\x00."""
    if text.isascii() and "\x00" not in text:
        return text
    if _encodable(text):
        return text.replace("\x00", "\\x00")
    return "".join(_visible_character(character) for character in text)


def _visible_character(character: str) -> str:
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # a byte the decoder kept as a surrogate escape
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate of JSON text ("\\ud800")
        return f"\\u{code:04x}"
    return "\\x00" if code == 0 else character


def _encodable(text: str) -> bool:
    """Whether the text is valid Unicode (no lone surrogate, such as a JSON "\\ud800")."""
    return text.isascii() or not _has_lone_surrogate(text)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _undecodable(cells: Iterable[str]) -> bool:
    return any(not _encodable(cell) for cell in cells)


def _text_problems(line: int, values: dict[str, str]) -> Iterator[RowError]:
    """A RowError for each value no database can store; those values are taken out of the row."""
    for column, text in list(values.items()):
        if text.isascii() and "\x00" not in text:
            continue
        if not _encodable(text):
            reason = NOT_UTF8
        elif "\x00" in text:
            reason = HAS_NUL
        else:
            continue
        del values[column]
        yield RowError(line, column, visible(text), reason)


def _unreadable(line: int, exc: Exception) -> RowError:
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
