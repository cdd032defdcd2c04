"""The designation page and a metric's drill-down as the visitor reads them (formatting only).

Turns `scoring.drilldown` rows and a snapshot's stored breakdown into display text: no
database, no rule — what counts and by how much comes from the drill-down selector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from scoring import drilldown as dd
from scoring.models import ScoreSnapshot
from scoring.presenters import (
    DesignationScore,
    gap_text,
    max_points_text,
    metric_label,
    points_text,
    requirement_text,
)

PLATFORMS = {
    "m365": "Microsoft 365",
    "azure": "Azure",
    "dynamics": "Dynamics 365",
}


def month_text(month: date | None) -> str:
    return date_format(month, "YEAR_MONTH_FORMAT") if month else ""


def figure_text(value: Decimal | float | None, unit: str = "") -> str:
    """A measure's figure: whole numbers with separators, "$" for money, up to 2 decimals."""
    if value is None:
        return ""
    number = Decimal(str(value))
    places = 0 if number == number.to_integral_value() else 2
    rounded = number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    shown = number_format(rounded, places, use_l10n=True, force_grouping=True)
    return f"${shown}" if unit == dd.USD else shown


def signed_text(value: Decimal, unit: str = "") -> str:
    text = figure_text(abs(value), unit)
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"−{text}"
    return text


def source_label(key: str, labels: Mapping[str, str]) -> str:
    """A source's label from the rule set ("M365 net customer adds"), else its platform."""
    if labels.get(key):
        return _(labels[key])
    if key == "people":
        return _("People")
    if key.startswith("step") and key[4:].isdigit():
        return _("Step %(number)s") % {"number": key[4:]}
    platform, _sep, attribution = key.partition(":")
    name = PLATFORMS.get(platform, platform)
    return f"{name} ({attribution})" if attribution else name


# --- the designation page ------------------------------------------------------------------------


def anchor_of(key: str) -> str:
    """The drill-down's fragment for a measure key: its people or its customers section."""
    if key == "people" or (key.startswith("step") and key[4:].isdigit()):
        return f"people-{key}"
    return "source-" + key.replace(":", "-")


@dataclass(frozen=True)
class SourceFigure:
    key: str
    label: str
    figure: str
    anchor: str


@dataclass(frozen=True)
class MetricLine:
    code: str
    name: str
    category: str
    value: str
    target: str
    points: str
    max_points: str
    gap: str
    meets_minimum: bool
    sources: tuple[SourceFigure, ...]


@dataclass(frozen=True)
class DesignationPage:
    card: DesignationScore
    metrics: tuple[MetricLine, ...]


def designation_page(card: DesignationScore) -> DesignationPage:
    """The card's metrics with value / target, points / max, gap and each source's figure."""
    snapshot = card.snapshot
    if snapshot is None:
        return DesignationPage(card=card, metrics=())
    rule_set = snapshot.rule_set
    lines = []
    for metric in snapshot.metrics:
        code = metric["code"]
        lines.append(
            MetricLine(
                code=code,
                name=metric_label(code),
                category=next((m.category for m in card.metrics if m.code == code), ""),
                value=figure_text(metric.get("value")),
                target=figure_text(metric.get("target")),
                points=points_text(metric["points"], threshold=rule_set.min_metric_points),
                max_points=max_points_text(metric["max_points"]),
                gap=next((m.gap for m in card.metrics if m.code == code), ""),
                meets_minimum=bool(metric.get("meets_minimum")),
                sources=tuple(
                    SourceFigure(key, source_label(key, {}), figure_text(value), anchor_of(key))
                    for key, value in (metric.get("sources") or {}).items()
                    if not key.endswith("@base")
                ),
            )
        )
    return DesignationPage(card=card, metrics=tuple(lines))


# --- the drill-down ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowText:
    customer: str
    name: str
    what: str
    contribution: str
    counts: bool
    workload: str = ""  # the workload a row of one workload is about


@dataclass(frozen=True)
class SourceSection:
    anchor: str
    title: str
    value: str
    counting_count: int
    rows: tuple[RowText, ...]
    almost: tuple[tuple[str, str, str], ...]  # (customer, name, what more makes it count)
    is_sum: bool  # the value is a sum of amounts (growth), not a count


@dataclass(frozen=True)
class PersonText:
    person_id: str
    name: str
    certifications: str
    expires: str


@dataclass(frozen=True)
class RequirementSection:
    anchor: str
    title: str
    requirement: str
    value: str
    people: tuple[PersonText, ...]
    almost: tuple[tuple[str, str, str], ...]  # (person id, name, text)


@dataclass(frozen=True)
class DrilldownPage:
    metric_name: str
    points: str
    max_points: str
    gap: str
    sources: tuple[SourceSection, ...]
    requirements: tuple[RequirementSection, ...]
    stale: bool


