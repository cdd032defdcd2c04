"""Rule-set data: what each metric of a designation measures, its target and its maximum.

Every published version of the program is data of these shapes (no designation in code):
- tracks (`RuleSet.tracks`, `track_mode`): best — scored on every track, the best counts;
  classified — the track whose classification holds (a measure says which), else the one
  track without a classification rule. A metric of one track (`MetricRule.track`) counts there
  only, a metric without a track on every track; each track's metrics sum to `max_total`.
- gated skilling (`MetricRule.steps`): gates need `min_people` and award only capped points of
  their own (SMB), scoring steps award their people once every gate is met;
- options within a metric (`SourceRule.option`): each option scored alone, the best counts;
- per-unit points (`SourceRule.unit_size`: 1 point per $1,250), percentage growth of a baseline
  with a minimum baseline (`SourceRule.percent`, `min_baseline`).
The measures layer computes the counts (distinct services, seat bands, active-seat ratios,
per-workload thresholds, consumption values): the engine only turns numbers into points.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from .numbers import COUNT, UNITS, to_fraction


class RuleSetError(ValueError):
    """A rule set that cannot be scored consistently."""


class Scaling(StrEnum):
    """How a metric's value turns into points."""

    PER_UNIT = "per_unit"
    PROPORTIONAL = "proportional"


class TrackMode(StrEnum):
    """How a designation's tracks give its score."""

    SINGLE = "single"
    BEST = "best"
    CLASSIFIED = "classified"


CLASSIFICATION = "__track__"
"""The measures entry saying which classified tracks' rules hold: {track code: 1 or 0}."""

BASELINE_SUFFIX = "@base"
"""A percentage-growth source reads its current value at `key` and its baseline at
`key + BASELINE_SUFFIX`."""


@dataclass(frozen=True)
class TrackRule:
    """A qualification track; `classified`: assigned when its classification rule holds."""

    code: str
    label: str
    classified: bool = False


@dataclass(frozen=True)
class StepRule:
    """A step of a gated certification metric; the measure at `key` is its people count."""

    key: str
    min_people: int
    scoring: bool
    points_each: Fraction | None = None
    points_cap: Fraction | None = None
    requirement: str = ""  # "holding AZ-104", for gap texts
    # The certification groups behind `requirement` — (mode, codes) each — for gap texts in the
    # reader's language.
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        for name in ("points_each", "points_cap"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_fraction(value, f"step {self.key!r} {name}"))


@dataclass(frozen=True)
class SourceRule:
    """One contribution to a metric; target set only when each source has its own target."""

    key: str
    label: str
    unit: str
    target: Fraction | None = None
    label_one: str = ""  # the label after "1 more" ("deployment"); blank: `label` always
    option: str = ""  # sources of one option are scored together; the best option counts
    unit_size: Fraction | None = None  # the value counts in whole multiples of this
    percent: bool = False  # value = growth of `key` over its baseline, in per cent
    min_baseline: Fraction | None = None  # percent: below this baseline the growth is 0
    baseline_unit: str = COUNT

    def __post_init__(self) -> None:
        # Rule data usually comes from DecimalField/IntegerField; Fraction * Decimal raises.
        for name in ("target", "unit_size", "min_baseline"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_fraction(value, f"source {self.key!r} {name}"))


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
    track: str = ""  # blank: the metric counts on every track
    steps: tuple[StepRule, ...] = ()

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
        object.__setattr__(self, "steps", tuple(self.steps))

    @property
    def has_source_targets(self) -> bool:
        """True when the metric is scored per source against each source's own target."""
        return self.target is None

    @property
    def slot(self) -> str:
        """Where the measures hold this metric's values: "track/code", or the code."""
        return f"{self.track}/{self.code}" if self.track else self.code

    @property
    def options(self) -> tuple[str, ...]:
        """The metric's options in source order ("" alone when it has none)."""
        return tuple(dict.fromkeys(source.option for source in self.sources))

    def value_keys(self) -> tuple[str, ...]:
        """Every measure key the metric reads (steps, sources, baselines)."""
        if self.steps:
            return tuple(step.key for step in self.steps)
        keys: list[str] = []
        for source in self.sources:
            keys.append(source.key)
            if source.percent:
                keys.append(source.key + BASELINE_SUFFIX)
        return tuple(keys)


