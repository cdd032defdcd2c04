"""The rows behind a metric's points: which customers and people count, and which almost do.

A selector-level module of the scoring app. It reads the rule set the snapshot was computed
with (`scoring.selectors.rule_sets_in_force_cached`, the same `SourceParams` and
`CertificationRequirement`s as `scoring.measures`) and, for one organization and one source,
runs the measures layer's own statement (`scoring.measures._ChunkStatement`: the same
associations, series, masked families, production filter, baselines and seat bands) up to the
rows each computation aggregates, and returns those rows instead of their sum. Only the last
step differs: where the measures layer writes `SUM(counts) GROUP BY org`, the drill-down keeps
one row per customer (or per add/loss event, per workload, per service) with what it
contributes, so that the rows listed as counting add up to the value the engine scored.

People come from the same held-certification rows and the same group matching
(`scoring.measures.certification_groups_met`) as the skilling measures.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from portal.models import HeldCertification, Organization
from scoring import engine
from scoring.measures import (
    BASELINES,
    CENT,
    NOW,
    TENANT_MEASURES,
    TRAILING,
    USER_MEASURES,
    WINDOW_MONTHS,
    YEAR_AGO,
    _any_after_baseline,
    _at_baseline,
    _ChunkStatement,
    _Family,
    _family_of,
    _fetch_chunk_statement,
    _lit,
    _metric_kind,
    _number,
    _quote,
    _sum,
    _tail_kind,
    certification_groups_met,
    window_months,
)
from scoring.models import Measure, MetricSource, ScoreSnapshot
from scoring.selectors import (
    CertificationRequirement,
    RuleSetInForce,
    SourceParams,
    current_codes,
    rule_sets_in_force_cached,
    snapshot_list,
    snapshots_of_latest_version,
)

# What a row is (the presenter words it).
ADD = "add"  # became a counting unit (a tenant's 0 → seats month, a customer now counting)
LOSS = "loss"  # stopped counting (seats went to 0, counted a year ago but not now)
KEPT = "kept"  # counted a year ago and counts now: no change to a net figure
COUNTS = "counts"  # counts (deployments, distinct services, skilling)
GROWTH = "growth"  # a customer's growth against its baseline (usage growth)
VALUE = "value"  # a customer's value now and a year ago (percentage growth)

# How much is missing, in the metric's own unit.
SEATS = "seats"
USERS = "users"
USD = "usd"
AMOUNT = "amount"  # a figure of the measure (consumption value, capacity)


@dataclass(frozen=True)
class CustomerRow:
    """One customer (or one of its add/loss months, or one of its workloads) behind a source."""

    customer: str  # the tenant GUID / TPID ("" for a row of a service)
    name: str
    event: str
    contribution: Decimal  # what the row adds to the source's value: +1, -1, 0 or an amount
    month: date | None = None  # the add / loss / crossing month
    value_now: Decimal | None = None
    value_before: Decimal | None = None  # at the baseline month (or 12 months ago)
    baseline_month: date | None = None
    seats: Decimal | None = None
    workload: str = ""

    @property
    def counts(self) -> bool:
        return self.contribution != 0


@dataclass(frozen=True)
class AlmostRow:
    """A customer that nearly counts: `missing` more of `unit` (in `month`) would make it count."""

    customer: str
    name: str
    missing: Decimal
    unit: str
    month: date | None = None
    workload: str = ""


@dataclass(frozen=True)
class SourceDrill:
    source: SourceParams
    kind: str
    rows: tuple[CustomerRow, ...]
    almost: tuple[AlmostRow, ...]
    value: Decimal  # Σ contributions: the source's measure
    baseline: Decimal | None = None  # percentage growth: Σ of the values 12 months ago

    @property
    def counting(self) -> tuple[CustomerRow, ...]:
        return tuple(row for row in self.rows if row.counts)


@dataclass(frozen=True)
class PersonRow:
    person_id: str
    name: str
    codes: tuple[str, ...]  # the certifications of the requirement the person holds
    expires_first: tuple[str, date] | None  # (code, date) of those, the first to expire


@dataclass(frozen=True)
class PersonAlmost:
    person_id: str
    name: str
    missing: tuple[str, ...]  # one of these certifications would make the person count


@dataclass(frozen=True)
class RequirementDrill:
    requirement: CertificationRequirement
    people: tuple[PersonRow, ...]
    almost: tuple[PersonAlmost, ...]

    @property
    def value(self) -> int:
        return len(self.people)


@dataclass(frozen=True)
class MetricDrill:
    """Everything behind one metric of a snapshot."""

    snapshot: ScoreSnapshot
    metric: dict[str, Any]  # the snapshot's stored breakdown of the metric
    slot: str  # the metric's slot in the rule set ("track/code" for a metric of one track)
    months: tuple[date, ...]
    sources: tuple[SourceDrill, ...] = ()
    requirements: tuple[RequirementDrill, ...] = ()
    stale: bool = False  # the snapshot's rule set is no longer the one in force on its date
    rule: engine.MetricRule | None = None  # the engine's rule of the metric (labels, steps)


# --- customers: the measures statement, kept per customer ----------------------------------------


def _pick(template: str, ks: Sequence[int]) -> str:
    """CASE k WHEN <k> THEN <template at k> … END (NULL for another k)."""
    cases = " ".join(f"WHEN {k} THEN {template.format(k=k)}" for k in ks)
    return f"CASE k {cases} END"


_COLUMNS = (
    "cust",
    "wl",
    "event",
    "contribution",
    "month_idx",
    "now_v",
    "before_v",
    "base_idx",
    "seats",
    "near",
)


_COLUMN_TYPES = {
    "cust": "BIGINT",
    "wl": "TEXT",
    "event": "TEXT",
    "contribution": "NUMERIC",
    "month_idx": "INTEGER",
    "now_v": "NUMERIC",
    "before_v": "NUMERIC",
    "base_idx": "INTEGER",
    "seats": "NUMERIC",
    "near": "NUMERIC",
}


class _DrillStatement(_ChunkStatement):
    """The measures statement for one organization and one source, ending in its rows.

    Each `drill_<kind>` returns a SELECT over the same rows the measures layer's `<kind>`
    aggregates, with the columns of `_COLUMNS`: `contribution` is the row's part of the sum
    the measures layer takes; `near` a figure the almost-rows are worked out from.
    """

    def statement(self, sources: Sequence[SourceParams]) -> list[str]:
        """Build the statement for these sources (one metric's): the associations and series
        once, a masked family per distinct family, a row set per source; rows carry `src`, the
        source's position. Returns each source's computation kind."""
        distinct = [dataclasses.replace(s, key="", metric_code=_metric_kind(s)) for s in sources]
        kinds = [_tail_kind(source) for source in distinct]
        by_family: dict[_Family, list[SourceParams]] = {}
        for source, plain in zip(sources, distinct, strict=True):
            by_family.setdefault(_family_of(source), []).append(plain)
        families = list(by_family)
        # The same associations, series and masked families as the measures statement.
        self._families(by_family)
        for s_index, (kind, source) in enumerate(zip(kinds, sources, strict=True)):
            family = _family_of(source)
            condition = "b_idx IS NOT NULL" if self._NEEDS_BASELINE[kind] else ""
            rows = self._rows(f"f{families.index(family)}", source, condition)
            single = len(family.workloads or ("",)) == 1
            getattr(self, f"drill_{kind}")(f"d{s_index}", rows, source, single)
        self.sql.parts[-1] = self.sql.parts[-1].rstrip().removesuffix(",")
        self.sql.add(
            "\nUNION ALL\n".join(
                f"SELECT {s_index} AS src, "
                + ", ".join(f"d.{column}" for column in _COLUMNS)
                + f", c.customer_id, c.name FROM d{s_index} d"
                " LEFT JOIN scoring_customer c ON c.id = d.cust"
                for s_index in range(len(sources))
            )
        )
        return kinds

    @staticmethod
    def _select(**columns: str) -> str:
        """The row's columns; a column not given is a typed NULL (PostgreSQL reads a bare NULL
        as text, which a UNION or a join with numbers refuses)."""
        return ", ".join(
            f"{columns.get(name, f'CAST(NULL AS {_COLUMN_TYPES[name]})')} AS {name}"
            for name in _COLUMNS
        )

    def _months_table(self, ks: Sequence[int]) -> str:
        return "(" + " UNION ALL ".join(f"SELECT {k} AS k" for k in ks) + ")"

    def drill_seat_adds(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """`seat_adds`, one row per event: a month k of the trailing 12 with m(k) ≥ S after
        m(k-1) = 0 is an add, a month k from 12 months ago with m(k) ≥ S before m(k+1) = 0 a
        loss (in month k+1); a month with 0 < m(k) < S after 0 almost an add."""
        ks = range(YEAR_AGO, NOW + 1)
        cur = _pick("m{k}", ks)
        prev = "CASE k " + " ".join(f"WHEN {k} THEN m{k - 1}" for k in TRAILING) + " END"
        nxt = "CASE k " + " ".join(f"WHEN {k} THEN m{k + 1}" for k in range(YEAR_AGO, NOW)) + " END"
        th = Decimal(source.seat_threshold or 0)
        self.sql.add(
            f"""{name}_e AS (SELECT org, cust, wl, k, {cur} AS cur, {prev} AS prev, {nxt} AS nxt
            FROM {rows} rows_ CROSS JOIN {self._months_table(ks)} months),"""
        )
        event = (
            f"CASE WHEN k > {YEAR_AGO} AND cur >= {_lit(th)} AND prev = 0 THEN '{ADD}'"
            f" WHEN k > {YEAR_AGO} AND cur > 0 AND cur < {_lit(th)} AND prev = 0 THEN 'near'"
            " END"
        )
        loss = f"k < {NOW} AND cur >= {_lit(th)} AND nxt = 0"
        self.sql.add(
            f"""{name} AS (
            SELECT {self._select(cust="cust", wl="wl", event=f"'{ADD}'", contribution="1",
                                 month_idx="k", now_v="cur", seats="cur")}
            FROM {name}_e WHERE {event} = '{ADD}'
            UNION ALL
            SELECT {self._select(cust="cust", wl="wl", event=f"'{LOSS}'", contribution="-1",
                                 month_idx="k + 1", now_v="cur", seats="cur")}
            FROM {name}_e WHERE {loss}
            UNION ALL
            SELECT {self._select(cust="cust", wl="wl", event="'near'", contribution="0",
                                 month_idx="k", now_v="cur", near=f"{_lit(th)} - cur")}
            FROM {name}_e WHERE {event} = 'near'),"""
        )  # fmt: skip

    def drill_average_adds(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """`average_adds` per customer: counting now (trailing-12 total ≥ 12 × A) minus a year
        ago; a customer below the average now almost counts by what its total lacks."""
        per = self._per_customer(
            f"{rows} rows_",
            [
                ("now_sum", "SUM", _sum(f"m{k}" for k in TRAILING)),
                ("before_sum", "SUM", _sum(f"m{k}" for k in range(YEAR_AGO + 1))),
            ],
            single,
        )
        th = _lit((source.usage_threshold or Decimal(0)) * 12)
        now, before = f"now_sum >= {th}", f"before_sum >= {th}"
        event = (
            f"CASE WHEN {now} AND {before} THEN '{KEPT}' WHEN {now} THEN '{ADD}'"
            f" WHEN {before} THEN '{LOSS}' WHEN now_sum > 0 THEN 'near' END"
        )
        contribution = (
            f"(CASE WHEN {now} THEN 1 ELSE 0 END) - (CASE WHEN {before} THEN 1 ELSE 0 END)"
        )
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl="''", event=event, contribution=contribution,
                now_v="now_sum / 12", before_v="before_sum / 12",
                near=f"CASE WHEN NOT ({now}) THEN {th} - now_sum END")}
            FROM {per} per WHERE {event} IS NOT NULL),"""
        )  # fmt: skip

    def drill_growth(self, name: str, rows: str, source: SourceParams, single: bool) -> None:
        """`growth` per customer associated now: its value now minus at its baseline month."""
        band = self._band(source)
        where = f" WHERE {band}" if band else ""
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl="''", event=f"'{GROWTH}'",
                contribution=f"SUM(m{NOW} - {_at_baseline('m{k}')})",
                now_v=f"SUM(m{NOW})", before_v=f"SUM({_at_baseline('m{k}')})",
                base_idx="MAX(b_idx)")}
            FROM {rows} rows_{where} GROUP BY cust),"""
        )  # fmt: skip

    def drill_crossing_deployments(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """`crossing_deployments` per customer: ≤ threshold at baseline and above it since
        (the first month above is the crossing month)."""
        first_over = (
            "CASE "
            + " ".join(f"WHEN b_idx < {k} AND m{k} > th THEN {k}" for k in TRAILING)
            + " END"
        )
        per = self._per_customer(
            f"{rows} rows_ CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS th) p",
            [
                ("over_base", "MAX", f"CASE WHEN {_at_baseline('m{k}')} > th THEN 1 ELSE 0 END"),
                ("over_after", "MAX", _any_after_baseline("m{k} > th")),
                ("crossed", "MIN", first_over),
                ("now_v", "MAX", f"m{NOW}"),
                ("before_v", "MAX", _at_baseline("m{k}")),
            ],
            single,
        )
        self.sql.params.append(source.usage_threshold or Decimal(0))
        th = _lit(source.usage_threshold or 0)
        counts = "over_base = 0 AND over_after = 1"
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl="''",
                event=f"CASE WHEN {counts} THEN '{COUNTS}' ELSE 'near' END",
                contribution=f"CASE WHEN {counts} THEN 1 ELSE 0 END",
                month_idx="crossed", now_v="now_v", before_v="before_v", base_idx="b_idx",
                near=f"{th} - now_v")}
            FROM {per} per WHERE ({counts}) OR (over_base = 0 AND over_after = 0 AND now_v > 0)),"""
        )  # fmt: skip

    def drill_share_deployments(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """`share_deployments` per tenant: ≥ floor seats now and, for one workload, users above
        the share of the paid seats after (not at) the baseline month."""
        above = ", ".join(
            f"CASE WHEN f.m{k} > 0 AND ps.v{k} > 0 AND f.m{k} > share * ps.v{k}"
            f" THEN 1 ELSE 0 END AS a{k}"
            for k in BASELINES
        )
        first_above = (
            "CASE " + " ".join(f"WHEN b_idx < {k} AND a{k} = 1 THEN {k}" for k in TRAILING) + " END"
        )
        floor = _lit(Decimal(source.seat_threshold or 0))
        self.sql.add(
            f"""{name}_p AS (SELECT org, cust, MAX(b_idx) AS b_idx, MAX(seats_now) AS seats_now,
                       MAX(users_now) AS users_now,
                       MAX(CASE WHEN {_at_baseline("a{k}")} = 0
                                 AND {_any_after_baseline("a{k} = 1")} = 1
                                THEN 1 ELSE 0 END) AS deployed,
                       MAX(CASE WHEN {_at_baseline("a{k}")} = 0 THEN 1 ELSE 0 END) AS clear_at_base,
                       MIN(CASE WHEN {_at_baseline("a{k}")} = 0 THEN {first_above} END) AS crossed
                FROM (SELECT f.org, f.cust, f.b_idx, ps.v{NOW} AS seats_now,
                             f.m{NOW} AS users_now, {above}
                      FROM {rows} f
                      JOIN {self.seats_series} ps ON ps.cust = f.cust
                                    AND ps.measure = 'paid_seats'
                                    AND ps.wl = ''
                      CROSS JOIN (SELECT CAST(%s AS NUMERIC) AS share) p) per_workload
                GROUP BY org, cust),""",
            source.usage_threshold or Decimal(0),
        )
        counts = f"deployed = 1 AND seats_now >= {floor}"
        if source.seat_max is not None:  # the band's top, as in the measures (Security SMB)
            counts += f" AND seats_now <= {_lit(source.seat_max)}"
        # Almost: deployed but under the seat floor (near = seats missing), or at or over the
        # floor, not above the share at baseline and not above it since (users: see below).
        event = (
            f"CASE WHEN {counts} THEN '{COUNTS}'"
            f" WHEN deployed = 1 AND seats_now < {floor} THEN 'near_seats'"
            f" WHEN clear_at_base = 1 AND seats_now >= {floor} AND seats_now > 0 THEN 'near_users'"
            " END"
        )
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl="''", event=event,
                contribution=f"CASE WHEN {counts} THEN 1 ELSE 0 END",
                month_idx="crossed", now_v="users_now", seats="seats_now", base_idx="b_idx",
                near=f"CASE WHEN deployed = 1 THEN {floor} - seats_now ELSE users_now END")}
            FROM {name}_p WHERE {event} IS NOT NULL),"""
        )  # fmt: skip

    def drill_trailing_deployments(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """`trailing_deployments` per customer: the trailing-12-month total ≤ threshold at the
        baseline and above it since (the first month above is the crossing month)."""
        fence = self._fence
        monthly = self._per_customer(
            f"{rows} rows_", [(f"t{k}", "SUM", f"m{k}") for k in range(WINDOW_MONTHS)], single
        )
        pairs = ", ".join(f"t{k} + t{k - 1} AS p{k}" for k in range(1, WINDOW_MONTHS))
        fours = ", ".join(f"p{k} + p{k - 2} AS q{k}" for k in range(3, WINDOW_MONTHS))
        eights = ", ".join(f"q{k} + q{k - 4} AS e{k}" for k in BASELINES)
        keep_fours = ", ".join(f"q{k - 8}" for k in BASELINES)
        years = ", ".join(f"e{k} + q{k - 8} AS y{k}" for k in BASELINES)
        th = _lit(source.usage_threshold or 0)
        base = _at_baseline("y{k}")
        after = _any_after_baseline(f"y{{k}} > {th}")
        first_over = (
            "CASE " + " ".join(f"WHEN b_idx < {k} AND y{k} > {th} THEN {k}" for k in TRAILING)
            + " END"
        )  # fmt: skip
        counts = f"{base} <= {th} AND {after} = 1"
        nearly = f"{base} <= {th} AND y{NOW} > 0"  # under the threshold: more would count
        if source.seat_max is not None:  # in the band now and not at the baseline (measures)
            top = _lit(source.seat_max)
            outside_at_base = f"NOT ({base} >= {th} AND {base} <= {top})"
            counts = f"{outside_at_base} AND y{NOW} >= {th} AND y{NOW} <= {top}"
            nearly = f"{outside_at_base} AND y{NOW} > 0 AND y{NOW} < {th}"
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl="''",
                event=f"CASE WHEN {counts} THEN '{COUNTS}' ELSE 'near' END",
                contribution=f"CASE WHEN {counts} THEN 1 ELSE 0 END",
                month_idx=first_over, now_v=f"y{NOW}", before_v=base, base_idx="b_idx",
                near=f"{th} - y{NOW}")}
            FROM (
                SELECT org, cust, b_idx, {years} FROM (
                SELECT org, cust, b_idx, {eights}, {keep_fours} FROM (
                SELECT org, cust, b_idx, {fours} FROM (
                SELECT org, cust, b_idx, {pairs} FROM {monthly} l1{fence}
                ) l2{fence}) l4{fence}) l8{fence}) per
            WHERE ({counts}) OR ({nearly})),"""
        )  # fmt: skip

    def drill_qualifying_net(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """`qualifying_net` per unit (a tenant, its total or one of its workloads): in the band
        now minus 12 months ago; a unit under the band now almost qualifies."""
        unit = source.count_unit or MetricSource.CountUnit.TENANT_ANY
        if unit == MetricSource.CountUnit.WORKLOAD:
            now = self._qualifies("m{k}", NOW, source)
            before = self._qualifies("m{k}", YEAR_AGO, source)
            per, wl = f"{rows} rows_", "wl"
            v_now, v_before = f"m{NOW}", f"m{YEAR_AGO}"
        elif unit == MetricSource.CountUnit.TENANT_TOTAL:
            looked = range(YEAR_AGO - max(1, source.lookback_months) + 1, NOW + 1)
            per = (
                self._per_customer(
                    f"{rows} rows_", [(f"t{k}", "SUM", f"m{k}") for k in looked], single
                )
                + " per"
            )
            now = self._qualifies("t{k}", NOW, source)
            before = self._qualifies("t{k}", YEAR_AGO, source)
            wl, v_now, v_before = "''", f"t{NOW}", f"t{YEAR_AGO}"
        else:
            per = (
                self._per_customer(
                    f"{rows} rows_",
                    [
                        ("q_now", "MAX", self._qualifies("m{k}", NOW, source)),
                        ("q_before", "MAX", self._qualifies("m{k}", YEAR_AGO, source)),
                        ("v_now", "MAX", f"m{NOW}"),
                        ("v_before", "MAX", f"m{YEAR_AGO}"),
                    ],
                    single,
                )
                + " per"
            )
            now, before, wl, v_now, v_before = "q_now", "q_before", "''", "v_now", "v_before"
        event = (
            f"CASE WHEN ({now}) = 1 AND ({before}) = 1 THEN '{KEPT}'"
            f" WHEN ({now}) = 1 THEN '{ADD}' WHEN ({before}) = 1 THEN '{LOSS}'"
            f" WHEN {v_now} > 0 THEN 'near' END"
        )
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl=wl, event=event, contribution=f"({now}) - ({before})",
                now_v=v_now, before_v=v_before, near=v_now)}
            FROM {per} WHERE {event} IS NOT NULL),"""
        )  # fmt: skip

    def drill_percent_growth(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """`percent_growth` per customer: its value now and 12 months ago (the engine's
        percentage is of the sums)."""
        band = self._band(source)
        where = f" WHERE {band}" if band else ""
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl="''", event=f"'{VALUE}'", contribution=f"SUM(m{NOW})",
                now_v=f"SUM(m{NOW})", before_v=f"SUM(m{YEAR_AGO})")}
            FROM {rows} rows_{where} GROUP BY cust),"""
        )  # fmt: skip

    def drill_distinct_services(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """`distinct_services`: one row per workload with consumption over the trailing 12
        months across the customers (its customers' count in `seats`)."""
        trailing = _sum(f"m{k}" for k in TRAILING)
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                wl="wl", event=f"'{COUNTS}'", contribution="1",
                now_v=f"SUM({trailing})",
                seats=f"COUNT(DISTINCT CASE WHEN {trailing} > 0 THEN cust END)")}
            FROM {rows} rows_ GROUP BY wl HAVING SUM({trailing}) > 0),"""
        )  # fmt: skip

    def drill_active_ratio_net(
        self, name: str, rows: str, source: SourceParams, single: bool
    ) -> None:
        """`active_ratio_net` per tenant: active users reaching the ratio of the paid seats now
        minus at its baseline; a tenant under the ratio now almost counts by the users missing."""
        workloads = ", ".join(_quote(w) for w in source.workloads if w) or "''"
        seat_columns = ", ".join(
            f"COALESCE(NULLIF(SUM(CASE WHEN ps.wl IN ({workloads}) THEN ps.v{k} ELSE 0 END), 0),"
            f" SUM(CASE WHEN ps.wl = '' THEN ps.v{k} ELSE 0 END)) AS s{k}"
            for k in BASELINES
        )
        users = self._per_customer(
            f"{rows} rows_", [(f"u{k}", "SUM", f"m{k}") for k in BASELINES], single
        )
        band = self._band(source)
        ratio = _lit(source.usage_threshold or 0)
        deployed = f"CASE WHEN s{{k}} > 0 AND u{{k}} >= {ratio} * s{{k}} THEN 1 ELSE 0 END"
        baseline = " ".join(f"WHEN {k} THEN {deployed.format(k=k)}" for k in BASELINES)
        now = deployed.format(k=NOW)
        before = f"CASE COALESCE(b_idx, {YEAR_AGO}) {baseline} END"
        event = (
            f"CASE WHEN {now} = 1 AND {before} = 1 THEN '{KEPT}' WHEN {now} = 1 THEN '{ADD}'"
            f" WHEN {before} = 1 THEN '{LOSS}' WHEN s{NOW} > 0 THEN 'near' END"
        )
        self.sql.add(
            f"""{name} AS (SELECT {self._select(
                cust="cust", wl="''", event=event, contribution=f"{now} - {before}",
                now_v=f"u{NOW}", seats=f"s{NOW}", base_idx="b_idx", near=f"u{NOW}")}
            FROM (
                SELECT u.*, {", ".join(f"s.s{k}" for k in BASELINES)} FROM {users} u
                JOIN (SELECT ps.cust, {seat_columns} FROM {self.seats_series} ps
                      WHERE ps.measure = 'paid_seats' GROUP BY ps.cust) s ON s.cust = u.cust
                {"WHERE u." + band if band else ""}) per
            WHERE {event} IS NOT NULL),"""
        )  # fmt: skip


def _unit_of(source: SourceParams) -> str:
    if source.measure in TENANT_MEASURES:
        return SEATS
    if source.measure in USER_MEASURES:
        return USERS
    if source.measure in (Measure.ACR_USD, Measure.REVENUE_USD):
        return USD
    return AMOUNT


def _smallest(unit: str) -> Decimal:
    """The least step of a figure in this unit: what "more than" adds to a threshold."""
    return CENT if unit in (USD, AMOUNT) else Decimal(1)


def _month(months: Sequence[date], index: object) -> date | None:
    if index is None:
        return None
    k = int(index)  # type: ignore[call-overload]  # an SQL integer (SQLite may hand a float)
    return months[k] if 0 <= k < len(months) else None


def _almost(
    kind: str, event: str, near: Decimal | None, seats: Decimal | None, source: SourceParams
) -> tuple[Decimal, str] | None:
    """How much more makes an almost-row count, in the metric's own unit (the rule's numbers)."""
    if near is None:
        return None
    unit = _unit_of(source)
    if kind == "seat_adds":
        return near, SEATS
    if kind == "average_adds":
        return near, unit  # over the trailing 12 months
    if kind in ("crossing_deployments", "trailing_deployments"):
        return near + _smallest(unit), unit  # "above" the threshold
    if kind == "share_deployments":
        if event == "near_seats":
            return near, SEATS
        share = source.usage_threshold or Decimal(0)
        needed = int((share * (seats or 0)).to_integral_value(rounding="ROUND_FLOOR")) + 1
        return Decimal(needed) - near, USERS
    if kind == "qualifying_net":
        low = source.usage_threshold
        if low is None and source.seat_threshold is not None:
            low = Decimal(source.seat_threshold)
        if low is None or near >= low:
            return None  # over the band's top: more would not help
        return low - near, unit
    if kind == "active_ratio_net":
        ratio = source.usage_threshold or Decimal(0)
        users = (ratio * (seats or 0)).to_integral_value(rounding="ROUND_CEILING")
        return (users - near, USERS) if users > near else None
    return None


def sources_drilldown(
    *, organization: Organization, as_of: date, sources: Sequence[SourceParams]
) -> list[SourceDrill]:
    """The rows behind telemetry sources (a metric's), for one organization, as of a date:
    one statement for them all."""
    if not sources:
        return []
    statement = _DrillStatement([organization.pk], as_of)
    kinds = statement.statement(sources)
    months = window_months(as_of)
    rows: list[list[CustomerRow]] = [[] for _ in sources]
    almost: list[dict[tuple[str, str], AlmostRow]] = [{} for _ in sources]
    baselines = [Decimal(0) for _ in sources]
    for record in _fetch_chunk_statement(statement.sql):
        values = dict(zip(("src", *_COLUMNS, "customer_id", "customer_name"), record, strict=True))
        event = values["event"]
        if event is None:
            continue
        index = int(values["src"])
        kind, source = kinds[index], sources[index]
        customer, name = values["customer_id"] or "", values["customer_name"] or ""
        workload = values["wl"] or ""
        now_v = None if values["now_v"] is None else _number(values["now_v"])
        seats = None if values["seats"] is None else _number(values["seats"])
        contribution = _number(values["contribution"])
        if event.startswith("near"):
            near = None if values["near"] is None else _number(values["near"])
            found = _almost(kind, event, near, seats, source)
            month = _month(months, values["month_idx"])
            if found and found[0] > 0:
                previous = almost[index].get((customer, workload))
                if previous is None or (month and previous.month and month > previous.month):
                    almost[index][(customer, workload)] = AlmostRow(
                        customer, name, found[0], found[1], month, workload
                    )
            if contribution == 0:
                continue
        before = None if values["before_v"] is None else _number(values["before_v"])
        if kind == "percent_growth":
            baselines[index] += before or Decimal(0)
        rows[index].append(
            CustomerRow(
                customer=customer,
                name=name,
                event=COUNTS if event.startswith("near") else event,
                contribution=contribution,
                month=_month(months, values["month_idx"]),
                value_now=now_v,
                value_before=before,
                baseline_month=_month(months, values["base_idx"]),
                seats=seats,
                workload=workload,
            )
        )
    out = []
    for index, source in enumerate(sources):
        listed = sorted(
            rows[index],
            key=lambda r: (-abs(r.contribution), r.month or date.min, r.customer, r.workload),
        )
        out.append(
            SourceDrill(
                source=source,
                kind=kinds[index],
                rows=tuple(listed),
                almost=tuple(sorted(almost[index].values(), key=lambda a: (a.missing, a.customer))),
                value=sum((row.contribution for row in listed), Decimal(0)),
                baseline=baselines[index] if kinds[index] == "percent_growth" else None,
            )
        )
    return out


def source_drilldown(
    *, organization: Organization, as_of: date, source: SourceParams
) -> SourceDrill:
    """The rows behind one telemetry source of a metric, for one organization, as of a date."""
    return sources_drilldown(organization=organization, as_of=as_of, sources=[source])[0]


# --- people ---------------------------------------------------------------------------------------


def requirement_drilldown(
    *, organization: Organization, as_of: date, requirements: Sequence[CertificationRequirement]
) -> list[RequirementDrill]:
    """Per requirement, the organization's active people meeting it with certifications active
    on the date (the first of those to expire), and those one certification short."""
    codes = {code for req in requirements for _, group in req.groups for code in group}
    held: dict[int, dict[str, date | None]] = defaultdict(dict)
    names: dict[int, tuple[str, str]] = {}
    rows = (
        HeldCertification.objects.for_org(organization)
        .filter(person__active=True, certification__code__in=codes)
        .filter(HeldCertification.active_on_q(as_of))
        .values_list(
            "person_id", "person__person_id", "person__name", "certification__code", "expires_on"
        )
    )
    for pk, person_id, name, code, expires_on in rows:
        names[pk] = (person_id, name)
        # A code held twice counts until its later expiry (None: it does not expire).
        current = held[pk].get(code, expires_on)
        held[pk][code] = None if current is None or expires_on is None else max(current, expires_on)
    out = []
    for requirement in requirements:
        wanted = {code for _, group in requirement.groups for code in group}
        people: list[PersonRow] = []
        almost: list[PersonAlmost] = []
        for pk, person_codes in held.items():
            person_id, name = names[pk]
            codes_held = frozenset(person_codes)
            if certification_groups_met(requirement.groups, codes_held):
                counting = tuple(sorted(wanted & codes_held))
                expiring = sorted(
                    (person_codes[c], c) for c in counting if person_codes[c] is not None
                )
                people.append(
                    PersonRow(
                        person_id,
                        name,
                        counting,
                        (expiring[0][1], expiring[0][0]) if expiring else None,  # type: ignore[arg-type]  # filtered: not None
                    )
                )
                continue
            missing = _one_short(requirement, codes_held)
            if missing:
                almost.append(PersonAlmost(person_id, name, missing))
        people.sort(key=lambda p: (p.expires_first[1] if p.expires_first else date.max, p.name))
        almost.sort(key=lambda p: p.name)
        out.append(RequirementDrill(requirement, tuple(people), tuple(almost)))
    return out


def _one_short(
    requirement: CertificationRequirement, codes_held: frozenset[str]
) -> tuple[str, ...]:
    """The certifications one of which would meet the requirement (empty: more are missing)."""
    unmet = []
    for mode, group in requirement.groups:
        if mode == "all":
            lacking = group - codes_held
            if lacking:
                unmet.append(lacking if len(lacking) == 1 else None)
        elif not group & codes_held:
            unmet.append(group)
    if len(unmet) != 1 or unmet[0] is None:
        return ()
    return tuple(current_codes(unmet[0]))


# --- a metric of a snapshot -----------------------------------------------------------------------


def _rule_set_of(snapshot: ScoreSnapshot) -> RuleSetInForce | None:
    return next(
        (
            rs
            for rs in rule_sets_in_force_cached(as_of=snapshot.as_of)
            if rs.model.pk == snapshot.rule_set_id
        ),
        None,
    )


def metric_slot(rule_set: RuleSetInForce, track: str, code: str) -> str:
    """The slot of a metric in the rule set: the counting track's own metric when there is
    one ("smb/net_customer_adds"), else the metric shared by every track."""
    slots = {s.metric_code for s in rule_set.sources} | {
        r.metric_code for r in rule_set.certification_requirements
    }
    tracked = f"{track}/{code}"
    return tracked if track and tracked in slots else code


def metric_drilldown(*, snapshot: ScoreSnapshot, metric_code: str) -> MetricDrill | None:
    """Everything behind one metric of a stored score; None when the snapshot has no such
    metric."""
    metric = next((m for m in snapshot.metrics if m["code"] == metric_code), None)
    if metric is None:
        return None
    months = tuple(window_months(snapshot.as_of))
    rule_set = _rule_set_of(snapshot)
    if rule_set is None:
        return MetricDrill(snapshot, metric, metric_code, months, stale=True)
    slot = metric_slot(rule_set, snapshot.track, metric_code)
    organization = snapshot.organization
    sources = tuple(
        sources_drilldown(
            organization=organization,
            as_of=snapshot.as_of,
            sources=[source for source in rule_set.sources if source.metric_code == slot],
        )
    )
    requirements = [r for r in rule_set.certification_requirements if r.metric_code == slot]
    people = (
        tuple(
            requirement_drilldown(
                organization=organization, as_of=snapshot.as_of, requirements=requirements
            )
        )
        if requirements
        else ()
    )
    rule = next((m for m in rule_set.rules.metrics if m.slot == slot), None)
    return MetricDrill(snapshot, metric, slot, months, sources, people, rule=rule)


def drilldown_snapshot_get(
    *, organization: Organization, designation_code: str, as_of: date | None
) -> ScoreSnapshot | None:
    """The organization's snapshot of a designation shown on a date (the latest version's)."""
    if as_of is None:
        return None
    return (
        snapshots_of_latest_version(snapshot_list(organization=organization, as_of=as_of))
        .filter(designation__code=designation_code)
        .select_related("designation", "rule_set", "organization")
        .first()
    )


__all__ = [
    "AlmostRow",
    "CustomerRow",
    "MetricDrill",
    "PersonAlmost",
    "PersonRow",
    "RequirementDrill",
    "SourceDrill",
    "drilldown_snapshot_get",
    "metric_drilldown",
    "metric_slot",
    "requirement_drilldown",
    "source_drilldown",
    "sources_drilldown",
]
