"""The People tab: list, filters, person page, admins' audited edits, the organization's CSV."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from portal.models import Certification, HeldCertification, Person
from tests.factories import HeldCertificationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def cert(code: str) -> Certification:
    return Certification.objects.get(code=code)


def people_url(org, **params) -> str:
    url = reverse("org_people", args=[org.slug])
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


def person_url(person, name="org_person", **extra) -> str:
    return reverse(name, kwargs={"slug": person.organization.slug, "person_pk": person.pk, **extra})


@pytest.fixture
def team(org):
    """Three people: a security engineer (AZ-500, expiring soon), an M365 admin, one without."""
    today = timezone.localdate()
    aiko = PersonFactory(organization=org, name="Aiko Security", email="aiko@contoso.example")
    HeldCertificationFactory(
        person=aiko,
        certification=cert("AZ-500"),
        earned_on=today - timedelta(days=300),
        expires_on=today + timedelta(days=30),
    )
    ben = PersonFactory(organization=org, name="Ben Modern", email="ben@contoso.example")
    HeldCertificationFactory(
        person=ben, certification=cert("MS-102"), earned_on=today - timedelta(days=10)
    )
    cleo = PersonFactory(organization=org, name="Cleo Nocert", email="cleo@elsewhere.example")
    return aiko, ben, cleo


def names(response) -> list[str]:
    return [row.person.name for row in response.context["rows"]]


# --- the list and its filters -----------------------------------------------------------------


def test_list_shows_the_organizations_people_only(client, member, team, other_org):
    PersonFactory(organization=other_org, name="Fabrikam Person")
    client.force_login(member)
    response = client.get(people_url(team[0].organization))
    assert response.status_code == 200
    assert names(response) == ["Aiko Security", "Ben Modern", "Cleo Nocert"]
    assert "Fabrikam Person" not in response.content.decode()
    # Members read: no add or upload button.
    assert reverse("org_person_add", args=["contoso"]) not in response.content.decode()


def test_search_by_name_or_email(client, member, team):
    client.force_login(member)
    org = team[0].organization
    assert names(client.get(people_url(org, q="modern"))) == ["Ben Modern"]
    assert names(client.get(people_url(org, q="elsewhere.example"))) == ["Cleo Nocert"]


def test_filter_by_certification_and_expiring(client, member, team):
    client.force_login(member)
    org = team[0].organization
    assert names(client.get(people_url(org, certification="MS-102"))) == ["Ben Modern"]
    assert names(client.get(people_url(org, expiring="on"))) == ["Aiko Security"]
    # An unknown code is ignored, not an error.
    assert len(names(client.get(people_url(org, certification="XX-999")))) == 3


def test_filter_counts_toward_a_designation_follows_the_rules(client, member, team):
    client.force_login(member)
    org = team[0].organization
    assert names(client.get(people_url(org, designation="security"))) == ["Aiko Security"]
    assert names(client.get(people_url(org, designation="modern-work"))) == ["Ben Modern"]
    assert names(client.get(people_url(org, designation="business-applications"))) == []


def test_an_expired_certification_or_a_deactivated_person_counts_toward_nothing(
    client, member, org
):
    today = timezone.localdate()
    expired = PersonFactory(organization=org, name="Expired")
    HeldCertificationFactory(
        person=expired,
        certification=cert("AZ-500"),
        earned_on=today - timedelta(days=800),
        expires_on=today - timedelta(days=1),
    )
    gone = PersonFactory(organization=org, name="Gone", active=False)
    HeldCertificationFactory(person=gone, certification=cert("AZ-500"), earned_on=today)
    client.force_login(member)
    assert names(client.get(people_url(org, designation="security"))) == []
    # Deactivated people are hidden unless asked for.
    assert names(client.get(people_url(org))) == ["Expired"]
    assert names(client.get(people_url(org, inactive="on"))) == ["Expired", "Gone"]


def test_list_is_paginated(client, member, org):
    for number in range(30):
        PersonFactory(organization=org, name=f"Person {number:02d}")
    client.force_login(member)
    first = client.get(people_url(org))
    assert len(first.context["rows"]) == 25
    second = client.get(people_url(org, page=2, q="Person"))
    assert names(second) == [f"Person {n}" for n in range(25, 30)]
    assert "q=Person&amp;page=1" in second.content.decode()


def test_list_query_count_does_not_grow_with_people(
    client, member, org, django_assert_max_num_queries
):
    for number in range(40):
        person = PersonFactory(organization=org, name=f"Person {number:02d}")
        HeldCertificationFactory(person=person, certification=cert("AZ-500"))
        HeldCertificationFactory(person=person, certification=cert("AZ-104"))
    client.force_login(member)
    client.get(people_url(org))  # the rule sets in force are cached per process
    with django_assert_max_num_queries(12):
        response = client.get(people_url(org, designation="security"))
    assert len(response.context["rows"]) == 25


# --- the person page --------------------------------------------------------------------------


def test_person_page_shows_steps_and_expiry(client, member, team):
    aiko = team[0]
    client.force_login(member)
    response = client.get(person_url(aiko))
    assert response.status_code == 200
    row = response.context["row"]
    assert "Security Solutions Partner · Intermediate Certifications · step 1" in row.counts_toward
    # Enterprise and SMB tracks share the requirement: it is listed once.
    assert len(row.counts_toward) == len(set(row.counts_toward))
    assert row.certifications[0].expiring_soon
    body = response.content.decode()
    assert "AZ-500" in body
    assert "Expires within 90 days" in body


def test_person_of_another_organization_is_404_under_this_slug(
    client, admin_member, org, other_org
):
    theirs = PersonFactory(organization=other_org)
    held = HeldCertificationFactory(person=theirs)
    client.force_login(admin_member)
    for name in ("org_person", "org_person_edit", "org_person_deactivate"):
        url = reverse(name, kwargs={"slug": org.slug, "person_pk": theirs.pk})
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "x", "person_id": "x"}).status_code == 404
    url = reverse(
        "org_certification_remove",
        kwargs={"slug": org.slug, "person_pk": theirs.pk, "held_pk": held.pk},
    )
    assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active and HeldCertification.objects.unscoped().filter(pk=held.pk).exists()


def test_other_organizations_admin_changes_nothing(client, other_member, team):
    aiko = team[0]
    held = aiko.certifications.get()
    client.force_login(other_member)
    posts = [
        (
            reverse("org_person_add", args=[aiko.organization.slug]),
            {"person_id": "N1", "name": "N"},
        ),
        (person_url(aiko, "org_person_edit"), {"person_id": "X", "name": "Hacked"}),
        (person_url(aiko, "org_person_deactivate"), {}),
        (
            person_url(aiko, "org_certification_add"),
            {"certification": "AZ-104", "earned_on": "2025-01-01"},
        ),
        (person_url(aiko, "org_certification_remove", held_pk=held.pk), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404
    aiko.refresh_from_db()
    assert aiko.name == "Aiko Security" and aiko.active
    assert Person.objects.for_org(aiko.organization).count() == 3
    assert list(aiko.certifications.values_list("certification__code", flat=True)) == ["AZ-500"]


# --- admins' edits ----------------------------------------------------------------------------


def test_members_cannot_edit(client, member, team):
    aiko = team[0]
    held = aiko.certifications.get()
    client.force_login(member)
    urls = [
        reverse("org_person_add", args=[aiko.organization.slug]),
        reverse("org_people_upload", args=[aiko.organization.slug]),
        person_url(aiko, "org_person_edit"),
        person_url(aiko, "org_person_deactivate"),
        person_url(aiko, "org_certification_add"),
        person_url(aiko, "org_certification_edit", held_pk=held.pk),
        person_url(aiko, "org_certification_remove", held_pk=held.pk),
    ]
    for url in urls:
        assert client.get(url).status_code == 403
        assert client.post(url, {"name": "x", "person_id": "y"}).status_code == 403
    assert client.post(person_url(aiko, "org_person_reactivate")).status_code == 403
    aiko.refresh_from_db()
    assert aiko.active and aiko.certifications.count() == 1


def test_admin_adds_a_person_audited(client, admin_member, org):
    client.force_login(admin_member)
    url = reverse("org_person_add", args=[org.slug])
    response = client.post(url, {"person_id": "CP-1", "name": "Dana", "email": "dana@x.example"})
    person = Person.objects.for_org(org).get(person_id="CP-1")
    assert response.status_code == 302
    assert response["Location"] == person_url(person)
    history = person.history.get()
    assert history.history_type == "+" and history.history_user == admin_member


def test_adding_a_duplicate_profile_id_is_a_form_error(client, admin_member, org):
    PersonFactory(organization=org, person_id="CP-1")
    client.force_login(admin_member)
    response = client.post(
        reverse("org_person_add", args=[org.slug]), {"person_id": "CP-1", "name": "Again"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["person_id"] == [
        "A person with this certification profile ID exists already."
    ]
    assert Person.objects.for_org(org).count() == 1


def test_the_same_profile_id_in_another_organization_is_fine(client, admin_member, org, other_org):
    PersonFactory(organization=other_org, person_id="CP-1")
    client.force_login(admin_member)
    client.post(reverse("org_person_add", args=[org.slug]), {"person_id": "CP-1", "name": "Mine"})
    assert Person.objects.for_org(org).get().name == "Mine"


def test_admin_edits_a_person(client, admin_member, team):
    aiko = team[0]
    client.force_login(admin_member)
    response = client.post(
        person_url(aiko, "org_person_edit"),
        {"person_id": aiko.person_id, "name": "Aiko S.", "email": "not-an-email"},
    )
    assert response.status_code == 200 and "email" in response.context["form"].errors
    client.post(
        person_url(aiko, "org_person_edit"),
        {"person_id": aiko.person_id, "name": "Aiko S.", "email": ""},
    )
    aiko.refresh_from_db()
    assert aiko.name == "Aiko S." and aiko.email == ""
    assert aiko.history.first().history_user == admin_member


def test_deactivate_asks_first_then_deactivates(client, admin_member, team):
    aiko = team[0]
    client.force_login(admin_member)
    confirm = client.get(person_url(aiko, "org_person_deactivate"))
    assert confirm.status_code == 200
    assert "Deactivate Aiko Security?" in confirm.content.decode()
    aiko.refresh_from_db()
    assert aiko.active
    client.post(person_url(aiko, "org_person_deactivate"))
    aiko.refresh_from_db()
    assert not aiko.active
    assert aiko.history.first().history_user == admin_member
    assert client.get(person_url(aiko)).context["row"].counts_toward == ()
    client.post(person_url(aiko, "org_person_reactivate"))
    aiko.refresh_from_db()
    assert aiko.active


def test_admin_adds_a_certification_and_the_person_counts(client, admin_member, team):
    cleo = team[2]
    client.force_login(admin_member)
    response = client.post(
        person_url(cleo, "org_certification_add"),
        {"certification": "AZ-104", "earned_on": "2025-03-01", "expires_on": ""},
    )
    assert response.status_code == 302
    held = cleo.certifications.get()
    assert held.certification.code == "AZ-104" and held.expires_on is None
    assert held.history.get().history_user == admin_member
    counts = client.get(person_url(cleo)).context["row"].counts_toward
    assert (
        "Infrastructure (Azure) Solutions Partner · Intermediate Certifications · step 1" in counts
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"certification": "AZ-500", "earned_on": "2025-01-01"},
            "certification",
            "This person already holds AZ-500.",
        ),
        (
            {"certification": "AZ-104", "earned_on": "2025-01-01", "expires_on": "2024-12-31"},
            "expires_on",
            "A certification expires after the day it was earned.",
        ),
        (
            {"certification": "XX-123", "earned_on": "2025-01-01"},
            "certification",
            "Select a valid choice. XX-123 is not one of the available choices.",
        ),
    ],
)
def test_certification_validation(client, admin_member, team, data, field, message):
    aiko = team[0]
    client.force_login(admin_member)
    response = client.post(person_url(aiko, "org_certification_add"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert aiko.certifications.count() == 1


def test_admin_edits_and_removes_a_certification(client, admin_member, team):
    aiko = team[0]
    held = aiko.certifications.get()
    client.force_login(admin_member)
    edit = person_url(aiko, "org_certification_edit", held_pk=held.pk)
    client.post(edit, {"earned_on": "2024-01-01", "expires_on": "2027-01-01"})
    held.refresh_from_db()
    assert held.expires_on == date(2027, 1, 1)
    remove = person_url(aiko, "org_certification_remove", held_pk=held.pk)
    assert "Remove AZ-500 from Aiko Security?" in client.get(remove).content.decode()
    assert aiko.certifications.count() == 1
    client.post(remove)
    assert aiko.certifications.count() == 0
    deleted = HeldCertification.history.filter(id=held.pk, history_type="-").get()
    assert deleted.history_user == admin_member


# --- the organization's CSV -------------------------------------------------------------------


def upload(client, org, kind, text):
    file = SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("org_people_upload", args=[org.slug]), {"kind": kind, "file": file})


def test_upload_people_writes_a_good_file(client, admin_member, org):
    client.force_login(admin_member)
    response = upload(
        client,
        org,
        "people",
        f"partner_id,person_id,name,email\n{org.partner_id},U1,Uma,uma@x.example\n,U2,Ulf,\n",
    )
    assert response.status_code == 302
    assert sorted(Person.objects.for_org(org).values_list("person_id", "name")) == [
        ("U1", "Uma"),
        ("U2", "Ulf"),
    ]


def test_upload_refuses_another_organizations_row_and_writes_nothing(
    client, admin_member, org, other_org
):
    client.force_login(admin_member)
    response = upload(
        client,
        org,
        "people",
        "partner_id,person_id,name\n"
        f"{org.partner_id},U1,Uma\n"
        f"{other_org.partner_id},U2,Intruder\n"
        f"{org.partner_id},,No id\n",
    )
    assert response.status_code == 200
    errors = [(e.line, e.column, e.value) for e in response.context["result"].errors]
    assert errors == [(3, "partner_id", other_org.partner_id), (4, "person_id", "")]
    body = response.content.decode()
    assert "Bad rows: nothing was written" in body and 'data-line="3"' in body
    assert not Person.objects.unscoped().exists()


def test_upload_certifications_reports_unknown_people_and_codes(client, admin_member, team):
    aiko = team[0]
    org = aiko.organization
    client.force_login(admin_member)
    header = "partner_id,person_id,certification,earned_on,expires_on\n"
    bad = upload(
        client,
        org,
        "certifications",
        header + f"{org.partner_id},{aiko.person_id},AZ-104,2025-01-01,\n"
        f"{org.partner_id},NOBODY,AZ-104,2025-01-01,\n"
        f"{org.partner_id},{aiko.person_id},ZZ-999,2025-01-01,\n",
    )
    errors = [(e.line, e.column) for e in bad.context["result"].errors]
    assert errors == [(3, "person_id"), (4, "certification")]
    assert aiko.certifications.count() == 1
    good = upload(
        client, org, "certifications", header + f",{aiko.person_id},AZ-104,2025-01-01,2028-01-01\n"
    )
    assert good.status_code == 302
    assert sorted(aiko.certifications.values_list("certification__code", flat=True)) == [
        "AZ-104",
        "AZ-500",
    ]


def test_the_organization_import_refuses_other_kinds():
    from scoring.imports.api import import_csv_for_organization

    with pytest.raises(ValueError):
        import_csv_for_organization("usage", io.StringIO(""), organization=None)  # type: ignore[arg-type]


# --- Japanese ---------------------------------------------------------------------------------


def test_people_pages_render_in_japanese(client, admin_member, team):
    client.force_login(admin_member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    for url in (
        people_url(team[0].organization),
        person_url(team[0]),
        reverse("org_person_add", args=["contoso"]),
        reverse("org_people_upload", args=["contoso"]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert '<html lang="ja"' in response.content.decode()
