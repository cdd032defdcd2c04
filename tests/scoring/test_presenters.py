"""Scores as text: numbers, gaps, requirements and cards, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from scoring.models import Designation, RuleSet, ScoreSnapshot
from scoring.presenters import (
    amount_text,
    category_label,
    designation_score,
    gap_part_text,
    gap_text,
    max_points_text,
    metric_label,
    percent_text,
    points_missing_text,
    points_text,
    requirement_text,
    requirement_texts,
    score_cards,
    score_summary,
)
from scoring.selectors import ScoreBoard


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("value", "threshold", "shown"),
    [
        (69.96, "70", "69.9"),  # half up would reach the threshold the total misses
        (69.992, "70", "69.9"),
        (69.95, "70", "69.9"),
        (69.94, "70", "69.9"),
        (70, "70", "70.0"),
        (70.04, "70", "70.0"),
        (0.96, "1", "0.9"),  # the minimum per metric
        (0.96, None, "1.0"),  # no threshold: ordinary half up
        (66.25, None, "66.3"),  # half up, not banker's rounding
        (66.25, "70", "66.3"),  # far from the threshold: half up
        (40 * 4 / 6, None, "26.7"),
        (20 / 6, None, "3.3"),
        (0, None, "0.0"),
    ],
)
def test_points_never_round_up_to_a_missed_threshold(value, threshold, shown):
    limit = None if threshold is None else Decimal(threshold)
    assert points_text(value, threshold=limit) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(3.31, "3.4"), (3.3, "3.3"), (0.01, "0.1"), (0, ""), (-2.5, "")]
)
def test_points_missing_round_up(value, shown):
    assert points_missing_text(value) == shown


@pytest.mark.parametrize(("value", "shown"), [(40, "40"), (20.0, "20"), (12.5, "12.5"), (0, "0")])
def test_max_points_drop_a_whole_numbers_decimals(value, shown):
    assert max_points_text(value) == shown


@pytest.mark.parametrize(
    ("amount", "unit", "shown"),
    [
        (8299.5, "usd", "$8,300"),
        (15000, "usd", "$15,000"),
        (1234567.01, "usd", "$1,234,568"),
        (2500, "users", "2,500"),
        (1499.2, "count", "1,500"),
        (4, "count", "4"),
        (1e-9 + 3, "count", "3"),  # float noise of an exact fraction is not a whole unit more
        (0.4, "count", "1"),
    ],
)
def test_amounts_round_up_with_thousands_separators(amount, unit, shown):
    assert amount_text(amount, unit) == shown


@pytest.mark.parametrize(
    ("part", "shown"),
    [
        ({"amount": 1, "label": "deployments", "label_one": "deployment"}, "1 more deployment"),
        ({"amount": 0.5, "label": "deployments", "label_one": "deployment"}, "1 more deployment"),
        ({"amount": 2, "label": "deployments", "label_one": "deployment"}, "2 more deployments"),
        ({"amount": 1, "label": "widgets", "label_one": ""}, "1 more widgets"),
        ({"amount": 1, "label": "widgets"}, "1 more widgets"),
        ({"amount": 3, "label": "net customer adds", "unit": "count"}, "3 more net customer adds"),
        ({"amount": 1500, "label": "MPU growth", "unit": "users"}, "+1,500 MPU growth"),
        ({"amount": 1, "label": "ACR growth", "label_one": "x", "unit": "usd"}, "+$1 ACR growth"),
    ],
)
def test_gap_parts(part, shown):
    assert gap_part_text(part) == shown


MPU = {"amount": 1500, "label": "MPU growth", "unit": "users"}
ACR = {"amount": 15000, "label": "Security ACR growth", "unit": "usd"}
PEOPLE = {"amount": 2, "label": "individuals", "label_one": "individual", "unit": "count"}


@pytest.mark.parametrize(
    ("metric", "requirement", "shown"),
    [
        ({"gap_parts": []}, "", ""),
        ({"gap_parts": [], "gap": "stale"}, "", ""),
        ({"gap_parts": [MPU]}, "", "+1,500 MPU growth"),
        ({"gap_parts": [MPU, ACR]}, "", "+1,500 MPU growth or +$15,000 Security ACR growth"),
        (
            {"gap_parts": [MPU, ACR, {**PEOPLE, "amount": 1}]},
            "",
            "+1,500 MPU growth or +$15,000 Security ACR growth or 1 more individual",
        ),
        (
            {"gap_parts": [PEOPLE]},
            "AZ-500 + MS-500",
            "2 more individuals holding AZ-500 + MS-500",
        ),
        # A snapshot written before gap parts existed: its stored English text, as it was.
        ({"gap": "4 more net customer adds"}, "", "4 more net customer adds"),
        ({"gap": "4 more net customer adds"}, "AZ-500", "4 more net customer adds"),
        ({}, "", ""),
    ],
)
def test_gap_text(metric, requirement, shown):
    assert gap_text(metric, requirement) == shown


@pytest.mark.parametrize(
    ("groups", "shown"),
    [
        (
            [("all", ["MS-500", "AZ-500"]), ("any", ["SC-400", "SC-200", "SC-300"])],
            "AZ-500 + MS-500 + one of SC-200/SC-300/SC-400",
        ),
        (
            [("any", ["SC-300", "SC-200"]), ("all", ["MS-500"])],
            "one of SC-200/SC-300 + MS-500",  # groups keep their order, codes are sorted
        ),
        ([("any", ["AZ-104"])], "AZ-104"),  # "one of" a single exam is that exam
        ([("all", ["PL-600", "AZ-305", "AZ-104"])], "AZ-104 + AZ-305 + PL-600"),
        ([], ""),
    ],
)
def test_requirement_text(groups, shown):
    assert requirement_text(groups) == shown


def test_requirement_texts_by_rule_set_and_metric():
    groups = {(7, "certified"): [("all", ["MS-500"])], (8, "certified"): [("any", ["B", "A"])]}
    assert requirement_texts(groups) == {(7, "certified"): "MS-500", (8, "certified"): "one of A/B"}


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(20, 40, "50.00"), (70, 100, "70.00"), (2, 3, "66.67"), (5, 0, "0"), (-1, 10, "0.00"),
     (120, 100, "100.00")],
)  # fmt: skip
def test_percent_is_clamped(part, whole, shown):
    assert percent_text(part, whole) == shown


def test_labels_fall_back_to_the_stored_code():
    assert category_label("performance") == "Performance"
    assert metric_label("net_customer_adds") == "Net Customer Adds"
    assert category_label("retired") == "retired"
    assert metric_label("retired_metric") == "retired_metric"


# --- cards -----------------------------------------------------------------------------------

SECURITY = Designation(pk=3, code="security", name="Security", position=3)
RULES = RuleSet(
    pk=11,
    designation=SECURITY,
    version=2,
    effective_from=date(2024, 1, 1),
    qualifying_total=Decimal(70),
    min_metric_points=Decimal(1),
)


def snapshot(total: float, metrics: list[dict], qualified: bool = False) -> ScoreSnapshot:
    return ScoreSnapshot(
        designation=SECURITY,
        rule_set=RULES,
        as_of=date(2024, 6, 30),
        total=total,
        qualified=qualified,
        metrics=metrics,
    )


METRICS = [
    {
        "code": "net_customer_adds",
        "category": "performance",
        "points": 0.96,
        "max_points": 20,
        "gap_parts": [{"amount": 4, "label": "net customer adds", "unit": "count"}],
        "meets_minimum": False,
    },
    {
        "code": "intermediate_certifications",
        "category": "skilling",
        "points": 40 * 4 / 6,
        "max_points": 40,
        "gap_parts": [PEOPLE],
        "meets_minimum": True,
    },
    # Written before gap parts existed.
    {"code": "usage_growth", "category": "customer_success", "points": 20, "max_points": 20,
     "gap": "", "meets_minimum": True},
    {"code": "deployments", "category": "customer_success", "points": 20.0, "max_points": 20,
     "gap_parts": [], "meets_minimum": True},
]  # fmt: skip


def test_a_card_shows_the_snapshot_as_text():
    requirements = {(11, "intermediate_certifications"): "AZ-500 + one of SC-200/SC-300"}

    card = designation_score(SECURITY, snapshot(69.96, METRICS), requirements)

    assert (card.total, card.max_total, card.qualifying_total) == ("69.9", "100", "70")
    assert card.points_to_qualify == "0.1"
    assert (card.percent, card.qualifying_percent) == ("69.96", "70.00")
    assert not card.qualified
    rows = {row.code: row for row in card.metrics}
    assert rows["net_customer_adds"].points == "0.9"  # below the one-point minimum
    assert rows["net_customer_adds"].category == "Performance"
    assert rows["net_customer_adds"].gap == "4 more net customer adds"
    assert rows["intermediate_certifications"].points == "26.7"
    assert rows["intermediate_certifications"].gap == (
        "2 more individuals holding AZ-500 + one of SC-200/SC-300"
    )
    assert rows["usage_growth"].gap == rows["deployments"].gap == ""
    assert [row.max_points for row in card.metrics] == ["20", "40", "20", "20"]


def test_a_qualified_card_needs_no_more_points():
    card = designation_score(SECURITY, snapshot(100.0, METRICS, qualified=True), {})
    assert card.qualified
    assert (card.total, card.points_to_qualify) == ("100.0", "")


def test_a_card_without_metrics_is_out_of_100():
    card = designation_score(SECURITY, snapshot(90.0, [], qualified=True), {})
    assert (card.max_total, card.percent) == ("100", "90.00")


def test_an_unscored_designation_has_an_empty_card():
    card = designation_score(SECURITY, None, {})
    assert card.snapshot is None and not card.qualified and card.metrics == ()


def test_the_board_has_a_card_per_designation_in_its_order():
    data = Designation(pk=4, code="data_ai", name="Data & AI", position=1)
    board = ScoreBoard(
        as_of=date(2024, 6, 30),
        designations=[data, SECURITY],
        snapshots={SECURITY.pk: snapshot(66.25, METRICS)},
        certification_groups={(11, "intermediate_certifications"): [("all", ["MS-500"])]},
    )

    cards = score_cards(board)

    assert [card.designation.code for card in cards] == ["data_ai", "security"]
    assert cards[0].snapshot is None
    assert cards[1].total == "66.2"
    assert cards[1].metrics[1].gap == "2 more individuals holding MS-500"


def test_no_date_no_cards_and_the_summary_follows_the_snapshots():
    empty = ScoreBoard(as_of=None, designations=[SECURITY], snapshots={}, certification_groups={})
    assert score_cards(empty) == []
    assert [row.total for row in score_summary([snapshot(69.96, METRICS)])] == ["69.9"]


@pytest.mark.parametrize(
    ("total", "shown", "missing"),
    [
        (66.25, "66.2", "3.8"),
        (66.2, "66.2", "3.8"),
        (69.96, "69.9", "0.1"),
        (0.04, "0.0", "70.0"),
        (70.0, "70.0", ""),
        (86.85, "86.9", ""),  # qualified: half up
    ],
)
def test_a_cards_total_and_points_to_qualify_add_up_to_the_line(total, shown, missing):
    card = designation_score(SECURITY, snapshot(total, METRICS), {})
    assert (card.total, card.points_to_qualify) == (shown, missing)
    if missing:
        assert Decimal(card.total) + Decimal(card.points_to_qualify) == Decimal("70.0")