def _row_what(kind: str, row: dd.CustomerRow, unit: str) -> str:
    month = month_text(row.month)
    now, before = figure_text(row.value_now, unit), figure_text(row.value_before, unit)
    seats = figure_text(row.seats)
    if kind == "seat_adds":
        if row.event == dd.ADD:
            return _("Added in %(month)s: %(seats)s paid seats after none") % {
                "month": month,
                "seats": seats,
            }
        return _("Lost in %(month)s: no paid seats after %(seats)s") % {
            "month": month,
            "seats": seats,
        }
    if kind in ("average_adds", "qualifying_net", "active_ratio_net"):
        figures = {"now": now, "before": before or "0", "seats": seats}
        if kind == "average_adds":
            detail = _("%(now)s a month on average now, %(before)s a year ago") % figures
        elif kind == "active_ratio_net":
            detail = _("%(now)s active users of %(seats)s paid seats now") % figures
        else:
            detail = _("%(now)s now, %(before)s 12 months ago") % figures
        event = {
            dd.ADD: _("Counts now, not a year ago"),
            dd.LOSS: _("Counted a year ago, not now"),
            dd.KEPT: _("Counts now and a year ago (no change)"),
        }.get(row.event, "")
        return f"{event}: {detail}"
    if kind == "growth":
        return _("%(before)s in %(month)s (baseline) → %(now)s now") % {
            "before": before or "0",
            "month": month_text(row.baseline_month),
            "now": now,
        }
    if kind == "percent_growth":
        return _("%(before)s 12 months ago → %(now)s now") % {"before": before or "0", "now": now}
    if kind == "share_deployments":
        return _(
            "Deployed in %(month)s: %(users)s users of %(seats)s paid seats now"
            " (baseline %(baseline)s)"
        ) % {
            "month": month,
            "users": now,
            "seats": seats,
            "baseline": month_text(row.baseline_month),
        }
    if kind in ("trailing_deployments", "crossing_deployments"):
        return _("Crossed the threshold in %(month)s: %(before)s at baseline, %(now)s now") % {
            "month": month,
            "before": before or "0",
            "now": now,
        }
    if kind == "distinct_services":
        return _("%(service)s: %(amount)s over the trailing 12 months, %(count)s customers") % {
            "service": row.workload,
            "amount": now,
            "count": seats,
        }
    return ""


def _almost_text(kind: str, almost: dd.AlmostRow) -> str:
    amount = figure_text(almost.missing, almost.unit)
    adds = kind in ("seat_adds", "average_adds", "qualifying_net", "active_ratio_net")
    figures = {"amount": amount, "month": month_text(almost.month)}
    if almost.unit == dd.SEATS:
        if kind == "seat_adds" and almost.month:
            return _("%(amount)s more seats in %(month)s make this tenant an add") % figures
        if adds:
            return _("%(amount)s more seats make this tenant an add") % figures
        return _("%(amount)s more seats make this tenant a deployment") % figures
    if almost.unit == dd.USERS:
        if adds:
            return _("%(amount)s more active users make this tenant an add") % figures
        return _("%(amount)s more users make this tenant a deployment") % figures
    if kind == "average_adds":
        return _("%(amount)s more over the trailing 12 months make this customer an add") % figures
    if kind in ("trailing_deployments", "crossing_deployments"):
        return _("%(amount)s more make this customer a deployment") % figures
    return _("%(amount)s more make this customer an add") % figures


_SUMS = {"growth", "percent_growth"}


def _source_section(source: dd.SourceDrill, labels: Mapping[str, str]) -> SourceSection:
    unit = dd._unit_of(source.source)
    is_sum = source.kind in _SUMS
    rows = tuple(
        RowText(
            customer=row.customer or row.workload,
            name=row.name or row.workload,
            what=_row_what(source.kind, row, unit),
            contribution=signed_text(row.contribution, unit if is_sum else ""),
            counts=row.counts,
            workload=row.workload if row.customer else "",
        )
        for row in source.rows
    )
    return SourceSection(
        anchor=anchor_of(source.source.key),
        title=source_label(source.source.key, labels),
        value=figure_text(source.value, unit if is_sum else ""),
        counting_count=len(source.counting),
        rows=rows,
        almost=tuple(
            (a.customer or a.workload, a.name, _almost_text(source.kind, a)) for a in source.almost
        ),
        is_sum=is_sum,
    )


def _requirement_section(
    requirement: dd.RequirementDrill, labels: Mapping[str, str]
) -> RequirementSection:
    key = requirement.requirement.key
    title = source_label(key, {})
    return RequirementSection(
        anchor=anchor_of(key),
        title=title,
        requirement=requirement_text(requirement.requirement.groups),
        value=figure_text(Decimal(requirement.value)),
        people=tuple(
            PersonText(
                person_id=p.person_id,
                name=p.name,
                certifications=", ".join(p.codes),
                expires=(
                    _("%(certification)s expires first, on %(date)s")
                    % {
                        "certification": p.expires_first[0],
                        "date": date_format(p.expires_first[1], "DATE_FORMAT"),
                    }
                    if p.expires_first
                    else _("No expiry date")
                ),
            )
            for p in requirement.people
        ),
        almost=tuple(
            (
                a.person_id,
                a.name,
                _("One more certification makes this person count: %(certifications)s")
                % {"certifications": _(" or ").join(a.missing)},
            )
            for a in requirement.almost
        ),
    )


def drilldown_page(drill: dd.MetricDrill) -> DrilldownPage:
    metric = drill.metric
    labels = metric_source_labels_of(drill.rule)
    snapshot: ScoreSnapshot = drill.snapshot
    return DrilldownPage(
        metric_name=metric_label(metric["code"]),
        points=points_text(metric["points"], threshold=snapshot.rule_set.min_metric_points),
        max_points=max_points_text(metric["max_points"]),
        gap=gap_text(metric),
        sources=tuple(_source_section(s, labels) for s in drill.sources),
        requirements=tuple(_requirement_section(r, labels) for r in drill.requirements),
        stale=drill.stale,
    )


def metric_source_labels_of(rule: Any) -> dict[str, str]:
    if rule is None:
        return {}
    labels = {source.key: source.label for source in rule.sources}
    labels.update({step.key: step.requirement for step in rule.steps})
    return labels


def nav_metrics(snapshot: ScoreSnapshot | None) -> Sequence[tuple[str, str]]:
    """(code, name) of every metric of the snapshot, for the designation's tabs."""
    if snapshot is None:
        return ()
    return tuple((m["code"], metric_label(m["code"])) for m in snapshot.metrics)
