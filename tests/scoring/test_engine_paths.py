"""The shortest path to qualification (`scoring.engine.paths`): tables, then brute force.

No database: rule sets are literal. The brute force enumerates every set of additions smaller
than the path returned and checks that none qualifies, and that the path itself does.
"""

from __future__ import annotations

import itertools
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.engine import (
    BASELINE_SUFFIX,
    CLASSIFICATION,
    MetricRule,
    RuleSet,
    Scaling,
    SourceRule,
    StepRule,
    TrackMode,
    TrackRule,
    score_designation,
)
from scoring.engine.paths import AdditionKind, apply_additions, shortest_path

PER_UNIT = Scaling.PER_UNIT


def metric(code, category, max_points, target, *sources, **extra):
    return MetricRule(
        code=code,
        category=category,
        max_points=F(max_points),
        target=None if target is None else F(target),
        scaling=extra.pop("scaling", PER_UNIT),
        unit_label=extra.pop("unit_label", code),
        sources=tuple(sources),
        **extra,
    )


def count(key, label="", target=None, **extra):
    return SourceRule(key=key, label=label or key, unit="count", target=target, **extra)


def security() -> RuleSet:
    """Security as program.md §3.5 prints it: 20 / 40 / 20 / 20."""
    return RuleSet(
        designation="security",
        version=1,
        qualifying_total=F(70),
        min_metric_points=F(1),
        metrics=(
            metric("net_customer_adds", "performance", 20, 10, count("m365"), count("azure"),
                   unit_label="net customer adds", unit_label_one="net customer add"),
            metric("intermediate_certifications", "skilling", 40, 6, count("people"),
                   unit_label="individuals", unit_label_one="individual",
                   requirement="holding MS-500 + AZ-500"),
            metric("usage_growth", "customer_success", 20, None,
                   SourceRule(key="mpu", label="MPU growth", unit="users", target=F(2500)),
                   scaling=Scaling.PROPORTIONAL),
            metric("deployments", "customer_success", 20, 6, count("azure"),
                   unit_label="deployments", unit_label_one="deployment"),
        ),
    )  # fmt: skip


def security_measures(adds=0, people=0, mpu=0, deployments=0):
    return {
        "net_customer_adds": {"m365": adds, "azure": 0},
        "intermediate_certifications": {"people": people},
        "usage_growth": {"mpu": mpu},
        "deployments": {"azure": deployments},
    }


def gated() -> RuleSet:
    """SMB-style skilling: a gate of 2 people holding X before Y-holders score 5 each."""
    return RuleSet(
        designation="gated",
        version=1,
        qualifying_total=F(70),
        min_metric_points=F(0),
        metrics=(
            metric("skilling", "skilling", 50, None, steps=(
                StepRule(key="step1", min_people=2, scoring=False, requirement="X"),
                StepRule(key="step2", min_people=0, scoring=True, points_each=F(5),
                         requirement="Y"),
            )),
            metric("deployments", "customer_success", 50, 5, count("d")),
        ),
    )  # fmt: skip


def two_tracks(mode=TrackMode.BEST) -> RuleSet:
    classified = mode is TrackMode.CLASSIFIED
    return RuleSet(
        designation="tracks",
        version=1,
        qualifying_total=F(70),
        min_metric_points=F(0),
        tracks=(TrackRule("a", "A", classified=classified), TrackRule("b", "B")),
        track_mode=mode,
        metrics=(
            metric("adds", "performance", 100, 10, count("n"), track="a"),
            metric("adds", "performance", 100, 4, count("n"), track="b"),
        ),
    )


def sizes(path):
    return (path.people, path.customers, path.amounts)


