"""One validation path for every door: the command, the staff upload page and the bulk API."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from django.db import transaction

from portal.models import Organization
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


# The kinds whose rows belong to one organization by their partner_id column.
ORGANIZATION_KINDS = ("people", "certifications")

NOT_THIS_ORGANIZATION = "not this organization's Partner ID (%s)"


def import_csv_for_organization(
    kind: str, stream: IO[str] | IO[bytes], *, organization: Organization, actor: Any = None
) -> ImportResult:
    """`import_csv` for one organization's page: a blank partner_id is this organization's, and
    a row naming any other organization is a bad row (so nothing is written)."""
    if kind not in ORGANIZATION_KINDS:
        raise ValueError(f"Not an organization's kind: {kind!r}.")
    importer = _OrganizationRows(_importer(kind, actor=actor), organization)
    return _load(importer, CsvSource(stream))


class _OrganizationRows(KindImporter[Any]):
    """Another kind's importer, limited to the rows of one organization."""

    def __init__(self, inner: KindImporter[Any], organization: Organization) -> None:
        super().__init__(actor=inner.actor)
        self.inner = inner
        self.partner_id = organization.partner_id
        self.spec = inner.spec  # type: ignore[misc]  # the wrapped kind's spec, per instance

    def parse(self, row: RowReader) -> Any:
        given = row.values.get("partner_id")
        if given == "":
            row.values["partner_id"] = self.partner_id
        elif given is not None and given != self.partner_id:
            row.fail("partner_id", given, NOT_THIS_ORGANIZATION % self.partner_id)
            return None
        return self.inner.parse(row)

    def resolve(self, rows: list[tuple[int, Any]], errors: list[RowError]) -> list[tuple[int, Any]]:
        return self.inner.resolve(rows, errors)

    def natural_key(self, row: Any) -> Hashable:
        return self.inner.natural_key(row)

    def shown_key(self, row: Any) -> str:
        return self.inner.shown_key(row)

    def write(self, rows: list[Any]) -> Counts:
        return self.inner.write(rows)

    def affected_organization_ids(self) -> set[int]:
        return self.inner.affected_organization_ids()


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
