"""The usage import on PostgreSQL, set-based: one pass, COPY into a staging table, one merge.

The chunked path (`api._load`) reads a file twice — validate everything, then write chunk by
chunk — and checks customers and duplicates in Python. Here the file is read once: every row
goes through the same `UsageImporter.parse` (the validators every door shares) and each good
row is streamed straight into COPY (a temporary staging table, dropped with the transaction),
so memory holds one write buffer, never the rows. What needs the database is then asked of it
in SQL over the staging table:

- an unknown customer or a duplicate key: the merge joins the staging table to the customers
  with a LEFT JOIN and counts each key's rows with a window; a row without a customer or with
  a twin puts NULL into ``customer_id`` and the statement stops with a not-null violation;
  only then (and whenever other rows are bad) are the report queries run;
- unchanged rows are filtered out by an anti-join on the unique index (its INCLUDE (value)
  answers from the index alone), so a re-import neither rewrites nor locks them.

The report is the chunked path's, error for error: same lines, columns, values and reasons.
Everything runs in one transaction: all rows or none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, connection, transaction

from scoring.imports.base import (
    Counts,
    KindImporter,
    RowReader,
    duplicate_error,
    unknown_customer_error,
)
from scoring.imports.fields import FieldError
from scoring.imports.result import ImportResult, RowError
from scoring.imports.sources import RowSource
from scoring.imports.usage import MEASURES, UsageImporter, UsageRow, _columns
from scoring.models import Customer
from scoring.services import scores_recompute_after_change

STAGE = "scoring_import_usage_setbased"
# At most this many value cells (per value parser), customers and contexts are remembered.
VALUE_CACHE = 100_000
# Text handed to COPY in pieces of about this many characters.
COPY_BUFFER_CHARS = 1 << 20

NOT_NULL_VIOLATION = "23502"
# About 100 MB sorts a million staged rows.
MERGE_WORK_MEM = "256MB"

# Seconds each phase of the last load took (bench_import prints them).
last_phases: dict[str, float] = {}


def applies(importer: KindImporter[Any]) -> bool:
    """Whether this path loads the importer's kind on the configured database."""
    return isinstance(importer, UsageImporter) and connection.vendor == "postgresql"


@dataclass(frozen=True, slots=True)
class _Context:
    """What a row's month, platform, measure and workload make of it, once they are valid."""

    prefix: str  # the staging columns month, platform, measure, workload, as COPY text
    parse_value: Callable[[str], Decimal]
    values: dict[str, str]  # value cell → COPY text, of values this parser accepted


class _Stager:
    """Rows parsed by the importer, written to COPY as text; every bad row's errors kept.

    A usage file repeats a few dozen (month, platform, measure, workload) and a few thousand
    customers over a million rows: what a valid row's cells made of those is remembered, and a
    row made of remembered cells needs only its value parsed. Anything else — a cell not seen
    in a valid row, a bad value, a structural problem — goes through `importer.parse` itself.
    """

    def __init__(self, importer: UsageImporter, errors: list[RowError]) -> None:
        self.importer = importer
        self.errors = errors
        self.staged = 0
        self._contexts: dict[tuple[str | None, ...], _Context] = {}
        self._customers: dict[tuple[str | None, str | None], str] = {}
        # Per value parser (counts, money): the cells it accepted, as COPY text.
        self._values: dict[Callable[[str], Decimal], dict[str, str]] = {}

    def line(self, line: int, values: dict[str, str], problems: tuple[RowError, ...]) -> str:
        """The row as a COPY line, or "" when it is bad (its errors recorded)."""
        get = values.get
        platform = get("platform")
        if not problems:
            context = self._contexts.get((get("month"), platform, get("measure"), get("workload")))
            customer_id = self._customers.get((platform, get("customer_id")))
            raw_value = get("value")
            if context is not None and customer_id is not None and raw_value:
                value = context.values.get(raw_value)
                if value is None:
                    value = self._value(context, raw_value)
                if value is not None:
                    self.staged += 1
                    return f"{line}\t{context.prefix}\t{customer_id}\t{value}\n"
        return self._parsed(line, values, problems)

    def _value(self, context: _Context, raw: str) -> str | None:
        try:
            value = str(context.parse_value(raw))
        except FieldError:
            return None  # the full parse reports it, exactly as the chunked path
        if len(context.values) >= VALUE_CACHE:
            context.values.clear()  # bounded: memory stays flat whatever the file holds
        context.values[raw] = value
        return value

    def _parsed(self, line: int, values: dict[str, str], problems: tuple[RowError, ...]) -> str:
        self.errors.extend(problems)
        reader = RowReader(
            line, values, self.errors, reported=frozenset(p.column for p in problems)
        )
        row = self.importer.parse(reader)
        if row is None or problems:
            return ""
        get = values.get
        prefix = "\t".join((row.month.isoformat(), row.platform, row.measure, _text(row.workload)))
        key = (get("month"), get("platform"), get("measure"), get("workload"))
        parse_value = MEASURES[row.measure].parse_value
        shared = self._values.setdefault(parse_value, {})
        if len(self._contexts) >= VALUE_CACHE:
            self._contexts.clear()
        self._contexts[key] = _Context(prefix, parse_value, shared)
        if len(self._customers) >= VALUE_CACHE:
            self._customers.clear()
        self._customers[(get("platform"), get("customer_id"))] = row.customer_id
        self.staged += 1
        return f"{line}\t{prefix}\t{row.customer_id}\t{row.value}\n"