@dataclass(frozen=True)
class RuleSet:
    """One version of a designation's rules: metrics whose max_points sum to max_total."""

    designation: str
    version: int
    qualifying_total: Fraction
    min_metric_points: Fraction
    metrics: tuple[MetricRule, ...]
    max_total: Fraction = field(default=Fraction(100))
    tracks: tuple[TrackRule, ...] = ()
    track_mode: TrackMode = TrackMode.SINGLE

    def __post_init__(self) -> None:
        for name in ("qualifying_total", "min_metric_points", "max_total"):
            object.__setattr__(
                self,
                name,
                to_fraction(getattr(self, name), f"rule set {self.designation!r} {name}"),
            )
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "tracks", tuple(self.tracks))
        try:
            object.__setattr__(self, "track_mode", TrackMode(self.track_mode))
        except ValueError:
            raise RuleSetError(
                f"rule set {self.designation!r}: unknown track mode {self.track_mode!r}"
            ) from None

    def track_metrics(self, track: str) -> tuple[MetricRule, ...]:
        """The metrics that count on a track ("" for a rule set without tracks)."""
        return tuple(m for m in self.metrics if not m.track or m.track == track)


def _validate_steps(metric: MetricRule, where: str) -> list[str]:
    """A gated metric: unique keys, at least one scoring step, a way to price its people."""
    errors: list[str] = []
    duplicate_keys = sorted(k for k, n in Counter(s.key for s in metric.steps).items() if n > 1)
    if duplicate_keys:
        errors.append(f"{where}: duplicate step keys {duplicate_keys}")
    if not any(step.scoring for step in metric.steps):
        errors.append(f"{where}: its steps need at least one scoring step")
    for step in metric.steps:
        name = f"{where} step {step.key!r}"
        if not step.scoring and step.min_people < 1:
            errors.append(f"{name}: a gate needs at least one person")
        if step.points_each is not None and step.points_each <= 0:
            errors.append(f"{name}: points per person must be > 0, got {step.points_each}")
        if step.points_cap is not None and step.points_each is None:
            errors.append(f"{name}: a points cap needs points per person")
        if step.scoring and step.points_each is None and metric.target is None:
            errors.append(f"{name}: needs points per person or a metric target")
    if metric.target is not None and metric.target <= 0:
        errors.append(f"{where}: target must be > 0, got {metric.target}")
    return errors


def _validate_metric(metric: MetricRule, where: str) -> list[str]:
    """List what is wrong with one metric: positive max, positive targets, one way of targeting."""
    errors: list[str] = []
    if metric.max_points <= 0:
        errors.append(f"{where}: max_points must be > 0, got {metric.max_points}")
    if metric.steps:
        if metric.sources:
            errors.append(f"{where}: has both steps and sources; use one")
        return errors + _validate_steps(metric, where)
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
        if source.unit_size is not None and source.unit_size <= 0:
            errors.append(
                f"{where} source {source.key!r}: unit size must be > 0, got {source.unit_size}"
            )
        if source.min_baseline is not None and not source.percent:
            errors.append(f"{where} source {source.key!r}: a minimum baseline needs percent growth")
    options = metric.options
    if "" in options and len(options) > 1:
        errors.append(f"{where}: every source needs an option once one has an option")
    if len(options) > 1:
        for option in options:
            part = [s for s in metric.sources if s.option == option]
            errors.extend(_validate_targets(metric, part, f"{where} option {option!r}"))
        return errors
    return errors + _validate_targets(metric, list(metric.sources), where)


