"""Points, qualification and gaps from a rule set and raw measures, in exact arithmetic."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from types import MappingProxyType
from typing import TypeAlias

from .numbers import COUNT, PERCENT, Number, format_amount, to_fraction
from .rules import (
    BASELINE_SUFFIX,
    CLASSIFICATION,
    MetricRule,
    RuleSet,
    Scaling,
    SourceRule,
    StepRule,
    TrackMode,
    validate_rule_set,
)

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
    # People of a gated step: the certifications they must hold, (mode, codes) per group, and
    # their English text ("holding AZ-104").
    certifications: tuple[tuple[str, tuple[str, ...]], ...] = ()
    requirement: str = ""
    baseline: bool = False  # what a growth source's baseline lacks, in the label's units

    @property
    def text(self) -> str:
        """Counts read "4 more <label>" ("1 more <label_one>"), usd "+$8,300 <label>",
        users "+2,500 <label>"; then a baseline's "baseline", a step's certifications."""
        amount = format_amount(self.amount, self.unit)
        label = f"{self.label} baseline" if self.baseline else self.label
        if self.unit == COUNT:
            one = self.label_one if amount == "1" and self.label_one else label
            text = f"{amount} more {one}"
        elif self.unit == PERCENT:
            text = f"+{amount} % {label}"
        else:
            text = f"+{amount} {label}"
        return f"{text} {self.requirement}" if self.requirement else text


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
    unlocks: bool = False  # the gap names missing gate people ("… unlock this metric")
    stepped: bool = False  # a gated metric: each gap part names its own certifications

    # `sources` is a read-only view, which does not pickle: a result in the cache (the what-if
    # page's today) keeps a plain copy and is given its view again when read.
    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "sources": dict(self.sources)}

    def __setstate__(self, state: dict[str, object]) -> None:
        sources = state["sources"]
        assert isinstance(sources, dict)
        self.__dict__.update({**state, "sources": MappingProxyType(sources)})


@dataclass(frozen=True)
class TrackResult:
    """One track's score: its metrics, total and qualification."""

    code: str
    label: str
    total: Fraction
    qualified: bool
    points_to_qualify: Fraction
    metrics: tuple[MetricResult, ...]


@dataclass(frozen=True)
class DesignationResult:
    """Qualified when total >= qualifying_total and every metric meets the minimum.

    With tracks, the fields are the counting track's (`track`); `tracks` holds every track.
    """

    designation: str
    version: int
    total: Fraction
    max_total: Fraction
    qualified: bool
    points_to_qualify: Fraction
    metrics: tuple[MetricResult, ...]
    track: str = ""
    tracks: tuple[TrackResult, ...] = ()


def _units(value: Fraction, scaling: Scaling) -> Fraction:
    """Per-unit metrics only pay for whole units; proportional ones use the value as is."""
    return Fraction(math.floor(value)) if scaling is Scaling.PER_UNIT else value


def _source_value(source: SourceRule, raw: Mapping[str, Fraction]) -> Fraction:
    """A source's value as scored: growth in per cent of its baseline (0 below the minimum
    baseline), in whole multiples of its unit size."""
    value = raw[source.key]
    if source.percent:
        baseline = raw[source.key + BASELINE_SUFFIX]
        floor = source.min_baseline if source.min_baseline is not None else ZERO
        value = (value - baseline) * 100 / baseline if baseline > 0 and baseline >= floor else ZERO
    if source.unit_size is not None:
        value = Fraction(math.floor(value / source.unit_size)) * source.unit_size
    return value


def _baseline_gap(source: SourceRule, raw: Mapping[str, Fraction]) -> GapPart | None:
    """What the baseline lacks before percentage growth can score at all."""
    if not source.percent:
        return None
    baseline = raw[source.key + BASELINE_SUFFIX]
    floor = source.min_baseline if source.min_baseline is not None else ZERO
    if baseline > 0 and baseline >= floor:
        return None
    needed = max(floor, Fraction(1)) - baseline
    return GapPart(amount=needed, label=source.label, unit=source.baseline_unit, baseline=True)


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
    gap_text: str | None = None,
    unlocks: bool = False,
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
        gap_text=_gap_text(gap, metric.requirement) if gap_text is None else gap_text,
        meets_minimum=points >= min_points,
        sources=MappingProxyType(dict(raw)),
        unlocks=unlocks,
        stepped=bool(metric.steps),
    )


