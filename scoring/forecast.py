"""The forecast: every designation's score at the coming month-ends and the anniversary.

"If nothing changes": the engine scores the measures computed at each future date
(`compute_measures(..., usage_through=today)`), where the telemetry of the last month ended
repeats into the future months while the trailing windows roll on, associations end on their
end month and certifications stop counting on their expiry date. Each drop is explained by what
changed between two dates: the certifications of the metric's requirement that expire, the
associations that end, or (with neither) the trailing window moving on.

The forecast page and the dashboard's "at risk" mark (`at_risk_designations`) share one cached
forecast, keyed by the organization's latest scores (a recompute, which every change of data
triggers, gives a new key): each of the eight dates costs one measures statement, so only the
first view after a recompute pays for them.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from django.core.cache import cache

from portal.models import HeldCertification, Organization
from scoring import engine
from scoring.measures import add_months, compute_measures, current_month
from scoring.models import Association, Designation, RuleSet, ScoreSnapshot
from scoring.selectors import RuleSetInForce, designation_list, rule_sets_in_force_cached

FORECAST_MONTHS = 6
FORECAST_CACHE_SECONDS = 24 * 3600


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_ends_after(day: date, count: int = FORECAST_MONTHS) -> list[date]:
    """The next `count` month-ends strictly after the day."""
    first = month_end(day)
    if first == day:
        first = month_end(add_months(day.replace(day=1), 1))
    return [month_end(add_months(first.replace(day=1), offset)) for offset in range(count)]


def next_anniversary(renewal_date: date | None, today: date) -> date | None:
    """The organization's renewal date, moved on by whole years to today or later."""
    if renewal_date is None:
        return None
    day, years = renewal_date, 0
    while day < today:
        years += 1
        target_year = renewal_date.year + years
        last = calendar.monthrange(target_year, renewal_date.month)[1]
        day = renewal_date.replace(year=target_year, day=min(renewal_date.day, last))
    return day


@dataclass(frozen=True)
class ForecastItem:
    """Something that changes between two forecast dates and may take points away."""

    kind: str  # "certification" | "association" | "window"
    day: date
    certification: str = ""
    person: str = ""
    customer: str = ""
    association_type: str = ""
    workload: str = ""


@dataclass(frozen=True)
class MetricChange:
    code: str
    category: str
    before: Fraction
    after: Fraction
    items: tuple[ForecastItem, ...]

    @property
    def delta(self) -> Fraction:
        return self.after - self.before


@dataclass(frozen=True)
class ForecastPoint:
    day: date
    anniversary: bool
    total: Fraction
    qualified: bool
    metrics: dict[str, Fraction]
    changes: tuple[MetricChange, ...] = ()  # the metrics that lose points since the point before


@dataclass(frozen=True)
class DesignationForecast:
    designation: Designation
    qualifying_total: Fraction
    max_total: Fraction
    metric_codes: tuple[tuple[str, str, Fraction], ...]  # (code, category, max points)
    start: ForecastPoint
    points: tuple[ForecastPoint, ...]
    anniversary: date | None

    @property
    def held(self) -> bool:
        return self.start.qualified

    @property
    def first_below(self) -> ForecastPoint | None:
        """The first point, up to the anniversary, where a designation qualified now is not."""
        if not self.held:
            return None
        for point in self.points:
            if self.anniversary is not None and point.day > self.anniversary:
                break
            if not point.qualified:
                return point
        return None

    @property
    def at_risk(self) -> bool:
        return self.first_below is not None


@dataclass(frozen=True)
class Forecast:
    today: date
    anniversary: date | None
    days: tuple[date, ...]
    designations: list[DesignationForecast] = field(default_factory=list)


def forecast_days(today: date, anniversary: date | None) -> list[date]:
    days = set(month_ends_after(today))
    if anniversary is not None and anniversary > today:
        days.add(anniversary)
    return sorted(days)


def _rule_set_days(today: date, days: Sequence[date]) -> dict[date, date]:
    """Each forecast date → the date whose rule sets in force are its own: the latest effective
    date of a rule set after today and on or before it, else today (one query)."""
    effective = sorted(
        set(
            RuleSet.objects.filter(effective_from__gt=today, effective_from__lte=days[-1])
            .order_by()
            .values_list("effective_from", flat=True)
            .distinct()
        )
        if days
        else ()
    )
    return {day: max([today, *(e for e in effective if e <= day)]) for day in days}


