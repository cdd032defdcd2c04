"""Raw measures for a chunk of organizations, computed set-based in the database.

One SQL statement per chunk computes every telemetry source of every rule set in force. It reads
the chunk's customers' months from UsageYear (usage pivoted by calendar year, kept in step with
Usage by database triggers) into one wide row per customer series, `v0..v23`; masks each series
with the months the partner's associations cover; and computes each source as arithmetic over
those columns — month-over-month seat events as comparisons of neighbouring months, trailing
12-month totals as sums of twelve columns, growth against each customer's baseline month — then
aggregates per organization. No Python loop over customers: the cost grows with the series of
the chunk. The same SQL runs on SQLite and PostgreSQL but for the month index of association
dates (day arithmetic) and two PostgreSQL-only details (an array look-up of the customers, and
fences that keep a subquery from being merged).

Program reading (shared/spec/program.md, with its [decision]s):
- the current month M is the last calendar month ended on or before the as-of date; idx 23 is M,
  idx 11 is "12 months ago", idx 12..23 the trailing 12 months;
- a figure counts for an organization only in the months an association of the rule's type
  covers; an association for one workload attributes that workload's figures (and the tenant's
  own figures such as paid seats), a blank workload the whole customer; PAL attributes nothing to
  a partner located in China;
- growth and deployments look at the customers associated in the current month, from a baseline
  of 12 months ago or the first month of association when that is later.

The published versions' computations (MetricSource.computation), the same way — arithmetic over
the masked month columns, aggregated per organization, no loop over customers:
- qualifying_net: units in a band (`usage_threshold` or `seat_threshold` .. `seat_max`) over the
  last `lookback_months` months, now minus 12 months ago; a unit is a tenant with one workload
  in the band, a tenant's total, or each workload of a tenant;
- percent_growth: the summed value now and 12 months ago (both masked by the associations),
  handed to the engine as the value and its baseline (`key@base`);
- distinct_services: workloads (Azure services) with consumption over the trailing 12 months;
- active_ratio_net: tenants whose active users of the eligible workloads reach the ratio of their
  paid seats (those workloads' seats when reported per workload, else the tenant's), now minus
  at their baseline month, so that a tenant already deployed when claimed does not count;
- a seat band on growth or active ratios keeps the tenants with an eligible workload's paid seats
  (or the tenant's) in the band in the current month;
- consumption value: active users and capacity × the rule set's rate card, per workload;
- classification of tracks: workloads over a revenue on one tenant now and 12 months ago, and the
  share of the customers associated now in a segment — the designation's own customer base:
  customers on the platforms its sources read, through their association types (an Azure
  designation counts its Azure customers, not the partner's Microsoft 365 tenants).
[decision] Percentage growth reads "last month vs the same month last year" (the pages' formula);
the Azure page's "trailing 12 months" wording is not modelled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from portal.models import HeldCertification
from scoring import engine
from scoring.models import Measure, MetricCode, MetricSource, Track, TrackFreeze
from scoring.selectors import (
    CertificationRequirement,
    Classification,
    RuleSetInForce,
    SourceParams,
)

WINDOW_MONTHS = 24
NOW = WINDOW_MONTHS - 1  # idx of the current month
YEAR_AGO = NOW - 12  # idx of the month 12 months before the current one
CENT = Decimal("0.01")

USER_MEASURES = {Measure.PROTECTED_USERS, Measure.ACTIVE_USERS}
TENANT_MEASURES = {Measure.PAID_SEATS}

# A segment share's customer base: (segment, platforms, association types).
SegmentBase = tuple[str, tuple[str, ...], tuple[str, ...]]

# org id -> designation code -> metric code -> source key -> value
OrgMeasures = dict[int, dict[str, dict[str, dict[str, Decimal]]]]


def current_month(as_of: date) -> date:
    """The last calendar month that has ended on or before the date (first day of it)."""
    if (as_of + timedelta(days=1)).day == 1:
        return as_of.replace(day=1)
    return (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def window_months(as_of: date) -> list[date]:
    """The 24 months ending with the current month, oldest first (index = position)."""
    now = current_month(as_of)
    return [add_months(now, offset - NOW) for offset in range(WINDOW_MONTHS)]


@dataclass
class _Sql:
    """An SQL text with its positional parameters, built in order."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, text: str, *params: object) -> _Sql:
        self.parts.append(text)
        self.params.extend(params)
        return self

    def in_list(self, column: str, values: Sequence[object]) -> _Sql:
        placeholders = ", ".join(["%s"] * len(values))
        return self.add(f"{column} IN ({placeholders})", *values)

    def codes_in(self, column: str, codes: Sequence[str]) -> _Sql:
        """`column IN (...)` of catalog codes written as literals. In the prepared statement's
        generic plan a list of literals is one constant array, where a list of parameters is
        an array built again for every row the condition is tested on."""
        return self.add(f"{column} IN ({', '.join(_quote(code) for code in codes)})")

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def _number(value: object) -> Decimal:
    """Database numbers as Decimal (SQLite hands back floats), to the cent."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    return Decimal(str(value)).quantize(CENT)


@dataclass(frozen=True)
class _Family:
    """Sources that read the same series: one masked set of rows (`f<i>`) serves them all.

    Same platform, association types, measure and workloads; the sources differ in what they
    count (adds, growth, deployments), their thresholds and whether only production tenants
    count — each source's tail aggregates the family's rows its own way.
    """

    platform: str
    attributions: tuple[str, ...]
    measure: str
    workloads: tuple[str, ...]
    rates: tuple[tuple[str, str, Decimal], ...] = ()


def _family_of(source: SourceParams) -> _Family:
    if source.measure in TENANT_MEASURES:
        # Paid seats per workload (seat bands) and of the whole tenant (blank) alike.
        workloads = tuple(sorted({"", *source.workloads})) if source.computation else ()
    else:
        workloads = source.workloads
    if source.measure == Measure.CONSUMPTION_VALUE:
        rated = {workload for _, workload, _ in source.rates}
        workloads = tuple(w for w in workloads if w in rated)
        rates = tuple(r for r in source.rates if r[1] in workloads)
        return _Family(source.platform, source.attributions, source.measure, workloads, rates)
    return _Family(source.platform, source.attributions, source.measure, workloads)


_RATED_MEASURES = (Measure.ACTIVE_USERS.value, Measure.CAPACITY.value)


def _series_measures(measure: str) -> tuple[str, ...]:
    """The imported measures a family's measure reads."""
    return _RATED_MEASURES if measure == Measure.CONSUMPTION_VALUE else (measure,)


CLASSIFY_WORKLOADS = "classify_workloads"


def _lit(value: object) -> str:
    """A rule's number as an SQL literal. The published computations write their thresholds
    into the statement: they sit inside expressions built before the rows they read, so that
    positional parameters would come out of order. Decimal's text is digits, '.' and '-' only."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return format(number, "f")


def _quote(text: str) -> str:
    """A catalog code as an SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