@pytest.mark.parametrize(
    ("rules", "measures", "expected"),
    [
        # 66.7: one more certified individual (+6.7) qualifies.
        (security(), security_measures(adds=6, people=4, mpu=1000, deployments=6), (1, 0, 0)),
        # Already qualified: nothing to add.
        (security(), security_measures(adds=10, people=6, mpu=2500, deployments=6), (0, 0, 0)),
        # Nothing yet: 6 people (40) + MPU to full by one amount (20) + 1 add for the adds'
        # minimum point (2) + 3 deployments (10) = 72 with 11 additions.
        (security(), security_measures(), (6, 4, 1)),
        # The gate first (2 people holding X), then Y-holders: 20 / 5 = 4 of them, + 5 deployments
        # at 10 each would be 50 — cheaper: 2 gate + 4 scorers (20) + 5 deployments (50) = 11;
        # or 2 gate + 10 scorers = 50 + 2 deployments (20) = 14. The first is the shortest.
        (gated(), {"skilling": {"step1": 0, "step2": 0}, "deployments": {"d": 0}}, (6, 5, 0)),
        # Best of two tracks: track b needs 3 (of 4) adds, track a 7 (of 10).
        (two_tracks(), {"a/adds": {"n": 0}, "b/adds": {"n": 0}}, (0, 3, 0)),
    ],
    ids=["one-person", "qualified", "from-nothing", "gated", "best-track"],
)
def test_shortest_path_sizes(rules, measures, expected):
    path = shortest_path(rules, measures)
    assert path is not None
    assert sizes(path) == expected
    assert score_designation(rules, apply_additions(measures, path.additions)).qualified


def test_the_path_names_the_rule_sets_units():
    path = shortest_path(security(), security_measures(adds=6, people=4, mpu=1000, deployments=6))
    (addition,) = path.additions
    assert addition.kind is AdditionKind.PERSON
    assert (addition.label, addition.label_one) == ("individuals", "individual")
    assert addition.requirement == "holding MS-500 + AZ-500"
    assert path.total == 12 + F(200, 6) + 8 + 20


def test_an_amount_is_the_smallest_that_qualifies_with_the_rest():
    """Deployments and individuals full, adds 6 (12): MPU must bring 70 - 72 + ... points."""
    measures = security_measures(adds=3, people=6, mpu=0, deployments=6)
    # 6 + 40 + 0 + 20 = 66: 4 points more; an add gives 2, MPU 1 point per 125 users.
    path = shortest_path(security(), measures)
    assert path.size == 1
    (addition,) = path.additions
    assert addition.kind is AdditionKind.AMOUNT and addition.unit == "users"
    assert addition.amount == 500  # 4 points of 20 per 2,500 users
    assert score_designation(security(), apply_additions(measures, path.additions)).total == 70


def test_percentage_growth_counts_in_percentage_points_of_the_baseline():
    rules = RuleSet(
        designation="growth",
        version=1,
        qualifying_total=F(70),
        min_metric_points=F(0),
        metrics=(
            metric("usage_growth", "customer_success", 100, 40,
                   SourceRule(key="acr", label="ACR growth", unit="percent", percent=True,
                              baseline_unit="usd", min_baseline=F(1000)),
                   scaling=Scaling.PROPORTIONAL),
        ),
    )  # fmt: skip
    measures = {"usage_growth": {"acr": 1100, "acr" + BASELINE_SUFFIX: 1000}}  # 10 % now
    path = shortest_path(rules, measures)
    (addition,) = path.additions
    assert (addition.kind, addition.unit, addition.amount) == (AdditionKind.AMOUNT, "percent", 18)
    # Without the minimum baseline no growth scores, whatever the amount: no path.
    assert shortest_path(rules, {"usage_growth": {"acr": 500, "acr@base": 500}}) is None


def test_a_classified_track_is_planned_on_the_track_it_is_classified_on():
    rules = two_tracks(TrackMode.CLASSIFIED)
    measures = {"a/adds": {"n": 0}, "b/adds": {"n": 0}, CLASSIFICATION: {"a": 1}}
    path = shortest_path(rules, measures)
    assert path.track == "a" and path.customers == 7


def test_no_path_within_the_bound():
    assert shortest_path(security(), security_measures(), max_additions=5) is None


def test_options_take_the_cheaper_option():
    rules = RuleSet(
        designation="options",
        version=1,
        qualifying_total=F(70),
        min_metric_points=F(0),
        metrics=(
            metric("deployments", "customer_success", 100, 10,
                   count("big", option="big"), count("small", option="small", unit_size=F(2))),
        ),
    )  # fmt: skip
    path = shortest_path(rules, {"deployments": {"big": 6, "small": 0}})
    assert path.customers == 1 and path.additions[0].key == "big"


