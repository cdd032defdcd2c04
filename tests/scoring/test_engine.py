"""The pure-Python scoring engine against program.md §2-3 and other-designations.md.

No database and no Django: rule sets are built here literally from the spec tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction as F

import pytest

from scoring.engine import (
    DesignationResult,
    MetricResult,
    MetricRule,
    Number,
    RuleSet,
    RuleSetError,
    Scaling,
    SourceRule,
    format_amount,
    score_designation,
    validate_rule_set,
)

SECURITY_CERT_REQUIREMENT = "holding MS-500 + AZ-500 + one of SC-200/SC-300/SC-400"


def security_rule_set() -> RuleSet:
    """Security, program.md §3.5: 20 / 40 / 20 / 20, qualify at 70 with >= 1 in every metric."""
    return RuleSet(
        designation="security",
        version=1,
        qualifying_total=F(70),
        min_metric_points=F(1),
        metrics=(
            MetricRule(
                code="net_customer_adds",
                category="performance",
                max_points=F(20),
                target=F(10),
                scaling=Scaling.PER_UNIT,
                unit_label="net customer adds",
                sources=(
                    SourceRule(key="m365", label="net customer adds", unit="count"),
                    SourceRule(key="azure", label="net customer adds", unit="count"),
                ),
            ),
            MetricRule(
                code="intermediate_certifications",
                category="skilling",
                max_points=F(40),
                target=F(6),
                scaling=Scaling.PER_UNIT,
                unit_label="individuals",
                sources=(SourceRule(key="people", label="individuals", unit="count"),),
                requirement=SECURITY_CERT_REQUIREMENT,
            ),
            MetricRule(
                code="deployments",
                category="customer_success",
                max_points=F(20),
                target=F(6),
                scaling=Scaling.PER_UNIT,
                unit_label="deployments",
                unit_label_one="deployment",
                sources=(
                    SourceRule(key="m365", label="deployments", unit="count"),
                    SourceRule(key="azure", label="deployments", unit="count"),
                ),
            ),
            MetricRule(
                code="usage_growth",
                category="customer_success",
                max_points=F(20),
                target=None,
                scaling=Scaling.PROPORTIONAL,
                unit_label="usage growth",
                sources=(
                    SourceRule(key="m365", label="MPU growth", unit="users", target=F(2500)),
                    SourceRule(
                        key="azure", label="Security ACR growth", unit="usd", target=F(25000)
                    ),
                ),
            ),
        ),
    )


def infrastructure_rule_set() -> RuleSet:
    """Infrastructure (Azure), other-designations.md: 30 / 20 / 20 / 20 / 10."""
    return RuleSet(
        designation="infrastructure-azure",
        version=1,
        qualifying_total=F(70),
        min_metric_points=F(1),
        metrics=(
            MetricRule(
                code="net_customer_adds",
                category="performance",
                max_points=F(30),
                target=F(10),
                scaling=Scaling.PER_UNIT,
                unit_label="net customer adds",
                sources=(SourceRule(key="azure", label="net customer adds", unit="count"),),
            ),
            MetricRule(
                code="intermediate_certifications",
                category="skilling",
                max_points=F(20),
                target=F(2),
                scaling=Scaling.PER_UNIT,
                unit_label="individuals",
                sources=(SourceRule(key="people", label="individuals", unit="count"),),
                requirement="holding AZ-104",
            ),
            MetricRule(
                code="advanced_certifications",
                category="skilling",
                max_points=F(20),
                target=F(2),
                scaling=Scaling.PER_UNIT,
                unit_label="individuals",
                sources=(SourceRule(key="people", label="individuals", unit="count"),),
                requirement="holding AZ-305",
            ),
            MetricRule(
                code="usage_growth",
                category="customer_success",
                max_points=F(20),
                target=F(10000),
                scaling=Scaling.PROPORTIONAL,
                unit_label="infrastructure ACR growth",
                sources=(SourceRule(key="azure", label="infrastructure ACR growth", unit="usd"),),
            ),
            MetricRule(
                code="deployments",
                category="customer_success",
                max_points=F(10),
                target=F(3),
                scaling=Scaling.PER_UNIT,
                unit_label="deployments",
                sources=(SourceRule(key="azure", label="deployments", unit="count"),),
            ),
        ),
    )


def security_measures(
    adds: Number = 10, people: Number = 6, deployments: Number = 6, mpu: Number = 2500
) -> dict[str, dict[str, Number]]:
    """Security measures, full marks by default; adds/deployments on M365, growth as MPU."""
    return {
        "net_customer_adds": {"m365": adds},
        "intermediate_certifications": {"people": people},
        "deployments": {"m365": deployments},
        "usage_growth": {"m365": mpu},
    }


def metric(result: DesignationResult, code: str) -> MetricResult:
    """The result of one metric by code."""
    (found,) = [m for m in result.metrics if m.code == code]
    return found


def score_security_metric(code: str, values: Mapping[str, Number]) -> MetricResult:
    """Score the Security rule set with measures for one metric only."""
    return metric(score_designation(security_rule_set(), {code: values}), code)


# --- Performance: Net Customer Adds (2 points per add, at most 10 adds) -----------------------


@pytest.mark.parametrize(
    ("m365", "azure", "points"),
    [
        (0, 0, F(0)),
        (1, 0, F(2)),
        (0, 7, F(14)),
        (10, 0, F(20)),
        (11, 0, F(20)),  # capped at 10 adds
        (40, 25, F(20)),
        (-3, 0, F(0)),  # net adds below zero earn 0
        (-3, 5, F(4)),  # M365 and Azure summed before flooring at 0
        (3, -5, F(0)),
        (4, 6, F(20)),
    ],
)
def test_net_customer_adds_points(m365: int, azure: int, points: F) -> None:
    result = score_security_metric("net_customer_adds", {"m365": m365, "azure": azure})
    assert result.points == points


def test_net_customer_adds_below_zero_value_and_raw_sources() -> None:
    result = score_security_metric("net_customer_adds", {"m365": -3})
    assert result.value == 0
    assert dict(result.sources) == {"m365": F(-3), "azure": F(0)}
    assert result.gap_text == "10 more net customer adds"


# --- Skilling: Intermediate Certifications (40 * n / 6, capped) ------------------------------


@pytest.mark.parametrize(
    ("people", "points"),
    [(n, F(40 * min(n, 6), 6)) for n in range(8)],
)
def test_certification_points(people: int, points: F) -> None:
    result = score_security_metric("intermediate_certifications", {"people": people})
    assert result.points == points


def test_certification_points_are_exact_fractions() -> None:
    result = score_security_metric("intermediate_certifications", {"people": 1})
    assert result.points == F(20, 3)
    assert isinstance(result.points, F)


# --- Customer Success: Deployments (20/6 each, 6 = exactly 20) --------------------------------


@pytest.mark.parametrize(
    ("m365", "azure", "points"),
    [
        (0, 0, F(0)),
        (1, 0, F(10, 3)),
        (5, 0, F(50, 3)),
        (6, 0, F(20)),
        (7, 0, F(20)),
        (2, 4, F(20)),  # M365 and Azure deployments are summed
    ],
)
def test_deployment_points(m365: int, azure: int, points: F) -> None:
    result = score_security_metric("deployments", {"m365": m365, "azure": azure})
    assert result.points == points


@pytest.mark.parametrize(
    ("value", "points", "gap_text"),
    [
        (F(11, 2), F(50, 3), "1 more deployment"),  # only whole deployments earn points
        (Decimal("5.99"), F(50, 3), "1 more deployment"),
        (F(13, 2), F(20), ""),
    ],
)
def test_per_unit_metrics_pay_whole_units_only(value: Number, points: F, gap_text: str) -> None:
    result = score_security_metric("deployments", {"m365": value})
    assert (result.points, result.gap_text) == (points, gap_text)


def test_one_more_reads_singular_only_where_the_rule_gives_a_singular() -> None:
    # Deployments carry "deployment"; net customer adds (in this rule set) carry none.
    assert score_security_metric("deployments", {"m365": 5}).gap_text == "1 more deployment"
    assert score_security_metric("deployments", {"m365": 4}).gap_text == "2 more deployments"
    adds = score_security_metric("net_customer_adds", {"m365": 9})
    assert adds.gap_text == "1 more net customer adds"
    assert adds.gap[0].label_one == ""


def test_six_deployments_make_exactly_twenty_not_float_noise() -> None:
    one = score_security_metric("deployments", {"m365": 1}).points
    assert one * 6 == 20
    assert score_security_metric("deployments", {"m365": 6}).points == F(20)


# --- Customer Success: Usage Growth, two sides with their own targets ------------------------


@pytest.mark.parametrize(
    ("mpu", "acr", "points", "value"),
    [
        (2500, 0, F(20), F(1)),
        (0, 25000, F(20), F(1)),
        (1250, 12500, F(20), F(1)),
        (1250, 0, F(10), F(1, 2)),
        (1000, 0, F(8), F(2, 5)),
        (0, 0, F(0), F(0)),
        (-1000, 25000, F(20), F(1)),  # a decline on M365 does not cancel Azure growth
        (-1000, 12500, F(10), F(1, 2)),
        (-1000, -5000, F(0), F(0)),
        (5000, 50000, F(20), F(4)),  # points capped, value kept as a share of full
        (1825, 0, F(73, 5), F(73, 100)),
        (Decimal("1248.75"), Decimal("0.00"), F(999, 100), F(9990, 20000)),
    ],
)
def test_usage_growth_two_sided(mpu: Number, acr: Number, points: F, value: F) -> None:
    result = score_security_metric("usage_growth", {"m365": mpu, "azure": acr})
    assert result.points == points
    assert result.value == value
    assert result.target == 1


# --- Qualification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measures", "total", "qualified", "points_to_qualify"),
    [
        # 10 + 40 + 10 + 10: exactly 70 with every metric >= 1 qualifies.
        (security_measures(adds=5, deployments=3, mpu=1250), F(70), True, F(0)),
        # Usage growth 9.99 instead of 10: 69.99 does not.
        (
            security_measures(adds=5, deployments=3, mpu=Decimal("1248.75")),
            F(6999, 100),
            False,
            F(1, 100),
        ),
        # 80 points, but no deployment: a metric at 0 blocks qualification.
        (security_measures(deployments=0), F(80), False, F(0)),
        # Half a point of usage growth is below the 1-point minimum.
        (security_measures(mpu=F(125, 2)), F(161, 2), False, F(0)),
        # Exactly 1 point of usage growth meets it.
        (security_measures(mpu=125), F(81), True, F(0)),
        (security_measures(), F(100), True, F(0)),
        ({}, F(0), False, F(70)),
    ],
)
def test_security_qualification(
    measures: dict[str, dict[str, Number]], total: F, qualified: bool, points_to_qualify: F
) -> None:
    result = score_designation(security_rule_set(), measures)
    assert result.total == total
    assert result.qualified is qualified
    assert result.points_to_qualify == points_to_qualify


def test_metric_minimum_flag() -> None:
    result = score_designation(security_rule_set(), security_measures(mpu=F(125, 2)))
    assert [m.meets_minimum for m in result.metrics] == [True, True, True, False]


def test_security_has_four_metrics_summing_to_100() -> None:
    result = score_designation(security_rule_set(), security_measures())
    assert [m.code for m in result.metrics] == [
        "net_customer_adds",
        "intermediate_certifications",
        "deployments",
        "usage_growth",
    ]
    assert sum(m.max_points for m in result.metrics) == 100
    assert result.max_total == 100
    assert (result.designation, result.version) == ("security", 1)


def test_azure_designation_has_five_metrics() -> None:
    measures: dict[str, dict[str, Number]] = {
        "net_customer_adds": {"azure": 4},  # 3 points each
        "intermediate_certifications": {"people": 2},
        "advanced_certifications": {"people": 1},
        "usage_growth": {"azure": Decimal("2500.00")},
        "deployments": {"azure": 2},
    }
    result = score_designation(infrastructure_rule_set(), measures)
    assert len(result.metrics) == 5
    assert sum(m.max_points for m in result.metrics) == 100
    assert [m.points for m in result.metrics] == [F(12), F(20), F(10), F(5), F(20, 3)]
    assert result.total == F(161, 3)
    assert result.qualified is False


def test_measures_for_metrics_the_designation_lacks_are_ignored() -> None:
    measures = security_measures() | {"advanced_certifications": {"people": 99}}
    result = score_designation(security_rule_set(), measures)
    assert result.total == 100
    assert "advanced_certifications" not in {m.code for m in result.metrics}


# --- Gaps ------------------------------------------------------------------------------------


def _single_source_usd_rule_set() -> RuleSet:
    """A designation whose usage growth is one usd source with a metric target of $25,000."""
    rules = security_rule_set()
    usage = MetricRule(
        code="usage_growth",
        category="customer_success",
        max_points=F(20),
        target=F(25000),
        scaling=Scaling.PROPORTIONAL,
        unit_label="Security ACR growth",
        sources=(SourceRule(key="azure", label="Security ACR growth", unit="usd"),),
    )
    return dataclasses.replace(rules, metrics=(*rules.metrics[:3], usage))


@pytest.mark.parametrize(
    ("rule_set", "code", "values", "gap_text"),
    [
        (security_rule_set(), "net_customer_adds", {"m365": 6}, "4 more net customer adds"),
        (
            security_rule_set(),
            "intermediate_certifications",
            {"people": 4},
            "2 more individuals " + SECURITY_CERT_REQUIREMENT,
        ),
        (security_rule_set(), "deployments", {"azure": 0}, "6 more deployments"),
        (security_rule_set(), "deployments", {"azure": 6}, ""),
        (
            _single_source_usd_rule_set(),
            "usage_growth",
            {"azure": 16700},
            "+$8,300 Security ACR growth",
        ),
        # Fractional dollars round up so the gap is never understated.
        (
            _single_source_usd_rule_set(),
            "usage_growth",
            {"azure": Decimal("16700.25")},
            "+$8,300 Security ACR growth",
        ),
        (
            infrastructure_rule_set(),
            "usage_growth",
            {"azure": 1700},
            "+$8,300 infrastructure ACR growth",
        ),
        (
            security_rule_set(),
            "usage_growth",
            {},
            "+2,500 MPU growth or +$25,000 Security ACR growth",
        ),
        (
            security_rule_set(),
            "usage_growth",
            {"m365": 1250},
            "+1,250 MPU growth or +$12,500 Security ACR growth",
        ),
        (
            security_rule_set(),
            "usage_growth",
            {"m365": 1825, "azure": -4000},
            "+675 MPU growth or +$6,750 Security ACR growth",
        ),
        (security_rule_set(), "usage_growth", {"m365": 3000}, ""),
    ],
)
def test_gap_text(rule_set: RuleSet, code: str, values: dict[str, Number], gap_text: str) -> None:
    result = metric(score_designation(rule_set, {code: values}), code)
    assert result.gap_text == gap_text
    assert bool(result.gap) == bool(gap_text)
    assert (result.points == result.max_points) == (gap_text == "")


def test_gap_parts_carry_exact_amounts_and_units() -> None:
    result = score_security_metric("usage_growth", {"m365": 1825})
    assert [(p.amount, p.label, p.unit) for p in result.gap] == [
        (F(675), "MPU growth", "users"),
        (F(6750), "Security ACR growth", "usd"),
    ]
    adds = score_security_metric("net_customer_adds", {"m365": 6, "azure": 0})
    assert [(p.amount, p.label, p.unit) for p in adds.gap] == [(F(4), "net customer adds", "count")]


@pytest.mark.parametrize(
    ("amount", "unit", "text"),
    [
        (F(8300), "usd", "$8,300"),
        (F(16601, 2), "usd", "$8,301"),  # $8,300.50 rounds up
        (F(1234567), "usd", "$1,234,567"),
        (F(0), "usd", "$0"),
        (F(4), "count", "4"),
        (F(7, 2), "count", "4"),
        (F(2500), "users", "2,500"),
    ],
)
def test_format_amount(amount: F, unit: str, text: str) -> None:
    assert format_amount(amount, unit) == text


def test_format_amount_rejects_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        format_amount(F(1), "eur")


# --- Input validation ------------------------------------------------------------------------


def _replace_metric(index: int, **changes: object) -> Callable[[RuleSet], RuleSet]:
    """A mutation of the Security rule set that changes one metric."""

    def mutate(rules: RuleSet) -> RuleSet:
        metrics = list(rules.metrics)
        metrics[index] = dataclasses.replace(metrics[index], **changes)  # type: ignore[arg-type]
        return dataclasses.replace(rules, metrics=tuple(metrics))

    return mutate


def _replace_sources(index: int, *sources: SourceRule) -> Callable[[RuleSet], RuleSet]:
    """A mutation of the Security rule set that replaces one metric's sources."""
    return _replace_metric(index, sources=sources)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_replace_metric(0, max_points=F(19)), "max_points sum to 99, not max_total 100"),
        (_replace_metric(0, target=F(0)), "'net_customer_adds': target must be > 0"),
        (_replace_metric(2, target=F(-6)), "'deployments': target must be > 0"),
        (
            _replace_sources(
                3,
                SourceRule(key="m365", label="MPU growth", unit="users", target=F(0)),
                SourceRule(key="azure", label="Security ACR growth", unit="usd", target=F(1)),
            ),
            "source 'm365': target must be > 0",
        ),
        (
            _replace_sources(3, SourceRule(key="m365", label="MPU growth", unit="users")),
            "neither a metric target nor per-source targets",
        ),
        (_replace_metric(3, target=F(1)), "has a metric target and per-source targets"),
        (
            _replace_sources(
                3,
                SourceRule(key="m365", label="MPU growth", unit="users", target=F(2500)),
                SourceRule(key="azure", label="Security ACR growth", unit="usd"),
            ),
            "every source needs one; missing ['azure']",
        ),
        (_replace_sources(0), "needs at least one source"),
        (
            _replace_sources(
                0, SourceRule("m365", "adds", "count"), SourceRule("m365", "adds", "count")
            ),
            "duplicate source keys ['m365']",
        ),
        (
            _replace_sources(
                0, SourceRule("m365", "adds", "count"), SourceRule("azure", "$", "usd")
            ),
            "summed against one target must share a unit",
        ),
        (_replace_sources(0, SourceRule("m365", "adds", "seats")), "unknown unit 'seats'"),
        (_replace_metric(1, code="deployments"), "duplicate metric codes ['deployments']"),
        (
            lambda r: dataclasses.replace(r, qualifying_total=F(101)),
            "qualifying_total 101 must be between 0 and max_total 100",
        ),
        (
            lambda r: dataclasses.replace(r, min_metric_points=F(25)),
            "max_points 20 is below min_metric_points 25",
        ),
    ],
)
def test_validate_rule_set_errors(mutate: Callable[[RuleSet], RuleSet], message: str) -> None:
    rules = mutate(security_rule_set())
    with pytest.raises(RuleSetError) as excinfo:
        validate_rule_set(rules)
    assert message in str(excinfo.value)
    # score_designation refuses the same rule set rather than scoring nonsense.
    with pytest.raises(RuleSetError):
        score_designation(rules, security_measures())


