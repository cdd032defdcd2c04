"""The import path of `import_csv`, with progress reported as it goes (the staff web import).

Not a second validation path: the same importers, the same `_validate` and `_load` as
`manage.py import_data` and the bulk API; this module only counts the rows they read and write
and tells a `Progress` about them, and offers the validation pass on its own (the report the
upload page shows before anything is written).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, Protocol

from scoring.imports.api import _importer, _load, _validate
from scoring.imports.base import KindImporter
from scoring.imports.result import ImportResult
from scoring.imports.sources import CsvSource, PlainCsv, RowSource, SourceRow
from scoring.imports.specs import KindSpec

# Tell the progress every this many rows (and at the end of each pass).
REPORT_EVERY = 1000


class Progress(Protocol):
    def validated(self, rows: int) -> None: ...

    def written(self, rows: int) -> None: ...


class _CountingSource:
    """A source whose first pass counts rows validated (the second pass is the write pass)."""

    def __init__(self, source: RowSource, progress: Progress) -> None:
        self._source = source
        self._progress = progress
        self._passes = 0

    def rows(self, spec: KindSpec) -> Iterator[SourceRow]:
        self._passes += 1
        validating = self._passes == 1
        count = 0
        for row in self._source.rows(spec):
            yield row
            count += 1
            if validating and count % REPORT_EVERY == 0:
                self._progress.validated(count)
        if validating:
            self._progress.validated(count)

    def plain(self, spec: KindSpec) -> PlainCsv | None:
        """The source's plain CSV (the set-based import's COPY way), its lines counted."""
        plain_of = getattr(self._source, "plain", None)
        plain: PlainCsv | None = plain_of(spec) if plain_of is not None else None
        if plain is not None:
            plain.on_lines = self._progress.validated
        return plain


def _tracked(importer: KindImporter[Any], progress: Progress) -> KindImporter[Any]:
    """The importer, its writes counted (a subclass of its own class: nothing else changes)."""
    base = type(importer)

    class Tracked(base):  # type: ignore[valid-type,misc]  # a subclass of the runtime class
        def on_written(self, rows: int) -> None:
            progress.written(rows)

    Tracked.__name__ = f"Tracked{base.__name__}"
    return Tracked(actor=importer.actor)


def validate_csv(kind: str, stream: IO[str] | IO[bytes], *, progress: Progress) -> ImportResult:
    """Check a CSV exactly as `import_csv` would before writing; write nothing.

    The result's errors are every bad row; `created` etc. stay 0 (nothing was written).
    """
    importer = _importer(kind, actor=None)
    result = ImportResult(kind=importer.spec.kind)
    _validate(importer, _CountingSource(CsvSource(stream), progress), result.errors)
    result.errors.sort(key=lambda error: error.line)
    return result


def import_csv_tracked(
    kind: str, stream: IO[str] | IO[bytes], *, actor: Any, progress: Progress
) -> ImportResult:
    """`import_csv` with its progress reported: validate everything, then write all or none."""
    importer = _tracked(_importer(kind, actor=actor), progress)
    return _load(importer, _CountingSource(CsvSource(stream), progress))