# --- brute force -------------------------------------------------------------------------------


@st.composite
def small_metric(draw, code, max_points, track=""):
    kind = draw(st.sampled_from(["summed", "per_source", "options", "steps"]))
    scaling = draw(st.sampled_from([Scaling.PER_UNIT, Scaling.PROPORTIONAL]))
    category = draw(st.sampled_from(["skilling", "performance"]))
    common = {"track": track, "scaling": scaling}
    if kind == "summed":
        n = draw(st.integers(1, 2))
        sources = [count(f"s{i}") for i in range(n)]
        if draw(st.booleans()):
            sources[0] = count("s0", unit_size=F(2))
        return metric(code, category, max_points, draw(st.integers(1, 4)), *sources, **common)
    if kind == "per_source":
        sources = [count(f"s{i}", target=F(draw(st.integers(1, 3)))) for i in range(2)]
        return metric(code, category, max_points, None, *sources, **common)
    if kind == "options":
        sources = [count("a", option="a"), count("b", option="b", unit_size=F(2))]
        return metric(code, category, max_points, draw(st.integers(1, 4)), *sources, **common)
    gate = StepRule(
        key="g",
        min_people=draw(st.integers(1, 2)),
        scoring=False,
        points_each=draw(st.sampled_from([None, F(max_points) / 4])),
        points_cap=None,
    )
    scorer = StepRule(key="p", min_people=0, scoring=True, points_each=F(max_points) / 3)
    return metric(code, "skilling", max_points, None, steps=(gate, scorer), track=track)


@st.composite
def small_cases(draw):
    split = draw(st.sampled_from([(100,), (50, 50), (30, 70), (40, 30, 30)]))
    with_tracks = draw(st.booleans()) and len(split) <= 2
    metrics = []
    tracks: tuple[TrackRule, ...] = ()
    codes = ["m0", "m1", "m2"]
    if with_tracks:
        tracks = (TrackRule("t1", "T1"), TrackRule("t2", "T2"))
        for track in ("t1", "t2"):
            for code, points in zip(codes, split, strict=False):
                metrics.append(draw(small_metric(code, points, track=track)))
    else:
        for code, points in zip(codes, split, strict=False):
            metrics.append(draw(small_metric(code, points)))
    rules = RuleSet(
        designation="random",
        version=1,
        qualifying_total=F(draw(st.sampled_from([40, 70, 90]))),
        min_metric_points=F(draw(st.sampled_from([0, 1]))),
        metrics=tuple(metrics),
        tracks=tracks,
        track_mode=TrackMode.BEST if tracks else TrackMode.SINGLE,
    )
    measures = {
        m.slot: {key: draw(st.integers(-1 if not m.steps else 0, 2)) for key in m.value_keys()}
        for m in rules.metrics
    }
    return rules, measures


BOUND = 6


def _qualifies_with(rules, measures, keys, vector):
    changed = {slot: dict(values) for slot, values in measures.items()}
    for (slot, key), amount in zip(keys, vector, strict=True):
        changed[slot][key] = changed[slot][key] + amount
    return score_designation(rules, changed).qualified


def _vectors(length, most):
    """Every vector of `length` non-negative integers summing to at most `most`."""
    for total in range(most + 1):
        for cuts in itertools.combinations_with_replacement(range(length), total):
            vector = [0] * length
            for index in cuts:
                vector[index] += 1
            yield total, tuple(vector)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_cases())
def test_the_path_qualifies_and_no_smaller_set_does(case):
    rules, measures = case
    keys = [(m.slot, key) for m in rules.metrics for key in m.value_keys()]
    path = shortest_path(rules, measures, max_additions=BOUND)
    if path is not None:
        assert score_designation(rules, apply_additions(measures, path.additions)).qualified
        assert all(a.kind is not AdditionKind.AMOUNT for a in path.additions)
    smallest = next(
        (
            total
            for total, vector in _vectors(len(keys), BOUND)
            if _qualifies_with(rules, measures, keys, vector)
        ),
        None,
    )
    if path is None:
        assert smallest is None
    else:
        assert smallest == path.size
