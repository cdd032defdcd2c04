"""Reads of the staff console: every organization's current scores, filters, statistics.

Program staff see every partner: each read here is a deliberate cross-tenant read
(`.unscoped()`). An organization's current score for a designation is its latest snapshot of
that designation (the latest as-of date; of several rule-set versions that scored the date, the
latest version), whatever date other organizations were last scored on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Floor, TruncMonth

from portal.models import Organization
from scoring.models import Designation, ScoreSnapshot, Track
from scoring.selectors import snapshots_of_latest_version

# "Near the line": this many points or fewer below the qualifying total (60–69 at the
# program's 70), and not qualified.
NEAR_THE_LINE_POINTS = Decimal(10)


class MetricAtZero(Func):
    """Whether a snapshot's breakdown holds a metric with no points (the minimum blocks it)."""

    arity = 1
    output_field = BooleanField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"EXISTS (SELECT 1 FROM json_each({sql}) AS metric "
            "WHERE json_extract(metric.value, '$.points') = 0)",
            params,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements({sql}) AS metric(value) "
            "WHERE (metric.value ->> 'points')::numeric = 0)",
            params,
        )


def current_snapshots() -> QuerySet[ScoreSnapshot]:
    """Every organization's current snapshot per designation."""
    # The console shows every partner's scores: a deliberate cross-tenant read, as is the
    # partition below (narrowed to the outer row's organization).
    later_date = ScoreSnapshot.objects.unscoped().filter(
        organization=OuterRef("organization"),
        designation=OuterRef("designation"),
        as_of__gt=OuterRef("as_of"),
    )
    snapshots = ScoreSnapshot.objects.unscoped().alias(later=Exists(later_date)).filter(later=False)
    return snapshots_of_latest_version(snapshots)


def near_the_line_q() -> Q:
    return Q(
        qualified=False,
        total__gte=F("rule_set__qualifying_total") - NEAR_THE_LINE_POINTS,
        total__lt=F("rule_set__qualifying_total"),
    )


STATUS_FILTERS: dict[str, Q] = {
    "qualified": Q(qualified=True),
    "not_qualified": Q(qualified=False),
    "near": near_the_line_q(),
    # Built per query: the expression is a function of the row.
    "zero_metric": Q(MetricAtZero(F("metrics"))),
}

SORTS = ("name", "-name", "partner_id", "-partner_id", "country", "-country", "score", "-score")


@dataclass(frozen=True)
class OrganizationQuery:
    """What the console's organization list was asked for (parsed and checked by the view)."""

    search: str = ""
    country: str = ""
    designation: Designation | None = None
    status: str = ""  # a key of STATUS_FILTERS, or ""
    track: str = ""  # a track code: the current score counts on that track
    sort: str = "name"


def organization_console_list(*, query: OrganizationQuery) -> QuerySet[Organization]:
    """The organizations the query selects, in its order (one statement)."""
    # Staff see every partner organization: a deliberate cross-tenant read.
    organizations = Organization.objects.unscoped()
    if query.search:
        organizations = organizations.filter(
            Q(name__icontains=query.search) | Q(partner_id__startswith=query.search)
        )
    if query.country:
        organizations = organizations.filter(country=query.country)
    if query.status or query.track:
        matching = current_snapshots().filter(organization=OuterRef("pk"))
        if query.status:
            matching = matching.filter(STATUS_FILTERS[query.status])
        if query.track:
            matching = matching.filter(track=query.track)
        if query.designation is not None:
            matching = matching.filter(designation=query.designation)
        organizations = organizations.filter(Exists(matching))
    field = query.sort.lstrip("-")
    descending = query.sort.startswith("-")
    if field == "score":
        scores = current_snapshots().filter(organization=OuterRef("pk"))
        if query.designation is not None:
            scores = scores.filter(designation=query.designation)
        # Without a designation: the organization's best current total.
        best = scores.order_by("-total").values("total")[:1]
        organizations = organizations.annotate(score=Subquery(best))
        score = F("score")
        # "score" reads best first: the natural order of a score column.
        order = score.asc(nulls_last=True) if descending else score.desc(nulls_last=True)
        return organizations.order_by(order, "name", "pk")
    ordering = F(field).desc() if descending else F(field).asc()
    return organizations.order_by(ordering, "name", "pk")


def organization_country_list() -> list[str]:
    """The countries partner organizations are in (the country filter's choices)."""
    # Every partner's country, for staff: a deliberate cross-tenant read.
    return list(
        Organization.objects.unscoped()
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()
    )


def track_choice_list() -> list[tuple[str, str]]:
    """(code, name) of the qualification tracks of the rule sets, each code once."""
    choices: dict[str, str] = {}
    for track in Track.objects.order_by("position", "code"):
        choices.setdefault(track.code, track.display_name)
    return list(choices.items())


@dataclass(frozen=True)
class CurrentScore:
    designation_id: int
    total: float
    qualified: bool
    qualifying_total: Decimal
    as_of: date
    metrics: list[dict[str, Any]]


def current_scores_by_organization(
    *, organization_ids: Sequence[int]
) -> dict[int, dict[int, CurrentScore]]:
    """organization id → designation id → its current score (one query)."""
    rows = (
        current_snapshots()
        .filter(organization_id__in=list(organization_ids))
        .values_list(
            "organization_id",
            "designation_id",
            "total",
            "qualified",
            "rule_set__qualifying_total",
            "as_of",
            "metrics",
        )
    )
    scores: dict[int, dict[int, CurrentScore]] = defaultdict(dict)
    for organization_id, designation_id, total, qualified, line, as_of, metrics in rows:
        scores[organization_id][designation_id] = CurrentScore(
            designation_id=designation_id,
            total=total,
            qualified=qualified,
            qualifying_total=line,
            as_of=as_of,
            metrics=metrics,
        )
    return scores


