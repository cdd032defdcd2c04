"""Rule-set data: what each metric of a designation measures, its target and its maximum."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from .numbers import UNITS, to_fraction


class RuleSetError(ValueError):
    """A rule set that cannot be scored consistently."""


class Scaling(StrEnum):
    """How a metric's value turns into points."""

    PER_UNIT = "per_unit"
    PROPORTIONAL = "proportional"


@dataclass(frozen=True)
class SourceRule:
    """One contribution to a metric; target set only when each source has its own target."""

    key: str
    label: str
    unit: str
    target: Fraction | None = None
    label_one: str = ""  # the label after "1 more" ("deployment"); blank: `label` always

    def __post_init__(self) -> None:
        # Rule data usually comes from DecimalField/IntegerField; Fraction * Decimal raises.
        if self.target is not None:
            object.__setattr__(
                self, "target", to_fraction(self.target, f"source {self.key!r} target")
            )


@dataclass(frozen=True)
class MetricRule:
    """One metric: max_points for reaching target (metric-level or per source)."""

    code: str
    category: str
    max_points: Fraction
    target: Fraction | None
    scaling: Scaling
    unit_label: str
    sources: tuple[SourceRule, ...]
    requirement: str = ""
    unit_label_one: str = ""  # the unit label after "1 more"; blank: `unit_label` always

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "max_points", to_fraction(self.max_points, f"metric {self.code!r} max_points")
        )
        if self.target is not None:
            object.__setattr__(
                self, "target", to_fraction(self.target, f"metric {self.code!r} target")
            )
        try:
            object.__setattr__(self, "scaling", Scaling(self.scaling))
        except ValueError:
            raise RuleSetError(
                f"metric {self.code!r}: unknown scaling {self.scaling!r};"
                f" expected one of {[s.value for s in Scaling]}"
            ) from None
        # A list from a query would make the frozen rule unhashable and mutable underneath.
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def has_source_targets(self) -> bool:
        """True when the metric is scored per source against each source's own target."""
        return self.target is None


@dataclass(frozen=True)
class RuleSet:
    """One version of a designation's rules: metrics whose max_points sum to max_total."""

    designation: str
    version: int
    qualifying_total: Fraction
    min_metric_points: Fraction
    metrics: tuple[MetricRule, ...]
    max_total: Fraction = field(default=Fraction(100))

    def __post_init__(self) -> None:
        for name in ("qualifying_total", "min_metric_points", "max_total"):
            object.__setattr__(
                self,
                name,
                to_fraction(getattr(self, name), f"rule set {self.designation!r} {name}"),
            )
        object.__setattr__(self, "metrics", tuple(self.metrics))


def _validate_metric(metric: MetricRule, where: str) -> list[str]:
    """List what is wrong with one metric: positive max, positive targets, one way of targeting."""
    errors: list[str] = []
    if metric.max_points <= 0:
        errors.append(f"{where}: max_points must be > 0, got {metric.max_points}")
    if not metric.sources:
        errors.append(f"{where}: needs at least one source")
        return errors
    duplicate_keys = sorted(k for k, n in Counter(s.key for s in metric.sources).items() if n > 1)
    if duplicate_keys:
        errors.append(f"{where}: duplicate source keys {duplicate_keys}")
    for source in metric.sources:
        if source.unit not in UNITS:
            errors.append(
                f"{where} source {source.key!r}: unknown unit {source.unit!r};"
                f" expected one of {sorted(UNITS)}"
            )
        if source.target is not None and source.target <= 0:
            errors.append(f"{where} source {source.key!r}: target must be > 0, got {source.target}")

    with_target = [s.key for s in metric.sources if s.target is not None]
    if metric.target is not None:
        if metric.target <= 0:
            errors.append(f"{where}: target must be > 0, got {metric.target}")
        if with_target:
            # Both would leave it unclear which target the points are measured against.
            errors.append(
                f"{where}: has a metric target and per-source targets on {with_target}; set one"
            )
        units = sorted({s.unit for s in metric.sources})
        if len(units) > 1:
            errors.append(
                f"{where}: sources summed against one target must share a unit, got {units}"
            )
    elif not with_target:
        errors.append(f"{where}: has neither a metric target nor per-source targets")
    elif len(with_target) != len(metric.sources):
        missing = [s.key for s in metric.sources if s.target is None]
        errors.append(f"{where}: without a metric target every source needs one; missing {missing}")
    return errors


def validate_rule_set(rule_set: RuleSet) -> None:
    """Raise RuleSetError unless max_points sum to max_total and every target is set and > 0."""
    name = f"rule set {rule_set.designation!r} v{rule_set.version}"
    errors: list[str] = []
    if not rule_set.metrics:
        errors.append("has no metrics")
    duplicate_codes = sorted(
        c for c, n in Counter(m.code for m in rule_set.metrics).items() if n > 1
    )
    if duplicate_codes:
        errors.append(f"duplicate metric codes {duplicate_codes}")
    for metric in rule_set.metrics:
        errors.extend(_validate_metric(metric, f"metric {metric.code!r}"))
        if metric.max_points < rule_set.min_metric_points:
            errors.append(
                f"metric {metric.code!r}: max_points {metric.max_points} is below"
                f" min_metric_points {rule_set.min_metric_points}, so nobody could ever qualify"
            )
    total = sum((m.max_points for m in rule_set.metrics), Fraction(0))
    if rule_set.metrics and total != rule_set.max_total:
        errors.append(f"max_points sum to {total}, not max_total {rule_set.max_total}")
    if not 0 <= rule_set.qualifying_total <= rule_set.max_total:
        errors.append(
            f"qualifying_total {rule_set.qualifying_total} must be between 0 and"
            f" max_total {rule_set.max_total}"
        )
    if rule_set.min_metric_points < 0:
        errors.append(f"min_metric_points must be >= 0, got {rule_set.min_metric_points}")
    if errors:
        raise RuleSetError(f"{name}: " + "; ".join(errors))