def _text(value: str) -> str:
    """A value in COPY's text format (catalog codes hold no tab or backslash; kept safe)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


class _Refused(Exception):
    """Leaves the transaction (rolling everything back) with the report's errors."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__()
        self.errors = errors


def load(importer: KindImporter[Any], source: RowSource) -> ImportResult:
    """Validate and write the file in one transaction; nothing is written unless all is good."""
    assert isinstance(importer, UsageImporter)
    result = ImportResult(kind=importer.spec.kind)
    try:
        with transaction.atomic():
            counts, organization_ids = _load(importer, source)
            started = time.perf_counter()
        # The foreign keys are deferred: their checks run at the commit.
        last_phases["commit"] = time.perf_counter() - started
    except _Refused as refused:
        result.errors = sorted(refused.errors, key=lambda error: error.line)
        return result
    result.created, result.updated, result.unchanged = (
        counts.created,
        counts.updated,
        counts.unchanged,
    )
    result.organization_ids = sorted(organization_ids)
    return result


def _load(importer: UsageImporter, source: RowSource) -> tuple[Counts, set[int]]:
    last_phases.clear()
    clock = _Clock()
    errors: list[RowError] = []
    stager = _Stager(importer, errors)
    # Parsing reads the workload catalog once; not while COPY holds the connection.
    importer.load_catalogs()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} ("
            " line integer NOT NULL, month date NOT NULL, platform text NOT NULL,"
            " measure text NOT NULL, workload text NOT NULL, customer_id text NOT NULL,"
            " value numeric(16, 2) NOT NULL) ON COMMIT DROP"
        )
        copy_sql = (
            f"COPY {STAGE} (line, month, platform, measure, workload, customer_id, value)"
            " FROM STDIN"
        )
        # The driver's own cursor: Django's wrapper has no COPY.
        with cursor.cursor.copy(copy_sql) as copy:
            buffer: list[str] = []
            size = 0
            for line, values, problems in source.rows(importer.spec):
                if values is None:
                    errors.extend(problems)
                    continue
                text = stager.line(line, values, problems)
                if text:
                    buffer.append(text)
                    size += len(text)
                    if size >= COPY_BUFFER_CHARS:
                        copy.write("".join(buffer))
                        buffer.clear()
                        size = 0
            copy.write("".join(buffer))
        clock.lap("read, parse and COPY")
        cursor.execute(f"ANALYZE {STAGE}")
        if errors:
            raise _Refused(errors + _database_errors(cursor, importer))
        counts = _merge(cursor, importer, stager.staged)
        clock.lap("merge")
        importer.on_written(stager.staged)
        organization_ids = _organizations(cursor)
        cursor.execute(f"DROP TABLE {STAGE}")
    if counts.created or counts.updated:
        # Unchanged data leaves scores as they are: nothing to recompute.
        scores_recompute_after_change(organization_ids=organization_ids)
    clock.lap("organizations")
    return counts, organization_ids


class _Clock:
    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        last_phases[phase] = now - self._last
        self._last = now


