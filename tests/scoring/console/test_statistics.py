"""Program statistics: counts per designation, the score distribution, its monthly trend and
the metrics that block qualification."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from portal.models import Organization
from scoring.console import hooks
from scoring.console.presenters import bar_chart
from scoring.console.selectors import (
    blocking_metric_counts,
    designation_counts,
    score_histogram,
    score_trend_by_month,
)
from scoring.models import Designation, RuleSet, ScoreSnapshot
from tests.factories import OrganizationFactory
from tests.scoring.console.helpers import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def security():
    return Designation.objects.get(code="security")


@pytest.fixture
def scored(security):
    """Given four organizations' Security scores in May and June (June counts now)."""
    a, b, c, d = (OrganizationFactory() for _ in range(4))
    may, june = date(2024, 5, 31), date(2024, 6, 30)
    snapshot(a, security, (20, 20, 20, 15), as_of=june)  # 75 qualified
    snapshot(b, security, (20, 15, 15, 15), as_of=june)  # 65 near
    snapshot(c, security, (25, 25, 30, 0), as_of=june)  # 80, a metric at 0
    snapshot(d, security, (5, 5, 0, 0), as_of=june)  # 10, two metrics at 0
    snapshot(a, security, (10, 10, 10, 10), as_of=may)  # 40
    snapshot(b, security, (20, 20, 20, 20), as_of=may)  # 80 qualified
    # Two snapshots in one month: the later one is the month's.
    snapshot(c, security, (1, 1, 1, 1), as_of=date(2024, 5, 15))
    snapshot(c, security, (25, 25, 20, 20), as_of=may)  # 90 qualified
    return security


def test_counts_per_designation(scored):
    counts = {
        row.designation.code: row
        for row in designation_counts(designations=Designation.objects.all())
    }
    security = counts["security"]
    assert (security.scored, security.qualified, security.near, security.metric_at_zero) == (
        4,
        1,
        1,
        2,
    )
    assert counts["modern-work"].scored == 0
    assert list(counts) == list(Designation.objects.values_list("code", flat=True))


def test_the_histogram_counts_current_scores_by_ten_point_band(scored, security):
    bins = score_histogram(designation=security)
    assert bins == [0, 1, 0, 0, 0, 0, 1, 1, 1, 0]
    assert sum(score_histogram(designation=None)) == 4


def test_a_total_of_100_is_in_the_last_band(security):
    snapshot(OrganizationFactory(), security, (25, 25, 25, 25))
    assert score_histogram(designation=security)[-1] == 1


def test_the_trend_takes_each_organizations_last_score_of_the_month(scored, security):
    trend = score_trend_by_month(designation=security)
    assert [(t.month, t.scored, t.qualified) for t in trend] == [
        (date(2024, 5, 1), 3, 2),
        (date(2024, 6, 1), 4, 1),
    ]
    assert trend[0].average == pytest.approx((40 + 80 + 90) / 3)


def test_the_metric_that_most_often_blocks(scored, security):
    blocking = blocking_metric_counts()[security.pk]
    # Not qualified now: b (65, every metric ≥ 1), c (deployments 0), d (growth and deployments 0)
    assert blocking == {"deployments": 2, "usage_growth": 1}


def test_bar_chart_geometry_scales_to_the_largest_value():
    chart = bar_chart(["a", "b", "c"], [0, 5, 10])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == 2 * heights[1] > 0
    assert all(bar.y + bar.height == pytest.approx(chart.baseline) for bar in chart.bars)


def test_the_page_has_a_table_beside_every_chart(client, staff, scored):
    client.force_login(staff)
    response = client.get(reverse("staff_statistics"), {"designation": "security"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<svg") == 2
    for table in ("histogram-table", "trend-table", "blocking-table", "designation-counts"):
        assert f'data-testid="{table}"' in body
    assert "2024-05" in body and "Deployments" in body
    assert "cdn" not in body.lower()


def test_registered_counts_show_per_designation(client, staff, scored, security):
    hooks.register_console_designation_count(
        hooks.ConsoleDesignationCount(
            key="test-enrolled",
            columns=(("enrolled", "Enrolled (test)"),),
            counts=lambda: {"enrolled": {security.pk: 7}},
        )
    )
    try:
        client.force_login(staff)
        body = client.get(reverse("staff_statistics")).content.decode()
    finally:
        hooks._counts.pop("test-enrolled")
    assert "Enrolled (test)" in body
    row = body[body.index('data-designation="security"') :]
    assert ">7</td>" in row[: row.index("</tr>")]


def test_the_statistics_query_ceiling_at_2000_organizations(
    client, staff, django_assert_max_num_queries
):
    designations = list(Designation.objects.all())
    first_version = {
        d.pk: RuleSet.objects.filter(designation=d).order_by("version").first()
        for d in designations
    }
    organizations = Organization.objects.bulk_create(
        Organization(partner_id=f"{8000000 + n}", name=f"S {n}", slug=f"s-{n}", country="US")
        for n in range(2000)
    )
    rows = [
        snapshot(
            o, d, (n % 40, 20, 20, n % 3), as_of=as_of, rule_set=first_version[d.pk], save=False
        )
        for n, o in enumerate(organizations)
        for d in designations
        for as_of in (date(2024, 5, 31), date(2024, 6, 30))
    ]
    ScoreSnapshot.objects.bulk_create(rows, batch_size=2000)
    client.force_login(staff)
    # session, user, designations, counts, at zero, blocking, histogram, trend, the switcher;
    # benefits' counts (terms, window rules)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("staff_statistics"))
    assert response.status_code == 200


def test_the_trend_chart_shows_the_average_per_month(client, staff, scored):
    from scoring.console.presenters import trend_chart

    chart = trend_chart(score_trend_by_month(designation=scored))
    assert [(bar.label, bar.value) for bar in chart.bars] == [("2024-05", 70), ("2024-06", 58)]
