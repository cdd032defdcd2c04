"""A partner admin in a browser: enrols, sees the Security package, assigns a Visual Studio
subscription, and chooses at renewal a year later; screenshots in English and Japanese."""

import importlib
import re
from datetime import date, datetime

import pytest
import time_machine
from django.apps import apps
from playwright.sync_api import expect

from benefits.models import BenefitAssignment, BenefitProduct, RenewalChoice
from portal.models import Membership
from scoring.models import Designation, RuleSet, ScoreSnapshot
from tests.e2e.screens import SCREENSHOTS
from tests.factories import MembershipFactory, OrganizationFactory, PersonFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct-horse-battery-staple"
SCREENSHOT = str(SCREENSHOTS / "portal-benefits-{name}-{language}.png")


@pytest.fixture
def catalogs(shipped_catalog):
    if not BenefitProduct.objects.exists():
        importlib.import_module("benefits.migrations.0002_benefit_catalog").load_catalog(apps, None)


def qualified(org, day):
    designation = Designation.objects.get(code="security")
    ScoreSnapshot.objects.create(
        organization=org,
        designation=designation,
        rule_set=RuleSet.objects.get(designation=designation, version=1),
        as_of=day,
        total=80.0,
        qualified=True,
        metrics=[],
    )


def sign_in(page, live_server, email, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_enrol_assign_and_choose_at_renewal(live_server, page, catalogs):
    org = OrganizationFactory(name="Contoso Benefits", slug="contoso-benefits", renewal_date=None)
    admin = MembershipFactory(organization=org, role=Membership.Role.ADMIN).user
    PersonFactory(organization=org, name="Aiko Tanaka")
    qualified(org, date(2024, 3, 30))
    benefits_url = f"/orgs/{org.slug}/benefits/"

    with time_machine.travel(datetime(2024, 4, 1, 9, 0), tick=True):
        sign_in(page, live_server, admin.email, benefits_url)
        security = page.get_by_test_id("designation-security")
        expect(security.get_by_test_id("status")).to_have_text("Qualified")
        security.get_by_test_id("enrol").click()
        expect(page.locator(".message--success")).to_contain_text("Enrolled in")
        security = page.get_by_test_id("designation-security")
        expect(security.get_by_test_id("status")).to_have_text("Enrolled")
        grants = page.get_by_test_id("grants")
        expect(grants.locator('[data-product="azure-production-credits"]')).to_contain_text(
            "$6,000 per year"
        )
        expect(grants.locator('[data-product="visual-studio-enterprise"]')).to_contain_text(
            "25 licenses"
        )
        page.screenshot(path=SCREENSHOT.format(name="overview", language="en"), full_page=True)

        page.get_by_role("link", name="Benefit use").first.click()
        row = page.locator('tbody[data-product="visual-studio-enterprise"]')
        row.locator('select[name="person"]').select_option(label="Aiko Tanaka")
        row.get_by_test_id("assign-visual-studio-enterprise").click()
        expect(page.locator(".message--success")).to_contain_text("Assigned.")
        row = page.locator('tbody[data-product="visual-studio-enterprise"]')
        expect(row.get_by_test_id("assigned")).to_have_text("1")
        expect(row.get_by_test_id("free")).to_have_text("24")
        assert BenefitAssignment.objects.for_org(org).get().person.name == "Aiko Tanaka"

        page.get_by_role("button", name="日本語").click()
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        page.goto(f"{live_server.url}{benefits_url}")
        expect(page.get_by_test_id("grants")).to_contain_text("Azure 本番環境用クレジット")
        page.screenshot(path=SCREENSHOT.format(name="overview", language="ja"), full_page=True)

    qualified(org, date(2025, 2, 10))  # met again within the renewal window
    with time_machine.travel(datetime(2025, 4, 5, 9, 0), tick=True):
        page.context.clear_cookies()
        sign_in(page, live_server, admin.email, f"{benefits_url}renewal/")
        expect(page).to_have_url(re.compile(r"/benefits/renewal/$"))
        option = page.get_by_test_id("option-solutions_partner")
        expect(option).to_contain_text("USD 4,730 a year")
        expect(page.get_by_test_id("option-legacy")).to_contain_text("2022-09-30")
        option.get_by_test_id("choose-solutions_partner").click()
        expect(page.get_by_test_id("renewal-choice")).to_contain_text("Solutions Partner benefits")
        expect(page.get_by_test_id("option-solutions_partner")).to_contain_text("$6,000 per year")
        page.screenshot(path=SCREENSHOT.format(name="renewal", language="en"), full_page=True)
        page.get_by_role("button", name="日本語").click()
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        page.screenshot(path=SCREENSHOT.format(name="renewal", language="ja"), full_page=True)
    assert RenewalChoice.objects.for_org(org).get().chosen_by == admin
