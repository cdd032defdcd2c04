"""Badges: generated for what is held, with the organization's name; none for the rest."""

import io
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from PIL import Image

from benefits.badges import HEIGHT, WIDTH, badge_png, badge_svg, badges_held
from benefits.selectors import holdings_on
from benefits.services import designation_enrol
from tests.benefits.conftest import DESIGNATIONS, snapshot

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2024, 4, 1), tick=False):
        yield


def test_svg_parses_and_png_opens_with_the_organizations_name(org, security_enrolled):
    org.name = "コントソ <Security> & Co"
    org.save()
    (badge,) = badges_held(holdings_on(organization=org, on=date(2024, 4, 1)))
    root = ET.fromstring(badge_svg(badge).encode())
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "コントソ <Security> & Co" in texts
    assert badge.title in texts
    image = Image.open(io.BytesIO(badge_png(badge)))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    # something was drawn where the name goes (not a blank strip)
    strip = image.crop((32, 168, WIDTH - 32, 200)).convert("L")
    assert strip.getextrema()[0] < 128


def test_no_badge_for_what_is_not_held(admin_client, org):
    snapshot(org, "security", date(2024, 3, 20))  # qualified, not enrolled
    url = reverse("org_benefits_badges", args=[org.slug])
    assert 'data-testid="no-badges"' in admin_client.get(url).content.decode()
    assert admin_client.get(url, {"badge": "security", "format": "png"}).status_code == 404


def test_download_from_the_page(admin_client, org, security_enrolled):
    url = reverse("org_benefits_badges", args=[org.slug])
    assert 'data-testid="badge-security"' in admin_client.get(url).content.decode()
    response = admin_client.get(url, {"badge": "security", "format": "png", "download": "1"})
    assert response["Content-Type"] == "image/png"
    assert 'filename="solutions-partner-security.png"' in response["Content-Disposition"]
    assert Image.open(io.BytesIO(response.content)).size == (WIDTH, HEIGHT)
    response = admin_client.get(url, {"badge": "security", "format": "svg"})
    ET.fromstring(response.content)


def test_microsoft_cloud_badge_only_at_six(org, admin_member):
    org.renewal_date = None
    org.save()
    for code in DESIGNATIONS[:5]:
        snapshot(org, code, date(2024, 3, 1))
        designation_enrol(
            organization=org, designation_code=code, actor=admin_member, on=date(2024, 3, 1)
        )
    keys = {b.key for b in badges_held(holdings_on(organization=org, on=date(2024, 3, 1)))}
    assert "microsoft-cloud" not in keys and len(keys) == 5
    snapshot(org, DESIGNATIONS[5], date(2024, 3, 1))
    designation_enrol(
        organization=org, designation_code=DESIGNATIONS[5], actor=admin_member, on=date(2024, 3, 1)
    )
    keys = {b.key for b in badges_held(holdings_on(organization=org, on=date(2024, 3, 1)))}
    assert "microsoft-cloud" in keys and len(keys) == 7


def test_badges_page_query_ceiling(
    admin_client, org, admin_member, staff, django_assert_max_num_queries
):
    from benefits.services import specialization_award
    from scoring.models import Specialization

    org.renewal_date = None
    org.save()
    for code in DESIGNATIONS:
        snapshot(org, code, date(2024, 3, 1))
        designation_enrol(
            organization=org, designation_code=code, actor=admin_member, on=date(2024, 3, 1)
        )
    for specialization in Specialization.objects.filter(designation__code="security")[:3]:
        specialization_award(
            organization=org,
            specialization_code=specialization.code,
            awarded_on=date(2024, 3, 2),
            evidence_note="ok",
            actor=staff,
        )
    with django_assert_max_num_queries(15):
        body = admin_client.get(reverse("org_benefits_badges", args=[org.slug])).content.decode()
    assert body.count('data-testid="badge-') == 6 + 3 + 1
