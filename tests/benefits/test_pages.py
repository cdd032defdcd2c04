"""The benefits pages: overview, enrolment, benefit use, renewal; en + ja; query ceilings."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from benefits.models import BenefitAssignment, DesignationTerm, RenewalChoice
from benefits.services import designation_enrol, specialization_award
from scoring.models import Specialization
from tests.benefits.conftest import DESIGNATIONS, snapshot
from tests.factories import LegacyCompetencyHeldFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2024, 4, 1), tick=False):
        yield


def test_overview_before_enrolment_offers_the_qualified_designation(admin_client, org):
    snapshot(org, "security", date(2024, 3, 20))
    response = admin_client.get(reverse("org_benefits", args=[org.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="enrol"' in body
    assert body.count('data-testid="enrol"') == 1
    assert "+$6,000 per year" in body  # what Security would add


def test_enrol_then_the_overview_shows_the_security_package(admin_client, org):
    snapshot(org, "security", date(2024, 3, 20))
    response = admin_client.post(
        reverse("org_benefits_enrol", args=[org.slug]), {"designation": "security"}, follow=True
    )
    body = response.content.decode()
    assert DesignationTerm.objects.for_org(org).get().designation.code == "security"
    assert "Enrolled in" in body
    assert "$6,000 per year" in body and "25 licenses" in body and "100 users" in body
    assert "awaits staff" in body  # Modern Work's package has no published product list


def test_members_cannot_enrol(member_client, org):
    snapshot(org, "security", date(2024, 3, 20))
    response = member_client.post(
        reverse("org_benefits_enrol", args=[org.slug]), {"designation": "security"}
    )
    assert response.status_code == 403
    assert not DesignationTerm.objects.for_org(org).exists()
    assert (
        'data-testid="enrol"'
        not in member_client.get(reverse("org_benefits", args=[org.slug])).content.decode()
    )


def test_enrolment_refusal_is_a_message(admin_client, org):
    response = admin_client.post(
        reverse("org_benefits_enrol", args=[org.slug]), {"designation": "security"}, follow=True
    )
    assert "did not meet the requirements" in response.content.decode()


def enrol_all(org, actor):
    for code in DESIGNATIONS:
        snapshot(org, code, date(2024, 3, 1))
        designation_enrol(organization=org, designation_code=code, actor=actor, on=date(2024, 3, 2))


def test_overview_query_ceiling_with_six_designations(
    admin_client, org, admin_member, staff, django_assert_max_num_queries
):
    enrol_all(org, admin_member)
    for specialization in Specialization.objects.filter(designation__code="security")[:3]:
        specialization_award(
            organization=org,
            specialization_code=specialization.code,
            awarded_on=date(2024, 3, 5),
            evidence_note="ok",
            actor=staff,
        )
    LegacyCompetencyHeldFactory(organization=org)
    with django_assert_max_num_queries(25):
        response = admin_client.get(reverse("org_benefits", args=[org.slug]))
    body = response.content.decode()
    assert 'data-testid="microsoft-cloud"' in body
    assert body.count('data-testid="status"') == 6


def test_benefit_use_assign_and_unassign(admin_client, org, admin_member, security_enrolled):
    person = PersonFactory(organization=org, name="Aiko Tanaka")
    url = reverse("org_benefits_assign", args=[org.slug])
    response = admin_client.post(
        url, {"product": "visual-studio-enterprise", "person": person.pk}, follow=True
    )
    body = response.content.decode()
    assert "Aiko Tanaka" in body
    assignment = BenefitAssignment.objects.for_org(org).get()
    response = admin_client.post(
        reverse("org_benefits_unassign", args=[org.slug]),
        {"assignment": assignment.pk},
        follow=True,
    )
    assert "only 90 days after" in response.content.decode()
    response = admin_client.post(
        url, {"product": "visual-studio-enterprise", "person": "x"}, follow=True
    )
    assert "Choose an active person" in response.content.decode()


def test_benefit_use_query_ceiling(
    admin_client, org, admin_member, security_enrolled, django_assert_max_num_queries
):
    from benefits.services import benefit_assign

    for person in PersonFactory.create_batch(10, organization=org):
        for code in ("visual-studio-enterprise", "m365-e5", "viva"):
            benefit_assign(
                organization=org,
                product_code=code,
                person_id=person.pk,
                actor=admin_member,
                on=date(2024, 4, 1),
            )
    with django_assert_max_num_queries(25):
        response = admin_client.get(reverse("org_benefits_use", args=[org.slug]))
    body = response.content.decode()
    assert body.count('name="assignment"') == 30
    assert 'data-testid="assign-visual-studio-enterprise"' in body


def test_renewal_page_outside_the_window(admin_client, org, security_enrolled):
    body = admin_client.get(reverse("org_benefits_renewal", args=[org.slug])).content.decode()
    assert 'data-testid="renewal-closed"' in body
    assert "2025-03-16" in body


def test_renewal_choice_from_the_page(
    client, org, admin_member, security_enrolled, django_assert_max_num_queries
):
    snapshot(org, "security", date(2025, 1, 10))
    with time_machine.travel(date(2025, 3, 20), tick=False):
        client.force_login(admin_member)  # a session of that day
        url = reverse("org_benefits_renewal", args=[org.slug])
        with django_assert_max_num_queries(30):
            body = client.get(url).content.decode()
        assert "USD 4,730 a year" in body
        assert 'data-testid="choose-solutions_partner"' in body
        response = client.post(
            reverse("org_benefits_renewal_choose", args=[org.slug]),
            {"option": "solutions_partner"},
            follow=True,
        )
        assert 'data-testid="renewal-choice"' in response.content.decode()
    assert RenewalChoice.objects.for_org(org).get().chosen_by == admin_member


def test_home_has_the_benefits_panel_and_tab(admin_client, org, security_enrolled):
    body = admin_client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert 'data-testid="benefits-summary"' in body
    assert 'data-testid="held-security"' in body
    assert reverse("org_benefits", args=[org.slug]) in body


def test_japanese(admin_client, org, security_enrolled):
    body = admin_client.get(
        reverse("org_benefits", args=[org.slug]), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert '<html lang="ja">' in body
    assert "Azure 本番環境用クレジット" in body  # catalog data in Japanese
    assert "公開された記録には" in body  # the catalog note in Japanese
