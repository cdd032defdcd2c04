"""Score history, forecast and the dashboard's at-risk mark: selectors, pages, queries, ja."""

from datetime import date, datetime, time, timedelta
from itertools import pairwise

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.urls import reverse

from portal.models import HeldCertification
from scoring import charts, services
from scoring.forecast import month_ends_after, next_anniversary, organization_forecast
from scoring.history import designation_get, designation_history
from scoring.models import Designation, RuleSet, ScoreSnapshot
from tests.scoring.test_services import security_partner

TODAY = date(2024, 6, 30)


def per_date_queries() -> int:
    """A forecast date's queries: measures, certifications, a savepoint pair (and on PostgreSQL
    the planner settings around the measures statement, set and reset)."""
    return 6 if connection.vendor == "postgresql" else 4


DATES = 8  # today, six month-ends, the anniversary

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_2022_only")]


@pytest.fixture(autouse=True)
def _on_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def history_url(org, code="security"):
    return reverse("org_designation_history", args=[org.slug, code])


def forecast_url(org):
    return reverse("org_scores_forecast", args=[org.slug])


def put_snapshot(org, day, total, qualified=None):
    designation = Designation.objects.get(code="security")
    rule_set = RuleSet.objects.get(designation=designation, version=1)
    parts = [
        ("net_customer_adds", "performance", 4, 20),
        ("intermediate_certifications", "skilling", 2, 40),
        ("usage_growth", "customer_success", 8, 20),
        ("deployments", "customer_success", 8, 20),
    ]
    metrics = [
        {"code": code, "category": category, "points": total / share, "max_points": most}
        for code, category, share, most in parts
    ]
    ScoreSnapshot.objects.create(
        organization=org,
        designation=designation,
        rule_set=rule_set,
        as_of=day,
        total=total,
        qualified=total >= 70 if qualified is None else qualified,
        metrics=metrics,
    )


@pytest.fixture
def thirty_months(org):
    """A snapshot on the 10th and the last day of 30 months; the 10th scores 10 more."""
    month = date(2022, 1, 1)
    totals = {}
    while month <= TODAY:
        end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        total = 60.0 + (month.month % 3) * 5  # 60, 65, 70 by turns
        put_snapshot(org, month.replace(day=10), total + 10)
        put_snapshot(org, end, total)
        totals[month] = total
        month = end + timedelta(days=1)
    return totals


# --- the history selector --------------------------------------------------------------------


def test_history_has_24_months_with_month_end_total_highest_and_window(org, thirty_months):
    designation = designation_get(code="security")
    history = designation_history(organization=org, designation=designation, today=TODAY)
    assert history.months[0].month == date(2022, 7, 1)
    assert [m.month for m in history.months][-1] == date(2024, 6, 1)
    assert len(history.months) == 24
    march = next(m for m in history.months if m.month == date(2024, 3, 1))
    assert march.as_of == date(2024, 3, 31)
    assert march.total == 60.0  # month-end, not the highest
    assert march.highest == 70.0 and march.highest_on == date(2024, 3, 10)
    assert march.qualified is False and march.qualified_any_day is True
    assert march.metrics["intermediate_certifications"] == 30.0
    assert history.window == (date(2024, 1, 1), date(2024, 6, 1))
    assert [m.in_window for m in history.months].count(True) == 6
    assert history.qualified_in_window is True
    # Qualified on the 10th of every month and at the end of every third one: each month-end
    # of 60 or 65 follows a qualified 10th.
    assert history.changes[0].day > date(2022, 7, 1)
    assert all(a.qualified != b.qualified for a, b in pairwise(history.changes))


def test_history_ignores_other_organizations_and_other_designations(org, other_org, thirty_months):
    put_snapshot(other_org, date(2024, 6, 15), 99.0)
    designation = Designation.objects.get(code="modern-work")
    assert not designation_history(organization=org, designation=designation, today=TODAY).scored
    history = designation_history(
        organization=org, designation=designation_get(code="security"), today=TODAY
    )
    assert max(m.highest or 0 for m in history.months) == 80.0


