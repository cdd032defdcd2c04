"""Raw measures for a chunk of organizations, computed set-based in the database.

Every rule source turns into one SQL statement over the whole chunk (window functions for
month-over-month events and trailing windows, aggregates for growth), so the cost grows with the
telemetry of the chunk, not with a Python loop over customers. The same SQL runs on SQLite and
PostgreSQL but for one expression: the month index 0..23, computed from day differences.

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

from django.db import connection

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


class _ChunkQueries:
    """Builds and runs the per-source statements for one chunk of organizations.

    Every statement starts from `pairs`: one row per (organization, customer) attributed by the
    source's association types, with the single association's range inline (the common case)
    and, for customers associated in the current month, the baseline month index `b_idx`.
    Usage rows join `pairs` once each, so nothing is counted twice when several associations
    cover the same customer; those rare customers check coverage month by month (EXISTS).
    """

    def __init__(self, organization_ids: Sequence[int], as_of: date) -> None:
        self.organization_ids = list(organization_ids)
        self.months = window_months(as_of)

    def _month_index(self, column: str) -> tuple[str, list[object]]:
        """SQL for the window index of a first-of-month date (0 = oldest, NOW = current).

        Integer day arithmetic, no join: months between two first days are
        (days × 12 + 183) ÷ 365, exact over far more than the 24 months used here.
        """
        if connection.vendor == "postgresql":
            return f"((({column}) - CAST(%s AS DATE)) * 12 + 183) / 365", [self.months[0]]
        return (
            f"CAST(((julianday({column}) - julianday(%s)) * 12 + 183) / 365 AS INTEGER)",
            [self.months[0]],
        )

    def _start(self, sql: _Sql, source: SourceParams, measures: Sequence[str]) -> None:
        """WITH pairs(org, cust, n, s, e, wl, b_idx, b_month) — ends with a comma."""
        now, year_ago = self.months[NOW], self.months[YEAR_AGO]
        sql.add(
            """WITH pairs0 AS (
            SELECT a.organization_id AS org, a.customer_id AS cust, COUNT(*) AS n,
                   MIN(a.start_month) AS s, MAX(a.end_month) AS e, MAX(a.workload) AS wl,
                   MIN(CASE WHEN a.start_month <= %s AND (a.end_month IS NULL OR a.end_month >= %s)
                            THEN a.start_month END) AS now_start
            FROM scoring_association a
            WHERE""",
            now,
            now,
        )
        self._association_filter(sql, source, "a")
        if not set(measures) <= TENANT_MEASURES:
            # A workload association attributes that workload (and the tenant's own figures).
            sql.add("AND (a.workload = '' OR ").in_list("a.workload", source.workloads).add(")")
        sql.add("GROUP BY a.organization_id, a.customer_id),")
        start_idx, start_params = self._month_index("p.now_start")
        sql.add(
            f"""pairs AS (
            SELECT p.org, p.cust, p.n, p.s, p.e, p.wl,
                   CASE WHEN p.now_start IS NULL THEN NULL
                        WHEN p.now_start <= %s THEN %s ELSE {start_idx} END AS b_idx,
                   CASE WHEN p.now_start IS NULL THEN NULL
                        WHEN p.now_start <= %s THEN %s ELSE p.now_start END AS b_month
            FROM pairs0 p
        ),""",
            year_ago,
            YEAR_AGO,
            *start_params,
            year_ago,
            year_ago,
        )

    def _association_filter(self, sql: _Sql, source: SourceParams, alias: str) -> None:
        sql.in_list(f"{alias}.organization_id", self.organization_ids)
        sql.add("AND ").in_list(f"{alias}.type", source.attributions)
        # Scalar look-ups by primary key, one per association of the chunk: the customer and
        # organization tables are global and grow with every partner, and a join would let the
        # planner scan them whole for every chunk (time growing with the square of partners).
        sql.add(
            f"""AND NOT ({alias}.type = 'PAL' AND (SELECT o.country FROM portal_organization o
                                             WHERE o.id = {alias}.organization_id) = 'CN')"""
        )
        sql.add(
            f"AND (SELECT 1 FROM scoring_customer c WHERE c.id = {alias}.customer_id"
            " AND c.platform = %s",
            source.platform,
        )
        if source.production_only:
            sql.add("AND c.production = %s", True)
        sql.add(") = 1")

    def _attributed(
        self,
        sql: _Sql,
        source: SourceParams,
        measures: Sequence[str],
        months_filter: str = "",
        *filter_params: object,
    ) -> None:
        """CTE t(org, cust, ms, wl, m, idx, v, b_idx): usage attributed to each organization.

        `months_filter` compares `u.month` with dates (`p.b_month`, parameters) only: an index
        comparison there would let the planner cross-join months with pairs.
        """
        workloads = ("", *source.workloads) if set(measures) - TENANT_MEASURES else ("",)
        month_idx, idx_params = self._month_index("u.month")
        sql.add(
            f"""t AS (
            SELECT p.org, p.cust, u.measure AS ms, u.workload AS wl, u.month AS m,
                   {month_idx} AS idx, u.value AS v, p.b_idx
            FROM pairs p
            JOIN scoring_usage u ON u.customer_id = p.cust
            WHERE""",
            *idx_params,
        )
        sql.in_list("u.measure", measures)
        sql.add("AND ").in_list("u.workload", workloads)
        sql.add("AND u.month >= %s AND u.month <= %s", self.months[0], self.months[NOW])
        if months_filter:
            sql.add(f"AND {months_filter}", *filter_params)
        sql.add("""AND CASE WHEN p.n = 1 THEN
                    u.month >= p.s AND (p.e IS NULL OR u.month <= p.e)
                    AND (p.wl = '' OR p.wl = u.workload OR u.workload = '')
                ELSE EXISTS (
                    SELECT 1 FROM scoring_association a2
                    WHERE a2.organization_id = p.org AND a2.customer_id = p.cust
                      AND a2.start_month <= u.month
                      AND (a2.end_month IS NULL OR a2.end_month >= u.month)
                      AND (a2.workload = '' OR a2.workload = u.workload OR u.workload = '')
                      AND""")
        sql.in_list("a2.type", source.attributions).add(") END)")

    def _run(self, sql: _Sql) -> dict[int, Decimal]:
        with connection.cursor() as cursor:
            cursor.execute(sql.text, sql.params)
            return {org: _number(value) for org, value in cursor.fetchall()}

    def seat_net_adds(self, source: SourceParams) -> dict[int, Decimal]:
        """Tenants going 0 → ≥ S paid seats (adds) minus ≥ S → 0 (losses), trailing 12 months."""
        seats = Decimal(source.seat_threshold or 0)
        sql = _Sql()
        self._start(sql, source, [Measure.PAID_SEATS])
        self._attributed(sql, source, [Measure.PAID_SEATS], "u.month >= %s", self.months[YEAR_AGO])
        sql.add(""", ev AS (
            SELECT org, idx, v,
                   LAG(idx) OVER w AS pidx, LAG(v) OVER w AS pv,
                   LEAD(idx) OVER w AS nidx, LEAD(v) OVER w AS nv
            FROM t WINDOW w AS (PARTITION BY org, cust ORDER BY idx)
        )""")
        sql.add(
            """SELECT org,
                SUM(CASE WHEN idx > %s AND v >= CAST(%s AS NUMERIC)
                         AND (pidx IS NULL OR pidx <> idx - 1 OR pv = 0) THEN 1 ELSE 0 END)
              - SUM(CASE WHEN idx < %s AND v >= CAST(%s AS NUMERIC)
                         AND (nidx IS NULL OR nidx <> idx + 1 OR nv = 0) THEN 1 ELSE 0 END)
            FROM ev GROUP BY org""",
            YEAR_AGO,
            seats,
            NOW,
            seats,
        )
        return self._run(sql)

    def average_net_adds(self, source: SourceParams) -> dict[int, Decimal]:
        """Customers averaging ≥ A a month over the trailing 12 months, now minus a year ago."""
        yearly = (source.usage_threshold or Decimal(0)) * 12
        sql = _Sql()
        self._start(sql, source, [source.measure])
        self._attributed(sql, source, [source.measure])
        sql.add(
            """, per AS (
            SELECT org, cust,
                   SUM(CASE WHEN idx > %s THEN v ELSE 0 END) AS now_sum,
                   SUM(CASE WHEN idx <= %s THEN v ELSE 0 END) AS before_sum
            FROM t GROUP BY org, cust
        )""",
            YEAR_AGO,
            YEAR_AGO,
        )
        sql.add(
            """SELECT org,
                SUM(CASE WHEN now_sum >= CAST(%s AS NUMERIC) THEN 1 ELSE 0 END)
              - SUM(CASE WHEN before_sum >= CAST(%s AS NUMERIC) THEN 1 ELSE 0 END)
            FROM per GROUP BY org""",
            yearly,
            yearly,
        )
        return self._run(sql)

    def growth(self, source: SourceParams) -> dict[int, Decimal]:
        """Σ over customers associated now of (value now − value at their baseline month)."""
        sql = _Sql()
        self._start(sql, source, [source.measure])
        self._attributed(
            sql, source, [source.measure], "(u.month = %s OR u.month = p.b_month)", self.months[NOW]
        )
        sql.add(
            """SELECT org,
                SUM(CASE WHEN idx = %s THEN v ELSE 0 END)
              - SUM(CASE WHEN idx = b_idx THEN v ELSE 0 END)
            FROM t GROUP BY org""",
            NOW,
        )
        return self._run(sql)

    def share_deployments(self, source: SourceParams) -> dict[int, Decimal]:
        """Tenants ≥ floor seats now where one workload's users/seats crossed the threshold.

        Each attributed users row looks up the tenant's paid seats of the same month (covered by
        the same association, seats being tenant-level figures); only rows above the share go on.
        """
        sql = _Sql()
        self._start(sql, source, [source.measure])
        self._attributed(sql, source, [source.measure], "u.month >= p.b_month")
        share = source.usage_threshold or Decimal(0)
        sql.add(
            """, above AS (
            SELECT org, cust, wl, idx, b_idx FROM t
            WHERE t.v > 0 AND t.v > CAST(%s AS NUMERIC) * COALESCE(NULLIF(
                (SELECT s.value FROM scoring_usage s
                 WHERE s.customer_id = t.cust AND s.measure = 'paid_seats'
                   AND s.workload = '' AND s.month = t.m), 0), t.v * 1000000000)
        ), per AS (
            SELECT org, cust, wl,
                   MAX(CASE WHEN idx = b_idx THEN 1 ELSE 0 END) AS over_base,
                   MAX(CASE WHEN idx > b_idx THEN 1 ELSE 0 END) AS over_after
            FROM above GROUP BY org, cust, wl
        ), deployed AS (
            SELECT DISTINCT org, cust FROM per WHERE over_base = 0 AND over_after = 1
        )""",
            share,
        )
        sql.add(
            """SELECT d.org, COUNT(*) FROM deployed d
            JOIN scoring_usage ns
              ON ns.customer_id = d.cust AND ns.measure = 'paid_seats' AND ns.workload = ''
             AND ns.month = %s
            WHERE ns.value >= CAST(%s AS NUMERIC)
            GROUP BY d.org""",
            self.months[NOW],
            Decimal(source.seat_threshold or 0),
        )
        return self._run(sql)

    def trailing_deployments(self, source: SourceParams) -> dict[int, Decimal]:
        """Customers whose trailing-12-month total crossed the threshold since the baseline."""
        sql = _Sql()
        self._start(sql, source, [source.measure])
        self._attributed(sql, source, [source.measure], "p.b_idx IS NOT NULL")
        sql.add(""", monthly AS (
            SELECT org, cust, idx, MAX(b_idx) AS b_idx, SUM(v) AS v
            FROM t GROUP BY org, cust, idx
        ), rolling AS (
            SELECT org, cust, idx, b_idx, v,
                   SUM(v) OVER (PARTITION BY org, cust ORDER BY idx
                                RANGE BETWEEN 11 PRECEDING AND CURRENT ROW) AS t12
            FROM monthly
        ), per AS (
            SELECT org, cust,
                   SUM(CASE WHEN idx BETWEEN b_idx - 11 AND b_idx THEN v ELSE 0 END) AS base_t12,
                   MAX(CASE WHEN idx > b_idx THEN t12 END) AS best_after
            FROM rolling GROUP BY org, cust
        )""")
        threshold = source.usage_threshold or Decimal(0)
        sql.add(
            """SELECT org, COUNT(*) FROM per
            WHERE base_t12 <= CAST(%s AS NUMERIC) AND best_after > CAST(%s AS NUMERIC)
            GROUP BY org""",
            threshold,
            threshold,
        )
        return self._run(sql)

    def crossing_deployments(self, source: SourceParams) -> dict[int, Decimal]:
        """Customers whose monthly figure was ≤ threshold at baseline and above it since."""
        sql = _Sql()
        self._start(sql, source, [source.measure])
        self._attributed(sql, source, [source.measure], "u.month >= p.b_month")
        threshold = source.usage_threshold or Decimal(0)
        sql.add(
            """, per AS (
            SELECT org, cust,
                   MAX(CASE WHEN idx = b_idx AND v > CAST(%s AS NUMERIC)
                            THEN 1 ELSE 0 END) AS over_base,
                   MAX(CASE WHEN idx > b_idx AND v > CAST(%s AS NUMERIC)
                            THEN 1 ELSE 0 END) AS over_after
            FROM t GROUP BY org, cust
        )""",
            threshold,
            threshold,
        )
        sql.add("SELECT org, COUNT(*) FROM per WHERE over_base = 0 AND over_after = 1 GROUP BY org")
        return self._run(sql)

    def for_source(self, source: SourceParams) -> dict[int, Decimal]:
        """Dispatch on what the metric counts and which measure feeds it."""
        if source.metric_code == MetricCode.NET_CUSTOMER_ADDS:
            if source.measure in TENANT_MEASURES:
                return self.seat_net_adds(source)
            return self.average_net_adds(source)
        if source.metric_code == MetricCode.USAGE_GROWTH:
            return self.growth(source)
        if source.metric_code == MetricCode.DEPLOYMENTS:
            if source.measure in USER_MEASURES:
                return self.share_deployments(source)
            if source.measure == Measure.ACR_USD:
                return self.trailing_deployments(source)
            return self.crossing_deployments(source)
        raise ValueError(f"No telemetry measure for metric {source.metric_code!r}.")


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
            earned_on__lte=as_of,
        )
        .exclude(expires_on__lte=as_of)
        .values_list("organization_id", "person_id", "certification__code")
    )
    for organization_id, person_id, code in rows:
        held[(organization_id, person_id)].add(code)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for (organization_id, _), person_codes in held.items():
        for req in requirements:
            if all(
                group <= person_codes if mode == "all" else bool(group & person_codes)
                for mode, group in req.groups
            ):
                counts[(organization_id, _requirement_key(req))] += 1
    return counts


def _requirement_key(requirement: CertificationRequirement) -> str:
    return repr(sorted((mode, sorted(group)) for mode, group in requirement.groups))


def compute_measures(
    *, organization_ids: Sequence[int], as_of: date, rule_sets: Sequence[RuleSetInForce]
) -> OrgMeasures:
    """Every raw measure every rule set needs, for a chunk of organizations, as of a date."""
    queries = _ChunkQueries(organization_ids, as_of)
    result: OrgMeasures = {
        org: {rs.designation_code: defaultdict(dict) for rs in rule_sets}
        for org in organization_ids
    }
    # Identical sources in several designations (e.g. M365 seats adds) are computed once.
    cache: dict[SourceParams, dict[int, Decimal]] = {}
    for rule_set in rule_sets:
        for source in rule_set.sources:
            cache_key = dataclasses.replace(source, key="")
            if cache_key not in cache:
                cache[cache_key] = queries.for_source(source)
            values = cache[cache_key]
            for org in organization_ids:
                result[org][rule_set.designation_code][source.metric_code][source.key] = values.get(
                    org, Decimal(0)
                )
    all_requirements = [r for rs in rule_sets for r in rs.certification_requirements]
    certified = _certified_individuals(organization_ids, as_of, all_requirements)
    for rule_set in rule_sets:
        for req in rule_set.certification_requirements:
            for org in organization_ids:
                result[org][rule_set.designation_code][req.metric_code]["people"] = Decimal(
                    certified.get((org, _requirement_key(req)), 0)
                )
    return result