def _score(
    organization: Organization,
    day: date,
    today: date,
    designation_codes: set[str] | None,
    in_force: Sequence[RuleSetInForce],
) -> dict[str, tuple[RuleSetInForce, engine.DesignationResult]]:
    rule_sets = [
        rs
        for rs in in_force
        if designation_codes is None or rs.designation_code in designation_codes
    ]
    if not rule_sets:
        return {}
    measures = compute_measures(
        organization_ids=[organization.pk],
        as_of=day,
        rule_sets=rule_sets,
        usage_through=None if day == today else today,
    )[organization.pk]
    return {
        rs.designation_code: (rs, engine.score_designation(rs.rules, measures[rs.designation_code]))
        for rs in rule_sets
    }


def _slot(code: str) -> str:
    """A metric's code without its track ("track/code" slots of classified designations)."""
    return code.rsplit("/", 1)[-1]


def _items(
    organization: Organization, today: date, last: date
) -> tuple[list[tuple[date, str, str]], list[tuple[date, str, str, str, str]]]:
    """Certifications expiring and associations ending between today and the last date."""
    expiring = list(
        HeldCertification.objects.for_org(organization)
        .filter(
            person__active=True,
            earned_on__lte=today,
            expires_on__gt=today,
            expires_on__lte=last,
        )
        .order_by("expires_on", "certification__code", "person__name")
        .values_list("expires_on", "certification__code", "person__name")
    )
    ending = list(
        Association.objects.for_org(organization)
        .filter(end_month__gte=current_month(today), end_month__lt=current_month(last))
        .order_by("end_month", "customer__name")
        .values_list("end_month", "customer__name", "type", "workload", "customer__platform")
    )
    return expiring, ending


def _changes(
    rule_set: RuleSetInForce,
    before: engine.DesignationResult,
    after: engine.DesignationResult,
    span: tuple[date, date],
    expiring: Sequence[tuple[date, str, str]],
    ending: Sequence[tuple[date, str, str, str, str]],
) -> tuple[MetricChange, ...]:
    start, end = span
    codes_of: dict[str, set[str]] = defaultdict(set)
    for requirement in rule_set.certification_requirements:
        for _mode, group in requirement.groups:
            codes_of[_slot(requirement.metric_code)] |= set(group)
    sources_of: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for source in rule_set.sources:
        sources_of[_slot(source.metric_code)].append((source.platform, source.attributions))
    points_before = {_slot(m.code): m.points for m in before.metrics}
    changes = []
    for metric in after.metrics:
        code = _slot(metric.code)
        was = points_before.get(code, Fraction(0))
        if metric.points >= was:
            continue
        items = [
            ForecastItem("certification", day, certification=cert, person=person)
            for day, cert, person in expiring
            if start < day <= end and cert in codes_of.get(code, set())
        ]
        items += [
            ForecastItem(
                "association",
                month,
                customer=customer,
                association_type=kind,
                workload=workload,
            )
            for month, customer, kind, workload, platform in ending
            if current_month(start) <= month < current_month(end)
            and any(platform == p and kind in types for p, types in sources_of.get(code, []))
        ]
        if not items and code in sources_of:
            items.append(ForecastItem("window", current_month(end)))
        changes.append(MetricChange(code, metric.category, was, metric.points, tuple(items)))
    return tuple(changes)


def _point(day: date, anniversary: date | None, result: engine.DesignationResult) -> ForecastPoint:
    return ForecastPoint(
        day=day,
        anniversary=day == anniversary,
        total=result.total,
        qualified=result.qualified,
        metrics={_slot(m.code): m.points for m in result.metrics},
    )


