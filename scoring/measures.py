"""Raw measures for a chunk of organizations, computed set-based in the database.

Rule sources that read the same usage rows (same platform, association types, measure and
workloads) share one SQL statement over the whole chunk — about nine statements for the six
shipped rule sets — with window functions for month-over-month events and trailing windows and
aggregates for growth, so the cost grows with the telemetry of the chunk, not with a Python
loop over customers. The same SQL runs on SQLite and
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


@dataclass(frozen=True)
class _Family:
    """Sources that read the same usage rows: one statement computes them all.

    Same platform, association types, measure and workloads; the sources differ in what they
    count (adds, growth, deployments), their thresholds and whether only production tenants
    count — so the rows are read once and each source's tail aggregates them its own way.
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


class _ChunkQueries:
    """Builds and runs one statement per family of sources for a chunk of organizations.

    Every statement starts from `pairs`: one row per (organization, customer) attributed by the
    family's association types, with the single association's range inline (the common case),
    the customer's production flag and, for customers associated in the current month, the
    baseline month (`b_idx`, `b_month`). Usage rows join `pairs` once each (`t`), so nothing is
    counted twice when several associations cover the same customer (those rare customers check
    coverage month by month). Each source then adds its own tail over `t`.
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

    def _pairs(self, sql: _Sql, family: _Family) -> None:
        """WITH pairs(org, cust, n, s, e, wl, prod, b_idx, b_month) — ends with a comma."""
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
        sql.in_list("a.organization_id", self.organization_ids)
        sql.add("AND ").in_list("a.type", family.attributions)
        # Scalar look-ups by primary key, one per association of the chunk: the customer and
        # organization tables are global and grow with every partner, and a join would let the
        # planner scan them whole for every chunk (time growing with the square of partners).
        sql.add(
            """AND NOT (a.type = 'PAL' AND (SELECT o.country FROM portal_organization o
                                           WHERE o.id = a.organization_id) = 'CN')"""
        )
        sql.add(
            "AND (SELECT 1 FROM scoring_customer c WHERE c.id = a.customer_id"
            " AND c.platform = %s) = 1",
            family.platform,
        )
        if family.workloads:
            # A workload association attributes that workload (and the tenant's own figures).
            sql.add("AND (a.workload = '' OR ").in_list("a.workload", family.workloads).add(")")
        sql.add("GROUP BY a.organization_id, a.customer_id),")
        start_idx, start_params = self._month_index("p.now_start")
        sql.add(
            f"""pairs AS (
            SELECT p.org, p.cust, p.n, p.s, p.e, p.wl,
                   (SELECT c.production FROM scoring_customer c WHERE c.id = p.cust) AS prod,
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

    # What each tail reads of the usage rows, as a filter on `u` and `p` (dates only: an index
    # comparison there would let the planner cross-join), and again on `t` (by index).
    _ROWS_NEEDED = {
        "seat_adds": ("u.month >= %(year_ago)s", f"idx >= {YEAR_AGO}"),
        "average_adds": ("", ""),
        "growth": (
            "(u.month = %(now)s OR u.month = p.b_month)",
            f"(idx = {NOW} OR idx = b_idx)",
        ),
        "share_deployments": ("u.month >= p.b_month", "idx >= b_idx"),
        "trailing_deployments": ("p.b_month IS NOT NULL", "b_idx IS NOT NULL"),
        "crossing_deployments": ("u.month >= p.b_month", "idx >= b_idx"),
    }

    def _attributed(self, sql: _Sql, family: _Family, kinds: set[str]) -> None:
        """CTE t(org, cust, wl, m, idx, v, prod, b_idx): usage attributed to each organization."""
        workloads = family.workloads or ("",)
        month_idx, idx_params = self._month_index("u.month")
        sql.add(
            # Inlined into each tail: materialized, the rows would be copied once more and
            # read back without their index (measured: slower than reading them twice).
            f"""t AS NOT MATERIALIZED (
            SELECT p.org, p.cust, u.workload AS wl, u.month AS m, {month_idx} AS idx,
                   u.value AS v, p.prod, p.b_idx
            FROM pairs p
            JOIN scoring_usage u ON u.customer_id = p.cust
            WHERE u.measure = %s AND""",
            *idx_params,
            family.measure,
        )
        sql.in_list("u.workload", workloads)
        sql.add("AND u.month >= %s AND u.month <= %s", self.months[0], self.months[NOW])
        filters = {self._ROWS_NEEDED[kind][0] for kind in kinds}
        if "" not in filters:
            named = {"now": self.months[NOW], "year_ago": self.months[YEAR_AGO]}
            parts, params = [], []
            for text in sorted(filters):
                for key in ("now", "year_ago"):
                    if f"%({key})s" in text:
                        params.append(named[key])
                parts.append(text.replace("%(now)s", "%s").replace("%(year_ago)s", "%s"))
            sql.add("AND (" + " OR ".join(parts) + ")", *params)
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
        sql.in_list("a2.type", family.attributions).add(") END)")

    def _rows(self, kind: str, source: SourceParams) -> str:
        """The tail's own rows of `t`: its months, and production tenants when it says so."""
        condition = self._ROWS_NEEDED[kind][1]
        if source.production_only:
            condition = f"{condition} AND prod = %s" if condition else "prod = %s"
        return f"(SELECT * FROM t WHERE {condition})" if condition else "t"

    def _production(self, source: SourceParams) -> list[object]:
        return [True] if source.production_only else []

    def seat_adds(self, sql: _Sql, name: str, source: SourceParams) -> None:
        """Tenants going 0 → ≥ S paid seats (adds) minus ≥ S → 0 (losses), trailing 12 months."""
        seats = Decimal(source.seat_threshold or 0)
        sql.add(
            f""", {name}_ev AS (
            SELECT org, idx, v,
                   LAG(idx) OVER w AS pidx, LAG(v) OVER w AS pv,
                   LEAD(idx) OVER w AS nidx, LEAD(v) OVER w AS nv
            FROM {self._rows("seat_adds", source)} rows_
            WINDOW w AS (PARTITION BY org, cust ORDER BY idx)
        ), {name} AS (
            SELECT org,
                SUM(CASE WHEN idx > %s AND v >= CAST(%s AS NUMERIC)
                         AND (pidx IS NULL OR pidx <> idx - 1 OR pv = 0) THEN 1 ELSE 0 END)
              - SUM(CASE WHEN idx < %s AND v >= CAST(%s AS NUMERIC)
                         AND (nidx IS NULL OR nidx <> idx + 1 OR nv = 0) THEN 1 ELSE 0 END) AS v
            FROM {name}_ev GROUP BY org
        )""",
            *self._production(source),
            YEAR_AGO,
            seats,
            NOW,
            seats,
        )

    def average_adds(self, sql: _Sql, name: str, source: SourceParams) -> None:
        """Customers averaging ≥ A a month over the trailing 12 months, now minus a year ago."""
        yearly = (source.usage_threshold or Decimal(0)) * 12
        sql.add(
            f""", {name}_per AS (
            SELECT org, cust,
                   SUM(CASE WHEN idx > %s THEN v ELSE 0 END) AS now_sum,
                   SUM(CASE WHEN idx <= %s THEN v ELSE 0 END) AS before_sum
            FROM {self._rows("average_adds", source)} rows_ GROUP BY org, cust
        ), {name} AS (
            SELECT org,
                SUM(CASE WHEN now_sum >= CAST(%s AS NUMERIC) THEN 1 ELSE 0 END)
              - SUM(CASE WHEN before_sum >= CAST(%s AS NUMERIC) THEN 1 ELSE 0 END) AS v
            FROM {name}_per GROUP BY org
        )""",
            YEAR_AGO,
            YEAR_AGO,
            *self._production(source),
            yearly,
            yearly,
        )

    def growth(self, sql: _Sql, name: str, source: SourceParams) -> None:
        """Σ over customers associated now of (value now − value at their baseline month)."""
        sql.add(
            f""", {name} AS (
            SELECT org,
                SUM(CASE WHEN idx = %s THEN v ELSE 0 END)
              - SUM(CASE WHEN idx = b_idx THEN v ELSE 0 END) AS v
            FROM {self._rows("growth", source)} rows_ WHERE b_idx IS NOT NULL GROUP BY org
        )""",
            NOW,
            *self._production(source),
        )

    def share_deployments(self, sql: _Sql, name: str, source: SourceParams) -> None:
        """Tenants ≥ floor seats now where one workload's users/seats crossed the threshold.

        Each attributed users row looks up the tenant's paid seats of the same month (covered by
        the same association, seats being tenant-level figures); only rows above the share go on.
        """
        share = source.usage_threshold or Decimal(0)
        sql.add(
            f""", {name}_above AS (
            SELECT org, cust, wl, idx, b_idx FROM {self._rows("share_deployments", source)} r
            WHERE r.v > 0 AND r.v > CAST(%s AS NUMERIC) * COALESCE(NULLIF(
                (SELECT s.value FROM scoring_usage s
                 WHERE s.customer_id = r.cust AND s.measure = 'paid_seats'
                   AND s.workload = '' AND s.month = r.m), 0), r.v * 1000000000)
        ), {name}_per AS (
            SELECT org, cust, wl,
                   MAX(CASE WHEN idx = b_idx THEN 1 ELSE 0 END) AS over_base,
                   MAX(CASE WHEN idx > b_idx THEN 1 ELSE 0 END) AS over_after
            FROM {name}_above GROUP BY org, cust, wl
        ), {name}_deployed AS (
            SELECT DISTINCT org, cust FROM {name}_per WHERE over_base = 0 AND over_after = 1
        ), {name} AS (
            SELECT d.org, COUNT(*) AS v FROM {name}_deployed d
            JOIN scoring_usage ns
              ON ns.customer_id = d.cust AND ns.measure = 'paid_seats' AND ns.workload = ''
             AND ns.month = %s
            WHERE ns.value >= CAST(%s AS NUMERIC)
            GROUP BY d.org
        )""",
            *self._production(source),
            share,
            self.months[NOW],
            Decimal(source.seat_threshold or 0),
        )

    def trailing_deployments(self, sql: _Sql, name: str, source: SourceParams) -> None:
        """Customers whose trailing-12-month total crossed the threshold since the baseline."""
        threshold = source.usage_threshold or Decimal(0)
        sql.add(
            f""", {name}_monthly AS (
            SELECT org, cust, idx, MAX(b_idx) AS b_idx, SUM(v) AS v
            FROM {self._rows("trailing_deployments", source)} rows_ GROUP BY org, cust, idx
        ), {name}_rolling AS (
            SELECT org, cust, idx, b_idx, v,
                   SUM(v) OVER (PARTITION BY org, cust ORDER BY idx
                                RANGE BETWEEN 11 PRECEDING AND CURRENT ROW) AS t12
            FROM {name}_monthly
        ), {name}_per AS (
            SELECT org, cust,
                   SUM(CASE WHEN idx BETWEEN b_idx - 11 AND b_idx THEN v ELSE 0 END) AS base_t12,
                   MAX(CASE WHEN idx > b_idx THEN t12 END) AS best_after
            FROM {name}_rolling GROUP BY org, cust
        ), {name} AS (
            SELECT org, COUNT(*) AS v FROM {name}_per
            WHERE base_t12 <= CAST(%s AS NUMERIC) AND best_after > CAST(%s AS NUMERIC)
            GROUP BY org
        )""",
            *self._production(source),
            threshold,
            threshold,
        )

    def crossing_deployments(self, sql: _Sql, name: str, source: SourceParams) -> None:
        """Customers whose monthly figure was ≤ threshold at baseline and above it since."""
        threshold = source.usage_threshold or Decimal(0)
        sql.add(
            f""", {name}_per AS (
            SELECT org, cust,
                   MAX(CASE WHEN idx = b_idx AND v > CAST(%s AS NUMERIC)
                            THEN 1 ELSE 0 END) AS over_base,
                   MAX(CASE WHEN idx > b_idx AND v > CAST(%s AS NUMERIC)
                            THEN 1 ELSE 0 END) AS over_after
            FROM {self._rows("crossing_deployments", source)} rows_ GROUP BY org, cust
        ), {name} AS (
            SELECT org, COUNT(*) AS v FROM {name}_per
            WHERE over_base = 0 AND over_after = 1 GROUP BY org
        )""",
            threshold,
            threshold,
            *self._production(source),
        )

    def family_values(
        self, family: _Family, sources: Sequence[SourceParams]
    ) -> list[dict[int, Decimal]]:
        """One statement: for each source of the family, organization → value."""
        kinds = [_tail_kind(source) for source in sources]
        sql = _Sql()
        self._pairs(sql, family)
        self._attributed(sql, family, set(kinds))
        for index, (kind, source) in enumerate(zip(kinds, sources, strict=True)):
            getattr(self, kind)(sql, f"r{index}", source)
        sql.add(
            "\nUNION ALL\n".join(
                f"SELECT {index} AS src, org, v FROM r{index}" for index in range(len(sources))
            )
        )
        values: list[dict[int, Decimal]] = [{} for _ in sources]
        with connection.cursor() as cursor:
            cursor.execute(sql.text, sql.params)
            for index, org, value in cursor.fetchall():
                values[index][org] = _number(value)
        return values

    def for_source(self, source: SourceParams) -> dict[int, Decimal]:
        """One source alone (diagnostics and tests): a family of one."""
        return self.family_values(_family_of(source), [source])[0]


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
    # Sources that read the same rows share one statement; identical sources in several
    # designations (e.g. M365 seat adds) are computed once.
    families: dict[_Family, list[SourceParams]] = defaultdict(list)
    for rule_set in rule_sets:
        for source in rule_set.sources:
            distinct = dataclasses.replace(source, key="")
            if distinct not in families[_family_of(source)]:
                families[_family_of(source)].append(distinct)
    computed: dict[SourceParams, dict[int, Decimal]] = {}
    for family, sources in families.items():
        for source, values in zip(sources, queries.family_values(family, sources), strict=True):
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
            for org in organization_ids:
                result[org][rule_set.designation_code][req.metric_code]["people"] = Decimal(
                    certified.get((org, _requirement_key(req)), 0)
                )
    return result
