"""The shortest path to qualification: the fewest additions that make a designation qualify.

Generic over the rule data (summed sources, per-source targets, options, gated steps, tracks):
every candidate is scored by the engine itself (`score_metric`), so a path is exactly as the
nightly scoring would see it. No Django here.

What one *addition* is, per kind of measure a metric reads:
- a gated skilling step (`MetricRule.steps`): one more person counted at that step ("1 more
  person holding AZ-104"); each step is its own lever, gates included;
- a count source of a skilling metric (qualifying individuals): one more person holding the
  metric's certifications;
- a count source of any other metric (net customer adds, deployments, qualifying tenants,
  distinct services): one more customer counted there;
- a source in another unit — consumption in usd, users, or percentage growth (counted in
  percentage points of growth over the source's baseline) — one *amount* addition of the
  smallest whole amount that, with the rest of the path, qualifies. It counts as one addition,
  as a person or a customer does; between paths of equal size, the one with fewer amounts wins
  (people and customers are what a partner plans with). A growth source whose baseline is below
  its minimum cannot be grown by any amount and offers no addition.

The size of a path is its people + customers + amounts. A person or customer is assumed to
count in one metric only: one customer that is both a net add and a deployment is two additions
here, so a path may overstate what a partner needs, never understate it. Classified tracks: the
path is for the track the measures classify (additions do not change a classification); best
of several tracks: the smallest path over the tracks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from .numbers import COUNT, PERCENT, Number, to_fraction
from .rules import BASELINE_SUFFIX, MetricRule, RuleSet, SourceRule, TrackMode, validate_rule_set
from .scoring import Measures, score_designation, score_metric

ZERO = Fraction(0)
DEFAULT_MAX_ADDITIONS = 40
AMOUNT_CEILING = Fraction(10) ** 12  # no consumption or growth lever is sought beyond this


class AdditionKind(StrEnum):
    PERSON = "person"
    CUSTOMER = "customer"
    AMOUNT = "amount"


@dataclass(frozen=True)
class Addition:
    """`amount` more of one measure of one metric: people, customers, or an amount of `unit`."""

    metric: str  # metric code
    slot: str  # where the measures hold it ("track/code" or the code)
    key: str  # the measure key (step or source key)
    kind: AdditionKind
    amount: Fraction
    unit: str
    label: str
    label_one: str = ""
    requirement: str = ""  # certifications a person must hold ("AZ-104 + AZ-305")


@dataclass(frozen=True)
class ShortestPath:
    """The smallest set of additions that qualifies a designation (empty: already qualified)."""

    designation: str
    track: str
    additions: tuple[Addition, ...]
    total: Fraction  # the projected total with the additions

    @property
    def size(self) -> int:
        return sum(1 if a.kind is AdditionKind.AMOUNT else int(a.amount) for a in self.additions)

    @property
    def people(self) -> int:
        return sum(int(a.amount) for a in self.additions if a.kind is AdditionKind.PERSON)

    @property
    def customers(self) -> int:
        return sum(int(a.amount) for a in self.additions if a.kind is AdditionKind.CUSTOMER)

    @property
    def amounts(self) -> int:
        return sum(1 for a in self.additions if a.kind is AdditionKind.AMOUNT)


@dataclass(frozen=True)
class _Lever:
    addition: Addition  # amount 1 (count levers) or the unit lever of an amount
    percent_of: str = ""  # a growth lever: the baseline key the percentage points are of


@dataclass(frozen=True)
class _Option:
    """One way a metric reaches `points`: `count` people/customers plus `amounts` amounts."""

    count: int
    amounts: int
    points: Fraction
    additions: tuple[Addition, ...]


def _count_lever(metric: MetricRule, key: str, label: str, label_one: str, req: str) -> _Lever:
    kind = (
        AdditionKind.PERSON
        if metric.steps or metric.category == "skilling"
        else AdditionKind.CUSTOMER
    )
    return _Lever(
        Addition(
            metric=metric.code,
            slot=metric.slot,
            key=key,
            kind=kind,
            amount=Fraction(1),
            unit=COUNT,
            label=label,
            label_one=label_one,
            requirement=req,
        )
    )


def _amount_lever(metric: MetricRule, source: SourceRule) -> _Lever:
    return _Lever(
        Addition(
            metric=metric.code,
            slot=metric.slot,
            key=source.key,
            kind=AdditionKind.AMOUNT,
            amount=Fraction(1),
            unit=PERCENT if source.percent else source.unit,
            label=source.label,
            label_one=source.label_one,
        ),
        percent_of=source.key + BASELINE_SUFFIX if source.percent else "",
    )


def _levers(metric: MetricRule) -> tuple[list[_Lever], list[_Lever]]:
    """The metric's count levers (people, customers) and amount levers."""
    if metric.steps:
        return [
            _count_lever(metric, step.key, "people", "person", step.requirement)
            for step in metric.steps
        ], []
    counts: list[_Lever] = []
    amounts: list[_Lever] = []
    summed_options: set[str] = set()
    for source in metric.sources:
        if source.percent or source.unit != COUNT:
            amounts.append(_amount_lever(metric, source))
            continue
        if metric.has_source_targets:
            counts.append(
                _count_lever(metric, source.key, source.label, source.label_one, metric.requirement)
            )
        elif source.unit_size is not None or source.option not in summed_options:
            # Summed plain counts of one option are interchangeable: one lever stands for all.
            if source.unit_size is None:
                summed_options.add(source.option)
            counts.append(
                _count_lever(
                    metric,
                    source.key,
                    metric.unit_label,
                    metric.unit_label_one,
                    metric.requirement,
                )
            )
    return counts, amounts


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way of writing `total` as `parts` non-negative integers."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