def _score_summed(
    metric: MetricRule, raw: Mapping[str, Fraction], min_points: Fraction
) -> MetricResult:
    """Sum the sources (below 0 counts as 0): max_points * min(units, target) / target."""
    assert metric.target is not None
    target = metric.target
    value = max(ZERO, sum((_source_value(s, raw) for s in metric.sources), ZERO))
    units = _units(value, metric.scaling)
    points = metric.max_points * min(units, target) / target
    gap: tuple[GapPart, ...] = ()
    baselines = tuple(g for g in (_baseline_gap(s, raw) for s in metric.sources) if g)
    if baselines:
        gap = baselines
    elif units < target:
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
        share += _units(max(ZERO, _source_value(source, raw)), metric.scaling) / source.target
    points = metric.max_points * min(share, ONE)
    gap: tuple[GapPart, ...] = ()
    remaining = ONE - share
    if remaining > 0:
        parts = []
        for source in metric.sources:
            assert source.target is not None
            amount = remaining * source.target
            if metric.scaling is Scaling.PER_UNIT or source.unit_size is not None:
                step = source.unit_size or ONE
                amount = Fraction(math.ceil(amount / step)) * step
            parts.append(
                _baseline_gap(source, raw)
                or GapPart(
                    amount=amount, label=source.label, unit=source.unit, label_one=source.label_one
                )
            )
        gap = tuple(parts)
    return _result(metric, raw, min_points, points=points, value=share, target=ONE, gap=gap)


def _score_options(
    metric: MetricRule, raw: Mapping[str, Fraction], min_points: Fraction
) -> MetricResult:
    """Each option's sources scored alone (as a metric of their own); the best option counts.

    The gap names what each option alone still needs, as alternatives.
    """
    results = []
    for option in metric.options:
        alone = replace(
            metric, sources=tuple(s for s in metric.sources if s.option == option), requirement=""
        )
        results.append(_score_plain(alone, raw, min_points))
    best = max(results, key=lambda result: result.points)
    gap = () if best.points >= metric.max_points else tuple(p for r in results for p in r.gap)
    return _result(
        metric, raw, min_points, points=best.points, value=best.value, target=best.target, gap=gap
    )


def _score_steps(
    metric: MetricRule, raw: Mapping[str, Fraction], min_points: Fraction
) -> MetricResult:
    """Gated skilling: gates award only their own capped points; scoring steps count their
    people once every gate is met; the metric's maximum caps the sum."""
    points = ZERO
    missing: list[GapPart] = []
    for step in metric.steps:
        if step.scoring:
            continue
        people = max(ZERO, raw[step.key])
        if people < step.min_people:
            missing.append(_people_gap(step.min_people - people, step))
        elif step.points_each is not None:
            earned = people * step.points_each
            points += earned if step.points_cap is None else min(earned, step.points_cap)
    value = ZERO
    per_person = ZERO
    scorer: StepRule | None = None
    for step in metric.steps:
        if not step.scoring:
            continue
        each = step.points_each
        if each is None:
            assert metric.target is not None
            each = metric.max_points / metric.target
        people = max(ZERO, raw[step.key])
        value += people
        per_person = per_person or each
        scorer = scorer if scorer is not None and scorer.requirement else step
        if not missing and people >= step.min_people:
            points += people * each
    points = min(points, metric.max_points)
    target = metric.target or Fraction(math.ceil(metric.max_points / per_person))
    if missing:
        parts = tuple(missing)
        text = " and ".join(part.text for part in parts) + " unlock this metric"
    elif points < metric.max_points:
        parts = (_people_gap(Fraction(math.ceil((metric.max_points - points) / per_person)),
                             scorer),)  # fmt: skip
        text = parts[0].text
    else:
        parts, text = (), ""
    return _result(
        metric, raw, min_points, points=points, value=value, target=target, gap=parts,
        gap_text=text, unlocks=bool(missing),
    )  # fmt: skip


def _people_gap(amount: Fraction, step: StepRule | None) -> GapPart:
    """More people, holding the step's certifications (any step's, when `step` is None)."""
    return GapPart(
        amount=amount,
        label="people",
        unit=COUNT,
        label_one="person",
        certifications=step.groups if step else (),
        requirement=step.requirement if step else "",
    )


