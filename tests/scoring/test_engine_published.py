"""The engine against the worked examples of the published pages (published-rules.md).

Each table row is one example of a Microsoft Learn page (V2023: kvamseek/partner-center,
V2026: cpan1979/pcs-skills snapshots), or a rule those pages state, scored by the engine from
rule data built here literally: no database, no designation in code.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from scoring.engine import (
    BASELINE_SUFFIX,
    CLASSIFICATION,
    MetricRule,
    RuleSet,
    RuleSetError,
    Scaling,
    SourceRule,
    StepRule,
    TrackMode,
    TrackRule,
    score_designation,
    score_metric,
    validate_rule_set,
)


def skilling(max_points: int, steps: list[StepRule], target: int | None = None) -> MetricRule:
    return MetricRule(
        code="intermediate_certifications",
        category="skilling",
        max_points=F(max_points),
        target=None if target is None else F(target),
        scaling=Scaling.PER_UNIT,
        unit_label="individuals",
        sources=(),
        steps=tuple(steps),
    )


def gate(key: str, people: int, requirement: str, each: int | None = None) -> StepRule:
    cap = None if each is None else F(each)
    return StepRule(
        key=key,
        min_people=people,
        scoring=False,
        points_each=cap,
        points_cap=cap,
        requirement=requirement,
    )


def scorer(key: str, each: F | int | None, requirement: str = "") -> StepRule:
    return StepRule(
        key=key,
        min_people=1,
        scoring=True,
        points_each=None if each is None else F(each),
        requirement=requirement,
    )


def points(metric: MetricRule, values: dict[str, int]) -> F:
    return score_metric(metric, values, F(1)).points


# --- Azure skilling (MS23-AZ, MS26-AZ) ----------------------------------------------------------

# V2023 Data & AI intermediate: step 1 ≥ 2 × AZ-305, step 2 ≥ 2 × AZ-104, step 3 four points a
# person, at most 40. (people in step 1, step 2, step 3) → points.
DATA_AI_2023 = skilling(
    40,
    [
        gate("architects", 2, "holding AZ-305"),
        gate("admins", 2, "holding AZ-104"),
        scorer("data", 4, "holding one of AI-102/DP-100/DP-300"),
    ],
)


@pytest.mark.parametrize(
    ("step1", "step2", "step3", "expected"),
    [
        (2, 2, 3, 12),  # A, B step 1; C, D step 2; E, F, G step 3
        (2, 2, 2, 8),  # A and B complete all three steps
        (2, 0, 2, 0),  # A and B complete steps 1 and 3: step 2 missing
        (2, 2, 2, 8),  # ... once two people complete step 2
        (1, 2, 2, 0),  # A step 1; B, C steps 2 and 3
        (2, 2, 2, 8),  # ... once one more completes step 1
        (2, 2, 10, 40),
        (2, 2, 12, 40),  # at most 40
    ],
)
def test_data_ai_2023_gated_steps(step1, step2, step3, expected):
    result = score_metric(DATA_AI_2023, {"architects": step1, "admins": step2, "data": step3}, F(1))
    assert result.points == expected


# V2023 Infrastructure and Digital & App Innovation (both metrics): step 1 ≥ 2 holders of the
# gate certification, step 2 four points a person, at most 20.
AZURE_2023 = skilling(20, [gate("admins", 2, "holding AZ-104"), scorer("others", 4)])


@pytest.mark.parametrize(
    ("gate_people", "scoring_people", "expected"),
    [
        (2, 2, 8),  # A, B step 1; C, D step 2
        (2, 2, 8),  # A, B complete both steps
        (1, 2, 0),  # A step 1; B, C step 2
        (2, 5, 20),
        (2, 6, 20),
        (0, 0, 0),
    ],
)
def test_azure_2023_gated_step(gate_people, scoring_people, expected):
    assert points(AZURE_2023, {"admins": gate_people, "others": scoring_people}) == expected


# V2026 Data & AI: Enterprise gates award nothing; SMB gates earn four points each, capped.
DATA_AI_2026_ENTERPRISE = skilling(
    40, [gate("admins", 2, "holding AZ-104"), gate("architects", 2, "holding AZ-305"),
         scorer("data", 4)],
)  # fmt: skip
DATA_AI_2026_SMB = skilling(
    40,
    [
        gate("admins", 1, "holding AZ-104", each=4),
        gate("architects", 1, "holding AZ-305", each=4),
        scorer("data", 4),
    ],
)


@pytest.mark.parametrize(
    ("metric", "admins", "architects", "data", "expected"),
    [
        (DATA_AI_2026_ENTERPRISE, 2, 2, 3, 12),  # Example 1
        (DATA_AI_2026_ENTERPRISE, 2, 2, 2, 8),  # Example 2
        (DATA_AI_2026_ENTERPRISE, 2, 0, 2, 0),  # Example 3: step 2 not completed
        (DATA_AI_2026_ENTERPRISE, 1, 2, 2, 0),  # Example 4: step 1 needs two people
        (DATA_AI_2026_SMB, 2, 2, 3, 20),  # Example 1: 4 + 4 + 12
        (DATA_AI_2026_SMB, 2, 2, 2, 16),  # Example 2: 4 + 4 + 8
        (DATA_AI_2026_SMB, 2, 0, 2, 4),  # Example 3: only step 1 counts
        (DATA_AI_2026_SMB, 0, 0, 2, 0),  # Example 4
        (DATA_AI_2026_SMB, 1, 1, 10, 40),  # 4 + 4 + 40, capped at the maximum
    ],
)
def test_data_ai_2026_steps_per_track(metric, admins, architects, data, expected):
    values = {"admins": admins, "architects": architects, "data": data}
    assert points(metric, values) == expected


def test_a_missing_gate_reads_in_people_who_unlock_the_metric():
    result = score_metric(AZURE_2023, {"admins": 0, "others": 3}, F(1))

    assert result.points == 0
    assert not result.meets_minimum
    assert result.gap_text == "2 more people holding AZ-104 unlock this metric"


def test_two_missing_gates_are_both_named():
    result = score_metric(DATA_AI_2023, {"architects": 1, "admins": 0, "data": 5}, F(1))

    assert result.gap_text == (
        "1 more person holding AZ-305 and 2 more people holding AZ-104 unlock this metric"
    )


def test_once_unlocked_the_gap_counts_scoring_people():
    result = score_metric(DATA_AI_2023, {"architects": 2, "admins": 2, "data": 7}, F(1))

    assert (result.points, result.value, result.target) == (28, 7, 10)
    assert result.gap_text == "3 more people holding one of AI-102/DP-100/DP-300"


# --- Security steps (MS23-SEC, MS26-SEC) --------------------------------------------------------


def security_steps(gate_people: int, *, smb: bool = False) -> MetricRule:
    """V2023: steps 1-2 gates (2 people each from 2023-12-01), step 3 at 40 / 6 a person;
    V2026 SMB: gates 4 points capped each, step 3 eight points a person."""
    each = 4 if smb else None
    return skilling(
        40,
        [
            gate("step1", gate_people, "holding AZ-500", each=each),
            gate("step2", gate_people, "holding SC-200", each=each),
            scorer("step3", 8 if smb else None),
        ],
        target=None if smb else 6,
    )


@pytest.mark.parametrize(
    ("metric", "step1", "step2", "step3", "expected"),
    [
        (security_steps(1), 1, 1, 6, 40),
        (security_steps(1), 1, 1, 3, 20),  # 6.67 a person
        (security_steps(1), 1, 0, 6, 0),
        (security_steps(2), 1, 1, 6, 0),  # from 2023-12-01 a gate needs two people
        (security_steps(2), 2, 2, 1, F(20, 3)),
        (security_steps(1, smb=True), 1, 1, 3, 32),  # 4 + 4 + 24 (the 2026 SMB example)
        (security_steps(1, smb=True), 3, 1, 0, 8),
    ],
)
def test_security_step_model(metric, step1, step2, step3, expected):
    assert points(metric, {"step1": step1, "step2": step2, "step3": step3}) == expected


def test_the_seed_combination_rule_stays_expressible():
    """2022: six people each holding MS-500 + AZ-500 + one of SC-200/300/400: one source."""
    metric = MetricRule(
        code="intermediate_certifications",
        category="skilling",
        max_points=F(40),
        target=F(6),
        scaling=Scaling.PER_UNIT,
        unit_label="individuals",
        sources=(SourceRule(key="people", label="individuals", unit="count"),),
    )
    assert points(metric, {"people": 3}) == 20


# --- Options within a metric (MS23-MW, MS26-MW) -------------------------------------------------


def options_metric(code: str, max_points: int, scaling: Scaling, **targets: int) -> MetricRule:
    return MetricRule(
        code=code,
        category="customer_success",
        max_points=F(max_points),
        target=None,
        scaling=scaling,
        unit_label="usage growth",
        sources=tuple(
            SourceRule(
                key=option,
                label=f"{option} MAU growth",
                unit="users",
                target=F(target),
                option=option,
            )
            for option, target in targets.items()
        ),
    )


MW_GROWTH_ENTERPRISE = options_metric(
    "usage_growth", 30, Scaling.PROPORTIONAL, CPOR=1000, DPOR=4000
)
MW_GROWTH_SMB = options_metric("usage_growth", 30, Scaling.PROPORTIONAL, CPOR=500, CSP=2000)
MW_DEPLOYMENTS_ENTERPRISE = options_metric("deployments", 25, Scaling.PER_UNIT, CPOR=5, DPOR=10)
MW_DEPLOYMENTS_SMB = options_metric("deployments", 25, Scaling.PER_UNIT, CPOR=5, CSP=10)


@pytest.mark.parametrize(
    ("metric", "values", "expected"),
    [
        # Enterprise: DPOR 2,000 → 15, CPOR 1,500 → 45: the higher, at most 30.
        (MW_GROWTH_ENTERPRISE, {"CPOR": 1500, "DPOR": 2000}, 30),
        # SMB: CSP 1,000 → 15, CPOR 1,000 → 60: 30.
        (MW_GROWTH_SMB, {"CPOR": 1000, "CSP": 1000}, 30),
        (MW_GROWTH_ENTERPRISE, {"CPOR": 300, "DPOR": 2000}, 15),
        (MW_GROWTH_ENTERPRISE, {"CPOR": -300, "DPOR": 0}, 0),
        # Deployments: DPOR 4 → 10, CPOR 3 → 15: 15.
        (MW_DEPLOYMENTS_ENTERPRISE, {"CPOR": 3, "DPOR": 4}, 15),
        (MW_DEPLOYMENTS_SMB, {"CPOR": 1, "CSP": 4}, 10),
        (MW_DEPLOYMENTS_SMB, {"CPOR": 5, "CSP": 4}, 25),
    ],
)
def test_modern_work_best_option_counts(metric, values, expected):
    assert points(metric, values) == expected


def test_an_option_gap_names_what_each_option_still_needs():
    result = score_metric(MW_GROWTH_ENTERPRISE, {"CPOR": 500, "DPOR": 1000}, F(1))

    assert result.points == 15
    assert result.gap_text == "+500 CPOR MAU growth or +3,000 DPOR MAU growth"


# --- Per-unit points, percentage growth ---------------------------------------------------------


def growth(max_points: int, *, min_baseline: int, label: str, unit: str = "usd") -> MetricRule:
    """1 point per 1 % of growth, at most `max_points`, nothing below the baseline."""
    return MetricRule(
        code="usage_growth",
        category="customer_success",
        max_points=F(max_points),
        target=F(max_points),
        scaling=Scaling.PER_UNIT,
        unit_label=label,
        sources=(
            SourceRule(
                key="v",
                label=label,
                unit="percent",
                percent=True,
                min_baseline=F(min_baseline),
                baseline_unit=unit,
            ),
        ),
    )


AZURE_GROWTH = growth(20, min_baseline=1000, label="Azure consumption growth")
BA_GROWTH_ENTERPRISE = growth(
    30, min_baseline=50000, label="consumption value growth", unit="count"
)
BA_GROWTH_SMB = growth(30, min_baseline=25000, label="consumption value growth", unit="count")


@pytest.mark.parametrize(
    ("metric", "now", "baseline", "expected"),
    [
        (AZURE_GROWTH, 11500, 10000, 15),  # +15 % → 15 points
        (AZURE_GROWTH, 11250, 10000, 12),  # 12.5 %: whole per cents only
        (AZURE_GROWTH, 13000, 10000, 20),  # +30 %: at most 20
        (AZURE_GROWTH, 900, 600, 0),  # total ACR below $1,000
        (AZURE_GROWTH, 9000, 10000, 0),  # decline
        (BA_GROWTH_ENTERPRISE, 60000, 50000, 20),  # (60,000 − 50,000) / 50,000 = 20 %
        (BA_GROWTH_ENTERPRISE, 70000, 50000, 30),  # 40 %: at most 30
        (BA_GROWTH_ENTERPRISE, 48000, 40000, 0),  # baseline below 50,000
        (BA_GROWTH_SMB, 48000, 40000, 20),  # SMB needs 25,000
    ],
)
def test_percentage_growth_of_a_minimum_baseline(metric, now, baseline, expected):
    assert points(metric, {"v": now, "v" + BASELINE_SUFFIX: baseline}) == expected


def test_percentage_gap_reads_in_per_cent():
    result = score_metric(AZURE_GROWTH, {"v": 11600, "v@base": 10000}, F(1))

    assert result.points == 16
    assert result.gap_text == "+4 % Azure consumption growth"


def test_a_baseline_too_small_reads_what_the_baseline_lacks():
    result = score_metric(BA_GROWTH_ENTERPRISE, {"v": 48000, "v@base": 40000}, F(1))

    assert result.gap_text == "10,000 more consumption value growth baseline"


def test_points_per_whole_unit_size():
    """Security V2023 usage growth: 1 point per $1,250 ACR and per 125 protected users, summed,
    at most 20 (MS23-SEC)."""
    metric = MetricRule(
        code="usage_growth",
        category="customer_success",
        max_points=F(20),
        target=None,
        scaling=Scaling.PROPORTIONAL,
        unit_label="usage growth",
        sources=(
            SourceRule(
                key="m365", label="MPU growth", unit="users", target=F(2500), unit_size=F(125)
            ),
            SourceRule(
                key="azure",
                label="Security ACR growth",
                unit="usd",
                target=F(25000),
                unit_size=F(1250),
            ),
        ),
    )

    assert points(metric, {"m365": 2500, "azure": 0}) == 20
    assert points(metric, {"m365": 625, "azure": 12500}) == 15
    assert points(metric, {"m365": 124, "azure": 1249}) == 0
    assert points(metric, {"m365": 130, "azure": 2600}) == 3
    assert score_metric(metric, {"m365": 130, "azure": 2600}, F(1)).gap_text == (
        "+2,125 MPU growth or +$21,250 Security ACR growth"
    )


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        # Azure net customer adds: 10 points each, at most 30 (3 customers).
        (("net_customer_adds", 30, 3), 1, 10),
        (("net_customer_adds", 30, 3), 5, 30),
        (("net_customer_adds", 30, 3), -2, 0),
        # Azure deployments: 2 points a distinct service, at most 10.
        (("deployments", 10, 5), 4, 8),
        # Business Applications advanced certifications: Enterprise 7 people (2.14 each).
        (("advanced_certifications", 15, 7), 3, F(45, 7)),
        (("advanced_certifications", 15, 2), 1, F(15, 2)),  # SMB: 7.5 each
        # Business Applications deployments, net customer adds: 4 and 3 points each.
        (("deployments", 20, 5), 2, 8),
        (("net_customer_adds", 15, 5), 6, 15),
        # Modern Work net customer adds: Enterprise 4 × 5, SMB 2 × 10.
        (("net_customer_adds", 20, 5), 2, 8),
        (("net_customer_adds", 20, 10), 2, 4),
    ],
)
def test_per_unit_metrics_of_the_published_tables(metric, value, expected):
    code, max_points, target = metric
    rule = MetricRule(
        code=code,
        category="performance",
        max_points=F(max_points),
        target=F(target),
        scaling=Scaling.PER_UNIT,
        unit_label="units",
        sources=(SourceRule(key="v", label="units", unit="count"),),
    )
    assert points(rule, {"v": value}) == expected


# --- Tracks -------------------------------------------------------------------------------------


def plain(code: str, max_points: int, target: int, track: str = "") -> MetricRule:
    return MetricRule(
        code=code,
        category="performance",
        max_points=F(max_points),
        target=F(target),
        scaling=Scaling.PER_UNIT,
        unit_label="units",
        sources=(SourceRule(key="v", label="units", unit="count"),),
        track=track,
    )


def two_tracks(mode: TrackMode) -> RuleSet:
    classified = mode is TrackMode.CLASSIFIED
    return RuleSet(
        designation="modern-work",
        version=3,
        qualifying_total=F(70),
        min_metric_points=F(1),
        track_mode=mode,
        tracks=(
            TrackRule("enterprise", "Enterprise", classified=classified),
            TrackRule("smb", "SMB"),
        ),
        metrics=(
            plain("net_customer_adds", 50, 5, "enterprise"),
            plain("net_customer_adds", 50, 10, "smb"),
            plain("deployments", 50, 5),
        ),
    )


def test_best_track_counts_and_every_track_is_reported():
    rules = two_tracks(TrackMode.BEST)
    measures = {"enterprise/net_customer_adds": {"v": 2}, "smb/net_customer_adds": {"v": 8},
                "deployments": {"v": 5}}  # fmt: skip

    result = score_designation(rules, measures)

    assert (result.track, result.total, result.qualified) == ("smb", 90, True)
    assert [(t.code, t.total, t.qualified) for t in result.tracks] == [
        ("enterprise", 70, True),
        ("smb", 90, True),
    ]
    assert [m.code for m in result.metrics] == ["net_customer_adds", "deployments"]


def test_a_qualified_track_beats_a_higher_unqualified_one():
    rules = two_tracks(TrackMode.BEST)
    measures = {"enterprise/net_customer_adds": {"v": 4}, "smb/net_customer_adds": {"v": 0},
                "deployments": {"v": 5}}  # fmt: skip

    assert score_designation(rules, measures).track == "enterprise"


@pytest.mark.parametrize(("holds", "expected"), [(1, "enterprise"), (0, "smb")])
def test_a_classified_track_is_the_one_whose_rule_holds(holds, expected):
    rules = two_tracks(TrackMode.CLASSIFIED)
    measures = {"enterprise/net_customer_adds": {"v": 0}, "smb/net_customer_adds": {"v": 10},
                "deployments": {"v": 5}, CLASSIFICATION: {"enterprise": holds}}  # fmt: skip

    result = score_designation(rules, measures)

    # Assigned, not the best: an Enterprise partner is scored as Enterprise.
    assert result.track == expected
    assert result.total == (50 if expected == "enterprise" else 100)


def test_a_rule_set_with_tracks_is_validated_per_track():
    rules = two_tracks(TrackMode.BEST)
    broken = RuleSet(
        designation=rules.designation,
        version=rules.version,
        qualifying_total=rules.qualifying_total,
        min_metric_points=rules.min_metric_points,
        track_mode=TrackMode.CLASSIFIED,
        tracks=(TrackRule("enterprise", "Enterprise"), TrackRule("smb", "SMB")),
        metrics=(*rules.metrics[:2], plain("deployments", 40, 5), plain("usage_growth", 5, 1, "x")),
    )

    with pytest.raises(RuleSetError) as error:
        validate_rule_set(broken)

    message = str(error.value)
    assert "metrics name unknown tracks ['x']" in message
    assert "tracks ['enterprise', 'smb'] have no classification rule" in message
    assert "track 'enterprise': max_points sum to 90, not max_total 100" in message
    assert "track 'smb': max_points sum to 90, not max_total 100" in message


def test_gated_metrics_are_validated():
    metric = skilling(20, [gate("g", 0, "holding AZ-104"), StepRule("s", 1, False)])
    rules = RuleSet(
        designation="infrastructure-azure",
        version=2,
        qualifying_total=F(70),
        min_metric_points=F(1),
        metrics=(metric, plain("net_customer_adds", 80, 3)),
    )

    with pytest.raises(RuleSetError) as error:
        validate_rule_set(rules)

    message = str(error.value)
    assert "its steps need at least one scoring step" in message
    assert "step 'g': a gate needs at least one person" in message


def test_options_must_cover_every_source():
    metric = MetricRule(
        code="usage_growth",
        category="customer_success",
        max_points=F(100),
        target=None,
        scaling=Scaling.PROPORTIONAL,
        unit_label="growth",
        sources=(
            SourceRule(key="a", label="a", unit="users", target=F(1), option="CPOR"),
            SourceRule(key="b", label="b", unit="users", target=F(1)),
        ),
    )
    rules = RuleSet("modern-work", 2, F(70), F(1), (metric,))

    with pytest.raises(RuleSetError, match="every source needs an option"):
        validate_rule_set(rules)