_COMPUTED_KINDS = {
    MetricSource.Computation.QUALIFYING_NET.value: "qualifying_net",
    MetricSource.Computation.PERCENT_GROWTH.value: "percent_growth",
    MetricSource.Computation.DISTINCT_SERVICES.value: "distinct_services",
    MetricSource.Computation.ACTIVE_RATIO_NET.value: "active_ratio_net",
    "classify_workloads": "classify_workloads",
}


def _tail_kind(source: SourceParams) -> str:
    """Which computation a source needs: what its metric counts and which measure feeds it."""
    if source.computation:
        return _COMPUTED_KINDS[source.computation]
    if source.metric_code == MetricCode.NET_CUSTOMER_ADDS:
        return "seat_adds" if source.measure in TENANT_MEASURES else "average_adds"
    if source.metric_code == MetricCode.USAGE_GROWTH:
        return "growth"
    if source.metric_code == MetricCode.DEPLOYMENTS:
        if source.measure in USER_MEASURES:
            return "share_deployments"
        if source.measure == Measure.ACR_USD:
            return "trailing_deployments"
        return "crossing_deployments"
    raise ValueError(f"No telemetry measure for metric {source.metric_code!r}.")


# PostgreSQL settings for the chunk statement, local to its transaction and put back after.
# The statement joins CTEs, which carry no statistics: the planner takes every filtered CTE
# scan for one row and would join thousands of rows to thousands by nested loops, where hash
# and merge joins are right for every join in it. Its per-customer sums hold two dozen
# numeric states a group: with the default 4 MB they spill to disk.
# Prepared (`_fetch_prepared`), the statement is planned once, generically: its parameters are
# organization ids and dates, which change the rows it reads, not the shape of a good plan.
_PG_STATEMENT_SETTINGS = {
    "enable_nestloop": "off",
    "work_mem": "64MB",
    "plan_cache_mode": "force_generic_plan",
}


def _fetch_chunk_statement(sql: _Sql) -> list[tuple[Any, ...]]:
    """Run the chunk statement (on PostgreSQL with _PG_STATEMENT_SETTINGS meanwhile)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql.text, sql.params)
            return cursor.fetchall()
        names = list(_PG_STATEMENT_SETTINGS)
        cursor.execute(
            "SELECT " + ", ".join(["current_setting(%s), set_config(%s, %s, true)"] * len(names)),
            [p for name in names for p in (name, name, _PG_STATEMENT_SETTINGS[name])],
        )
        previous = cursor.fetchone()[0::2]
        rows = _fetch_prepared(sql) if settings.SCORING_PREPARED_STATEMENTS else None
        if rows is None:
            cursor.execute(sql.text, sql.params)
            rows = cursor.fetchall()
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)),
            [p for name, value in zip(names, previous, strict=True) for p in (name, value)],
        )
        return rows


# How many shapes of the statement (rule sets in force × chunk size) a connection keeps
# prepared; the least recently used is deallocated past it.
PREPARED_STATEMENTS = 8
# The SQL type a parameter is declared with, by its Python type (bool before int: a subclass).
_PARAMETER_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "bigint"),
    (Decimal, "numeric"),
    (date, "date"),
    (str, "text"),
)
_PLACEHOLDER = re.compile(r"%([%s])")
# Per database connection (the driver's), the statements prepared on it, least recent first.
_prepared: weakref.WeakKeyDictionary[Any, OrderedDict[str, None]] = weakref.WeakKeyDictionary()


def _fetch_prepared(sql: _Sql) -> list[tuple[Any, ...]] | None:
    """The chunk statement as a prepared statement of the connection: planned once per
    connection and shape, then executed with each chunk's parameters (None: a parameter of no
    declared type, run it plainly).

    SQL-level PREPARE / EXECUTE, not the driver's protocol-level preparing: Django prepares
    nothing (its default, for poolers), and the driver forgets its prepared statements at every
    rollback — a what-if is one, always. A PREPARE outlives the transaction it was made in.
    The plan is generic from the first run (`plan_cache_mode`, _PG_STATEMENT_SETTINGS): at 500
    customers 40–50 ms a run instead of 60–70 ms of planning plus 55 ms of execution.
    """
    types = []
    for value in sql.params:
        declared = next((t for kind, t in _PARAMETER_TYPES if isinstance(value, kind)), None)
        if declared is None:
            return None
        types.append(declared)
    name = (
        "scoring_measures_"
        + hashlib.sha256((sql.text + "|" + ",".join(types)).encode()).hexdigest()[:24]
    )
    raw = connection.connection
    prepared = _prepared.setdefault(raw, OrderedDict())
    with connection.cursor() as cursor:
        if name in prepared:
            prepared.move_to_end(name)
        else:
            numbers = iter(range(1, len(types) + 1))
            text = _PLACEHOLDER.sub(lambda m: "%" if m[1] == "%" else f"${next(numbers)}", sql.text)
            # No parameters: the text goes as it is (a "%" in it is the SQL's own).
            cursor.execute(f"PREPARE {name} ({', '.join(types)}) AS {text}")
            prepared[name] = None
            while len(prepared) > PREPARED_STATEMENTS:
                oldest, _ = prepared.popitem(last=False)
                cursor.execute(f"DEALLOCATE {oldest}")
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(types))})", sql.params)
        return cursor.fetchall()


MONTHS = range(WINDOW_MONTHS)
TRAILING = range(YEAR_AGO + 1, NOW + 1)  # the trailing 12 months, idx 12..23
BASELINES = range(YEAR_AGO, NOW + 1)  # where a baseline can fall, idx 11..23


def _sum(terms: Iterable[str]) -> str:
    return "(" + " + ".join(terms) + ")"


def _at_baseline(column: str) -> str:
    """The column's value at the row's baseline month (b_idx is 11..23)."""
    cases = " ".join(f"WHEN {k} THEN {column.format(k=k)}" for k in BASELINES)
    return f"CASE b_idx {cases} END"


def _any_after_baseline(condition: str) -> str:
    """1 when the condition holds in some month after the row's baseline, else 0."""
    terms = " OR ".join(f"(b_idx < {k} AND {condition.format(k=k)})" for k in TRAILING)
    return f"CASE WHEN {terms} THEN 1 ELSE 0 END"