def organization_console_get(*, partner_id: str) -> Organization | None:
    # Staff open any partner organization: a deliberate cross-tenant read.
    return Organization.objects.unscoped().filter(partner_id=partner_id).first()


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignationCounts:
    designation: Designation
    scored: int
    qualified: int
    near: int
    metric_at_zero: int


def designation_counts(*, designations: Sequence[Designation]) -> list[DesignationCounts]:
    """Per designation: organizations scored, qualified, near the line, with a metric at 0."""
    rows = {
        row["designation_id"]: row
        for row in current_snapshots()
        .order_by()
        .values("designation_id")
        .annotate(
            # Names unlike the model's fields: `qualified=` would shadow the field below.
            scored_count=Count("pk"),
            qualified_count=Count("pk", filter=Q(qualified=True)),
            near_count=Count("pk", filter=near_the_line_q()),
        )
    }
    # Its own statement: SQLite refuses a json_each() subquery inside an aggregate's FILTER.
    at_zero = dict(
        current_snapshots()
        .filter(MetricAtZero(F("metrics")))
        .order_by()
        .values("designation_id")
        .annotate(organizations=Count("pk"))
        .values_list("designation_id", "organizations")
    )
    counts = []
    for designation in designations:
        row = rows.get(designation.pk, {})
        counts.append(
            DesignationCounts(
                designation=designation,
                scored=row.get("scored_count", 0),
                qualified=row.get("qualified_count", 0),
                near=row.get("near_count", 0),
                metric_at_zero=at_zero.get(designation.pk, 0),
            )
        )
    return counts


HISTOGRAM_BINS = 10  # 0–9, 10–19, …, 90–100


def score_histogram(*, designation: Designation | None) -> list[int]:
    """How many current scores fall in each ten-point band (100 counts in the last band)."""
    snapshots = current_snapshots()
    if designation is not None:
        snapshots = snapshots.filter(designation=designation)
    bins = [0] * HISTOGRAM_BINS
    rows = (
        snapshots.order_by()
        .annotate(band=Floor(F("total") / 10))
        .values("band")
        .annotate(organizations=Count("pk"))
        .values_list("band", "organizations")
    )
    for band, organizations in rows:
        bins[max(0, min(HISTOGRAM_BINS - 1, int(band)))] += organizations
    return bins


@dataclass(frozen=True)
class MonthTrend:
    month: date
    scored: int
    qualified: int
    average: float


def score_trend_by_month(*, designation: Designation | None, months: int = 24) -> list[MonthTrend]:
    """Per month (the last `months` with scores): each organization's last score of the month —
    how many were scored, how many qualified, their average total."""
    # Every partner's history, for staff: deliberate cross-tenant reads (the partition below
    # is narrowed to the outer row's organization).
    later_in_month = (
        ScoreSnapshot.objects.unscoped()
        .filter(
            organization=OuterRef("organization"),
            designation=OuterRef("designation"),
            as_of__gt=OuterRef("as_of"),
        )
        .annotate(month=TruncMonth("as_of"))
        .filter(month=OuterRef("month"))
    )
    snapshots = snapshots_of_latest_version(ScoreSnapshot.objects.unscoped())
    if designation is not None:
        snapshots = snapshots.filter(designation=designation)
    rows = (
        snapshots.annotate(month=TruncMonth("as_of"))
        .alias(later=Exists(later_in_month))
        .filter(later=False)
        .order_by()
        .values("month")
        .annotate(
            scored_count=Count("pk"),
            qualified_count=Count("pk", filter=Q(qualified=True)),
            average_total=Avg("total"),
        )
        .order_by("-month")[:months]
    )
    return sorted(
        (
            MonthTrend(
                month=row["month"],
                scored=row["scored_count"],
                qualified=row["qualified_count"],
                average=float(row["average_total"] or 0),
            )
            for row in rows
        ),
        key=lambda trend: trend.month,
    )


_BLOCKING_SQL = {
    "sqlite": (
        "SELECT current.designation_id, json_extract(metric.value, '$.code'), COUNT(*) "
        "FROM ({current}) AS current, json_each(current.metrics) AS metric "
        "WHERE json_extract(metric.value, '$.meets_minimum') = 0 "
        "GROUP BY 1, 2"
    ),
    "postgresql": (
        "SELECT current.designation_id, metric.value ->> 'code', COUNT(*) "
        "FROM ({current}) AS current, jsonb_array_elements(current.metrics) AS metric(value) "
        "WHERE (metric.value ->> 'meets_minimum')::boolean IS FALSE "
        "GROUP BY 1, 2"
    ),
}


def blocking_metric_counts() -> dict[int, dict[str, int]]:
    """designation id → metric code → how many organizations that do not qualify miss the
    metric's minimum (the metric that blocks them), over current scores (one query)."""
    current = current_snapshots().filter(qualified=False).values("designation_id", "metrics")
    sql, params = current.query.sql_with_params()
    statement = _BLOCKING_SQL[connection.vendor].format(current=sql)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for designation_id, code, organizations in cursor.fetchall():
            counts[designation_id][code] = organizations
    return counts


def hook_counts(*, counts: Sequence[Any]) -> list[tuple[str, Mapping[int, int]]]:
    """The registered per-designation counts: (label, designation id → organizations) per
    column, in registration order."""
    columns: list[tuple[str, Mapping[int, int]]] = []
    for count in counts:
        values = count.counts()
        columns.extend((label, values.get(key, {})) for key, label in count.columns)
    return columns
