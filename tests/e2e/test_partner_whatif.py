"""What-if in a browser: typing a hypothetical person moves the projected score (htmx), the
shortest path to qualify is shown, axe-core finds nothing serious, and it reads in Japanese."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.demo import seed_demo_portal
from portal.models import Certification, Organization
from scoring.demo import seed_demo_telemetry
from scoring.services import scores_recompute
from scoring.whatif import Scenario, whatif_project
from tests.e2e.axe import assert_no_serious_violation
from tests.e2e.screens import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOT = str(SCREENSHOTS / "portal-whatif-{language}.png")
# Certifications of every designation's skilling metrics: a few people holding all of them
# raise some designation's projected points whatever the demo organization already has.
MANY_CERTIFICATIONS = [
    "AZ-104", "AZ-305", "AZ-500", "MS-500", "SC-200", "SC-300", "DP-203", "DP-100", "AI-102",
    "AZ-204", "AZ-400", "MS-700", "MS-102", "MD-102", "PL-200", "PL-600", "MB-210", "MB-800",
]  # fmt: skip


def test_whatif_projects_as_you_type_and_shows_the_shortest_path(
    live_server, page, shipped_catalog
):
    logins = seed_demo_portal()
    organizations = list(Organization.objects.unscoped())
    seed_demo_telemetry(organizations=organizations)
    scores_recompute(organization_ids=[o.pk for o in organizations], as_of=timezone.localdate())
    plannable = [
        (organization, projection.rule_set.model.designation)
        for organization in sorted(organizations, key=lambda o: o.slug)
        for projection in whatif_project(
            organization=organization, scenario=Scenario(), as_of=timezone.localdate()
        ).projections
        if not projection.projected.qualified and projection.path and projection.path.size
    ]
    assert plannable, "the demo has a designation to plan for"
    organization, designation = plannable[0]
    active = set(Certification.objects.filter(active=True).values_list("code", flat=True))
    certifications = ", ".join(code for code in MANY_CERTIFICATIONS if code in active)

    page.goto(f"{live_server.url}/accounts/login/?next=/orgs/{organization.slug}/scores/")
    page.fill('input[name="login"]', logins.admin_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()
    # The dashboard card of a designation not qualified links to the what-if page, focused.
    page.get_by_test_id(f"score-{designation.code}").get_by_test_id("whatif-link").click()
    expect(page).to_have_url(re.compile(rf"/scores/what-if/\?designation={designation.code}$"))
    expect(page.get_by_role("heading", name="What-if: plan your way to 70")).to_be_visible()

    card = page.get_by_test_id(f"whatif-{designation.code}")
    expect(card.get_by_test_id("shortest-path")).to_be_visible()
    expect(card.get_by_test_id("shortest-path")).to_contain_text("Shortest path to qualify")
    results = page.get_by_test_id("whatif-results")
    before = results.inner_text()
    assert_no_serious_violation(page)

    # Type a hypothetical person: htmx posts the form and swaps in the projection, no reload.
    page.evaluate("window.__not_reloaded = true")
    page.get_by_label("Certifications").first.fill(certifications)
    page.get_by_label("How many people").first.fill("5")
    expect(page.get_by_test_id("whatif-results")).to_contain_text("Projected scores")
    expect(page.get_by_test_id("whatif-results")).not_to_have_text(before)
    assert page.evaluate("window.__not_reloaded") is True
    projected = page.get_by_test_id("whatif-results").inner_text()
    assert re.search(r"Today \d+\.\d \(\+\d+\.\d\)", projected), projected
    page.screenshot(path=SCREENSHOT.format(language="en"), full_page=True)
    assert_no_serious_violation(page)

    # In Japanese, once the projections typed above have all come back: leaving the field
    # fires htmx's "change" post too, which must not race the language switch's page load
    # (SQLite's shared in-memory test database locks a table a what-if is writing to).
    page.keyboard.press("Tab")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".htmx-request")).to_have_count(0)
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", name="シミュレーション: 70 点への計画")).to_be_visible()
    card = page.get_by_test_id(f"whatif-{designation.code}")
    expect(card.get_by_test_id("shortest-path")).to_contain_text("認定までの最短経路")
    page.screenshot(path=SCREENSHOT.format(language="ja"), full_page=True)
    assert_no_serious_violation(page)
