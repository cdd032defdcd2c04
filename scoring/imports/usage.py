"""The `usage` kind: one monthly figure per (month, customer, measure, workload).

Usage files are large (a million rows is ordinary), so rows stay small, duplicates are checked
on packed integers, and PostgreSQL writes go through COPY into a staging table and one
INSERT … ON CONFLICT per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from scoring.imports.base import (
    Counts,
    CustomerLookup,
    KindImporter,
    RowReader,
    WorkloadCatalogMixin,
    chunked,
    organizations_of_customers,
    resolve_customers,
)
from scoring.imports.fields import (
    FieldError,
    import_today,
    parse_count,
    parse_money,
    parse_month,
    parse_platform,
)
from scoring.imports.result import RowError
from scoring.imports.specs import SPECS
from scoring.imports.telemetry import read_customer_id
from scoring.models import Customer, Measure, Platform, Usage, Workload


@dataclass(frozen=True, slots=True)
class MeasureRule:
    """Which customers report a measure, what its workload is, and how its value is written.

    `workload_kinds` empty: the whole tenant, workload blank. `workload_optional`: a workload
    may be given or left blank (paid seats of one workload or of the whole tenant).
    """

    platforms: tuple[str, ...]
    workload_kinds: tuple[str, ...]
    parse_value: Callable[[str], Decimal]
    workload_optional: bool = False

    def workload_hint(self) -> str:
        if AREA in self.workload_kinds:
            return "an Azure solution area such as security, or an Azure service code"
        return "a product code such as MDE"


# data-formats.md, "Measures in usage".
M365, AZURE, DYNAMICS = Platform.M365.value, Platform.AZURE.value, Platform.DYNAMICS.value
PRODUCT, AREA, SERVICE = (
    Workload.Kind.PRODUCT.value,
    Workload.Kind.AREA.value,
    Workload.Kind.SERVICE.value,
)
# With the additions for the published versions: paid seats of one workload, Azure
# consumption by service, capacity of capacity-billed workloads.
MEASURES: dict[str, MeasureRule] = {
    Measure.PAID_SEATS.value: MeasureRule(
        (M365, DYNAMICS), (PRODUCT,), parse_count, workload_optional=True
    ),
    Measure.PROTECTED_USERS.value: MeasureRule((M365,), (PRODUCT,), parse_count),
    Measure.ACTIVE_USERS.value: MeasureRule((M365, DYNAMICS), (PRODUCT,), parse_count),
    Measure.ACR_USD.value: MeasureRule((AZURE,), (AREA, SERVICE), parse_money),
    Measure.REVENUE_USD.value: MeasureRule((DYNAMICS,), (PRODUCT,), parse_money),
    Measure.CAPACITY.value: MeasureRule((DYNAMICS,), (PRODUCT,), parse_count),
}
MEASURE_INDEX = {measure: index for index, measure in enumerate(MEASURES)}
UNKNOWN_MEASURE = f"unknown measure ({', '.join(MEASURES)})"

STAGE_TABLE = "scoring_import_usage_stage"


@dataclass(slots=True)
class UsageRow:
    month: date
    platform: str
    customer_id: str
    measure: str
    workload: str
    workload_index: int
    value: Decimal
    customer_pk: int = 0


class UsageImporter(WorkloadCatalogMixin, KindImporter[UsageRow]):
    """Usage by (customer, measure, workload, month); the customer must exist."""

    spec = SPECS["usage"]

    def __init__(self, *, actor: object = None) -> None:
        super().__init__(actor=actor)
        self._customers = CustomerLookup()
        self._customer_pks: set[int] = set()
        self._stage_ready = False
        self._this_month = import_today().replace(day=1)

    def _parse_measure(self, raw: str) -> str:
        if raw not in MEASURES:
            raise FieldError(UNKNOWN_MEASURE)
        return raw

    def parse(self, row: RowReader) -> UsageRow | None:
        month = row.required("month", parse_month)
        if month and month > self._this_month:
            # The current month may be reported as it goes; a later one has not happened.
            reason = f"in the future (the current month is {self._this_month:%Y-%m})"
            row.fail("month", row.raw("month"), reason)
        platform = row.required("platform", parse_platform)
        customer_id = read_customer_id(row, platform)
        measure = row.required("measure", self._parse_measure)
        workload = row.optional("workload", self._parse_workload, blank=None)
        workload_given = bool(row.raw("workload"))
        rule = MEASURES.get(measure) if measure else None
        # An unknown measure still gets its value checked as a non-negative amount.
        value = row.required("value", rule.parse_value if rule else parse_money)
        if rule and platform:
            if platform not in rule.platforms:
                platforms = " or ".join(rule.platforms)
                reason = f"{measure} is reported for {platforms} customers, not {platform}"
                row.fail("measure", measure, reason)  # type: ignore[arg-type]  # parsed
            elif not rule.workload_kinds and workload_given:
                reason = f"{measure} counts the whole tenant: leave workload blank"
                row.fail("workload", row.raw("workload"), reason)
            elif rule.workload_kinds and not rule.workload_optional and not workload_given:
                row.fail("workload", "", f"{measure} needs a workload ({rule.workload_hint()})")
            elif workload and workload.platform != platform:
                reason = f"{workload.code} is a {workload.platform} workload, not {platform}"
                row.fail("workload", row.raw("workload"), reason)
            elif workload and workload.kind not in rule.workload_kinds:
                row.fail("workload", row.raw("workload"), f"{measure} needs {rule.workload_hint()}")
        if not row.ok:
            return None
        return UsageRow(
            month=month,  # type: ignore[arg-type]  # row.ok: parsed
            platform=platform,  # type: ignore[arg-type]
            customer_id=customer_id,  # type: ignore[arg-type]
            measure=measure,  # type: ignore[arg-type]
            workload=workload.code if workload else "",
            workload_index=workload.index if workload else 0,
            value=value,  # type: ignore[arg-type]
        )

    def resolve(
        self, rows: list[tuple[int, UsageRow]], errors: list[RowError]
    ) -> list[tuple[int, UsageRow]]:
        return resolve_customers(self._customers, rows, errors)

    def natural_key(self, row: UsageRow) -> Hashable:
        # One int instead of a tuple of strings: a million keys stay around 100 MB.
        key = row.customer_pk * len(MEASURES) + MEASURE_INDEX[row.measure]
        key = key * (len(self._workloads) + 1) + row.workload_index
        return key * 200_000 + row.month.year * 12 + row.month.month

    def shown_key(self, row: UsageRow) -> str:
        month = f"{row.month:%Y-%m}"
        return f"{month}, {row.platform}, {row.customer_id}, {row.measure}, {row.workload}"

    def write(self, rows: list[UsageRow]) -> Counts:
        self._customer_pks.update(row.customer_pk for row in rows)
        if connection.vendor == "postgresql":
            customer_pks = sorted({row.customer_pk for row in rows})
            lock_customers(
                "SELECT unnest(%s::bigint[])", [customer_pks], expected=len(customer_pks)
            )
            return self._write_copy(rows)
        return self._write_compared(rows)

    def _write_compared(self, rows: list[UsageRow]) -> Counts:
        """Any database: read the chunk's stored values, insert the new rows, update the changed.

        Plain INSERT and UPDATE by id, so this path needs no unique index to arbitrate on.
        """
        stored: dict[tuple[int, str, str, date], tuple[int, Decimal]] = {}
        months = {row.month for row in rows}
        for customers in chunked(sorted({row.customer_pk for row in rows})):
            # A superset of the chunk's keys (its customers × its months), compared below.
            for usage_pk, customer_pk, measure, workload, month, value in Usage.objects.filter(
                customer_id__in=customers, month__in=months
            ).values_list("id", "customer_id", "measure", "workload", "month", "value"):
                stored[(customer_pk, measure, workload, month)] = (usage_pk, value)
        inserts = []
        updates = []
        for row in rows:
            before = stored.get((row.customer_pk, row.measure, row.workload, row.month))
            if before is None:
                inserts.append((row.customer_pk, row.measure, row.workload, row.month, row.value))
            elif before[1] != row.value:
                updates.append((row.value, before[0]))
        table, key, value_column, pk = _columns()
        with connection.cursor() as cursor:
            if inserts:
                sql = f"INSERT INTO {table} ({key}, {value_column}) VALUES (%s, %s, %s, %s, %s)"
                cursor.executemany(sql, inserts)
            if updates:
                sql = f"UPDATE {table} SET {value_column} = %s WHERE {pk} = %s"
                cursor.executemany(sql, updates)
        return Counts(len(inserts), len(updates), len(rows) - len(inserts) - len(updates))

    def _write_copy(self, rows: list[UsageRow]) -> Counts:
        """PostgreSQL: COPY the chunk into a staging table, then one INSERT … ON CONFLICT."""
        with connection.cursor() as cursor:
            if not self._stage_ready:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} ("
                    " customer_id bigint NOT NULL, measure varchar(20) NOT NULL,"
                    " workload varchar(40) NOT NULL, month date NOT NULL,"
                    " value numeric(16, 2) NOT NULL) ON COMMIT DROP"
                )
                cursor.execute(f"TRUNCATE {STAGE_TABLE}")
                self._stage_ready = True
            columns = "customer_id, measure, workload, month, value"
            copy_sql = f"COPY {STAGE_TABLE} ({columns}) FROM STDIN"
            # The driver's own cursor: Django's wrapper has no COPY.
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(
                        (row.customer_pk, row.measure, row.workload, row.month, row.value)
                    )
            cursor.execute(_merge_sql())
            created, updated = cursor.fetchone()
            cursor.execute(f"TRUNCATE {STAGE_TABLE}")
        return Counts(created, updated, len(rows) - created - updated)

    def affected_organization_ids(self) -> set[int]:
        return organizations_of_customers(self._customer_pks)


def lock_customers(
    customer_ids_sql: str, params: Sequence[Any] = (), *, expected: int | None = None
) -> None:
    """FOR KEY SHARE until the commit on the customers `customer_ids_sql` selects: usage has no
    database-level foreign key, so this is what keeps a customer from being deleted under rows
    being written. `expected`: how many of them must still be there (they were resolved
    before the lock; a deletion since then stops the import, nothing written)."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT FROM {table} c WHERE c.id IN ({customer_ids_sql})"
            f" FOR KEY SHARE OF c) locked",
            list(params),
        )
        (locked,) = cursor.fetchone()
    if expected is not None and locked != expected:
        raise RuntimeError("A customer of the file was deleted during the import.")


def _columns() -> tuple[str, str, str, str]:
    """The usage table, its natural-key columns, value column and primary key, quoted."""
    quote = connection.ops.quote_name
    columns = {field.name: quote(field.column) for field in Usage._meta.concrete_fields}
    key = ", ".join(columns[name] for name in ("customer", "measure", "workload", "month"))
    return quote(Usage._meta.db_table), key, columns["value"], columns["id"]


def _merge_sql() -> str:
    table, key, value, _ = _columns()
    # xmax = 0 marks a freshly inserted row; rows whose value is unchanged are not returned.
    return (
        f"WITH written AS ("
        f" INSERT INTO {table} ({key}, {value})"
        f" SELECT customer_id, measure, workload, month, value FROM {STAGE_TABLE}"
        f" ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}"
        f" WHERE {table}.{value} IS DISTINCT FROM EXCLUDED.{value}"
        f" RETURNING (xmax = 0) AS created)"
        f" SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written"
    )
