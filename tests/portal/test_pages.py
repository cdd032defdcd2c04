"""Switcher, organization home, language switch and the error pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import Certification, Membership
from tests.factories import (
    HeldCertificationFactory,
    LegacyCompetencyHeldFactory,
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_home_redirects_a_single_org_user_to_the_org(client, org, member):
    client.force_login(member)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("org_home", args=[org.slug])


@pytest.mark.django_db
def test_home_lists_the_organizations_of_a_multi_org_user(client, org, other_org, member):
    MembershipFactory(organization=other_org, user=member)
    unrelated = OrganizationFactory(name="Northwind Traders")
    client.force_login(member)

    response = client.get(reverse("home"))

    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("org_home", args=[org.slug]) in body
    assert reverse("org_home", args=[other_org.slug]) in body
    assert unrelated.name not in body


@pytest.mark.django_db
def test_switcher_in_the_top_bar_links_every_org_and_marks_the_current(
    client, org, other_org, member
):
    MembershipFactory(organization=other_org, user=member)
    client.force_login(member)

    body = client.get(reverse("org_home", args=[other_org.slug])).content.decode()
    switcher = body.split('data-testid="org-switcher"', 1)[1].split("</details>", 1)[0]

    assert f'href="{reverse("org_home", args=[org.slug])}"' in switcher
    assert f'href="{reverse("org_home", args=[other_org.slug])}" aria-current="true"' in switcher


@pytest.mark.django_db
def test_single_org_user_has_no_switcher_menu(client, org, member):
    client.force_login(member)
    body = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert 'data-testid="org-switcher"' not in body
    assert org.name in body


@pytest.mark.django_db
def test_user_without_organizations_is_told_how_to_join(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "not a member of any partner organization yet" in response.content.decode()


@pytest.mark.django_db
def test_home_needs_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_organization_home_shows_facts_and_the_certifications_that_lapse_first(
    client, org, other_org, member
):
    LegacyCompetencyHeldFactory(organization=org)
    today = timezone.localdate()
    ada = PersonFactory(organization=org, name="Ada Lovelace", person_id="P-ADA")
    HeldCertificationFactory(
        person=ada, certification=Certification.objects.get(code="AZ-500"), expires_on=None
    )
    HeldCertificationFactory(
        person=ada,
        certification=Certification.objects.get(code="MS-500"),
        earned_on=today - timedelta(days=800),
        expires_on=today - timedelta(days=1),
    )
    grace = PersonFactory(organization=org, name="Grace Hopper", person_id="P-GH")
    for code, days in (("SC-300", 40), ("SC-200", 10)):
        HeldCertificationFactory(
            person=grace,
            certification=Certification.objects.get(code=code),
            earned_on=today - timedelta(days=300),
            expires_on=today + timedelta(days=days),
        )
    elsewhere = PersonFactory(organization=other_org, name="Someone Else")
    HeldCertificationFactory(
        person=elsewhere,
        certification=Certification.objects.get(code="AZ-104"),
        expires_on=today + timedelta(days=1),
    )
    client.force_login(member)

    response = client.get(reverse("org_home", args=[org.slug]))

    body = response.content.decode()
    assert response.status_code == 200
    for text in [org.partner_id, "US", "2026-10-01", "Security", "Gold"]:
        assert text in body, text
    assert "2 people" in body and "3 of 4 certifications active" in body
    # Active certifications with an expiry, the first to lapse first; not the expired MS-500,
    # not AZ-500 (no expiry), nothing of the other organization.
    expiring = body[body.index("Certifications that lapse first") :]
    assert expiring.index("SC-200") < expiring.index("SC-300")
    assert "MS-500" not in expiring and "AZ-500" not in expiring
    assert "Someone Else" not in body and "AZ-104" not in body
    assert reverse("org_people", args=[org.slug]) in body


@pytest.mark.django_db
def test_inactive_people_are_not_listed(client, org, member):
    PersonFactory(organization=org, name="Former Engineer", active=False)
    client.force_login(member)
    body = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Former Engineer" not in body


@pytest.mark.django_db
def test_organization_home_query_ceiling(client, org, member, django_assert_max_num_queries):
    codes = ["MS-500", "AZ-500", "SC-200"]
    certifications = [Certification.objects.get(code=code) for code in codes]
    soon = timezone.localdate() + timedelta(days=30)
    for _ in range(20):
        person = PersonFactory(organization=org)
        for certification in certifications:
            HeldCertificationFactory(person=person, certification=certification, expires_on=soon)
    LegacyCompetencyHeldFactory(organization=org)
    from scoring.services import scores_recompute  # six score snapshots for the summary row

    scores_recompute(organization_ids=[org.pk], as_of=timezone.localdate())
    client.force_login(member)

    # session, user, membership+org, switcher, legacy competencies, people counted, their
    # certifications counted, the first to lapse, the latest score snapshots (one query however
    # many designations): however many people there are
    with django_assert_max_num_queries(10):
        response = client.get(reverse("org_home", args=[org.slug]))

    body = response.content.decode()
    assert body.count('class="cert-code mono"') == 8  # the first eight of 60 to lapse
    assert body.count('class="score-summary__item"') == 6


@pytest.mark.django_db
def test_japanese_with_accept_language(client, org, member):
    client.force_login(member)
    response = client.get(reverse("org_home", args=[org.slug]), HTTP_ACCEPT_LANGUAGE="ja")
    body = response.content.decode()
    assert '<html lang="ja">' in body
    assert "更新日" in body
    assert "パートナー様組織" in body


@pytest.mark.django_db
def test_language_switch_sticks(client, org, member):
    client.force_login(member)
    url = reverse("org_members", args=[org.slug])
    response = client.post(reverse("set_language"), {"language": "ja", "next": url})
    assert response.status_code == 302
    assert response["Location"] == url

    body = client.get(url).content.decode()
    assert "管理者" in body
    assert "メンバー" in body

    client.post(reverse("set_language"), {"language": "en", "next": url})
    body = client.get(url).content.decode()
    assert "Members" in body and "管理者" not in body


@pytest.mark.django_db
def test_sign_in_page_in_japanese(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="ja")
    # The portal's word for signing in (the header's too), not allauth's ログイン.
    assert "サインイン" in response.content.decode()
    assert "ログイン" not in response.content.decode()


@pytest.mark.django_db
def test_403_page_explains(client, org, member):
    client.force_login(member)
    target = Membership.objects.for_org(org).get(user=member)
    response = client.post(reverse("org_member_remove", args=[org.slug, target.pk]))
    assert response.status_code == 403
    assert "Only an admin of the partner organization can do this" in response.content.decode()


@pytest.mark.django_db
def test_staff_in_no_organization_land_on_the_program_pages(client, staff):
    client.force_login(staff)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_console") == "/staff/"


@pytest.mark.django_db
def test_staff_who_are_members_still_land_on_their_organization(client, org, staff):
    MembershipFactory(organization=org, user=staff)
    client.force_login(staff)
    assert client.get(reverse("home"))["Location"] == reverse("org_home", args=[org.slug])
