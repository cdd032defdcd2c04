"""The drill-down in a browser: sign in, the dashboard's card opens the designation page, a
metric's drill-down lists the customers behind its points; in English and Japanese, with
screenshots for CI's artifacts and axe-core finding nothing serious."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.demo import seed_demo_portal
from portal.models import Organization
from scoring.demo import seed_demo_telemetry
from scoring.drilldown import metric_drilldown
from scoring.models import ScoreSnapshot
from scoring.services import scores_recompute
from tests.e2e.axe import assert_no_serious_violation
from tests.e2e.screens import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _metric_with_customers(organizations):
    """An organization, designation and metric whose drill-down lists counting customers."""
    for organization in sorted(organizations, key=lambda o: o.slug):
        snapshots = ScoreSnapshot.objects.for_org(organization).select_related(
            "designation", "rule_set", "organization"
        )
        for snapshot in snapshots.order_by("designation__position"):
            for metric in snapshot.metrics:
                drill = metric_drilldown(snapshot=snapshot, metric_code=metric["code"])
                if drill and any(source.counting for source in drill.sources):
                    return organization, snapshot.designation, metric["code"], drill
    raise AssertionError("the demo has a metric with counting customers")


def test_dashboard_to_designation_to_a_metrics_customers(live_server, page, shipped_catalog):
    logins = seed_demo_portal()
    organizations = list(Organization.objects.unscoped())
    seed_demo_telemetry(organizations=organizations)
    scores_recompute(organization_ids=[o.pk for o in organizations], as_of=timezone.localdate())
    organization, designation, metric, drill = _metric_with_customers(organizations)
    customer = next(row for s in drill.sources for row in s.counting if row.customer).customer
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/accounts/login/?next=/orgs/{organization.slug}/scores/")
    page.fill('input[name="login"]', logins.admin_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()

    # Dashboard → the designation's page.
    page.get_by_test_id(f"score-{designation.code}").get_by_test_id("designation-link").click()
    expect(page).to_have_url(re.compile(rf"/scores/{designation.code}/$"))
    expect(page.get_by_test_id("designation-page")).to_be_visible()
    expect(page.get_by_test_id("total")).to_be_visible()
    expect(page.get_by_test_id("designation-nav")).to_contain_text("Overview")
    assert_no_serious_violation(page)
    page.screenshot(path=str(SCREENSHOTS / "designation-en.png"), full_page=True)

    # → the metric's drill-down, listing its customers.
    page.locator(f'tr[data-metric="{metric}"]').get_by_test_id("drilldown-link").click()
    expect(page).to_have_url(re.compile(rf"/scores/{designation.code}/{metric}/$"))
    rows = page.locator('[data-testid="drilldown-row"][data-counts="true"]')
    expect(rows.first).to_be_visible()
    assert rows.count() == sum(len(s.counting) for s in drill.sources)
    expect(page.get_by_test_id("metric-drilldown")).to_contain_text(customer)
    assert_no_serious_violation(page)
    page.screenshot(path=str(SCREENSHOTS / "drilldown-en.png"), full_page=True)

    # In Japanese.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_test_id("metric-drilldown")).to_contain_text(customer)
    page.screenshot(path=str(SCREENSHOTS / "drilldown-ja.png"), full_page=True)
    page.get_by_test_id("designation-nav").get_by_role("link").first.click()
    expect(page.get_by_test_id("designation-page")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "designation-ja.png"), full_page=True)
    assert_no_serious_violation(page)
