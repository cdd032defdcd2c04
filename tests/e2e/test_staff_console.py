"""What program staff do in a browser: sign in to the console, find the partners near the
line, open one, upload a file with a bad row (reported, nothing written), upload the corrected
file and watch the import's progress bar to the end."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect

from portal.demo import seed_demo_portal
from portal.models import Organization, Person
from scoring.console import import_services
from scoring.models import Designation
from tests.e2e.screens import SCREENSHOTS
from tests.scoring.console.helpers import snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HEADER = "partner_id,person_id,name,email\n"
# Vendored, version-pinned (tests/e2e/vendor/…/README): injected into the page, never served.
AXE = Path(__file__).parent / "vendor" / "axe-core-4.10.3" / "axe.min.js"


def assert_accessible(page) -> None:
    """axe-core finds no WCAG 2 A/AA violation on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    violations = [
        (v["id"], v["help"], [node["target"] for node in v["nodes"]][:5])
        for v in result["violations"]
    ]
    assert violations == [], page.url


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def background_imports(monkeypatch):
    """Confirmed imports run a moment later in a thread, as a worker would pick them up, so
    that the page shows them queued and then watches them run."""
    threads = []

    def run_later(job_id: int, attempt: int) -> None:
        def work() -> None:
            time.sleep(1.5)
            try:
                import_services.import_job_run(job_id=job_id, attempt=attempt)
            finally:
                connections.close_all()

        thread = threading.Thread(target=work)
        thread.start()
        threads.append(thread)

    monkeypatch.setattr(import_services, "_queue_run", run_later)
    yield
    for thread in threads:
        thread.join(timeout=60)


def test_staff_console_journey(live_server, page, shipped_catalog, background_imports):
    logins = seed_demo_portal()
    security = Designation.objects.get(code="security")
    # Created in bulk: no audit history, so no recompute as of today hides these scores.
    near, far = Organization.objects.bulk_create(
        [
            Organization(
                name="Hinoki Near Partners", partner_id="7700001", slug="hinoki", country="JP"
            ),
            Organization(
                name="Kaede Far Partners", partner_id="7700002", slug="kaede", country="JP"
            ),
        ]
    )
    snapshot(near, security, (20, 15, 15, 15))  # 65: near the line
    snapshot(far, security, (5, 5, 5, 5))

    # Staff sign in and land on the console.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill('input[name="login"]', logins.staff_email)
    page.fill('input[name="password"]', logins.password)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_test_id("organization-table")).to_be_visible()

    # Filter the partners near the line for Security.
    page.select_option("#filter-designation", "security")
    page.select_option("#filter-status", "near")
    page.get_by_test_id("apply-filters").click()
    table = page.get_by_test_id("organization-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Hinoki Near Partners")
    expect(table).not_to_contain_text("Kaede Far Partners")
    page.screenshot(path=str(SCREENSHOTS / "staff-console-near.png"), full_page=True)
    assert_accessible(page)

    # Open it: the partner's score cards, and the staff actions.
    table.get_by_role("link", name="Hinoki Near Partners").click()
    expect(page.get_by_test_id("partner-id")).to_have_text("7700001")
    expect(page.get_by_test_id("score-security").get_by_test_id("total")).to_have_text("65.0")
    expect(page.get_by_test_id("open-admin")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "staff-console-organization.png"), full_page=True)
    assert_accessible(page)

    page.get_by_role("link", name="Program statistics").click()
    expect(page.get_by_test_id("designation-counts")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "staff-console-statistics.png"), full_page=True)
    assert_accessible(page)

    # Upload a file with a bad row: reported, nothing written.
    page.get_by_role("link", name="Imports").click()
    bad = HEADER + "7700001,P1,Aiko Tanaka,aiko@example.com\n7799999,P2,Ben Ito,ben@example.com\n"
    page.select_option('select[name="kind"]', "people")
    page.set_input_files(
        'input[name="file"]',
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": bad.encode()}],
    )
    page.get_by_test_id("upload").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_be_visible()
    expect(report.locator('tr[data-line="3"]')).to_contain_text("partner_id")
    expect(report.locator('tr[data-line="3"]')).to_contain_text("7799999")
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    assert Person.objects.for_org(near).count() == 0
    page.screenshot(path=str(SCREENSHOTS / "staff-console-import-report.png"), full_page=True)
    assert_accessible(page)

    # Upload the corrected file, confirm, and watch the progress bar to the end.
    page.get_by_role("link", name="Imports").click()
    assert_accessible(page)
    good = HEADER + "7700001,P1,Aiko Tanaka,aiko@example.com\n7700001,P2,Ben Ito,ben@example.com\n"
    page.select_option('select[name="kind"]', "people")
    page.set_input_files(
        'input[name="file"]',
        files=[{"name": "people-fixed.csv", "mimeType": "text/csv", "buffer": good.encode()}],
    )
    page.get_by_test_id("upload").click()
    page.get_by_test_id("confirm").click()
    status = page.get_by_test_id("import-status")
    expect(status).to_have_attribute("data-status", re.compile("queued|importing|recomputing"))
    page.screenshot(path=str(SCREENSHOTS / "staff-console-import-running.png"), full_page=True)
    expect(page.get_by_test_id("import-result")).to_be_visible(timeout=30_000)
    expect(status).to_have_attribute("data-status", "done")
    expect(page.locator("#progress-written")).to_have_attribute("value", "100")
    expect(page.locator("#progress-recomputed")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("created")).to_have_text("2")
    assert Person.objects.for_org(near).count() == 2
    page.screenshot(path=str(SCREENSHOTS / "staff-console-import-done.png"), full_page=True)
    assert_accessible(page)
