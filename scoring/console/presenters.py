"""The console's display text and chart geometry, from selector results (no database)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from portal.models import Organization
from scoring.console.selectors import HISTOGRAM_BINS, CurrentScore, MonthTrend
from scoring.models import Designation
from scoring.presenters import metric_label, total_text


@dataclass(frozen=True)
class ScoreCell:
    designation: Designation
    total: str  # "" when not scored
    qualified: bool
    near: bool
    metric_at_zero: bool


@dataclass(frozen=True)
class OrganizationRow:
    organization: Organization
    scores: tuple[ScoreCell, ...]
    extra: tuple[str, ...]  # the registered columns' values, in column order
    as_of: date | None  # the latest as-of date among its current scores

    @property
    def qualified_count(self) -> int:
        return sum(1 for cell in self.scores if cell.qualified)


def score_cell(
    designation: Designation, score: CurrentScore | None, *, near_points: float
) -> ScoreCell:
    if score is None:
        return ScoreCell(designation, "", qualified=False, near=False, metric_at_zero=False)
    line = float(score.qualifying_total)
    return ScoreCell(
        designation=designation,
        total=total_text(score.total, qualifying_total=score.qualifying_total),
        qualified=score.qualified,
        near=not score.qualified and line - near_points <= score.total < line,
        metric_at_zero=any(float(metric.get("points", 0)) == 0 for metric in score.metrics),
    )


def organization_rows(
    organizations: Sequence[Organization],
    *,
    designations: Sequence[Designation],
    scores: Mapping[int, Mapping[int, CurrentScore]],
    extra_columns: Sequence[Mapping[int, str]],
    near_points: float,
) -> list[OrganizationRow]:
    rows = []
    for organization in organizations:
        by_designation = scores.get(organization.pk, {})
        dates = [score.as_of for score in by_designation.values()]
        rows.append(
            OrganizationRow(
                organization=organization,
                scores=tuple(
                    score_cell(d, by_designation.get(d.pk), near_points=near_points)
                    for d in designations
                ),
                extra=tuple(column.get(organization.pk, "") for column in extra_columns),
                as_of=max(dates) if dates else None,
            )
        )
    return rows


def export_header(designations: Sequence[Designation], extra_labels: Sequence[str]) -> list[str]:
    header = [_("Partner ID"), _("Name"), _("Country"), _("As of")]
    for designation in designations:
        header.append(_("%(designation)s score") % {"designation": designation.display_name})
        header.append(_("%(designation)s qualified") % {"designation": designation.display_name})
    return header + [str(label) for label in extra_labels]


def export_row(row: OrganizationRow) -> list[object]:
    """One CSV row: numbers as numbers (csvsafe keeps them), text as text."""
    cells: list[object] = [
        row.organization.partner_id,
        row.organization.name,
        row.organization.country,
        row.as_of.isoformat() if row.as_of else "",
    ]
    for cell in row.scores:
        cells.append(float(cell.total) if cell.total else "")
        cells.append(("yes" if cell.qualified else "no") if cell.total else "")
    return cells + list(row.extra)


# --- charts (server-side SVG; every chart has a data table beside it) ------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    maximum: int
    baseline: float


CHART_WIDTH = 600
CHART_HEIGHT = 220
CHART_PADDING = 24


def bar_chart(labels: Sequence[str], values: Sequence[int]) -> BarChart:
    """Bars scaled to the largest value, left to right, with room for labels below."""
    maximum = max(values, default=0)
    plot_height = CHART_HEIGHT - 2 * CHART_PADDING
    slot = (CHART_WIDTH - 2 * CHART_PADDING) / max(1, len(values))
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = plot_height * value / maximum if maximum else 0.0
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(CHART_PADDING + index * slot + slot * 0.1, 2),
                y=round(CHART_PADDING + plot_height - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
            )
        )
    return BarChart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        bars=tuple(bars),
        maximum=maximum,
        baseline=CHART_PADDING + plot_height,
    )


def histogram_labels() -> list[str]:
    bands = []
    for band in range(HISTOGRAM_BINS):
        low = band * 10
        high = 100 if band == HISTOGRAM_BINS - 1 else low + 9
        bands.append(f"{low}–{high}")
    return bands


def trend_chart(trend: Sequence[MonthTrend]) -> BarChart:
    """The average score per month (whole points; the table beside it has the tenths)."""
    return bar_chart([t.month.strftime("%Y-%m") for t in trend], [round(t.average) for t in trend])


@dataclass(frozen=True)
class BlockingMetric:
    name: str
    organizations: int


def blocking_metrics(counts: Mapping[str, int]) -> list[BlockingMetric]:
    """The metrics that keep organizations from qualifying, most often first."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [BlockingMetric(name=metric_label(code), organizations=n) for code, n in ordered]


def average_text(value: float) -> str:
    return f"{value:.1f}"