def _score_plain(
    metric: MetricRule, raw: Mapping[str, Fraction], min_points: Fraction
) -> MetricResult:
    if metric.target is None:
        return _score_per_source(metric, raw, min_points)
    return _score_summed(metric, raw, min_points)


def score_metric(
    metric: MetricRule, measures: Mapping[str, Number], min_metric_points: Fraction
) -> MetricResult:
    """Score one (already validated) metric from its source values; missing sources count as 0."""
    raw = {
        key: to_fraction(measures.get(key, 0), f"measure {metric.slot!r}/{key!r}")
        for key in metric.value_keys()
    }
    if metric.steps:
        return _score_steps(metric, raw, min_metric_points)
    if len(metric.options) > 1:
        return _score_options(metric, raw, min_metric_points)
    return _score_plain(metric, raw, min_metric_points)


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
    plan = _Plan(
        metrics=tuple(
            (index, metric, metric.value_keys()) for index, metric in enumerate(rule_set.metrics)
        ),
        tracks=tuple(
            (track.code, track.label, rule_set.track_metrics(track.code))
            for track in rule_set.tracks or ()
        )
        or (("", "", rule_set.track_metrics("")),),
    )
    return [_score_validated(rule_set, measures, plan) for measures in measures_list]


@dataclass(slots=True)
class _Plan:
    """One scoring call's look-ups, made once: each metric's value keys, each track's metrics;
    and a metric's result per distinct set of its values (results are immutable, so sharing
    them is safe)."""

    metrics: tuple[tuple[int, MetricRule, tuple[str, ...]], ...]
    tracks: tuple[tuple[str, str, tuple[MetricRule, ...]], ...]
    metric_memo: dict[tuple[object, ...], MetricResult] = field(default_factory=dict)


def _score_validated(rule_set: RuleSet, measures: Measures, plan: _Plan) -> DesignationResult:
    # Measures for metrics or sources the rule set does not have are ignored: one measure
    # computation can serve every designation and rule-set version.
    by_metric: dict[int, MetricResult] = {}
    memo = plan.metric_memo
    for index, metric, keys in plan.metrics:
        raw = measures.get(metric.slot, {})
        # The type is part of the key: 1.0 equals Decimal(1) but a float must still be refused.
        values = tuple((type(v), v) for v in (raw.get(k, 0) for k in keys))
        key = (index, values)
        result = memo.get(key)
        if result is None:
            result = memo[key] = score_metric(metric, raw, rule_set.min_metric_points)
        by_metric[id(metric)] = result
    scored = [
        _track_result(rule_set, code, label, tuple(by_metric[id(metric)] for metric in metrics))
        for code, label, metrics in plan.tracks
    ]
    counting = _counting_track(rule_set, scored, measures)
    return DesignationResult(
        designation=rule_set.designation,
        version=rule_set.version,
        total=counting.total,
        max_total=rule_set.max_total,
        qualified=counting.qualified,
        points_to_qualify=counting.points_to_qualify,
        metrics=counting.metrics,
        track=counting.code,
        tracks=tuple(scored) if rule_set.tracks else (),
    )


def _track_result(
    rule_set: RuleSet, code: str, label: str, results: tuple[MetricResult, ...]
) -> TrackResult:
    total = sum((r.points for r in results), ZERO)
    return TrackResult(
        code=code,
        label=label,
        total=total,
        qualified=total >= rule_set.qualifying_total and all(r.meets_minimum for r in results),
        points_to_qualify=max(ZERO, rule_set.qualifying_total - total),
        metrics=results,
    )


def _counting_track(
    rule_set: RuleSet, scored: Sequence[TrackResult], measures: Measures
) -> TrackResult:
    """Best: the qualified track with the highest total (the first on a tie). Classified: the
    first track whose classification holds, else the default track."""
    if rule_set.track_mode is TrackMode.CLASSIFIED:
        holds = measures.get(CLASSIFICATION, {})
        for track, result in zip(rule_set.tracks, scored, strict=True):
            if track.classified and to_fraction(holds.get(track.code, 0), "classification") > 0:
                return result
        defaults = [r for t, r in zip(rule_set.tracks, scored, strict=True) if not t.classified]
        return defaults[0]
    return max(scored, key=lambda result: (result.qualified, result.total))
