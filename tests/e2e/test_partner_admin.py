"""What a partner admin does in a browser: sign in, read, invite, switch, read the scores."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from portal.demo import seed_demo_portal
from portal.models import Invitation, Organization
from scoring.demo import seed_demo_telemetry
from scoring.services import scores_recompute
from tests.e2e.screens import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOT = str(SCREENSHOTS / "portal-org-home.png")


def test_partner_admin_journey(live_server, page, shipped_catalog):
    logins = seed_demo_portal()
    sakura = Organization.objects.get(slug="sakura-cloud")

    # Sign in with the demo admin's e-mail and password.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill('input[name="login"]', logins.admin_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()

    # Two organizations: the switcher page; open the Japanese partner.
    expect(page.get_by_role("heading", name="Your partner organizations")).to_be_visible()
    page.get_by_role("link", name=re.compile(sakura.name)).click()

    # The organization home shows the facts, the people's figures and the certifications
    # that lapse first; the People tab lists everyone.
    expect(page).to_have_url(re.compile(r"/orgs/sakura-cloud/$"))
    expect(page.get_by_text(sakura.partner_id)).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ of \d+ certifications active"))).to_be_visible()
    expect(page.locator("table.table--expiring .cert-code").first).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_role("link", name="All people and certifications").click()
    expect(page.get_by_text("佐藤 健").first).to_be_visible()
    page.go_back()

    # Members page: invite someone.
    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Invite someone")).to_be_visible()
    page.fill('input[name="email"]', "new.engineer@sakura-cloud.example")
    page.select_option('select[name="role"]', "member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".message--success")).to_contain_text(
        "Invitation sent to new.engineer@sakura-cloud.example"
    )
    expect(page.get_by_test_id("invitations")).to_contain_text("new.engineer@sakura-cloud.example")
    assert Invitation.objects.for_org(sakura).filter(email="new.engineer@sakura-cloud.example")
    assert [m.to for m in mail.outbox] == [["new.engineer@sakura-cloud.example"]]

    # Switch the language to Japanese.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", name="メンバーを招待")).to_be_visible()
    expect(page.get_by_role("button", name="招待を送信")).to_be_visible()

    # Switch to the other organization from the top bar; the language sticks.
    page.get_by_test_id("org-switcher").locator("summary").click()
    page.get_by_test_id("org-switcher").get_by_role(
        "link", name="Contoso Security Partners"
    ).click()
    expect(page).to_have_url(re.compile(r"/orgs/contoso-security/$"))
    expect(page.get_by_role("heading", name="Contoso Security Partners", level=1)).to_be_visible()
    expect(page.get_by_text("更新日", exact=True)).to_be_visible()
    expect(page.locator("table.table--expiring")).to_be_visible()


SCORES_SCREENSHOT = str(SCREENSHOTS / "portal-scores-{language}.png")


def test_partner_admin_reads_the_scores(live_server, page, shipped_catalog):
    logins = seed_demo_portal()
    organizations = list(Organization.objects.unscoped())
    seed_demo_telemetry(organizations=organizations)
    scores_recompute(organization_ids=[o.pk for o in organizations], as_of=timezone.localdate())

    # Sign in, open the Japanese partner, then its Scores tab.
    page.goto(f"{live_server.url}/accounts/login/?next=/orgs/sakura-cloud/")
    page.fill('input[name="login"]', logins.admin_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_test_id("score-summary")).to_be_visible()
    page.get_by_role("link", name="Scores", exact=True).click()
    expect(page).to_have_url(re.compile(r"/orgs/sakura-cloud/scores/$"))

    # The Security card: qualified, with its metrics and what is still missing.
    security = page.get_by_test_id("score-security")
    expect(security.get_by_role("heading", name="Security Solutions Partner")).to_be_visible()
    expect(security.get_by_test_id("qualified")).to_have_text("Qualified")
    expect(security.locator(".metric")).to_have_count(4)
    expect(security).to_contain_text("Net Customer Adds")
    expect(page.get_by_role("button", name="Recompute now")).to_be_visible()
    page.screenshot(path=SCORES_SCREENSHOT.format(language="en"), full_page=True)

    # In Japanese: the designation's Japanese name and the program's terms.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    security = page.get_by_test_id("score-security")
    expect(
        security.get_by_role("heading", name="Security ソリューションパートナー")
    ).to_be_visible()
    expect(security.get_by_test_id("qualified")).to_have_text("認定要件を達成")
    expect(security).to_contain_text("新規顧客数")
    expect(page.get_by_role("heading", name="パートナーケーパビリティスコア")).to_be_visible()
    page.screenshot(path=SCORES_SCREENSHOT.format(language="ja"), full_page=True)