class _ChunkStatement:
    """One statement computes every telemetry source of every rule set for a chunk.

    The chunk's customers' UsageYear rows (at most three a series) are read once per group of
    measures first read in the same month, in index order, into one wide row per customer
    series (measure × workload):
    `series<first>(cust, measure, wl, v<first>..v23)`, v<k> being month k of the window (0 when
    there is no usage row). Each family of sources (same platform, association types, measure
    and workloads) then masks the series with its associations — `f<i>(org, cust, wl, prod,
    b_idx, m..m23)`, m<k> = v<k> in the months an association of the family's types covers,
    else 0 — and each source is plain arithmetic over those columns (month-over-month events,
    trailing sums, baselines), aggregated per organization. Nothing reads a customer's months
    twice: the cost is one ordered pass over the chunk's series plus a few operations each.
    """

    def __init__(
        self, organization_ids: Sequence[int], as_of: date, usage_through: date | None = None
    ) -> None:
        self.organization_ids = list(organization_ids)
        self.months = window_months(as_of)
        # The month whose usage each window month reads: itself, or, after `usage_through`
        # (a forecast: "if nothing changes"), the last month with telemetry, carried forward.
        last = current_month(usage_through) if usage_through else None
        self.data_months = [
            month if last is None or month <= last else last for month in self.months
        ]
        self.sql = _Sql()
        self.seats_series = ""  # the series CTE holding paid seats, once run() has chosen
        # Per-customer CTEs shared by the sources that read them (paid seats, deployed flags),
        # by shape: each computed once for the chunk, where it is first needed.
        self._shared: dict[tuple[str, ...], str] = {}
        # Keeps a subquery from being merged into the next (PostgreSQL would then compute its
        # expressions again wherever they are referenced).
        self._fence = " OFFSET 0" if connection.vendor == "postgresql" else ""

    def _month_index(self, column: str) -> str:
        """SQL for the window index of a first-of-month date (0 = oldest, NOW = current).

        Integer day arithmetic, no join: months between two first days are
        (days × 12 + 183) ÷ 365, exact over far more than the 24 months used here.
        """
        self.sql.params.append(self.months[0])
        if connection.vendor == "postgresql":
            return f"((({column}) - CAST(%s AS DATE)) * 12 + 183) / 365"
        return f"CAST(((julianday({column}) - julianday(%s)) * 12 + 183) / 365 AS INTEGER)"

    def _associations(self) -> None:
        """assoc(org, cust, type, wl, s_idx, e_idx, platform, prod, mask): the chunk's associations
        that overlap the window, PAL of partners in China left out."""
        sql = self.sql
        # PostgreSQL: the customer's row in one look-up, its columns taken out above the fence.
        row_lookup = connection.vendor == "postgresql"
        if row_lookup:
            sql.add(
                "WITH assoc0 AS (SELECT org, cust, type, wl, s_idx, e_idx,"
                " (c).platform AS platform, (c).production AS prod, (c).segment AS seg FROM ("
            )
        sql.add(("" if row_lookup else "WITH assoc0 AS (") + "SELECT a.organization_id AS org,")
        sql.add("a.customer_id AS cust, a.type AS type, a.workload AS wl,")
        sql.add(f"{self._month_index('a.start_month')} AS s_idx,")
        sql.add(f"CASE WHEN a.end_month IS NULL THEN {WINDOW_MONTHS} ELSE")
        sql.add(f"{self._month_index('a.end_month')} END AS e_idx,")
        # Scalar look-ups by primary key: the customer and organization tables are global and
        # grow with every partner; a join would let the planner scan them whole per chunk.
        if row_lookup:
            sql.add("(SELECT c FROM scoring_customer c WHERE c.id = a.customer_id) AS c")
        else:
            sql.add(
                ", ".join(
                    f"(SELECT c.{column} FROM scoring_customer c WHERE c.id = a.customer_id)"
                    f" AS {alias}"
                    for column, alias in (
                        ("platform", "platform"),
                        ("production", "prod"),
                        ("segment", "seg"),
                    )
                )
            )
        sql.add("FROM scoring_association a WHERE")
        sql.in_list("a.organization_id", self.organization_ids)
        sql.add(
            "AND a.start_month <= %s AND (a.end_month IS NULL OR a.end_month >= %s)",
            self.months[NOW],
            self.months[0],
        )
        sql.add(
            """AND NOT (a.type = 'PAL' AND (SELECT o.country FROM portal_organization o
                                           WHERE o.id = a.organization_id) = 'CN')"""
        )
        sql.add(" OFFSET 0) a0)," if row_lookup else "),")
        # The months 0..23 each association covers, as bits (bit k = month k).
        sql.add(
            f"""assoc AS MATERIALIZED (SELECT assoc0.*,
                (1 << (CASE WHEN e_idx > {NOW} THEN {NOW} ELSE e_idx END + 1))
              - (1 << (CASE WHEN s_idx < 0 THEN 0 ELSE s_idx END)) AS mask FROM assoc0),"""
        )
        # The associations of one workload (most are of the whole tenant): what every family's
        # per-workload coverage reads, without going over all the others again.
        sql.add("assoc_wl AS MATERIALIZED (SELECT * FROM assoc WHERE wl <> ''),")

    # Sources whose trailing sums start at the window's first month.
    _WHOLE_WINDOW = {"average_adds", "trailing_deployments"}

    @staticmethod
    def _earliest_month(source: SourceParams) -> int:
        """The earliest window month a source reads: a qualifying count looks back from a
        year ago, the trailing sums of average adds and deployments from the window's start,
        the others from the earliest baseline (12 months ago)."""
        kind = _tail_kind(source)
        if kind == "qualifying_net":
            return YEAR_AGO - max(1, source.lookback_months) + 1
        return 0 if kind in _ChunkStatement._WHOLE_WINDOW else YEAR_AGO

    def _series(self, name: str, measures: Sequence[str], first: int) -> None:
        """{name}(cust, measure, wl, v<first>..v23): the chunk's customers' months, a row a series.

        Read from UsageYear (usage pivoted by calendar year, kept by triggers): at most three
        rows a series for the 24 months, in index order. Only the months from `first` on are
        read: the earliest any source reads of these measures (`_earliest_month`) — 0 for the
        trailing sums over the whole window, a qualifying count's look-back before a year ago,
        else 11 (12 months ago), the earliest a baseline can be.
        """
        sql = self.sql
        sql.add(
            f"{name} AS MATERIALIZED (SELECT y.customer_id AS cust, y.measure, y.workload AS wl,"
        )
        sql.add(
            ", ".join(
                f"COALESCE(MAX(y.m{month.month}) FILTER (WHERE y.year = %s), 0) AS v{k}"
                for k, month in enumerate(self.data_months)
                if k >= first
            ),
            *(month.year for month in self.data_months[first:]),
        )
        sql.add("FROM scoring_usageyear y WHERE")
        if connection.vendor == "postgresql":
            # An array of the customers lets the index hand the rows over already grouped.
            sql.add("y.customer_id = ANY(ARRAY(SELECT DISTINCT cust FROM assoc))")
        else:
            sql.add("y.customer_id IN (SELECT cust FROM assoc)")
        sql.add("AND ").codes_in("y.measure", sorted(measures))
        sql.add(
            "AND y.year >= %s AND y.year <= %s",
            self.data_months[first].year,
            self.data_months[NOW].year,
        )
        sql.add("GROUP BY y.customer_id, y.measure, y.workload),")

    def _family(self, name: str, family: _Family, series: str, first: int) -> None:
        """{name}(org, cust, wl, prod, b_idx, m0..m23): the family's series, masked by the
        months its associations cover; b_idx for customers associated in the current month.

        Coverage is a bit mask per association (bit k = month k). A series of the whole tenant
        (blank workload) is covered by any association; a workload's series by the blank-workload
        associations and those of that workload. Several associations OR their masks together.
        """
        sql = self.sql
        sql.add(f"{name}_a AS (SELECT org, cust, prod, BIT_OR(mask) AS mask_all,")
        sql.add("BIT_OR(CASE WHEN wl = '' THEN mask ELSE 0 END) AS mask_blank,")
        sql.add(f"MIN(CASE WHEN s_idx <= {NOW} AND e_idx >= {NOW}")
        if family.workloads:
            sql.add("AND (wl = '' OR ").codes_in("wl", family.workloads).add(")")
        sql.add("THEN s_idx END) AS now_start")
        sql.add(f"FROM assoc WHERE platform = {_quote(family.platform)} AND ")
        sql.codes_in("type", family.attributions).add("GROUP BY org, cust, prod),")
        sql.add(f"{name}_w AS (SELECT org, cust, wl, BIT_OR(mask) AS mask")
        sql.add(f"FROM assoc_wl WHERE platform = {_quote(family.platform)} AND ")
        sql.codes_in("type", family.attributions).add("GROUP BY org, cust, wl),")
        sql.add(f"{name}_k AS (SELECT a.org, a.cust, s.wl, a.prod, a.now_start,")
        sql.add("CASE WHEN s.wl = '' THEN a.mask_all ELSE a.mask_blank | COALESCE(w.mask, 0) END")
        if family.rates:
            # Consumption value: the rated measure of each workload × its rate.
            rate = (
                "CASE "
                + " ".join(
                    f"WHEN s.measure = {_quote(measure)} AND s.wl = {_quote(workload)}"
                    f" THEN {_lit(value)}"
                    for measure, workload, value in family.rates
                )
                + " ELSE 0 END"
            )
            # The rate once per series row, then each month times it.
            columns = [f"s.v{k} * s.rate AS v{k}" for k in range(first, WINDOW_MONTHS)]
            sql.add(f"AS mask, {', '.join(columns)}")
            sql.add(f"FROM {name}_a a JOIN (SELECT s.*, {rate} AS rate FROM {series} s")
            sql.add("WHERE ").codes_in("s.measure", _RATED_MEASURES)
            sql.add("AND ").codes_in("s.wl", family.workloads or ("",))
            sql.add(f"{self._fence}) s ON s.cust = a.cust")
        else:
            sql.add(f"AS mask, {', '.join(f's.v{k}' for k in range(first, WINDOW_MONTHS))}")
            sql.add(
                f"FROM {name}_a a JOIN {series} s ON s.cust = a.cust"
                f" AND s.measure = {_quote(family.measure)}"
            )
            sql.add("AND ").codes_in("s.wl", family.workloads or ("",))
        sql.add(f"LEFT JOIN {name}_w w ON w.org = a.org AND w.cust = a.cust AND w.wl = s.wl),")
        masked = ", ".join(
            f"CASE WHEN mask & {1 << k} <> 0 THEN v{k} ELSE 0 END AS m{k}"
            for k in range(first, WINDOW_MONTHS)
        )
        sql.add(f"{name} AS (SELECT org, cust, wl, prod, CASE WHEN now_start IS NULL THEN NULL")
        sql.add(f"WHEN now_start <= {YEAR_AGO} THEN {YEAR_AGO} ELSE now_start END AS b_idx,")
        sql.add(f"{masked} FROM {name}_k WHERE mask <> 0),")

    def _rows(self, family_name: str, source: SourceParams, condition: str = "") -> str:
        """The family's rows a source reads: production tenants only when it says so."""
        conditions = [condition] if condition else []
        if source.production_only:
            conditions.append("prod")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"(SELECT * FROM {family_name}{where})"

    def _per_customer(
        self, from_clause: str, columns: Sequence[tuple[str, str, str]], single: bool
    ) -> str:
        """A subquery with one row per (org, cust): b_idx and (alias, aggregate, expression)s.

        `single`: the family has one workload, so one row per customer already — the
        expressions are taken as they are, without grouping.
        """
        if single:
            listed = ", ".join(f"{expression} AS {alias}" for alias, _, expression in columns)
            return f"(SELECT org, cust, b_idx, {listed} FROM {from_clause}{self._fence})"
        listed = ", ".join(
            f"{aggregate}({expression}) AS {alias}" for alias, aggregate, expression in columns
        )
        return (
            f"(SELECT org, cust, MAX(b_idx) AS b_idx, {listed} FROM {from_clause}"
            f" GROUP BY org, cust{self._fence})"
        )

    def seat_adds(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Tenants going 0 → ≥ S paid seats (adds) minus ≥ S → 0 (losses), trailing 12 months."""
        adds = " + ".join(
            f"CASE WHEN m{k} >= th AND m{k - 1} = 0 THEN 1 ELSE 0 END" for k in TRAILING
        )
        losses = " + ".join(
            f"CASE WHEN m{k} >= th AND m{k + 1} = 0 THEN 1 ELSE 0 END" for k in range(YEAR_AGO, NOW)
        )
        self.sql.add(
            f"{name} AS (SELECT org, SUM({adds}) - SUM({losses}) AS v FROM {rows} rows_"
            " CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS th) p GROUP BY org),",
            Decimal(source.seat_threshold or 0),
        )

    def average_adds(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Customers averaging ≥ A a month over the trailing 12 months, now minus a year ago."""
        per = self._per_customer(
            f"{rows} rows_",
            [
                ("now_sum", "SUM", _sum(f"m{k}" for k in TRAILING)),
                ("before_sum", "SUM", _sum(f"m{k}" for k in range(YEAR_AGO + 1))),
            ],
            single,
        )
        self.sql.add(
            f"""{name} AS (SELECT org,
                SUM(CASE WHEN now_sum >= th THEN 1 ELSE 0 END)
              - SUM(CASE WHEN before_sum >= th THEN 1 ELSE 0 END) AS v
            FROM {per} per CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS th) p GROUP BY org),""",
            (source.usage_threshold or Decimal(0)) * 12,
        )

    def growth(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Σ over customers associated now of (value now − value at their baseline month);
        with a seat band (published tracks), only the tenants in the band now."""
        band = self._band(source)
        where = f" WHERE {band}" if band else ""
        self.sql.add(
            f"{name} AS (SELECT org, SUM(m{NOW} - {_at_baseline('m{k}')}) AS v FROM {rows} rows_"
            f"{where} GROUP BY org),"
        )

    def crossing_deployments(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """Customers whose monthly figure was ≤ threshold at baseline and above it since."""
        per = self._per_customer(
            f"{rows} rows_ CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS th) p",
            [
                ("over_base", "MAX", f"CASE WHEN {_at_baseline('m{k}')} > th THEN 1 ELSE 0 END"),
                ("over_after", "MAX", _any_after_baseline("m{k} > th")),
            ],
            single,
        )
        self.sql.add(
            f"""{name} AS (SELECT org, COUNT(*) AS v FROM {per} per
            WHERE over_base = 0 AND over_after = 1 GROUP BY org),""",
            source.usage_threshold or Decimal(0),
        )

    def share_deployments(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Tenants ≥ floor seats now where one workload's users/seats crossed the threshold.

        A month is above the share when the users exceed it of the tenant's paid seats of that
        month (seats being tenant-level figures, they are read whole, not per association).
        """
        # A seat band's top (Security 2026 SMB: tenants of 5-300 licences).
        band_top = "" if source.seat_max is None else f" AND seats_now <= {_lit(source.seat_max)}"
        above = ", ".join(
            f"CASE WHEN f.m{k} > 0 AND ps.v{k} > 0 AND f.m{k} > share * ps.v{k}"
            f" THEN 1 ELSE 0 END AS a{k}"
            for k in BASELINES
        )
        self.sql.add(
            f"""{name} AS (SELECT org, COUNT(*) AS v FROM (
                SELECT org, cust, MAX(seats_now) AS seats_now,
                       MAX(CASE WHEN {_at_baseline("a{k}")} = 0
                                 AND {_any_after_baseline("a{k} = 1")} = 1
                                THEN 1 ELSE 0 END) AS deployed
                FROM (SELECT f.org, f.cust, f.b_idx, ps.v{NOW} AS seats_now, {above}
                      FROM {rows} f
                      JOIN {self.seats_series} ps ON ps.cust = f.cust
                                    AND ps.measure = 'paid_seats'
                                    AND ps.wl = ''
                      CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS share) p) per_workload
                GROUP BY org, cust) per
            WHERE deployed = 1 AND seats_now >= CAST(%s AS NUMERIC){band_top} GROUP BY org),""",
            source.usage_threshold or Decimal(0),
            Decimal(source.seat_threshold or 0),
        )

    def trailing_deployments(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """Customers whose trailing-12-month total crossed the threshold since the baseline.

        With a band top (`seat_max`; Security 2026 SMB: $750-$12,000) the customer must be in
        the band now and not at the baseline ("eligible last month minus eligible the same month
        last year"): a customer passing through the band on its way up is not an SMB deployment.
        The 12-month sums y11..y23 are built by doubling (sums of 2, 4 and 8 months), each
        layer fenced so that it is computed once: 70 additions a customer instead of 156.
        """
        fence = self._fence
        monthly = self._per_customer(
            f"{rows} rows_", [(f"t{k}", "SUM", f"m{k}") for k in MONTHS], single
        )
        pairs = ", ".join(f"t{k} + t{k - 1} AS p{k}" for k in range(1, WINDOW_MONTHS))
        fours = ", ".join(f"p{k} + p{k - 2} AS q{k}" for k in range(3, WINDOW_MONTHS))
        eights = ", ".join(f"q{k} + q{k - 4} AS e{k}" for k in BASELINES)
        keep_fours = ", ".join(f"q{k - 8}" for k in BASELINES)
        years = ", ".join(f"e{k} + q{k - 8} AS y{k}" for k in BASELINES)
        if source.seat_max is None:
            entered = f"{_at_baseline('y{k}')} <= th AND {_any_after_baseline('y{k} > th')} = 1"
        else:
            top = _lit(source.seat_max)
            at_base = _at_baseline("y{k}")
            entered = (
                f"NOT ({at_base} >= th AND {at_base} <= {top}) AND y{NOW} >= th AND y{NOW} <= {top}"
            )
        self.sql.add(
            f"""{name} AS (SELECT org, COUNT(*) AS v FROM (
                SELECT org, cust, b_idx, {years} FROM (
                SELECT org, cust, b_idx, {eights}, {keep_fours} FROM (
                SELECT org, cust, b_idx, {fours} FROM (
                SELECT org, cust, b_idx, {pairs} FROM {monthly} l1{fence}
                ) l2{fence}) l4{fence}) l8{fence}) per
            CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS th) p
            WHERE {entered} GROUP BY org),""",
            source.usage_threshold or Decimal(0),
        )

    def _band(self, source: SourceParams) -> str:
        """A condition on `cust`: an eligible workload's paid seats (or the tenant's) are in the
        source's seat band in the current month; "" without a band."""
        if source.seat_max is None and source.seat_threshold is None:
            return ""
        seats_now = self._seats_now()
        conditions = []
        if source.seat_max is not None:
            conditions.append(f"seats <= {_lit(source.seat_max)}")
        if source.seat_threshold is not None:
            conditions.append(f"seats >= {_lit(source.seat_threshold)}")
        workloads = ", ".join(_quote(w) for w in ("", *source.workloads))
        return (
            f"cust IN (SELECT cust FROM {seats_now} WHERE "
            f"{' AND '.join(conditions)} AND wl IN ({workloads}))"
        )

    def _in_band(self, column: str, source: SourceParams) -> str:
        """`column` within the band usage_threshold (or seat_threshold) .. seat_max."""
        low = source.usage_threshold
        if low is None:
            low = None if source.seat_threshold is None else Decimal(source.seat_threshold)
        parts = []
        if low is not None:
            parts.append(f"{column} >= {_lit(low)}")
        if source.seat_max is not None:
            parts.append(f"{column} <= {_lit(source.seat_max)}")
        return "(" + " AND ".join(parts or [f"{column} > 0"]) + ")"

    def _qualifies(self, column: str, month: int, source: SourceParams) -> str:
        """1 when the column is in the band in one of the `lookback_months` months to `month`."""
        months = range(month - max(1, source.lookback_months) + 1, month + 1)
        cases = " OR ".join(self._in_band(column.format(k=k), source) for k in months)
        return f"CASE WHEN {cases} THEN 1 ELSE 0 END"

    def qualifying_net(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Units qualifying now minus 12 months ago (a tenant's workload, a tenant, its total)."""
        unit = source.count_unit or MetricSource.CountUnit.TENANT_ANY
        if unit == MetricSource.CountUnit.WORKLOAD:
            now = self._qualifies("m{k}", NOW, source)
            before = self._qualifies("m{k}", YEAR_AGO, source)
            self.sql.add(
                f"{name} AS (SELECT org, SUM({now}) - SUM({before}) AS v FROM {rows} rows_"
                " GROUP BY org),"
            )
            return
        lookback = max(1, source.lookback_months)
        # The months of the two look-back windows (ending now and a year ago), no others.
        looked = sorted(
            {*range(YEAR_AGO - lookback + 1, YEAR_AGO + 1), *range(NOW - lookback + 1, NOW + 1)}
        )
        if unit == MetricSource.CountUnit.TENANT_TOTAL:
            per = self._per_customer(
                f"{rows} rows_", [(f"t{k}", "SUM", f"m{k}") for k in looked], single
            )
            now = self._qualifies("t{k}", NOW, source)
            before = self._qualifies("t{k}", YEAR_AGO, source)
        else:
            per = self._per_customer(
                f"{rows} rows_",
                [
                    ("q_now", "MAX", self._qualifies("m{k}", NOW, source)),
                    ("q_before", "MAX", self._qualifies("m{k}", YEAR_AGO, source)),
                ],
                single,
            )
            now, before = "q_now", "q_before"
        self.sql.add(
            f"{name} AS (SELECT org, SUM({now}) - SUM({before}) AS v FROM {per} per GROUP BY org),"
        )

    def percent_growth(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """The summed value now (v) and 12 months ago (b), for the engine's percentage."""
        band = self._band(source)
        where = f" WHERE {band}" if band else ""
        self.sql.add(
            f"{name} AS (SELECT org, SUM(m{NOW}) AS v, SUM(m{YEAR_AGO}) AS b FROM {rows} rows_"
            f"{where} GROUP BY org),"
        )

    def distinct_services(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Workloads with consumption over the trailing 12 months, across the customers."""
        self.sql.add(
            f"""{name} AS (SELECT org, COUNT(*) AS v FROM (
                SELECT org, wl FROM {rows} rows_ GROUP BY org, wl
                HAVING SUM({_sum(f"m{k}" for k in TRAILING)}) > 0) services GROUP BY org),"""
        )

    def _shared_cte(self, key: tuple[str, ...], definition: str, name: str = "") -> str:
        """The name of the chunk's CTE of this shape (named `name`, else `seats<n>`), defined
        here, before its first use, the first time it is asked for."""
        known = self._shared.get(key)
        if known is None:
            known = self._shared[key] = name or f"seats{len(self._shared)}"
            self.sql.add(f"{known} AS MATERIALIZED ({definition}),")
        return known

    def _seats_now(self) -> str:
        """seats_now(cust, wl, seats): each paid-seat series' current month, narrow."""
        return self._shared_cte(
            ("now",),
            f"SELECT cust, wl, v{NOW} AS seats FROM {self.seats_series}"
            " WHERE measure = 'paid_seats'",
        )

    def _eligible_seats(self, workloads: str) -> str:
        """(cust, s11..s23): per month, the customer's paid seats of the eligible workloads,
        or of the tenant when those are 0 or missing — one row a customer with paid seats,
        shared by the sources of the same workloads.

        Only the eligible workloads' rows are summed; the tenant's row (one a customer) is
        joined as it is: aggregating every row twice over (eligible, tenant) kept two numeric
        sums per month and customer. NULL (no row of the kind) compares as 0 does where these
        are read: never above 0.
        """
        seats = self.seats_series
        eligible = ", ".join(f"SUM(v{k}) AS e{k}" for k in BASELINES)
        tenant = ", ".join(f"v{k}" for k in BASELINES)
        columns = ", ".join(f"COALESCE(NULLIF(e.e{k}, 0), t.v{k}) AS s{k}" for k in BASELINES)
        return self._shared_cte(
            ("eligible", workloads),
            f"SELECT c.cust, {columns}"
            f" FROM (SELECT DISTINCT cust FROM {seats} WHERE measure = 'paid_seats') c"
            f" LEFT JOIN (SELECT cust, {eligible} FROM {seats} WHERE measure = 'paid_seats'"
            f"  AND wl IN ({workloads}) GROUP BY cust) e ON e.cust = c.cust"
            f" LEFT JOIN (SELECT cust, {tenant} FROM {seats} WHERE measure = 'paid_seats'"
            f"  AND wl = '') t ON t.cust = c.cust",
        )

    def active_ratio_net(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Tenants whose active users reach the ratio of their paid seats, now minus at their
        baseline (12 months ago, or the month of association when later).

        Whether each customer is deployed now and at its baseline is worked out once per
        family rows, ratio and workloads (`{name}_d`); sources differing only in their seat
        band (Enterprise, SMB) count it over their band's customers.
        """
        workloads = ", ".join(_quote(w) for w in source.workloads if w) or "''"
        ratio = _lit(source.usage_threshold or 0)
        seats = self._eligible_seats(workloads)
        users = self._per_customer(
            f"{rows} rows_", [(f"u{k}", "SUM", f"m{k}") for k in BASELINES], single
        )
        deployed = f"CASE WHEN s{{k}} > 0 AND u{{k}} >= {ratio} * s{{k}} THEN 1 ELSE 0 END"
        baseline = " ".join(f"WHEN {k} THEN {deployed.format(k=k)}" for k in BASELINES)
        per_customer = self._shared_cte(
            ("deployed", rows, ratio, workloads, str(single)),
            f"""SELECT u.org, u.cust, {deployed.format(k=NOW)} AS d_now,
                CASE COALESCE(b_idx, {YEAR_AGO}) {baseline} END AS d_base
            FROM {users} u JOIN {seats} s ON s.cust = u.cust""",
            name=f"{name}_d",
        )
        band = self._band(source)
        self.sql.add(
            f"{name} AS (SELECT org, SUM(d_now) - SUM(d_base) AS v FROM {per_customer}"
            f"{' WHERE ' + band if band else ''} GROUP BY org),"
        )

    def classify_workloads(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """Distinct workloads over the revenue on one tenant now and 12 months ago."""
        threshold = _lit(source.usage_threshold or 0)
        self.sql.add(
            f"""{name} AS (SELECT org, COUNT(DISTINCT wl) AS v FROM {rows} rows_
            WHERE m{NOW} > {threshold} AND m{YEAR_AGO} > {threshold} GROUP BY org),"""
        )

    def segment_shares(self, bases: Sequence[SegmentBase]) -> None:
        """seg_share(org, s<i>, t<i>...): per customer base i (a segment, the platforms and the
        association types of a designation's customers), the customers associated now in it
        (t<i>) and those of them in the segment (s<i>)."""
        columns = []
        for i, (segment, platforms, types) in enumerate(bases):
            # An empty tuple restricts nothing (a rule set without sources counts every customer).
            of_base = " AND ".join(
                [f"{column} IN ({', '.join(_quote(v) for v in values)})"
                 for column, values in (("platform", platforms), ("type", types)) if values]
                or ["1 = 1"]
            )  # fmt: skip
            columns.append(
                f"COUNT(DISTINCT CASE WHEN {of_base} AND seg = {_quote(segment)} THEN cust END)"
                f" AS s{i}, COUNT(DISTINCT CASE WHEN {of_base} THEN cust END) AS t{i}"
            )
        self.sql.add(
            f"seg_share AS (SELECT org, {', '.join(columns)} FROM assoc"
            f" WHERE s_idx <= {NOW} AND e_idx >= {NOW} GROUP BY org),"
        )

    # What rows of its family each kind reads: baselines need an association in the current month.
    _NEEDS_BASELINE = {
        "seat_adds": False,
        "average_adds": False,
        "growth": True,
        "share_deployments": True,
        "trailing_deployments": True,
        "crossing_deployments": True,
        "qualifying_net": False,
        "percent_growth": False,
        "distinct_services": False,
        "active_ratio_net": False,
        "classify_workloads": False,
    }

    _SEATS_KINDS = {"share_deployments", "active_ratio_net"}

    def _families(self, families: Mapping[_Family, Sequence[SourceParams]]) -> None:
        """The associations, the series the families read and a masked family `f<i>` per family
        (in order), each read from the earliest window month any of its sources reads."""
        # Per measure, the earliest window month any source reads of it.
        earliest: dict[str, int] = {}
        for family, members in families.items():
            read = _series_measures(family.measure)
            for source in members:
                month = min([self._earliest_month(source), *(earliest.get(m, NOW) for m in read)])
                # Consumption value: both rated measures come from one series.
                earliest.update(dict.fromkeys(read, month))
        if any(
            _tail_kind(source) in self._SEATS_KINDS
            or source.seat_max is not None
            or source.seat_threshold is not None
            for members in families.values()
            for source in members
        ):
            earliest.setdefault(Measure.PAID_SEATS, YEAR_AGO)
        self._associations()
        # A series CTE per earliest month: the measures read over the whole window, those
        # looked back on from a year ago, those read from the earliest baseline on.
        series_of: dict[str, tuple[str, int]] = {}
        for first in sorted(set(earliest.values())):
            group = sorted(m for m, month in earliest.items() if month == first)
            name = f"series{first}"
            self._series(name, group, first)
            series_of.update(dict.fromkeys(group, (name, first)))
        self.seats_series = series_of.get(Measure.PAID_SEATS, ("", 0))[0]
        for f_index, (family, members) in enumerate(families.items()):
            series, first = series_of[_series_measures(family.measure)[0]]
            # The months before the earliest its sources read are left out of the family.
            first = max(first, min(self._earliest_month(source) for source in members))
            self._family(f"f{f_index}", family, series, first)

    def run(
        self, families: dict[_Family, list[SourceParams]], segments: Sequence[SegmentBase] = ()
    ) -> tuple[list[list[dict[int, Decimal]]], dict[int, dict[SegmentBase, tuple[int, int]]]]:
        """Per family, per source: organization → value (a percentage-growth source's value is
        (now, baseline) packed as two entries, see `baselines`); and per organization, per
        segment, (customers in it, customers) associated in the current month."""
        sources = [
            (f_index, family, source)
            for f_index, (family, members) in enumerate(families.items())
            for source in members
        ]
        self._families(families)
        percent: set[int] = set()
        for s_index, (f_index, family, source) in enumerate(sources):
            kind = _tail_kind(source)
            condition = "b_idx IS NOT NULL" if self._NEEDS_BASELINE[kind] else ""
            rows = self._rows(f"f{f_index}", source, condition)
            single = len(family.workloads or ("",)) == 1
            getattr(self, kind)(f"r{s_index}", rows, source, single)
            if kind == "percent_growth":
                percent.add(s_index)
        if segments:
            self.segment_shares(segments)
        self.sql.parts[-1] = self.sql.parts[-1].rstrip().removesuffix(",")
        # A typed NULL: PostgreSQL takes a bare NULL in the first SELECT of a UNION for text.
        no_baseline = "CAST(NULL AS NUMERIC)"
        selects = [
            f"SELECT {s_index} AS src, org, v, {'b' if s_index in percent else no_baseline} AS b"
            f" FROM r{s_index}"
            for s_index in range(len(sources))
        ]
        selects.extend(
            f"SELECT {-1 - i} AS src, org, s{i} AS v, t{i} AS b FROM seg_share"
            for i, _ in enumerate(segments)
        )
        if not selects:
            return [[] for _ in families], {}
        self.sql.add("\nUNION ALL\n".join(selects))
        found: list[dict[int, Decimal]] = [{} for _ in sources]
        shares: dict[int, dict[SegmentBase, tuple[int, int]]] = defaultdict(dict)
        self.baselines: list[dict[int, Decimal]] = [{} for _ in sources]
        for s_index, org, value, base in _fetch_chunk_statement(self.sql):
            if s_index < 0:
                shares[org][segments[-1 - s_index]] = (int(value or 0), int(base or 0))
                continue
            found[s_index][org] = _number(value)
            if s_index in percent:
                self.baselines[s_index][org] = _number(base)
        out: list[list[dict[int, Decimal]]] = [[] for _ in families]
        self.family_baselines: list[list[dict[int, Decimal]]] = [[] for _ in families]
        for (f_index, _, _), values, bases in zip(sources, found, self.baselines, strict=True):
            out[f_index].append(values)
            self.family_baselines[f_index].append(bases)
        return out, shares


def _metric_kind(source: SourceParams) -> str:
    """What a source's metric counts, for telling identical sources apart: the metric code
    without its track (an Enterprise and an SMB metric can share one computation)."""
    return source.metric_code.rsplit("/", 1)[-1]


_NO_SOURCE = SourceParams(
    metric_code="",
    key="",
    platform="",
    attributions=(),
    measure="",
    workloads=(),
    seat_threshold=None,
    usage_threshold=None,
    production_only=False,
)


def _classification_source(classification: Classification) -> SourceParams:
    """Workloads over a revenue per tenant: billed revenue of any association on Dynamics."""
    return SourceParams(
        metric_code="classification",
        key="",
        platform="dynamics",
        attributions=("CPOR", "CSP", "DPOR", "PAL"),
        measure=Measure.REVENUE_USD,
        workloads=classification.workloads,
        seat_threshold=None,
        usage_threshold=classification.threshold,
        production_only=False,
        computation=CLASSIFY_WORKLOADS,
    )


def _segment_base(classification: Classification) -> SegmentBase:
    return (classification.segment, classification.platforms, classification.attributions)


def _classification_holds(
    classification: Classification,
    workloads: Decimal,
    shares: dict[SegmentBase, tuple[int, int]],
) -> bool:
    if classification.rule == Track.Rule.WORKLOAD_REVENUE:
        return workloads >= (classification.count or 0)
    in_segment, total = shares.get(_segment_base(classification), (0, 0))
    return total > 0 and Decimal(in_segment) >= (classification.share or Decimal(0)) * total


def _certified_individuals(
    organization_ids: Sequence[int], as_of: date, requirements: Iterable[CertificationRequirement]
) -> dict[tuple[int, str], int]:
    """(org, metric requirement) → individuals meeting every group with active certifications."""
    requirements = list(requirements)
    codes = {code for req in requirements for _, group in req.groups for code in group}
    held: dict[tuple[int, int], set[str]] = defaultdict(set)
    rows = (
        HeldCertification.objects.unscoped()
        .filter(
            organization_id__in=organization_ids,
            person__active=True,
            certification__code__in=codes,
        )
        .filter(HeldCertification.active_on_q(as_of))
        .values_list("organization_id", "person_id", "certification__code")
    )
    for organization_id, person_id, code in rows:
        held[(organization_id, person_id)].add(code)
    groups_by_key = {_requirement_key(req): req.groups for req in requirements}
    # People share a handful of certification combinations: match each combination once.
    matched_by_codes: dict[frozenset[str], list[str]] = {}
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for (organization_id, _), person_codes in held.items():
        codes_held = frozenset(person_codes)
        matched = matched_by_codes.get(codes_held)
        if matched is None:
            matched = matched_by_codes[codes_held] = [
                key
                for key, groups in groups_by_key.items()
                if certification_groups_met(groups, codes_held)
            ]
        for key in matched:
            counts[(organization_id, key)] += 1
    return counts


def _frozen_tracks(
    organization_ids: Sequence[int], as_of: date, designation_codes: Sequence[str]
) -> dict[tuple[int, str], str]:
    """(org, designation) → the track frozen at enrolment for a term covering the date."""
    if not designation_codes:
        return {}
    rows = (
        TrackFreeze.objects.unscoped()
        .filter(
            organization_id__in=organization_ids,
            designation__code__in=designation_codes,
            starts_on__lte=as_of,
            ends_on__gte=as_of,
        )
        .order_by("starts_on")  # the latest term wins where two overlap
        .values_list("organization_id", "designation__code", "track")
    )
    return {(org, code): track for org, code, track in rows}


def certification_groups_met(
    groups: Iterable[tuple[str, frozenset[str]]], codes_held: frozenset[str]
) -> bool:
    """A person meets a requirement when every group holds: all its codes, or any of them."""
    return all(
        group <= codes_held if mode == "all" else bool(group & codes_held) for mode, group in groups
    )


def _requirement_key(requirement: CertificationRequirement) -> str:
    return repr(sorted((mode, sorted(group)) for mode, group in requirement.groups))


def compute_measures(
    *,
    organization_ids: Sequence[int],
    as_of: date,
    rule_sets: Sequence[RuleSetInForce],
    track_freezes: bool = True,
    usage_through: date | None = None,
) -> OrgMeasures:
    """Every raw measure every rule set needs, for a chunk of organizations, as of a date.

    A classified track frozen at enrolment for a term covering the date holds in place of the
    classification the data gives (`TrackFreeze`); `track_freezes=False` classifies afresh.
    `usage_through` (a forecast at a future date): telemetry of the months after the one ended
    on or before it repeats that month's figures — usage stays as it is while the trailing
    windows roll on, associations end and certifications expire on their dates.
    """
    result: OrgMeasures = {
        org: {rs.designation_code: defaultdict(dict) for rs in rule_sets}
        for org in organization_ids
    }
    # Sources are grouped by the series they read (one masked family each in the statement);
    # identical sources in several designations (e.g. M365 seat adds) are computed once.
    # A track's classification by workload revenue is one more source of the same kind.
    classifying = {
        c: _classification_source(c)
        for rs in rule_sets
        for c in rs.classifications
        if c.rule == Track.Rule.WORKLOAD_REVENUE
    }
    every_source = [s for rs in rule_sets for s in rs.sources] + list(classifying.values())
    families: dict[_Family, list[SourceParams]] = defaultdict(list)
    for source in every_source:
        distinct = dataclasses.replace(source, key="", metric_code=_metric_kind(source))
        if distinct not in families[_family_of(source)]:
            families[_family_of(source)].append(distinct)
    segments = sorted(
        {_segment_base(c) for rs in rule_sets for c in rs.classifications if c.segment}
    )
    computed: dict[SourceParams, tuple[dict[int, Decimal], dict[int, Decimal]]] = {}
    shares: dict[int, dict[SegmentBase, tuple[int, int]]] = {}
    if families or segments:
        statement = _ChunkStatement(organization_ids, as_of, usage_through)
        per_family, shares = statement.run(families, segments)
        for f_index, (sources, family_values) in enumerate(
            zip(families.values(), per_family, strict=True)
        ):
            bases = statement.family_baselines[f_index]
            for source, values, base in zip(sources, family_values, bases, strict=True):
                computed[source] = (values, base)
    track_codes = {rs.designation_code: {t.code for t in rs.rules.tracks} for rs in rule_sets}
    frozen = _frozen_tracks(
        organization_ids,
        as_of,
        [rs.designation_code for rs in rule_sets if rs.classifications and track_freezes],
    )
    for rule_set in rule_sets:
        for source in rule_set.sources:
            found, found_bases = computed[
                dataclasses.replace(source, key="", metric_code=_metric_kind(source))
            ]
            for org in organization_ids:
                slot = result[org][rule_set.designation_code][source.metric_code]
                slot[source.key] = found.get(org, Decimal(0))
                if source.computation == MetricSource.Computation.PERCENT_GROWTH:
                    slot[source.key + engine.BASELINE_SUFFIX] = found_bases.get(org, Decimal(0))
        for classification in rule_set.classifications:
            for org in organization_ids:
                frozen_track = frozen.get((org, rule_set.designation_code))
                if frozen_track in track_codes[rule_set.designation_code]:
                    # Enrolled: the track of the enrolment day holds, whatever the data says now.
                    result[org][rule_set.designation_code][engine.CLASSIFICATION][
                        classification.track
                    ] = Decimal(1 if classification.track == frozen_track else 0)
                    continue
                holds = _classification_holds(
                    classification,
                    computed.get(
                        dataclasses.replace(
                            classifying.get(classification) or _NO_SOURCE,
                            key="",
                            metric_code=_metric_kind(classifying.get(classification) or _NO_SOURCE),
                        ),
                        ({}, {}),
                    )[0].get(org, Decimal(0)),
                    shares.get(org, {}),
                )
                result[org][rule_set.designation_code][engine.CLASSIFICATION][
                    classification.track
                ] = Decimal(1 if holds else 0)
    all_requirements = [r for rs in rule_sets for r in rs.certification_requirements]
    certified = _certified_individuals(organization_ids, as_of, all_requirements)
    for rule_set in rule_sets:
        for req in rule_set.certification_requirements:
            key = _requirement_key(req)
            for org in organization_ids:
                result[org][rule_set.designation_code][req.metric_code][req.key] = Decimal(
                    certified.get((org, key), 0)
                )
    return result
