"""What a partner admin does on the People tab in a browser: find a person, add a certification,
recompute and see the score move; the Customers tab; both in English and Japanese."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.demo import seed_demo_portal
from portal.models import HeldCertification, Membership, Organization
from scoring.demo import seed_demo_telemetry
from scoring.services import scores_recompute
from tests.e2e.axe import assert_no_serious_violation
from tests.e2e.screens import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOT = str(SCREENSHOTS / "portal-people-{page}-{language}.png")


def test_admin_adds_a_certification_and_the_score_moves(live_server, page, shipped_catalog):
    logins = seed_demo_portal()
    organizations = list(Organization.objects.unscoped())
    seed_demo_telemetry(organizations=organizations)
    today = timezone.localdate()
    scores_recompute(organization_ids=[o.pk for o in organizations], as_of=today)
    sakura = Organization.objects.get(slug="sakura-cloud")

    page.goto(f"{live_server.url}/accounts/login/?next=/orgs/sakura-cloud/scores/")
    page.fill('input[name="login"]', logins.admin_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()
    business = page.get_by_test_id("score-business-applications")
    expect(business.get_by_test_id("total")).to_have_text("0.0")

    # The People tab: search for a person, open their page.
    page.get_by_role("link", name="People", exact=True).click()
    expect(page).to_have_url(re.compile(r"/orgs/sakura-cloud/people/$"))
    expect(page.get_by_test_id("people")).to_contain_text("佐藤 健")
    page.get_by_label("Name or e-mail").fill("ken.sato")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("people-count")).to_have_text("1 person")
    page.screenshot(path=SCREENSHOT.format(page="list", language="en"), full_page=True)
    assert_no_serious_violation(page)
    page.get_by_role("link", name="佐藤 健").click()
    expect(page.get_by_role("heading", name="佐藤 健", level=2)).to_be_visible()

    # Add PL-300 (a Business Applications intermediate certification).
    page.locator("select[name=certification]").select_option("PL-300")
    page.locator("input[name=earned_on]").fill(today.replace(day=1).isoformat())
    page.get_by_role("button", name="Add certification").click()
    expect(page.locator(".message--success")).to_contain_text("PL-300 was added to 佐藤 健.")
    expect(page.get_by_test_id("certifications")).to_contain_text("PL-300")
    expect(page.get_by_test_id("counts-toward")).to_contain_text(
        "Business Applications Solutions Partner · Intermediate Certifications"
    )
    assert HeldCertification.objects.for_org(sakura).filter(certification__code="PL-300").exists()
    page.screenshot(path=SCREENSHOT.format(page="person", language="en"), full_page=True)
    assert_no_serious_violation(page)

    # Recompute on the Scores tab: the designation's total moves.
    page.get_by_role("link", name="Scores", exact=True).click()
    page.get_by_role("button", name="Recompute now").click()
    expect(page.locator(".message--success")).to_contain_text("Scores recomputed")
    expect(business.get_by_test_id("total")).to_have_text("4.0")

    # The Customers tab.
    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.get_by_role("heading", name="Associated customers")).to_be_visible()
    expect(page.get_by_test_id("customers").locator("tbody tr").first).to_be_visible()
    page.screenshot(path=SCREENSHOT.format(page="customers", language="en"), full_page=True)
    assert_no_serious_violation(page)

    # In Japanese.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.screenshot(path=SCREENSHOT.format(page="customers", language="ja"), full_page=True)
    assert_no_serious_violation(page)
    page.goto(f"{live_server.url}/orgs/sakura-cloud/people/")
    expect(page.get_by_test_id("people")).to_contain_text("佐藤 健")
    page.screenshot(path=SCREENSHOT.format(page="list", language="ja"), full_page=True)
    assert_no_serious_violation(page)
    page.get_by_role("link", name="佐藤 健").click()
    expect(page.get_by_test_id("certifications")).to_contain_text("PL-300")
    page.screenshot(path=SCREENSHOT.format(page="person", language="ja"), full_page=True)
    assert_no_serious_violation(page)


def test_member_of_another_organization_gets_404(live_server, page, shipped_catalog):
    logins = seed_demo_portal()
    mine = Membership.objects.unscoped().filter(user__email=logins.admin_email)
    other = Organization.objects.unscoped().exclude(pk__in=mine.values("organization_id")).first()
    if other is None:
        pytest.skip("every demo organization has the demo admin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill('input[name="login"]', logins.admin_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()
    for path in ("people/", "customers/"):
        response = page.goto(f"{live_server.url}/orgs/{other.slug}/{path}")
        assert response is not None and response.status == 404
