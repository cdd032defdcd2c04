"""Snapshots written straight to the table: the console reads stored scores only."""

from __future__ import annotations

from datetime import date

from scoring.models import Designation, RuleSet, ScoreSnapshot

METRIC_CODES = ("net_customer_adds", "intermediate_certifications", "usage_growth", "deployments")


def breakdown(points: tuple[float, ...], *, minimum: float = 1) -> list[dict[str, object]]:
    """A stored breakdown with these points, one metric each (max 25)."""
    return [
        {
            "code": code,
            "category": "performance",
            "points": value,
            "max_points": 25,
            "value": value,
            "target": 25,
            "gap": "",
            "gap_parts": [],
            "meets_minimum": value >= minimum,
            "sources": {},
        }
        for code, value in zip(METRIC_CODES, points, strict=False)
    ]


def snapshot(
    organization,
    designation: Designation,
    points: tuple[float, ...],
    *,
    as_of: date = date(2024, 6, 30),
    rule_set: RuleSet | None = None,
    save: bool = True,
) -> ScoreSnapshot:
    total = float(sum(points))
    row = ScoreSnapshot(
        organization=organization,
        designation=designation,
        rule_set=rule_set
        or RuleSet.objects.filter(designation=designation).order_by("version").first(),
        as_of=as_of,
        total=total,
        qualified=total >= 70 and min(points) >= 1,
        metrics=breakdown(points),
    )
    if save:
        row.save()
    return row