def organization_forecast(
    *,
    organization: Organization,
    today: date,
    designation_codes: set[str] | None = None,
    with_items: bool = True,
) -> Forecast:
    """Every designation (or these) scored today and at each forecast date if nothing changes."""
    anniversary = next_anniversary(organization.renewal_date, today)
    days = forecast_days(today, anniversary)
    forecast = Forecast(today=today, anniversary=anniversary, days=tuple(days))
    in_force = {today: rule_sets_in_force_cached(as_of=today)}
    now = _score(organization, today, today, designation_codes, in_force[today])
    if not now:
        return forecast
    rules_days = _rule_set_days(today, days)
    for rules_day in set(rules_days.values()) - {today}:
        in_force[rules_day] = rule_sets_in_force_cached(as_of=rules_day)
    future = {
        day: _score(organization, day, today, designation_codes, in_force[rules_days[day]])
        for day in days
    }
    expiring, ending = _items(organization, today, days[-1]) if with_items else ([], [])
    designations = {d.code: d for d in designation_list()}
    for code, (rule_set, result) in now.items():
        points = []
        previous_day, previous = today, result
        for day in days:
            scored = future[day].get(code)
            if scored is None:
                continue
            day_rule_set, day_result = scored
            point = _point(day, anniversary, day_result)
            changes = (
                _changes(
                    day_rule_set,
                    previous,
                    day_result,
                    (previous_day, day),
                    expiring,
                    ending,
                )
                if with_items
                else ()
            )
            points.append(
                ForecastPoint(
                    day=point.day,
                    anniversary=point.anniversary,
                    total=point.total,
                    qualified=point.qualified,
                    metrics=point.metrics,
                    changes=changes,
                )
            )
            previous_day, previous = day, day_result
        forecast.designations.append(
            DesignationForecast(
                designation=designations[code],
                qualifying_total=rule_set.rules.qualifying_total,
                max_total=rule_set.rules.max_total,
                metric_codes=tuple(
                    (_slot(m.code), m.category, m.max_points) for m in result.metrics
                ),
                start=_point(today, anniversary, result),
                points=tuple(points),
                anniversary=anniversary,
            )
        )
    forecast.designations.sort(key=lambda f: (f.designation.position, f.designation.code))
    return forecast


def forecast_stamp(*, organization: Organization) -> str:
    """What a cached forecast is valid for: the latest scores' computation (one query)."""
    latest = (
        ScoreSnapshot.objects.for_org(organization)
        .order_by("-as_of", "-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )
    return latest.isoformat() if latest else ""


def organization_forecast_cached(
    *, organization: Organization, today: date, stamp: str
) -> Forecast:
    """`organization_forecast` of every designation, kept until the scores are computed again.

    Every change of the data a forecast reads (people, certifications, associations, usage,
    rules) triggers a recompute (`scoring.signals`), which gives the latest snapshots a new
    computation time and so the forecast a new key; the renewal date is part of the key too.
    """
    renewal = organization.renewal_date.isoformat() if organization.renewal_date else ""
    key = f"scoring:forecast:{organization.pk}:{today.isoformat()}:{stamp}:{renewal}"
    forecast = cache.get(key)
    if not isinstance(forecast, Forecast):
        forecast = organization_forecast(organization=organization, today=today)
        cache.set(key, forecast, FORECAST_CACHE_SECONDS)
    return forecast


def at_risk_designations(
    *, organization: Organization, snapshots: Sequence[ScoreSnapshot], today: date
) -> dict[int, date]:
    """Designation id → the first forecast date it falls below, for the designations qualified
    in these (the latest) snapshots that would not be by the anniversary.

    No query when none is qualified; else the cached forecast (the forecast page's), keyed by
    these snapshots' latest computation.
    """
    qualified = {snapshot.designation_id for snapshot in snapshots if snapshot.qualified}
    if not qualified:
        return {}
    stamp = max(snapshot.computed_at for snapshot in snapshots).isoformat()
    forecast = organization_forecast_cached(organization=organization, today=today, stamp=stamp)
    return {
        f.designation.pk: below.day
        for f in forecast.designations
        if f.designation.pk in qualified and (below := f.first_below) is not None
    }


__all__ = [
    "FORECAST_MONTHS",
    "DesignationForecast",
    "Forecast",
    "ForecastItem",
    "ForecastPoint",
    "MetricChange",
    "at_risk_designations",
    "forecast_stamp",
    "month_ends_after",
    "next_anniversary",
    "organization_forecast",
    "organization_forecast_cached",
]