class _MetricSearch:
    """A metric's points under additions, memoized; raw values as exact fractions."""

    def __init__(self, metric: MetricRule, raw: Mapping[str, Number], min_points: Fraction):
        self.metric = metric
        self.min_points = min_points
        self.raw = {
            key: to_fraction(raw.get(key, 0), f"measure {metric.slot!r}/{key!r}")
            for key in metric.value_keys()
        }
        self.memo: dict[tuple[tuple[str, Fraction], ...], Fraction] = {}

    def points(self, added: Mapping[str, Fraction]) -> Fraction:
        values = dict(self.raw)
        for key, amount in added.items():
            values[key] = values.get(key, ZERO) + amount
        memo_key = tuple(sorted(values.items()))
        found = self.memo.get(memo_key)
        if found is None:
            found = self.memo[memo_key] = score_metric(self.metric, values, self.min_points).points
        return found

    def applied(self, lever: _Lever, amount: Fraction) -> dict[str, Fraction]:
        """The raw change of `amount` on a lever (percentage points of its baseline for growth)."""
        if lever.percent_of:
            return {lever.addition.key: amount * self.raw.get(lever.percent_of, ZERO) / 100}
        return {lever.addition.key: amount}


def _smallest_amount(
    points_at: Callable[[Fraction], Fraction], needed: Fraction
) -> Fraction | None:
    """The smallest whole amount at which `points_at(amount)` reaches `needed`, if any."""
    high = Fraction(1)
    while points_at(high) < needed:
        high *= 2
        if high > AMOUNT_CEILING:
            return None
    low = high / 2 if high > 1 else ZERO  # points_at(low) < needed, or low is 0
    if low == 0 and points_at(ZERO) >= needed:
        return ZERO
    while high - low > 1:
        middle = Fraction((low + high) // 2)
        if points_at(middle) >= needed:
            high = middle
        else:
            low = middle
    return high


def _metric_options(search: _MetricSearch, max_additions: int) -> list[_Option]:
    """The metric's non-dominated ways to more points: the best points for each number of
    people/customers (0, 1, 2 …, until full points), and full points by one amount."""
    metric = search.metric
    count_levers, amount_levers = _levers(metric)
    best = search.points({})
    options = [_Option(0, 0, best, ())]
    if count_levers:
        for count in range(1, max_additions + 1):
            if best >= metric.max_points:
                break
            top: tuple[Fraction, tuple[int, ...]] | None = None
            for split in _compositions(count, len(count_levers)):
                added = {
                    lever.addition.key: Fraction(n)
                    for lever, n in zip(count_levers, split, strict=True)
                    if n
                }
                points = search.points(added)
                if top is None or points > top[0]:
                    top = (points, split)
            assert top is not None
            if top[0] > best:
                best = top[0]
                additions = tuple(
                    _with_amount(lever.addition, Fraction(n))
                    for lever, n in zip(count_levers, top[1], strict=True)
                    if n
                )
                options.append(_Option(count, 0, best, additions))
    if options[0].points < metric.max_points:
        for lever in amount_levers:

            def points_at(amount: Fraction, lever: _Lever = lever) -> Fraction:
                return search.points(search.applied(lever, amount))

            amount = _smallest_amount(points_at, metric.max_points)
            if amount:
                options.append(
                    _Option(0, 1, metric.max_points, (_with_amount(lever.addition, amount),))
                )
                break  # one amount to full points is enough; the shrink step sizes it
    return options


def _with_amount(addition: Addition, amount: Fraction) -> Addition:
    return Addition(
        metric=addition.metric,
        slot=addition.slot,
        key=addition.key,
        kind=addition.kind,
        amount=amount,
        unit=addition.unit,
        label=addition.label,
        label_one=addition.label_one,
        requirement=addition.requirement,
    )


def _track_path(
    rule_set: RuleSet, track: str, measures: Measures, max_additions: int
) -> tuple[tuple[int, int], tuple[Addition, ...], dict[str, _MetricSearch]] | None:
    """The cheapest (size, amounts) set of additions qualifying one track, or None."""
    searches: dict[str, _MetricSearch] = {}
    # (size, amounts) -> (the highest total reachable at that cost, its additions)
    states: dict[tuple[int, int], tuple[Fraction, tuple[Addition, ...]]] = {(0, 0): (ZERO, ())}
    for metric in rule_set.track_metrics(track):
        search = _MetricSearch(metric, measures.get(metric.slot, {}), rule_set.min_metric_points)
        searches[metric.slot] = search
        options = [
            o for o in _metric_options(search, max_additions) if o.points >= search.min_points
        ]
        merged: dict[tuple[int, int], tuple[Fraction, tuple[Addition, ...]]] = {}
        for (size, amounts), (total, additions) in states.items():
            for option in options:
                key = (size + option.count + option.amounts, amounts + option.amounts)
                if key[0] > max_additions:
                    continue
                candidate = (total + option.points, additions + option.additions)
                if key not in merged or candidate[0] > merged[key][0]:
                    merged[key] = candidate
        states = merged
        if not states:
            return None
    reachable = sorted(k for k, (total, _) in states.items() if total >= rule_set.qualifying_total)
    if not reachable:
        return None
    cost = reachable[0]
    return cost, states[cost][1], searches


def _shrink_amounts(
    rule_set: RuleSet,
    track: str,
    found: tuple[Addition, ...],
    searches: Mapping[str, _MetricSearch],
) -> tuple[tuple[Addition, ...], Fraction]:
    """Each amount down to the smallest whole amount that still qualifies with the rest."""
    additions = list(found)

    def metric_points(slot: str, chosen: list[Addition]) -> Fraction:
        search = searches[slot]
        added: dict[str, Fraction] = {}
        for addition in chosen:
            if addition.slot != slot:
                continue
            for key, value in _raw_change(search, addition).items():
                added[key] = added.get(key, ZERO) + value
        return search.points(added)

    for index, addition in enumerate(additions):
        if addition.kind is not AdditionKind.AMOUNT:
            continue
        others = [a for i, a in enumerate(additions) if i != index]
        rest = sum(
            (metric_points(m.slot, additions) for m in rule_set.track_metrics(track)
             if m.slot != addition.slot),
            ZERO,
        )  # fmt: skip
        needed = max(rule_set.qualifying_total - rest, rule_set.min_metric_points)

        def points_at(
            amount: Fraction, addition: Addition = addition, others: list[Addition] = others
        ) -> Fraction:
            same_metric = [a for a in others if a.slot == addition.slot]
            return metric_points(addition.slot, [*same_metric, _with_amount(addition, amount)])

        smallest = _smallest_amount(points_at, needed)
        if smallest is not None and 0 < smallest < addition.amount:
            additions[index] = _with_amount(addition, smallest)
    total = sum((metric_points(m.slot, additions) for m in rule_set.track_metrics(track)), ZERO)
    return tuple(additions), total


def _raw_change(search: _MetricSearch, addition: Addition) -> dict[str, Fraction]:
    if addition.kind is AdditionKind.AMOUNT and addition.unit == PERCENT:
        source = next(s for s in search.metric.sources if s.key == addition.key)
        if source.percent:
            base = search.raw.get(addition.key + BASELINE_SUFFIX, ZERO)
            return {addition.key: addition.amount * base / 100}
    return {addition.key: addition.amount}


def apply_additions(measures: Measures, additions: tuple[Addition, ...]) -> Measures:
    """The measures with the additions made (growth in percentage points of its baseline)."""
    result: dict[str, dict[str, Number]] = {slot: dict(values) for slot, values in measures.items()}
    for addition in additions:
        slot = result.setdefault(addition.slot, {})
        change = addition.amount
        if addition.kind is AdditionKind.AMOUNT and addition.unit == PERCENT:
            base = to_fraction(slot.get(addition.key + BASELINE_SUFFIX, 0), "baseline")
            change = addition.amount * base / 100
        slot[addition.key] = to_fraction(slot.get(addition.key, 0), "measure") + change
    return result


def shortest_path(
    rule_set: RuleSet, measures: Measures, *, max_additions: int = DEFAULT_MAX_ADDITIONS
) -> ShortestPath | None:
    """The fewest additions (people + customers + amounts) that qualify the designation.

    Empty additions when it already qualifies; None when no path of at most `max_additions`
    exists (e.g. a growth metric without a baseline that no addition can lift).
    """
    validate_rule_set(rule_set)
    current = score_designation(rule_set, measures)
    if current.qualified:
        return ShortestPath(rule_set.designation, current.track, (), current.total)
    if rule_set.track_mode is TrackMode.CLASSIFIED:
        tracks = [current.track]
    else:
        tracks = [t.code for t in rule_set.tracks] or [""]
    best: tuple[tuple[int, int], ShortestPath] | None = None
    for track in tracks:
        found = _track_path(rule_set, track, measures, max_additions)
        if found is None:
            continue
        cost, additions, searches = found
        additions, total = _shrink_amounts(rule_set, track, additions, searches)
        path = ShortestPath(rule_set.designation, track, additions, total)
        if best is None or cost < best[0]:
            best = (cost, path)
    return best[1] if best else None