def _merge(cursor: Any, importer: UsageImporter, staged: int) -> Counts:
    """One INSERT … ON CONFLICT of the new and changed rows; the counts from its RETURNING."""
    table, key, value, _ = _columns()
    customers = connection.ops.quote_name(Customer._meta.db_table)
    # xmax = 0 marks a freshly inserted row. Rows whose stored value is the same are left out
    # by the anti-join, before ON CONFLICT would lock them. A row without a customer (the LEFT
    # JOIN found none) or with a twin in the file (copies > 1, kept whatever the anti-join says)
    # is written with a NULL customer: the not-null violation stops the statement, and only
    # then are the report queries run. The window sorts by the unique key, which is also the
    # order the index is cheapest to insert in.
    sql = (
        f"WITH written AS ("
        f" INSERT INTO {table} ({key}, {value})"
        f" SELECT CASE WHEN k.copies = 1 THEN k.customer_pk END,"
        f"  k.measure, k.workload, k.month, k.value"
        f" FROM (SELECT c.id AS customer_pk, s.measure, s.workload, s.month, s.value,"
        f"  count(*) OVER (PARTITION BY c.id, s.measure, s.workload, s.month) AS copies"
        f"  FROM {STAGE} s LEFT JOIN {customers} c"
        f"   ON c.platform = s.platform AND c.customer_id = s.customer_id) k"
        f" WHERE k.copies > 1 OR NOT EXISTS (SELECT FROM {table} u"
        f"  WHERE u.customer_id = k.customer_pk AND u.measure = k.measure"
        f"  AND u.workload = k.workload AND u.month = k.month AND u.value = k.value)"
        f" ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}"
        f" WHERE {table}.{value} IS DISTINCT FROM EXCLUDED.{value}"
        f" RETURNING (xmax = 0) AS created)"
        f" SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written"
    )
    # The window sorts the whole file: in memory, not in temporary files (for this transaction).
    # (The savepoint is kept to the end of the transaction: releasing it would cost a query.)
    cursor.execute(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'; SAVEPOINT scoring_usage_merge")
    try:
        cursor.execute(sql)
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != NOT_NULL_VIOLATION:
            raise
        cursor.execute("ROLLBACK TO SAVEPOINT scoring_usage_merge")
        raise _Refused(_database_errors(cursor, importer)) from None
    created, updated = cursor.fetchone()
    return Counts(created, updated, staged - created - updated)


def _database_errors(cursor: Any, importer: UsageImporter) -> list[RowError]:
    """Unknown customers, then duplicates among the rows whose customer exists, by line."""
    customers = connection.ops.quote_name(Customer._meta.db_table)
    errors: list[RowError] = []
    cursor.execute(
        f"SELECT s.line, s.platform, s.customer_id FROM {STAGE} s WHERE NOT EXISTS"
        f" (SELECT FROM {customers} c"
        f"  WHERE c.platform = s.platform AND c.customer_id = s.customer_id)"
        f" ORDER BY s.line"
    )
    errors.extend(
        unknown_customer_error(line, platform, customer_id)
        for line, platform, customer_id in cursor.fetchall()
    )
    cursor.execute(
        f"SELECT line, first_line, month, platform, customer_id, measure, workload FROM ("
        f" SELECT s.*, min(s.line) OVER (PARTITION BY c.id, s.measure, s.workload, s.month)"
        f"  AS first_line"
        f" FROM {STAGE} s JOIN {customers} c"
        f"  ON c.platform = s.platform AND c.customer_id = s.customer_id) keyed"
        f" WHERE line <> first_line ORDER BY line"
    )
    for line, first_line, month, platform, customer_id, measure, workload in cursor.fetchall():
        row = UsageRow(month, platform, customer_id, measure, workload, 0, Decimal(0))
        errors.append(duplicate_error(importer, line, row, first_line))
    return errors


def _organizations(cursor: Any) -> set[int]:
    """The organizations associated (any type, any time) with any customer of the file."""
    customers = connection.ops.quote_name(Customer._meta.db_table)
    cursor.execute(
        f"SELECT DISTINCT a.organization_id FROM scoring_association a"
        f" JOIN {customers} c ON c.id = a.customer_id"
        f" JOIN (SELECT DISTINCT platform, customer_id FROM {STAGE}) s"
        f"  ON c.platform = s.platform AND c.customer_id = s.customer_id"
    )
    return {organization_id for (organization_id,) in cursor.fetchall()}