@pytest.mark.parametrize("build", [security_rule_set, infrastructure_rule_set])
def test_spec_rule_sets_are_valid(build: Callable[[], RuleSet]) -> None:
    validate_rule_set(build())


def test_rule_set_error_is_a_value_error() -> None:
    assert issubclass(RuleSetError, ValueError)


def test_unknown_scaling_is_refused() -> None:
    with pytest.raises(RuleSetError, match="unknown scaling 'linear'"):
        _replace_metric(0, scaling="linear")(security_rule_set())


def test_rule_numbers_from_the_database_are_converted_exactly() -> None:
    rules = security_rule_set()
    # Decimal/int/str as a DecimalField, IntegerField and CharField would hand them over.
    adds = dataclasses.replace(
        rules.metrics[0],
        max_points=Decimal("20.00"),  # type: ignore[arg-type]
        target=10,  # type: ignore[arg-type]
        scaling="per_unit",  # type: ignore[arg-type]
    )
    rules = dataclasses.replace(
        rules,
        metrics=(adds, *rules.metrics[1:]),
        qualifying_total=Decimal("70"),  # type: ignore[arg-type]
    )
    result = score_designation(rules, security_measures(adds=3))
    assert metric(result, "net_customer_adds").points == F(6)
    assert isinstance(result.total, F)
    assert result.qualified is True


@pytest.mark.parametrize("bad", [1.5, True, "3", None])
def test_inexact_or_non_numeric_measures_are_refused(bad: object) -> None:
    with pytest.raises(TypeError, match="net_customer_adds"):
        score_designation(security_rule_set(), {"net_customer_adds": {"m365": bad}})  # type: ignore[dict-item]
