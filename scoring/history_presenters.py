"""The history and forecast pages as read: texts, table rows and the SVG charts (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from scoring import charts
from scoring.forecast import DesignationForecast, Forecast, ForecastItem, MetricChange
from scoring.history import DesignationHistory
from scoring.presenters import category_label, max_points_text, metric_label, points_text


def month_text(month: date) -> str:
    return date_format(month, "YEAR_MONTH_FORMAT")


def day_text(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _short_month(month: date) -> str:
    return month.strftime("%Y-%m")


# --- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    month: str
    total: str
    highest: str
    highest_on: str
    qualified: bool | None
    qualified_any_day: bool
    in_window: bool
    metrics: list[str]


@dataclass(frozen=True)
class MetricChart:
    code: str
    name: str
    max_points: str
    chart: SafeString
    points: list[tuple[str, str]]  # (month, points) for the table


@dataclass(frozen=True)
class HistoryPage:
    total_chart: SafeString
    rows: list[HistoryRow]
    metric_names: list[str]
    metric_charts: list[MetricChart]
    changes: list[tuple[str, bool, str]]  # (day, qualified, total)
    window: str
    qualified_in_window: bool
    qualifying_total: str


def history_page(history: DesignationHistory) -> HistoryPage:
    qualifying = float(history.qualifying_total)
    name = history.designation.display_name
    bars = [
        charts.Bar(
            label=_short_month(month.month),
            value=month.total,
            highlight=bool(month.qualified),
            shaded=month.in_window,
            marker=month.highest,
        )
        for month in history.months
    ]
    total_chart = charts.bar_chart(
        chart_id="history-total",
        title=_("%(designation)s: score at each month-end") % {"designation": name},
        description=_(
            "Bars: the total at the month's last score; tick: the month's highest; line: the "
            "%(points)s points needed; shaded: the qualification window."
        )
        % {"points": max_points_text(qualifying)},
        bars=bars,
        maximum=max(history.max_total, 100.0),
        line=qualifying,
        line_label=_("%(points)s points") % {"points": max_points_text(qualifying)},
        window_label=_("Qualification window"),
    )
    rows = [
        HistoryRow(
            month=month_text(month.month),
            total="" if month.total is None else points_text(month.total),
            highest="" if month.highest is None else points_text(month.highest),
            highest_on="" if month.highest_on is None else day_text(month.highest_on),
            qualified=month.qualified,
            qualified_any_day=month.qualified_any_day,
            in_window=month.in_window,
            metrics=[
                points_text(month.metrics[c.code]) if c.code in month.metrics else ""
                for c in history.metrics
            ],
        )
        for month in history.months
    ]
    labels = [_short_month(month.month) for month in history.months]
    metric_charts = []
    for index, column in enumerate(history.metrics):
        label = metric_label(column.code)
        values = [month.metrics.get(column.code) for month in history.months]
        metric_charts.append(
            MetricChart(
                code=column.code,
                name=label,
                max_points=max_points_text(column.max_points),
                chart=charts.line_chart(
                    chart_id=f"history-metric-{index}",
                    title=_("%(metric)s: points at each month-end") % {"metric": label},
                    description=_("Points out of %(max)s over the last 24 months.")
                    % {"max": max_points_text(column.max_points)},
                    labels=labels,
                    values=values,
                    maximum=column.max_points,
                ),
                points=[
                    (month_text(month.month), points_text(value))
                    for month, value in zip(history.months, values, strict=True)
                    if value is not None
                ],
            )
        )
    return HistoryPage(
        total_chart=total_chart,
        rows=rows,
        metric_names=[metric_label(c.code) for c in history.metrics],
        metric_charts=metric_charts,
        changes=[
            (day_text(change.day), change.qualified, points_text(change.total))
            for change in history.changes
        ],
        window=_("%(start)s – %(end)s")
        % {"start": month_text(history.window[0]), "end": month_text(history.window[1])},
        qualified_in_window=history.qualified_in_window,
        qualifying_total=max_points_text(qualifying),
    )


# --- forecast --------------------------------------------------------------------------------


def _signed(value: Fraction) -> str:
    text = points_text(abs(float(value)))
    return f"−{text}" if value < 0 else f"+{text}"


def item_text(item: ForecastItem) -> str:
    if item.kind == "certification":
        return _("%(certification)s of %(person)s expires %(date)s") % {
            "certification": item.certification,
            "person": item.person,
            "date": day_text(item.day),
        }
    if item.kind == "association":
        return _("%(type)s association of %(customer)s ends after %(month)s") % {
            "type": item.association_type,
            "customer": item.customer or _("a customer"),
            "month": month_text(item.day),
        }
    return _("The trailing window moves on to %(month)s") % {"month": month_text(item.day)}


def change_texts(change: MetricChange) -> tuple[str, list[str]]:
    """A drop and what is behind it: 'AZ-500 of Sato expires 2/14/2027: −2.5 skilling' for one
    item; the drop as the headline and the items under it for several."""
    drop = _("%(points)s %(category)s") % {
        "points": _signed(change.delta),
        "category": category_label(change.category).lower()
        if change.category
        else metric_label(change.code),
    }
    if len(change.items) == 1:
        return f"{item_text(change.items[0])}: {drop}", []
    return drop, [item_text(item) for item in change.items]


@dataclass(frozen=True)
class ForecastCell:
    day: str
    anniversary: bool
    total: str
    qualified: bool
    below: bool
    drops: list[tuple[str, list[str]]]  # (the drop, the items behind it when several)


@dataclass(frozen=True)
class ForecastRow:
    code: str
    name: str
    now: str
    qualified_now: bool
    at_risk: bool
    first_below: str
    cells: list[ForecastCell]
    metric_rows: list[tuple[str, str, list[str]]]  # (name, max, points per date incl. now)


def forecast_rows(forecast: Forecast) -> list[ForecastRow]:
    return [_forecast_row(designation) for designation in forecast.designations]


def _forecast_row(designation: DesignationForecast) -> ForecastRow:
    threshold = Decimal(str(float(designation.qualifying_total)))
    below = designation.first_below
    return ForecastRow(
        code=designation.designation.code,
        name=designation.designation.display_name,
        now=points_text(float(designation.start.total), threshold=threshold),
        qualified_now=designation.start.qualified,
        at_risk=designation.at_risk,
        first_below="" if below is None else day_text(below.day),
        cells=[
            ForecastCell(
                day=day_text(point.day),
                anniversary=point.anniversary,
                total=points_text(float(point.total), threshold=threshold),
                qualified=point.qualified,
                below=designation.held and not point.qualified,
                drops=[change_texts(change) for change in point.changes],
            )
            for point in designation.points
        ],
        metric_rows=[
            (
                metric_label(code),
                max_points_text(float(max_points)),
                [points_text(float(designation.start.metrics.get(code, 0)))]
                + [points_text(float(p.metrics.get(code, 0))) for p in designation.points],
            )
            for code, _category, max_points in designation.metric_codes
        ],
    )
