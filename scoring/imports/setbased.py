"""The usage import on PostgreSQL, set-based: the file through COPY, validated and merged in SQL.

Two ways in, one merge:

- **Plain CSV** (no quotes, the common export): the file's bytes go straight into COPY of an
  untyped staging table, PostgreSQL's own CSV reader, one row per line (line numbers are the
  file's). What a row's cells mean is then asked of the importer once per distinct value, not
  once per row: each distinct (month, platform, measure, workload), each distinct customer
  and each value not in the plainest spelling (`fields.PLAIN_SQL`) goes through the same
  `UsageImporter.parse` as every other door, on a row made of the file's own cells; what it
  accepts is written to small map tables, and the merge reads the staged rows through them.
  A row that no map covers (a bad cell), an unknown customer or a duplicate key makes the
  merge stop with a not-null violation; then (and when COPY itself refuses the file, or the
  file holds a quote, a NUL or COPY's end marker) everything of this way is rolled back to a
  savepoint and the file is read the other way, which reports it.
- **Row by row** (every other CSV, JSON records): every row through `UsageImporter.parse`,
  cells it has already accepted remembered, each good row streamed into COPY of a typed
  staging table; every bad row's errors kept. The report is the chunked path's, error for
  error: same lines, columns, values and reasons.

The merge is one statement: the staged rows keyed (the customer by a join), LEFT JOINed to
the stored usage; new keys are INSERTed, changed values UPDATEd by id, unchanged rows neither
rewritten nor locked. A row without a customer is inserted with a NULL ``customer_id`` and
stops the statement; twins of a new key meet the unique index, twins of a stored key are
counted (`_merge`). No ON CONFLICT: usage
imports take a transaction-level advisory lock, so no other import inserts the same keys
meanwhile. Usage has no database-level foreign key to its customer (a checked row costs more
than the whole merge at a million rows); the file's customers are locked FOR KEY SHARE
instead, so none of them can be deleted before the commit, and a customer's deletion deletes
its usage through the ORM's cascade. Everything runs in one transaction: all rows or none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from django.db import DatabaseError, connection, transaction

from scoring.imports.base import (
    Counts,
    KindImporter,
    RowReader,
    duplicate_error,
    unknown_customer_error,
)
from scoring.imports.fields import PLAIN_SHAPES, FieldError
from scoring.imports.result import ImportResult, RowError
from scoring.imports.sources import NotPlain, PlainCsv, RowSource
from scoring.imports.usage import MEASURES, UsageImporter, UsageRow, _columns, lock_customers
from scoring.models import Customer
from scoring.services import scores_recompute_after_change

STAGE = "scoring_import_usage_setbased"
# At most this many value cells (per value parser), customers and contexts are remembered.
VALUE_CACHE = 100_000
# Text handed to COPY in pieces of about this many characters.
COPY_BUFFER_CHARS = 1 << 20

# What stops the merge at a row it cannot write: a NULL customer, a twin of a new key.
STOPPED = frozenset({"23502", "23505"})
# pg_advisory_xact_lock key of usage imports ("usage" in ASCII).
ADVISORY_LOCK = 0x7573616765
# The merge's and the cell check's hash tables of a million staged rows stay in memory.
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
    # Parsing reads the workload catalog once; not while COPY holds the connection.
    importer.load_catalogs()
    with connection.cursor() as cursor:
        # One usage import at a time: the merge inserts without ON CONFLICT.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        plain_of = getattr(source, "plain", None)  # CSV sources
        plain = plain_of(importer.spec) if plain_of is not None else None
        loaded = _load_plain(cursor, importer, plain, clock) if plain is not None else None
        if loaded is None:
            loaded = _load_rows(cursor, importer, source, clock)
    counts, organization_ids = loaded
    if counts.created or counts.updated:
        # Unchanged data leaves scores as they are: nothing to recompute.
        scores_recompute_after_change(organization_ids=organization_ids)
    clock.lap("organizations")
    return counts, organization_ids


def _load_rows(
    cursor: Any, importer: UsageImporter, source: RowSource, clock: _Clock
) -> tuple[Counts, set[int]]:
    """Every row parsed in Python and streamed into a typed staging table, then merged."""
    errors: list[RowError] = []
    stager = _Stager(importer, errors)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGE} ("
        " line integer NOT NULL, month date NOT NULL, platform text NOT NULL,"
        " measure text NOT NULL, workload text NOT NULL, customer_id text NOT NULL,"
        " value numeric(16, 2) NOT NULL) ON COMMIT DROP"
    )
    copy_sql = (
        f"COPY {STAGE} (line, month, platform, measure, workload, customer_id, value) FROM STDIN"
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
    customers = connection.ops.quote_name(Customer._meta.db_table)
    keyed = (
        f"SELECT c.id AS customer_pk, s.measure, s.workload, s.month, s.value"
        f" FROM {STAGE} s LEFT JOIN {customers} c"
        f"  ON c.platform = s.platform AND c.customer_id = s.customer_id"
    )
    file_customers = (
        f"SELECT c.id FROM {customers} c JOIN (SELECT DISTINCT platform, customer_id"
        f" FROM {STAGE}) s ON c.platform = s.platform AND c.customer_id = s.customer_id"
    )
    # A customer deleted before the lock is missing from the merge's join: it stops there.
    lock_customers(file_customers)
    try:
        counts = _merge(cursor, keyed, stager.staged)
    except _Stopped:
        errors = _database_errors(cursor, importer)
        if not errors:  # a key written meanwhile by another door: the job can run again
            raise RuntimeError("Usage of the file's customers changed during the import.") from None
        raise _Refused(errors) from None
    clock.lap("merge")
    importer.on_written(stager.staged)
    organization_ids = _organizations(cursor, file_customers)
    cursor.execute(f"DROP TABLE {STAGE}")
    return counts, organization_ids


class _Clock:
    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()

    def since_start(self) -> float:
        return time.perf_counter() - self._start

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        last_phases[phase] = now - self._last
        self._last = now


class _Stopped(Exception):
    """The merge met a row it cannot write (no customer, a twin, a cell no map covers)."""


def _merge(cursor: Any, keyed_sql: str, staged: int) -> Counts:
    """Insert the new keys and update the changed values of `keyed_sql`'s rows (customer_pk,
    measure, workload, month, value; customer_pk NULL for a row that cannot be written).

    A row without a customer is inserted with a NULL customer (the not-null violation stops
    the statement), twins of a new key meet the unique index (a unique violation), twins of a
    stored key are counted: each raises _Stopped, with everything of the statement undone.
    """
    table, key, value, pk = _columns()
    sql = (
        f"WITH k AS ("
        f" SELECT r.customer_pk, r.measure, r.workload, r.month, r.value,"
        f"  u.{pk} AS usage_pk, u.{value} AS stored"
        f" FROM ({keyed_sql}) r LEFT JOIN {table} u ON u.customer_id = r.customer_pk"
        f"  AND u.measure = r.measure AND u.workload = r.workload AND u.month = r.month),"
        f" inserted AS (INSERT INTO {table} ({key}, {value})"
        f"  SELECT customer_pk, measure, workload, month, value FROM k WHERE usage_pk IS NULL),"
        f" updated AS (UPDATE {table} u SET {value} = k.value FROM k"
        f"  WHERE u.{pk} = k.usage_pk AND k.value <> k.stored)"
        f" SELECT count(*) FILTER (WHERE usage_pk IS NULL),"
        f"  count(*) FILTER (WHERE value <> stored),"
        f"  (SELECT count(*) FROM (SELECT FROM k WHERE usage_pk IS NOT NULL"
        f"   GROUP BY usage_pk HAVING count(*) > 1) twins)"
        f" FROM k"
    )
    # Hash tables of a million rows: in memory, not in temporary files (for this transaction).
    # (The savepoint is kept to the end of the transaction: releasing it would cost a query.)
    cursor.execute(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'; SAVEPOINT scoring_usage_merge")
    try:
        cursor.execute(sql)
        created, updated, twins = cursor.fetchone()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) not in STOPPED:
            raise
        twins = None
    if twins is None or twins:
        cursor.execute("ROLLBACK TO SAVEPOINT scoring_usage_merge")
        raise _Stopped
    return Counts(created, updated, staged - created - updated)


# The plain way's tables: the file's cells as text, and what the importer made of them.
RAW = "scoring_import_usage_raw"
CONTEXTS = "scoring_import_usage_contexts"
CUSTOMERS = "scoring_import_usage_customers"
# A value's shape: its text with every digit written 9 (`fields.PLAIN_SHAPES`).
SHAPE_SQL = "translate(c_value, '0123456789', '9999999999')"


def _load_plain(
    cursor: Any, importer: UsageImporter, plain: PlainCsv, clock: _Clock
) -> tuple[Counts, set[int]] | None:
    """The plain way (module docstring); None, everything of it rolled back, when the file
    must be read row by row."""
    cursor.execute(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'; SAVEPOINT scoring_usage_plain")
    try:
        return _plain(cursor, importer, plain, clock)
    except (NotPlain, _Stopped, psycopg.Error):
        # psycopg.Error: COPY refused the file (its errors are the driver's, not Django's).
        cursor.execute("ROLLBACK TO SAVEPOINT scoring_usage_plain")
        last_phases["plain way given up"] = clock.since_start()
        return None


def _plain(
    cursor: Any, importer: UsageImporter, plain: PlainCsv, clock: _Clock
) -> tuple[Counts, set[int]]:
    columns = importer.spec.columns
    cells = ", ".join(f"c_{column} text NOT NULL DEFAULT ''" for column in columns)
    # Line 1 is the header: the first data row is line 2, and COPY numbers the rows in order.
    cursor.execute(
        f"CREATE TEMPORARY TABLE {RAW} (line integer GENERATED ALWAYS AS IDENTITY"
        f" (START WITH 2), {cells}) ON COMMIT DROP"
    )
    given = ", ".join(f"c_{column}" for column in plain.columns)
    with cursor.cursor.copy(
        f"COPY {RAW} ({given}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({given}))"
    ) as copy:
        for block in plain.blocks():
            copy.write(block)
    staged = cursor.cursor.rowcount
    if staged != plain.lines:
        raise NotPlain  # not one row per line (lone carriage returns)
    clock.lap("read and COPY")
    _learn(cursor, importer)
    clock.lap("cells checked")
    customers, resolved = _learned_customers(cursor)
    # Every value's shape was found plain for its measure (`_learn`): the cast cannot fail.
    keyed = (
        f"SELECT m.customer_pk, x.measure, x.workload, x.month, r.c_value::numeric AS value"
        f" FROM {RAW} r"
        f" LEFT JOIN {CONTEXTS} x ON x.c_month = r.c_month AND x.c_platform = r.c_platform"
        f"  AND x.c_measure = r.c_measure AND x.c_workload = r.c_workload"
        f" LEFT JOIN {CUSTOMERS} m"
        f"  ON m.c_platform = r.c_platform AND m.c_customer_id = r.c_customer_id"
    )
    # The merge reads the customers' keys from the map: every one must still be there.
    lock_customers(customers, expected=resolved)
    counts = _merge(cursor, keyed, staged)
    clock.lap("merge")
    importer.on_written(staged)
    organization_ids = _organizations(cursor, customers)
    cursor.execute(f"DROP TABLE {RAW}, {CONTEXTS}, {CUSTOMERS}")
    return counts, organization_ids


def _learned_customers(cursor: Any) -> tuple[str, int]:
    """Resolve the learned customers to their primary keys: SQL selecting those keys, and how
    many distinct customers it selects."""
    customers = connection.ops.quote_name(Customer._meta.db_table)
    cursor.execute(
        f"UPDATE {CUSTOMERS} m SET customer_pk = c.id FROM {customers} c"
        f" WHERE c.platform = m.platform AND c.customer_id = m.customer_id"
    )
    cursor.execute(f"SELECT count(DISTINCT customer_pk) FROM {CUSTOMERS}")
    (resolved,) = cursor.fetchone()
    return f"SELECT customer_pk FROM {CUSTOMERS} WHERE customer_pk IS NOT NULL", resolved


def _learn(cursor: Any, importer: UsageImporter) -> None:
    """What the importer makes of each distinct context and customer, asked on rows made of
    the file's own cells; and every value's shape, per measure cell (one scan, the three
    groupings at once). The maps hold what the importer accepted; a value of a shape that is
    not plain for its measure means the file is read row by row (NotPlain)."""
    cursor.execute(
        f"SELECT GROUPING(c_month, c_customer_id, {SHAPE_SQL}), c_month, c_platform, c_measure,"
        f" c_workload, c_customer_id, {SHAPE_SQL}, min(c_customer_id), min(c_value)"
        f" FROM {RAW} GROUP BY GROUPING SETS ((c_month, c_platform, c_measure, c_workload),"
        f" (c_platform, c_customer_id), (c_measure, {SHAPE_SQL}))"
    )
    found = cursor.fetchall()
    contexts = []
    # Per platform cell: a row the importer accepted, to ask about customers on.
    templates: dict[str, dict[str, str]] = {}
    parsers: dict[str, Callable[[str], Decimal]] = {}  # per measure cell
    for grouping, month, platform, measure, workload, _, _, customer_id, value in found:
        if grouping != CONTEXT_GROUPING:
            continue
        cells = {
            "month": month,
            "platform": platform,
            "measure": measure,
            "workload": workload,
            "customer_id": customer_id,
            "value": value,
        }
        row = _accepted(importer, cells)
        if row is None:
            continue  # a bad row is in the file: the merge stops at it
        contexts.append((month, platform, measure, workload, row.month, row.measure, row.workload))
        templates.setdefault(platform, cells)
        parsers[measure] = MEASURES[row.measure].parse_value
    for grouping, _, _, measure, _, _, shape, _, _ in found:
        if grouping != SHAPE_GROUPING:
            continue
        parser = parsers.get(measure)
        if parser is None or shape not in PLAIN_SHAPES.get(parser, frozenset()):
            raise NotPlain  # a value the parsers are to read (or a bad one: they report it)
    _fill(
        cursor,
        CONTEXTS,
        "c_month text, c_platform text, c_measure text, c_workload text, month date,"
        " measure text, workload text",
        contexts,
    )
    learned = []
    for grouping, _, platform, _, _, customer_id, _, _, _ in found:
        template = templates.get(platform)
        if grouping != CUSTOMER_GROUPING or template is None:
            continue
        row = _accepted(importer, {**template, "customer_id": customer_id})
        if row is not None:
            learned.append((platform, customer_id, row.platform, row.customer_id))
    _fill(
        cursor,
        CUSTOMERS,
        "c_platform text, c_customer_id text, platform text, customer_id text, customer_pk bigint",
        learned,
        columns="c_platform, c_customer_id, platform, customer_id",
    )


# GROUPING(c_month, c_customer_id, shape) of each grouping set: a bit per column left out.
CONTEXT_GROUPING, CUSTOMER_GROUPING, SHAPE_GROUPING = 0b011, 0b101, 0b110


def _accepted(importer: UsageImporter, cells: dict[str, str]) -> UsageRow | None:
    """The importer's row for these cells (stripped, as `CsvSource.rows` gives them), or None."""
    errors: list[RowError] = []
    values = {column: cell.strip() for column, cell in cells.items()}
    if not any(values.values()):
        return None
    return importer.parse(RowReader(0, values, errors))


def _fill(
    cursor: Any, table: str, definition: str, rows: list[tuple[Any, ...]], columns: str = ""
) -> None:
    cursor.execute(f"CREATE TEMPORARY TABLE {table} ({definition}) ON COMMIT DROP")
    target = f"{table} ({columns})" if columns else table
    with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(f"ANALYZE {table}")


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


def _organizations(cursor: Any, customer_ids_sql: str) -> set[int]:
    """The organizations associated (any type, any time) with any customer of the file."""
    cursor.execute(
        f"SELECT DISTINCT a.organization_id FROM scoring_association a"
        f" WHERE a.customer_id IN ({customer_ids_sql})"
    )
    return {organization_id for (organization_id,) in cursor.fetchall()}