def _validate_targets(metric: MetricRule, sources: list[SourceRule], where: str) -> list[str]:
    """One way of targeting: a metric target for sources of one unit, or a target each."""
    errors: list[str] = []
    with_target = [s.key for s in sources if s.target is not None]
    if metric.target is not None:
        if metric.target <= 0:
            errors.append(f"{where}: target must be > 0, got {metric.target}")
        if with_target:
            # Both would leave it unclear which target the points are measured against.
            errors.append(
                f"{where}: has a metric target and per-source targets on {with_target}; set one"
            )
        units = sorted({s.unit for s in sources})
        if len(units) > 1:
            errors.append(
                f"{where}: sources summed against one target must share a unit, got {units}"
            )
    elif not with_target:
        errors.append(f"{where}: has neither a metric target nor per-source targets")
    elif len(with_target) != len(sources):
        missing = [s.key for s in sources if s.target is None]
        errors.append(f"{where}: without a metric target every source needs one; missing {missing}")
    return errors


def _validate_tracks(rule_set: RuleSet) -> list[str]:
    """Tracks: known codes, one default track when classified, no tracks for a single one."""
    errors: list[str] = []
    codes = [track.code for track in rule_set.tracks]
    duplicate = sorted(c for c, n in Counter(codes).items() if n > 1)
    if duplicate:
        errors.append(f"duplicate track codes {duplicate}")
    unknown = sorted({m.track for m in rule_set.metrics if m.track and m.track not in codes})
    if unknown:
        errors.append(f"metrics name unknown tracks {unknown}")
    if rule_set.track_mode is TrackMode.SINGLE:
        if rule_set.tracks:
            errors.append("has tracks but scores one track; choose how the tracks count")
        return errors
    if not rule_set.tracks:
        errors.append(f"track mode {rule_set.track_mode.value!r} needs at least one track")
    if rule_set.track_mode is TrackMode.CLASSIFIED:
        defaults = [track.code for track in rule_set.tracks if not track.classified]
        if len(defaults) > 1:
            errors.append(
                f"tracks {defaults} have no classification rule; only one track may be the default"
            )
        if rule_set.tracks and not defaults:
            errors.append("every track has a classification rule; one must be the default")
        if rule_set.tracks and len(defaults) == len(rule_set.tracks):
            errors.append("no track has a classification rule")
    elif any(track.classified for track in rule_set.tracks):
        errors.append("tracks scored on all, best counts, take no classification rule")
    return errors


def validate_rule_set(rule_set: RuleSet) -> None:
    """Raise RuleSetError unless max_points sum to max_total and every target is set and > 0."""
    name = f"rule set {rule_set.designation!r} v{rule_set.version}"
    errors: list[str] = []
    if not rule_set.metrics:
        errors.append("has no metrics")
    errors.extend(_validate_tracks(rule_set))
    track_codes = [t.code for t in rule_set.tracks] or [""]
    for track in track_codes:
        on_track = rule_set.track_metrics(track)
        where = f"track {track!r}: " if track else ""
        duplicate_codes = sorted(c for c, n in Counter(m.code for m in on_track).items() if n > 1)
        if duplicate_codes:
            errors.append(f"{where}duplicate metric codes {duplicate_codes}")
        total = sum((m.max_points for m in on_track), Fraction(0))
        if on_track and total != rule_set.max_total:
            errors.append(f"{where}max_points sum to {total}, not max_total {rule_set.max_total}")
    for metric in rule_set.metrics:
        errors.extend(_validate_metric(metric, f"metric {metric.slot!r}"))
        if metric.max_points < rule_set.min_metric_points:
            errors.append(
                f"metric {metric.slot!r}: max_points {metric.max_points} is below"
                f" min_metric_points {rule_set.min_metric_points}, so nobody could ever qualify"
            )
    if not 0 <= rule_set.qualifying_total <= rule_set.max_total:
        errors.append(
            f"qualifying_total {rule_set.qualifying_total} must be between 0 and"
            f" max_total {rule_set.max_total}"
        )
    if rule_set.min_metric_points < 0:
        errors.append(f"min_metric_points must be >= 0, got {rule_set.min_metric_points}")
    if errors:
        raise RuleSetError(f"{name}: " + "; ".join(errors))
