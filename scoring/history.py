"""A designation's score history: its stored snapshots over the last 24 months, by month.

Read from the daily snapshots (`ScoreSnapshot`, the latest rule-set version of each day): per
calendar month the month-end score (the month's last snapshot) with its points per metric, the
highest total of the month (and its day), whether any day of the month qualified; the rolling
qualification window (the current month plus the five previous full calendar months, the rule
in force since 2023-09-19, published-rules.md §5) and whether a day in it qualified; and the
days the qualification changed, derived from the daily flags (crossing the qualifying total
and the minimums). The enrolment status proper (benefits' terms) is the benefits app's: scoring
does not import it.

Three queries: the designation, one light row per day, and the month-end breakdowns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from portal.models import Organization
from scoring.measures import add_months
from scoring.models import Designation, ScoreSnapshot
from scoring.selectors import snapshots_of_latest_version

HISTORY_MONTHS = 24
QUALIFICATION_WINDOW_MONTHS = 6


@dataclass(frozen=True)
class HistoryMonth:
    month: date  # first day of the month
    as_of: date | None  # the month's last snapshot day (None: no score that month)
    total: float | None
    qualified: bool | None
    highest: float | None
    highest_on: date | None
    qualified_any_day: bool
    metrics: dict[str, float]  # metric code -> points at the month's last snapshot
    in_window: bool


@dataclass(frozen=True)
class StatusChange:
    day: date
    qualified: bool
    total: float


@dataclass(frozen=True)
class MetricColumn:
    code: str
    category: str
    max_points: float


@dataclass(frozen=True)
class DesignationHistory:
    designation: Designation
    months: list[HistoryMonth]
    metrics: list[MetricColumn]
    qualifying_total: Decimal
    max_total: float
    changes: list[StatusChange]
    window: tuple[date, date]  # first and last month of the qualification window
    qualified_in_window: bool

    @property
    def scored(self) -> bool:
        return any(month.as_of is not None for month in self.months)


def history_months(today: date) -> list[date]:
    """The 24 calendar months ending with today's, oldest first (first days)."""
    now = today.replace(day=1)
    return [add_months(now, offset - HISTORY_MONTHS + 1) for offset in range(HISTORY_MONTHS)]


def designation_get(*, code: str) -> Designation | None:
    return Designation.objects.filter(code=code).first()


def designation_history(
    *, organization: Organization, designation: Designation, today: date
) -> DesignationHistory:
    months = history_months(today)
    window = (months[-QUALIFICATION_WINDOW_MONTHS], months[-1])
    rows = list(
        snapshots_of_latest_version(
            ScoreSnapshot.objects.for_org(organization).filter(
                designation=designation, as_of__gte=months[0], as_of__lte=today
            )
        )
        .order_by("as_of")
        .values_list("pk", "as_of", "total", "qualified", "rule_set__qualifying_total")
    )
    by_month: dict[date, list[tuple[int, date, float, bool, Decimal]]] = {}
    for row in rows:
        by_month.setdefault(row[1].replace(day=1), []).append(row)
    last_ids = [days[-1][0] for days in by_month.values()]
    breakdowns = dict(
        ScoreSnapshot.objects.for_org(organization)
        .filter(pk__in=last_ids)
        .values_list("pk", "metrics")
    )
    columns: dict[str, MetricColumn] = {}
    result_months = []
    for month in months:
        days = by_month.get(month, [])
        if not days:
            result_months.append(
                HistoryMonth(month, None, None, None, None, None, False, {}, month >= window[0])
            )
            continue
        last = days[-1]
        best = max(days, key=lambda day: (day[2], -day[1].toordinal()))
        metrics = {}
        for metric in breakdowns.get(last[0]) or []:
            code = str(metric["code"])
            metrics[code] = float(metric["points"])
            columns[code] = MetricColumn(
                code, str(metric.get("category", "")), float(metric["max_points"])
            )
        result_months.append(
            HistoryMonth(
                month=month,
                as_of=last[1],
                total=last[2],
                qualified=last[3],
                highest=best[2],
                highest_on=best[1],
                qualified_any_day=any(day[3] for day in days),
                metrics=metrics,
                in_window=month >= window[0],
            )
        )
    changes = [
        StatusChange(day=current[1], qualified=current[3], total=current[2])
        for previous, current in pairwise(rows)
        if previous[3] != current[3]
    ]
    qualifying_total = rows[-1][4] if rows else Decimal(70)
    return DesignationHistory(
        designation=designation,
        months=result_months,
        metrics=list(columns.values()),
        qualifying_total=qualifying_total,
        max_total=sum(c.max_points for c in columns.values()) or 100.0,
        changes=changes,
        window=window,
        qualified_in_window=any(m.qualified_any_day for m in result_months if m.in_window),
    )
