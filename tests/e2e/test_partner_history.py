"""History and forecast in a browser: the history chart is drawn (an SVG with its bars and the
70 line, a table beside it), the forecast shows an expiring certification's drop, axe-core finds
nothing serious, and both read in Japanese. Screenshots go to artifacts/screenshots/."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.demo import seed_demo_portal
from portal.models import HeldCertification, Organization
from scoring.demo import seed_demo_telemetry
from scoring.forecast import month_end, organization_forecast
from scoring.services import scores_backfill_month_ends, scores_recompute
from tests.e2e.axe import assert_no_serious_violation
from tests.e2e.screens import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_history_chart_and_forecast_drop(live_server, page, shipped_catalog):
    logins = seed_demo_portal()
    organizations = list(Organization.objects.unscoped().order_by("slug"))
    seed_demo_telemetry(organizations=organizations)
    today = timezone.localdate()
    organization = next(o for o in organizations if o.slug in logins.organization_slugs)
    # Every certification of the organization expires in the month after this one: the skilling
    # points of every designation drop at that month-end.
    expiry = month_end(today) + timedelta(days=10)
    HeldCertification.objects.for_org(organization).update(expires_on=expiry)
    scores_backfill_month_ends(organization_ids=[organization.pk], today=today, months=12)
    scores_recompute(organization_ids=[organization.pk], as_of=today)
    forecast = organization_forecast(organization=organization, today=today)
    dropping = [
        (designation, change)
        for designation in forecast.designations
        for point in designation.points
        for change in point.changes
        if any(item.kind == "certification" for item in change.items)
    ]
    assert dropping, "some designation loses skilling points when the certifications expire"
    designation, change = dropping[0]
    code = designation.designation.code
    item = next(i for i in change.items if i.kind == "certification")

    page.goto(f"{live_server.url}/accounts/login/?next=/orgs/{organization.slug}/scores/")
    page.fill('input[name="login"]', logins.admin_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()

    # History: from the dashboard card to the chart.
    page.get_by_test_id(f"score-{code}").get_by_test_id("history-link").click()
    expect(page.get_by_test_id("history-total-chart")).to_be_visible()
    chart = page.get_by_test_id("history-total-chart").locator("svg[role='img']")
    expect(chart).to_be_visible()
    assert chart.locator("rect.chart__bar").count() >= 12
    expect(chart.locator("line.chart__threshold")).to_have_count(1)
    expect(page.get_by_test_id("history-table").locator("tbody tr")).to_have_count(24)
    shot(page, "history-en")
    assert_no_serious_violation(page)

    # Forecast: the drop and the certification behind it.
    page.goto(f"{live_server.url}/orgs/{organization.slug}/scores/forecast/")
    card = page.get_by_test_id(f"forecast-{code}")
    drop = (
        card.get_by_test_id("forecast-drops")
        .locator("li")
        .filter(has_text=f"{item.certification} of {item.person} expires")
    )
    expect(drop.first).to_be_visible()
    expect(drop.first).to_contain_text("skilling")
    shot(page, "forecast-en")
    assert_no_serious_violation(page)

    # In Japanese.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    card = page.get_by_test_id(f"forecast-{code}")
    drop = card.get_by_test_id("forecast-drops").locator("li").filter(has_text=item.person)
    expect(drop.first).to_contain_text(item.certification)
    shot(page, "forecast-ja")
    assert_no_serious_violation(page)
    page.goto(f"{live_server.url}/orgs/{organization.slug}/scores/{code}/history/")
    expect(page.get_by_test_id("history-total-chart").locator("svg[role='img']")).to_be_visible()
    shot(page, "history-ja")
    assert_no_serious_violation(page)
