"""One validation path for every door: the command, the staff upload page and the bulk API."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from django.db import transaction

from scoring.imports import setbased
from scoring.imports.base import CHUNK_SIZE, Counts, KindImporter, RowReader, duplicate_error
from scoring.imports.organizations import OrganizationImporter
from scoring.imports.people import HeldCertificationImporter, PersonImporter
from scoring.imports.result import ImportResult, RowError
from scoring.imports.sources import CsvSource, RecordsSource, RowSource
from scoring.imports.telemetry import AssociationImporter, CustomerImporter
from scoring.imports.usage import UsageImporter
from scoring.services import scores_recompute_after_change

IMPORTERS: dict[str, type[KindImporter[Any]]] = {
    "organizations": OrganizationImporter,
    "people": PersonImporter,
    "certifications": HeldCertificationImporter,
    "customers": CustomerImporter,
    "associations": AssociationImporter,
    "usage": UsageImporter,
}


def import_csv(kind: str, stream: IO[str] | IO[bytes], *, actor: Any = None) -> ImportResult:
    """Load a CSV of one kind: all rows or none, upserted on the kind's natural key."""
    importer = _importer(kind, actor=actor)
    return _load(importer, CsvSource(stream))


def import_records(
    kind: str, records: Iterable[Mapping[str, object]], *, actor: Any = None
) -> ImportResult:
    """Load JSON records of one kind exactly as the same rows in a CSV would load."""
    importer = _importer(kind, actor=actor)
    # Read twice (validate, then write): a one-shot iterable is materialised first.
    rows = records if isinstance(records, Sequence) else list(records)
    return _load(importer, RecordsSource(rows))


def _importer(kind: str, *, actor: Any) -> KindImporter[Any]:
    try:
        importer_class = IMPORTERS[kind]
    except KeyError:
        raise ValueError(f"Unknown import kind {kind!r}; one of {', '.join(IMPORTERS)}.") from None
    return importer_class(actor=actor)


class _DataChanged(Exception):
    """A reference vanished between validating and writing (a concurrent delete)."""


def _load(importer: KindImporter[Any], source: RowSource) -> ImportResult:
    """Validate the whole batch; only when it is clean, write it all in one transaction.

    Usage on PostgreSQL goes the set-based way (COPY, validated and merged in SQL), with the
    same report; everything else, and SQLite always, the chunked way.
    """
    if setbased.applies(importer):
        return setbased.load(importer, source)
    return _load_chunked(importer, source)


def _load_chunked(importer: KindImporter[Any], source: RowSource) -> ImportResult:
    """Validate the whole batch; only when it is clean, write it all in one transaction."""
    result = ImportResult(kind=importer.spec.kind)
    _validate(importer, source, result.errors)
    if result.errors:
        result.errors.sort(key=lambda error: error.line)
        return result
    counts = Counts()
    try:
        with transaction.atomic():
            late_errors: list[RowError] = []
            written = 0
            for chunk in _resolved_chunks(importer, source, late_errors):
                counts.add(importer.write([row for _, row in chunk]))
                written += len(chunk)
                importer.on_written(written)
            if late_errors:
                raise _DataChanged
            organization_ids = importer.affected_organization_ids()
            if counts.created or counts.updated:
                # Unchanged data leaves scores as they are: nothing to recompute.
                scores_recompute_after_change(organization_ids=organization_ids)
    except _DataChanged:
        result.errors = sorted(late_errors, key=lambda error: error.line)
        return result
    result.created, result.updated, result.unchanged = (
        counts.created,
        counts.updated,
        counts.unchanged,
    )
    result.organization_ids = sorted(organization_ids)
    return result


def _validate(importer: KindImporter[Any], source: RowSource, errors: list[RowError]) -> None:
    """Pass 1: every row parsed and checked; only the natural keys seen are kept."""
    seen: dict[Hashable, int] = {}
    for chunk in _resolved_chunks(importer, source, errors):
        for line, row in chunk:
            earlier = seen.setdefault(importer.natural_key(row), line)
            if earlier != line:
                errors.append(duplicate_error(importer, line, row, earlier))


def _resolved_chunks(
    importer: KindImporter[Any], source: RowSource, errors: list[RowError]
) -> Iterator[list[tuple[int, Any]]]:
    """The rows that parse and whose references exist, a chunk at a time."""
    chunk: list[tuple[int, Any]] = []
    for line, values, problems in source.rows(importer.spec):
        errors.extend(problems)
        if values is None:
            continue
        reader = RowReader(line, values, errors, reported=frozenset(p.column for p in problems))
        row = importer.parse(reader)
        if row is None or problems:
            continue
        chunk.append((line, row))
        if len(chunk) >= CHUNK_SIZE:
            yield importer.resolve(chunk, errors)
            chunk = []
    if chunk:
        yield importer.resolve(chunk, errors)