def test_a_later_rule_set_version_of_the_same_day_wins(org):
    put_snapshot(org, date(2024, 6, 30), 50.0)
    designation = Designation.objects.get(code="security")
    v1 = RuleSet.objects.get(designation=designation, version=1)
    v2 = RuleSet.objects.create(
        designation=designation, version=2, effective_from=date(2024, 6, 1),
        qualifying_total=v1.qualifying_total, min_metric_points=v1.min_metric_points,
    )  # fmt: skip
    ScoreSnapshot.objects.create(
        organization=org, designation=designation, rule_set=v2, as_of=date(2024, 6, 30),
        total=77.0, qualified=True, metrics=[],
    )  # fmt: skip
    history = designation_history(organization=org, designation=designation, today=TODAY)
    assert history.months[-1].total == 77.0


# --- charts ----------------------------------------------------------------------------------


def test_bar_chart_is_accessible_svg_with_a_bar_per_scored_month_and_the_line():
    svg = charts.bar_chart(
        chart_id="c1",
        title="Total <&>",
        description="d",
        bars=[
            charts.Bar("2024-01", 50.0),
            charts.Bar("2024-02", None),
            charts.Bar("2024-03", 80.0),
        ],
        maximum=100,
        line=70,
        line_label="70 points",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Total &lt;&amp;&gt;</title>' in svg
    assert svg.count('class="chart__bar') == 2
    assert 'class="chart__threshold"' in svg
    # The 70 line sits at 70 % of the plot's height from its bottom.
    top, bottom = charts.TOP, charts.HEIGHT - charts.BOTTOM
    assert f'y1="{bottom - 0.7 * (bottom - top):.1f}"' in svg


# --- the history page ------------------------------------------------------------------------


def test_history_page_draws_the_chart_and_a_table_of_24_months(
    client, org, member, thirty_months, django_assert_max_num_queries
):
    client.force_login(member)
    # session, user, membership+org, switcher, designation, days, month-end breakdowns
    with django_assert_max_num_queries(9):
        response = client.get(history_url(org))
    assert response.status_code == 200
    body = response.content.decode()
    chart = body[body.index('data-testid="history-total-chart"') :]
    chart = chart[: chart.index("</figure>")]
    assert chart.count('class="chart__bar') == 24
    table = body[body.index('data-testid="history-table"') :]
    table = table[: table.index("</table>")]
    assert table.count('<th scope="row">') == 24
    assert "history-metric-intermediate_certifications" in body
    assert 'data-testid="history-changes"' in body


def test_history_page_query_count_does_not_grow_with_days(
    client, org, member, thirty_months, django_assert_max_num_queries
):
    for day in range(11, 31):
        put_snapshot(org, date(2024, 5, day), 75.0)
    client.force_login(member)
    with django_assert_max_num_queries(9):
        assert client.get(history_url(org)).status_code == 200


def test_history_of_an_unknown_designation_is_404(client, org, member):
    client.force_login(member)
    assert client.get(history_url(org, "no-such-thing")).status_code == 404


def test_another_organizations_member_gets_404(client, org, other_member, thirty_months):
    client.force_login(other_member)
    assert client.get(history_url(org)).status_code == 404
    assert client.get(forecast_url(org)).status_code == 404


def test_history_and_forecast_in_japanese(client, org, member, thirty_months):
    client.force_login(member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = client.get(history_url(org), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="ja">' in body
    assert 'role="img"' in body
    body = client.get(forecast_url(org), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="ja">' in body


# --- the forecast ----------------------------------------------------------------------------


def test_month_ends_and_anniversary():
    assert month_ends_after(date(2024, 6, 30)) == [
        date(2024, 7, 31), date(2024, 8, 31), date(2024, 9, 30),
        date(2024, 10, 31), date(2024, 11, 30), date(2024, 12, 31),
    ]  # fmt: skip
    assert month_ends_after(date(2024, 1, 15), 2) == [date(2024, 1, 31), date(2024, 2, 29)]
    assert next_anniversary(date(2020, 2, 29), date(2024, 6, 30)) == date(2025, 2, 28)
    assert next_anniversary(date(2024, 11, 1), date(2024, 6, 30)) == date(2024, 11, 1)
    assert next_anniversary(None, date(2024, 6, 30)) is None


@pytest.fixture
def security_at_risk(org):
    """Security at 86.7 (4 people at 26.7); three of the people's AZ-500 expire on 2024-08-14,
    which leaves 6.7 for skilling and 66.7 in all by the end of August."""
    security_partner(org, people=4)
    for held in HeldCertification.objects.for_org(org).filter(certification__code="AZ-500")[:3]:
        held.expires_on = date(2024, 8, 14)
        held.save()
    org.renewal_date = date(2024, 11, 1)
    org.save()
    services.scores_recompute(organization_ids=[org.pk], as_of=TODAY)
    return org


def test_an_expiring_certification_drops_the_score_at_its_month_end_with_the_item(
    org, security_at_risk
):
    forecast = organization_forecast(organization=org, today=TODAY)
    assert forecast.anniversary == date(2024, 11, 1)
    assert date(2024, 11, 1) in forecast.days
    security = next(f for f in forecast.designations if f.designation.code == "security")
    assert security.start.qualified
    by_day = {point.day: point for point in security.points}
    july, august = by_day[date(2024, 7, 31)], by_day[date(2024, 8, 31)]
    assert july.qualified and not july.changes
    assert float(august.total) == pytest.approx(86.667 - 20, abs=0.01)
    assert not august.qualified
    (change,) = [c for c in august.changes if c.code == "intermediate_certifications"]
    assert float(change.delta) == pytest.approx(-20)
    assert {(i.kind, i.certification, i.day) for i in change.items} == {
        ("certification", "AZ-500", date(2024, 8, 14))
    }
    assert len(change.items) == 3
    assert security.at_risk and security.first_below.day == date(2024, 8, 31)


def test_forecast_page_lists_the_drop_and_the_mark(client, org, member, security_at_risk,
                                                   django_assert_max_num_queries):  # fmt: skip
    client.force_login(member)
    # session, user, membership+org, switcher, latest computation, rule stamp, effective dates,
    # designations, the items (2); then each date's own
    with django_assert_max_num_queries(10 + DATES * per_date_queries()):
        response = client.get(forecast_url(org))
    body = response.content.decode()
    card = body[body.index('data-testid="forecast-security"') :]
    card = card[: card.index("</section>")]
    assert 'data-testid="forecast-at-risk"' in card
    assert "AZ-500 of " in card and "expires 08/14/2024" in card
    assert "−20.0 skilling" in card


def test_the_forecast_is_cached_until_the_scores_are_computed_again(
    client, org, member, security_at_risk, django_assert_max_num_queries
):
    client.force_login(member)

    def section(body):
        start = body.index('data-testid="forecast-security"')
        return body[start : body.index("</section>", start)]

    first = section(client.get(forecast_url(org)).content.decode())
    # session, user, membership+org, switcher, the latest computation: the forecast is cached
    with django_assert_max_num_queries(5):
        assert section(client.get(forecast_url(org)).content.decode()) == first
    HeldCertification.objects.for_org(org).update(expires_on=None)
    later = datetime.combine(TODAY, time(1, 0))
    with time_machine.travel(later, tick=False):
        services.scores_recompute(organization_ids=[org.pk], as_of=TODAY)
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        body = section(client.get(forecast_url(org)).content.decode())
    assert 'data-testid="forecast-at-risk"' in first
    assert 'data-testid="forecast-at-risk"' not in body


def test_forecast_query_count_does_not_grow_with_people(client, org, member, security_at_risk,
                                                        django_assert_max_num_queries):  # fmt: skip
    security_partner(org, adds=0, people=10, mpu_growth=0, deployments=0)
    client.force_login(member)
    with django_assert_max_num_queries(10 + DATES * per_date_queries()):
        assert client.get(forecast_url(org)).status_code == 200


# --- the dashboard's at-risk mark ------------------------------------------------------------


def scores_card(client, org, code="security"):
    body = client.get(reverse("org_scores", args=[org.slug])).content.decode()
    start = body.index(f'data-testid="score-{code}"')
    return body[start : body.find("</section>", start)]


def test_dashboard_marks_a_held_designation_at_risk_and_links_the_forecast(
    client, org, member, security_at_risk, django_assert_max_num_queries
):
    client.force_login(member)
    # The dashboard's own (10 at most) and the forecast (cached with the forecast page's), once.
    with django_assert_max_num_queries(13 + DATES * per_date_queries()):
        card = scores_card(client, org)
    assert 'data-testid="at-risk"' in card
    assert f'href="{forecast_url(org)}#forecast-security"' in card
    assert f'href="{history_url(org)}"' in card
    # Then from the cache: the dashboard's own ceiling.
    with django_assert_max_num_queries(10):
        scores_card(client, org)


def test_no_mark_when_the_designation_stays_qualified(client, org, member):
    security_partner(org, people=4)
    org.renewal_date = date(2024, 11, 1)
    org.save()
    services.scores_recompute(organization_ids=[org.pk], as_of=TODAY)
    client.force_login(member)
    card = scores_card(client, org)
    assert 'data-testid="qualified"' in card
    assert 'data-testid="at-risk"' not in card


def test_no_mark_when_the_drop_comes_after_the_anniversary(client, org, member, security_at_risk):
    org.renewal_date = date(2024, 8, 1)
    org.save()
    services.scores_recompute(organization_ids=[org.pk], as_of=TODAY)
    client.force_login(member)
    assert 'data-testid="at-risk"' not in scores_card(client, org)


def test_a_recompute_refreshes_the_mark(client, org, member, security_at_risk):
    client.force_login(member)
    assert 'data-testid="at-risk"' in scores_card(client, org)
    HeldCertification.objects.for_org(org).filter(certification__code="AZ-500").update(
        expires_on=None
    )
    later = datetime.combine(TODAY, time(1, 0))
    with time_machine.travel(later, tick=False):
        services.scores_recompute(organization_ids=[org.pk], as_of=TODAY)
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        assert 'data-testid="at-risk"' not in scores_card(client, org)


def test_the_month_end_backfill_scores_each_past_month_end_as_it_was(org):
    security_partner(org, people=4)
    held = HeldCertification.objects.for_org(org).filter(certification__code="AZ-500")[:2]
    for row in held:  # two of the four people only hold AZ-500 from May
        row.earned_on = date(2024, 5, 1)
        row.save()
    written = services.scores_backfill_month_ends(organization_ids=[org.pk], today=TODAY, months=3)
    assert written == 3 * 6
    security = {
        s.as_of: s for s in ScoreSnapshot.objects.for_org(org).filter(designation__code="security")
    }
    assert sorted(security) == [date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31)]
    people = {
        day: next(m["points"] for m in s.metrics if m["code"] == "intermediate_certifications")
        for day, s in security.items()
    }
    assert people[date(2024, 4, 30)] == pytest.approx(40 * 2 / 6)
    assert people[date(2024, 5, 31)] == pytest.approx(40 * 4 / 6)
    # Run again: the same rows (an upsert).
    services.scores_backfill_month_ends(organization_ids=[org.pk], today=TODAY, months=3)
    assert ScoreSnapshot.objects.for_org(org).count() == 3 * 6
