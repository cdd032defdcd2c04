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
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from portal.models import HeldCertification
from scoring.models import Measure, MetricCode
from scoring.selectors import CertificationRequirement, RuleSetInForce, SourceParams

WINDOW_MONTHS = 24
NOW = WINDOW_MONTHS - 1  # idx of the current month
YEAR_AGO = NOW - 12  # idx of the month 12 months before the current one
CENT = Decimal("0.01")

USER_MEASURES = {Measure.PROTECTED_USERS, Measure.ACTIVE_USERS}
TENANT_MEASURES = {Measure.PAID_SEATS}

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


def _family_of(source: SourceParams) -> _Family:
    workloads = () if source.measure in TENANT_MEASURES else source.workloads
    return _Family(source.platform, source.attributions, source.measure, workloads)


def _tail_kind(source: SourceParams) -> str:
    """Which computation a source needs: what its metric counts and which measure feeds it."""
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
_PG_STATEMENT_SETTINGS = {"enable_nestloop": "off", "work_mem": "64MB"}


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
        cursor.execute(sql.text, sql.params)
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)),
            [p for name, value in zip(names, previous, strict=True) for p in (name, value)],
        )
        return rows


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

    The chunk's customers' UsageYear rows (at most three a series) are read once, in index
    order, into one wide row per customer series (measure × workload):
    `series_w` / `series_r(cust, measure, wl, v..v23)`, v<k> being month k of the window (0 when
    there is no usage row). Each family of sources (same platform, association types, measure
    and workloads) then masks the series with its associations — `f<i>(org, cust, wl, prod,
    b_idx, m..m23)`, m<k> = v<k> in the months an association of the family's types covers,
    else 0 — and each source is plain arithmetic over those columns (month-over-month events,
    trailing sums, baselines), aggregated per organization. Nothing reads a customer's months
    twice: the cost is one ordered pass over the chunk's series plus a few operations each.
    """

    def __init__(self, organization_ids: Sequence[int], as_of: date) -> None:
        self.organization_ids = list(organization_ids)
        self.months = window_months(as_of)
        self.sql = _Sql()
        self.seats_series = ""  # the series CTE holding paid seats, once run() has chosen
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
        sql.add("WITH assoc0 AS (SELECT a.organization_id AS org, a.customer_id AS cust,")
        sql.add("a.type AS type, a.workload AS wl,")
        sql.add(f"{self._month_index('a.start_month')} AS s_idx,")
        sql.add(f"CASE WHEN a.end_month IS NULL THEN {WINDOW_MONTHS} ELSE")
        sql.add(f"{self._month_index('a.end_month')} END AS e_idx,")
        # Scalar look-ups by primary key: the customer and organization tables are global and
        # grow with every partner; a join would let the planner scan them whole per chunk.
        sql.add(
            "(SELECT c.platform FROM scoring_customer c WHERE c.id = a.customer_id) AS platform,"
            "(SELECT c.production FROM scoring_customer c WHERE c.id = a.customer_id) AS prod"
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
                                           WHERE o.id = a.organization_id) = 'CN')),"""
        )
        # The months 0..23 each association covers, as bits (bit k = month k).
        sql.add(
            f"""assoc AS MATERIALIZED (SELECT assoc0.*,
                (1 << (CASE WHEN e_idx > {NOW} THEN {NOW} ELSE e_idx END + 1))
              - (1 << (CASE WHEN s_idx < 0 THEN 0 ELSE s_idx END)) AS mask FROM assoc0),"""
        )

    # Sources that look further back than the current month's baseline (11..23).
    _WHOLE_WINDOW = {"average_adds", "trailing_deployments"}

    def _series(self, name: str, measures: Sequence[str], first: int) -> None:
        """{name}(cust, measure, wl, v<first>..v23): the chunk's customers' months, a row a series.

        Read from UsageYear (usage pivoted by calendar year, kept by triggers): at most three
        rows a series for the 24 months, in index order. Only the months from `first` on are
        read: 0 for measures some source reads the whole window of, else 11 (12 months ago),
        the earliest a baseline can be.
        """
        sql = self.sql
        sql.add(
            f"{name} AS MATERIALIZED (SELECT y.customer_id AS cust, y.measure, y.workload AS wl,"
        )
        sql.add(
            ", ".join(
                f"COALESCE(MAX(y.m{month.month}) FILTER (WHERE y.year = %s), 0) AS v{k}"
                for k, month in enumerate(self.months)
                if k >= first
            ),
            *(month.year for month in self.months[first:]),
        )
        sql.add("FROM scoring_usageyear y WHERE")
        if connection.vendor == "postgresql":
            # An array of the customers lets the index hand the rows over already grouped.
            sql.add("y.customer_id = ANY(ARRAY(SELECT DISTINCT cust FROM assoc))")
        else:
            sql.add("y.customer_id IN (SELECT cust FROM assoc)")
        sql.add("AND ").in_list("y.measure", sorted(measures))
        sql.add("AND y.year >= %s AND y.year <= %s", self.months[first].year, self.months[NOW].year)
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
            sql.add("AND (wl = '' OR ").in_list("wl", family.workloads).add(")")
        sql.add("THEN s_idx END) AS now_start")
        sql.add("FROM assoc WHERE platform = %s AND ", family.platform)
        sql.in_list("type", family.attributions).add("GROUP BY org, cust, prod),")
        sql.add(f"{name}_w AS (SELECT org, cust, wl, BIT_OR(mask) AS mask")
        sql.add("FROM assoc WHERE platform = %s AND ", family.platform)
        sql.in_list("type", family.attributions).add("AND wl <> '' GROUP BY org, cust, wl),")
        sql.add(f"{name}_k AS (SELECT a.org, a.cust, s.wl, a.prod, a.now_start,")
        sql.add("CASE WHEN s.wl = '' THEN a.mask_all ELSE a.mask_blank | COALESCE(w.mask, 0) END")
        sql.add(f"AS mask, {', '.join(f's.v{k}' for k in range(first, WINDOW_MONTHS))}")
        sql.add(
            f"FROM {name}_a a JOIN {series} s ON s.cust = a.cust AND s.measure = %s", family.measure
        )
        sql.add("AND ").in_list("s.wl", family.workloads or ("",))
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
            conditions.append("prod = %s")
            self.sql.params.append(True)
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
        """Σ over customers associated now of (value now − value at their baseline month)."""
        self.sql.add(
            f"{name} AS (SELECT org, SUM(m{NOW} - {_at_baseline('m{k}')}) AS v FROM {rows} rows_"
            " GROUP BY org),"
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
            WHERE deployed = 1 AND seats_now >= CAST(%s AS NUMERIC) GROUP BY org),""",
            source.usage_threshold or Decimal(0),
            Decimal(source.seat_threshold or 0),
        )

    def trailing_deployments(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """Customers whose trailing-12-month total crossed the threshold since the baseline.

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
        self.sql.add(
            f"""{name} AS (SELECT org, COUNT(*) AS v FROM (
                SELECT org, cust, b_idx, {years} FROM (
                SELECT org, cust, b_idx, {eights}, {keep_fours} FROM (
                SELECT org, cust, b_idx, {fours} FROM (
                SELECT org, cust, b_idx, {pairs} FROM {monthly} l1{fence}
                ) l2{fence}) l4{fence}) l8{fence}) per
            CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS th) p
            WHERE {_at_baseline("y{k}")} <= th AND {_any_after_baseline("y{k} > th")} = 1
            GROUP BY org),""",
            source.usage_threshold or Decimal(0),
        )

    # What rows of its family each kind reads: baselines need an association in the current month.
    _NEEDS_BASELINE = {
        "seat_adds": False,
        "average_adds": False,
        "growth": True,
        "share_deployments": True,
        "trailing_deployments": True,
        "crossing_deployments": True,
    }

    def run(self, families: dict[_Family, list[SourceParams]]) -> list[list[dict[int, Decimal]]]:
        """Per family, per source: organization → value."""
        sources = [
            (f_index, family, source)
            for f_index, (family, members) in enumerate(families.items())
            for source in members
        ]
        measures = {family.measure for family in families}
        if any(_tail_kind(source) == "share_deployments" for _, _, source in sources):
            measures.add(Measure.PAID_SEATS)
        whole = {
            family.measure
            for _, family, source in sources
            if _tail_kind(source) in self._WHOLE_WINDOW
        }
        self._associations()
        # Two series CTEs: the measures read over the whole window, and those read from 11 on.
        series_of = {}
        for name, members, first in (
            ("series_w", whole, 0),
            ("series_r", measures - whole, YEAR_AGO),
        ):
            if members:
                self._series(name, sorted(members), first)
                series_of.update(dict.fromkeys(members, (name, first)))
        self.seats_series = series_of.get(Measure.PAID_SEATS, ("", 0))[0]
        for f_index, family in enumerate(families):
            self._family(f"f{f_index}", family, *series_of[family.measure])
        for s_index, (f_index, family, source) in enumerate(sources):
            kind = _tail_kind(source)
            condition = "b_idx IS NOT NULL" if self._NEEDS_BASELINE[kind] else ""
            rows = self._rows(f"f{f_index}", source, condition)
            single = len(family.workloads or ("",)) == 1
            getattr(self, kind)(f"r{s_index}", rows, source, single)
        self.sql.parts[-1] = self.sql.parts[-1].rstrip().removesuffix(",")
        self.sql.add(
            "\nUNION ALL\n".join(
                f"SELECT {s_index} AS src, org, v FROM r{s_index}"
                for s_index in range(len(sources))
            )
        )
        found: list[dict[int, Decimal]] = [{} for _ in sources]
        for s_index, org, value in _fetch_chunk_statement(self.sql):
            found[s_index][org] = _number(value)
        out: list[list[dict[int, Decimal]]] = [[] for _ in families]
        for (f_index, _, _), values in zip(sources, found, strict=True):
            out[f_index].append(values)
        return out


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
                if all(
                    group <= codes_held if mode == "all" else bool(group & codes_held)
                    for mode, group in groups
                )
            ]
        for key in matched:
            counts[(organization_id, key)] += 1
    return counts


