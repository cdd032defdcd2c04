"""The what-if page's text: projected scores beside today's, and the shortest path to 70.

No database access: the service hands over engine results; this only formats them, in the
visitor's language (labels through `gettext`, as the dashboard's gaps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.engine import DesignationResult
from scoring.engine.paths import Addition, ShortestPath
from scoring.presenters import (
    gap_part_text,
    max_points_text,
    metric_label,
    percent_text,
    points_missing_text,
    points_text,
    requirement_text,
    total_text,
)
from scoring.whatif import Projection, WhatIf

CertificationGroups = tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True)
class MetricChange:
    code: str
    name: str
    current: str
    projected: str
    max_points: str
    percent: str
    meets_minimum: bool
    changed: bool


@dataclass(frozen=True)
class ProjectionCard:
    code: str
    name: str
    current_total: str
    projected_total: str
    delta: str  # "+6.7", "−3.3", "" when unchanged
    max_total: str
    percent: str
    qualifying_percent: str
    current_qualified: bool
    projected_qualified: bool
    track: str
    points_to_qualify: str
    metrics: tuple[MetricChange, ...]
    path: tuple[str, ...]  # one text per addition
    path_summary: str  # "3 additions: 2 people, 1 customer"
    path_missing: bool  # not qualified and no path within the search bound
    focused: bool


def addition_text(
    addition: Addition, requirements: Mapping[tuple[str, str], CertificationGroups] | None = None
) -> str:
    """ "2 more people holding AZ-104", "1 more deployment", "+$8,300 ACR", "+12 % growth".

    The certifications a person must hold are named from the rule set's groups when they are
    given (`requirements`, by slot and measure key), in the user's language ("one of …"); the
    engine's own text is the fallback.
    """
    part = {
        "amount": float(addition.amount),
        "label": addition.label,
        "label_one": addition.label_one,
        "unit": addition.unit,
    }
    text = gap_part_text(part)
    groups = (requirements or {}).get((addition.slot, addition.key))
    certifications = requirement_text(groups) if groups else addition.requirement
    if certifications:
        text = _("%(gap)s holding %(certifications)s") % {
            "gap": text,
            "certifications": certifications,
        }
    return text


def path_summary(path: ShortestPath) -> str:
    people, customers, amounts = path.people, path.customers, path.amounts
    parts = []
    if people:
        parts.append(_("%(count)s people") % {"count": people} if people != 1 else _("1 person"))
    if customers:
        parts.append(
            _("%(count)s customers") % {"count": customers} if customers != 1 else _("1 customer")
        )
    if amounts:
        parts.append(_("%(count)s amounts") % {"count": amounts} if amounts != 1 else _("1 amount"))
    summary = ngettext("%(size)s addition: %(parts)s", "%(size)s additions: %(parts)s", path.size)
    return summary % {"size": path.size, "parts": ", ".join(parts)}


def _delta(current: float, projected: float) -> str:
    difference = Decimal(str(projected)) - Decimal(str(current))
    if abs(difference) < Decimal("0.05"):
        return ""
    shown = points_text(float(abs(difference)))
    return f"+{shown}" if difference > 0 else f"−{shown}"


def _track_label(result: DesignationResult) -> str:
    return next((_(t.label) for t in result.tracks if t.code == result.track), "")


def projection_card(projection: Projection, *, focus: str) -> ProjectionCard:
    rule_set = projection.rule_set
    current, projected = projection.current, projection.projected
    qualifying = Decimal(str(float(rule_set.model.qualifying_total)))
    current_points = {m.code: m.points for m in current.metrics}
    metrics = tuple(
        MetricChange(
            code=m.code,
            name=metric_label(m.code),
            current=points_text(float(current_points.get(m.code, 0))),
            projected=points_text(float(m.points), threshold=rule_set.model.min_metric_points),
            max_points=max_points_text(float(m.max_points)),
            percent=percent_text(float(m.points), float(m.max_points)),
            meets_minimum=m.meets_minimum,
            changed=current_points.get(m.code) != m.points,
        )
        for m in projected.metrics
    )
    path = projection.path
    show_path = not projected.qualified and path is not None
    requirements = {(r.metric_code, r.key): r.groups for r in rule_set.certification_requirements}
    designation = rule_set.model.designation
    return ProjectionCard(
        code=designation.code,
        name=designation.display_name,
        current_total=total_text(float(current.total), qualifying_total=qualifying),
        projected_total=total_text(float(projected.total), qualifying_total=qualifying),
        delta=_delta(float(current.total), float(projected.total)),
        max_total=max_points_text(float(projected.max_total)),
        percent=percent_text(float(projected.total), float(projected.max_total)),
        qualifying_percent=percent_text(float(qualifying), float(projected.max_total)),
        current_qualified=current.qualified,
        projected_qualified=projected.qualified,
        track=_track_label(projected),
        points_to_qualify=points_missing_text(float(projected.points_to_qualify)),
        metrics=metrics,
        path=(
            tuple(addition_text(a, requirements) for a in path.additions)
            if show_path and path
            else ()
        ),
        path_summary=path_summary(path) if show_path and path else "",
        path_missing=(not projected.qualified and path is None and projection.path_searched),
        focused=designation.code == focus,
    )


def projection_cards(whatif: WhatIf, *, focus: str = "") -> list[ProjectionCard]:
    """Every designation's card; the focused one (`?designation=`) first."""
    cards = [projection_card(p, focus=focus) for p in whatif.projections]
    return sorted(cards, key=lambda card: not card.focused)


def qualified_counts(cards: Sequence[ProjectionCard]) -> tuple[int, int]:
    """(qualified today, qualified in the scenario)."""
    return (
        sum(1 for card in cards if card.current_qualified),
        sum(1 for card in cards if card.projected_qualified),
    )
