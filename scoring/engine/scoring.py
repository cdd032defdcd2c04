"""Points, qualification and gaps from a rule set and raw measures, in exact arithmetic."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import TypeAlias

from .numbers import COUNT, Number, format_amount, to_fraction
from .rules import MetricRule, RuleSet, Scaling, validate_rule_set

Measures: TypeAlias = Mapping[str, Mapping[str, Number]]
"""metric code -> source key -> raw value; a missing metric or source counts as 0."""

ZERO = Fraction(0)
ONE = Fraction(1)


@dataclass(frozen=True)
class GapPart:
    """One way of closing a metric's gap: this much more of this quantity gives full points."""

    amount: Fraction
    label: str
    unit: str
    label_one: str = ""

    @property
    def text(self) -> str:
        """Counts read "4 more <label>" ("1 more <label_one>"), usd "+$8,300 <label>",
        users "+2,500 <label>"."""
        amount = format_amount(self.amount, self.unit)
        if self.unit == COUNT:
            label = self.label_one if amount == "1" and self.label_one else self.label
            return f"{amount} more {label}"
        return f"+{amount} {self.label}"


@dataclass(frozen=True)
class MetricResult:
    """Points of one metric, its value against its target, and what would give full points."""

    code: str
    category: str
    points: Fraction
    max_points: Fraction
    value: Fraction
    target: Fraction
    gap: tuple[GapPart, ...]
    gap_text: str
    meets_minimum: bool
    sources: Mapping[str, Fraction]


@dataclass(frozen=True)
class DesignationResult:
    """Qualified when total >= qualifying_total and every metric meets the minimum."""

    designation: str
    version: int
    total: Fraction
    max_total: Fraction
    qualified: bool
    points_to_qualify: Fraction
    metrics: tuple[MetricResult, ...]


def _units(value: Fraction, scaling: Scaling) -> Fraction:
    """Per-unit metrics only pay for whole units; proportional ones use the value as is."""
    return Fraction(math.floor(value)) if scaling is Scaling.PER_UNIT else value


def _gap_text(parts: tuple[GapPart, ...], requirement: str) -> str:
    """Alternatives joined with " or ", followed by the metric's requirement if any."""
    if not parts:
        return ""
    text = " or ".join(part.text for part in parts)
    return f"{text} {requirement}" if requirement else text


def _result(
    metric: MetricRule,
    raw: Mapping[str, Fraction],
    min_points: Fraction,
    *,
    points: Fraction,
    value: Fraction,
    target: Fraction,
    gap: tuple[GapPart, ...],
) -> MetricResult:
    """The metric's result, with the derived gap text and minimum check."""
    return MetricResult(
        code=metric.code,
        category=metric.category,
        points=points,
        max_points=metric.max_points,
        value=value,
        target=target,
        gap=gap,
        gap_text=_gap_text(gap, metric.requirement),
        meets_minimum=points >= min_points,
        sources=MappingProxyType(dict(raw)),
    )


def _score_summed(
    metric: MetricRule, raw: Mapping[str, Fraction], min_points: Fraction
) -> MetricResult:
    """Sum the sources (below 0 counts as 0): max_points * min(units, target) / target."""
    assert metric.target is not None
    target = metric.target
    value = max(ZERO, sum(raw.values(), ZERO))
    units = _units(value, metric.scaling)
    points = metric.max_points * min(units, target) / target
    gap: tuple[GapPart, ...] = ()
    if units < target:
        # Whole units: the smallest k with floor(value + k) >= target.
        amount = (
            Fraction(math.ceil(target) - units)
            if metric.scaling is Scaling.PER_UNIT
            else target - value
        )
        gap = (
            GapPart(
                amount=amount,
                label=metric.unit_label,
                unit=metric.sources[0].unit,
                label_one=metric.unit_label_one,
            ),
        )
    return _result(metric, raw, min_points, points=points, value=value, target=target, gap=gap)


def _score_per_source(
    metric: MetricRule, raw: Mapping[str, Fraction], min_points: Fraction
) -> MetricResult:
    """Each source earns max_points * max(0, v) / its target; the sum is capped at max_points."""
    # A decline on one platform earns nothing there but must not cancel growth on the other.
    share = ZERO
    for source in metric.sources:
        assert source.target is not None
        share += _units(max(ZERO, raw[source.key]), metric.scaling) / source.target
    points = metric.max_points * min(share, ONE)
    gap: tuple[GapPart, ...] = ()
    remaining = ONE - share
    if remaining > 0:
        parts = []
        for source in metric.sources:
            assert source.target is not None
            amount = remaining * source.target
            if metric.scaling is Scaling.PER_UNIT:
                amount = Fraction(math.ceil(amount))
            parts.append(
                GapPart(
                    amount=amount, label=source.label, unit=source.unit, label_one=source.label_one
                )
            )
        gap = tuple(parts)
    return _result(metric, raw, min_points, points=points, value=share, target=ONE, gap=gap)


def score_metric(
    metric: MetricRule, measures: Mapping[str, Number], min_metric_points: Fraction
) -> MetricResult:
    """Score one (already validated) metric from its source values; missing sources count as 0."""
    raw = {
        source.key: to_fraction(
            measures.get(source.key, 0), f"measure {metric.code!r}/{source.key!r}"
        )
        for source in metric.sources
    }
    if metric.target is None:
        return _score_per_source(metric, raw, min_metric_points)
    return _score_summed(metric, raw, min_metric_points)


def score_designation(rule_set: RuleSet, measures: Measures) -> DesignationResult:
    """Total = sum of points; qualified at total >= qualifying_total and every minimum met."""
    return score_designations(rule_set, [measures])[0]


def score_designations(
    rule_set: RuleSet, measures_list: Sequence[Measures]
) -> list[DesignationResult]:
    """Score many organizations' measures under one rule set, validating it once.

    A metric's result depends on its source values only, and many organizations share them
    (certified people, adds and deployments are small counts): each distinct set of values is
    scored once per call. Results are immutable, so sharing them is safe.
    """
    validate_rule_set(rule_set)
    memo: dict[tuple[object, ...], MetricResult] = {}
    return [_score_validated(rule_set, measures, memo) for measures in measures_list]


def _score_validated(
    rule_set: RuleSet, measures: Measures, memo: dict[tuple[object, ...], MetricResult]
) -> DesignationResult:
    # Measures for metrics or sources the rule set does not have are ignored: one measure
    # computation can serve every designation and rule-set version.
    results = []
    for index, metric in enumerate(rule_set.metrics):
        raw = measures.get(metric.code, {})
        # The type is part of the key: 1.0 equals Decimal(1) but a float must still be refused.
        values = tuple((type(v), v) for v in (raw.get(s.key, 0) for s in metric.sources))
        key = (index, values)
        result = memo.get(key)
        if result is None:
            result = memo[key] = score_metric(metric, raw, rule_set.min_metric_points)
        results.append(result)
    total = sum((r.points for r in results), ZERO)
    return DesignationResult(
        designation=rule_set.designation,
        version=rule_set.version,
        total=total,
        max_total=rule_set.max_total,
        qualified=total >= rule_set.qualifying_total and all(r.meets_minimum for r in results),
        points_to_qualify=max(ZERO, rule_set.qualifying_total - total),
        metrics=tuple(results),
    )