def _requirement_key(requirement: CertificationRequirement) -> str:
    return repr(sorted((mode, sorted(group)) for mode, group in requirement.groups))


def compute_measures(
    *, organization_ids: Sequence[int], as_of: date, rule_sets: Sequence[RuleSetInForce]
) -> OrgMeasures:
    """Every raw measure every rule set needs, for a chunk of organizations, as of a date."""
    result: OrgMeasures = {
        org: {rs.designation_code: defaultdict(dict) for rs in rule_sets}
        for org in organization_ids
    }
    # Sources are grouped by the series they read (one masked family each in the statement);
    # identical sources in several designations (e.g. M365 seat adds) are computed once.
    families: dict[_Family, list[SourceParams]] = defaultdict(list)
    for rule_set in rule_sets:
        for source in rule_set.sources:
            distinct = dataclasses.replace(source, key="")
            if distinct not in families[_family_of(source)]:
                families[_family_of(source)].append(distinct)
    computed: dict[SourceParams, dict[int, Decimal]] = {}
    if families:
        per_family = _ChunkStatement(organization_ids, as_of).run(families)
        for sources, family_values in zip(families.values(), per_family, strict=True):
            for source, values in zip(sources, family_values, strict=True):
                computed[source] = values
    for rule_set in rule_sets:
        for source in rule_set.sources:
            values = computed[dataclasses.replace(source, key="")]
            for org in organization_ids:
                result[org][rule_set.designation_code][source.metric_code][source.key] = values.get(
                    org, Decimal(0)
                )
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
