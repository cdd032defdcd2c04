"""People and their certifications through the API: read for members and keys, write for
admins and read-write keys, through the audited services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.models import HeldCertification, Person
from tests.factories import HeldCertificationFactory, PersonFactory


@pytest.fixture
def people_url(org):
    return reverse("api-person-list", args=[org.partner_id])


@pytest.mark.django_db
def test_list_people_with_certifications_and_filters(read_client, org, people_url):
    ada = PersonFactory(organization=org, name="Ada", person_id="P1")
    HeldCertificationFactory(person=ada, organization=org)
    PersonFactory(organization=org, name="Grace", person_id="P2", active=False)
    body = read_client.get(people_url).json()
    assert [p["person_id"] for p in body["results"]] == ["P1", "P2"]
    assert body["results"][0]["certifications"][0]["certification"] == "AZ-500"
    assert body["results"][0]["certifications"][0]["active"] is True
    assert [
        p["person_id"] for p in read_client.get(people_url, {"active": "false"}).json()["results"]
    ] == ["P2"]
    holding = read_client.get(people_url, {"certification": "AZ-500"}).json()["results"]
    assert [p["person_id"] for p in holding] == ["P1"]


@pytest.mark.django_db
def test_cursor_pagination(read_client, org, people_url):
    for number in range(5):
        PersonFactory(organization=org, person_id=f"P{number}")
    first = read_client.get(people_url, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = read_client.get(first["next"]).json()
    third = read_client.get(second["next"]).json()
    seen = [p["person_id"] for page in (first, second, third) for p in page["results"]]
    assert sorted(seen) == [f"P{n}" for n in range(5)]
    assert third["next"] is None


@pytest.mark.django_db
def test_create_update_delete_with_a_read_write_key(write_client, org, people_url):
    response = write_client.post(
        people_url, {"person_id": "P42", "name": "Aiko", "email": "aiko@example.com"}, format="json"
    )
    assert response.status_code == 201
    detail = reverse("api-person-detail", args=[org.partner_id, "P42"])
    assert response["Location"].endswith(detail)
    person = Person.objects.for_org(org).get(person_id="P42")
    # Audited: no user, the key named as the reason.
    assert person.history.get().history_change_reason.startswith("API key HR sync")

    response = write_client.patch(detail, {"name": "Aiko Tanaka", "active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Aiko Tanaka" and response.json()["active"] is False

    certs = reverse("api-person-certification-list", args=[org.partner_id, "P42"])
    response = write_client.post(
        certs, {"certification": "AZ-500", "earned_on": "2025-01-10"}, format="json"
    )
    assert response.status_code == 201
    assert response["Location"].endswith(
        reverse("api-person-certification-detail", args=[org.partner_id, "P42", "AZ-500"])
    )
    again = write_client.post(
        certs, {"certification": "AZ-500", "earned_on": "2025-01-10"}, format="json"
    )
    assert again.status_code == 400 and again.json()["errors"][0]["attr"] == "certification"
    unknown = write_client.post(
        certs, {"certification": "XX-999", "earned_on": "2025-01-10"}, format="json"
    )
    assert unknown.status_code == 400
    held = reverse("api-person-certification-detail", args=[org.partner_id, "P42", "AZ-500"])
    bad_dates = write_client.patch(held, {"expires_on": "2024-01-01"}, format="json")
    assert bad_dates.status_code == 400 and bad_dates.json()["errors"][0]["attr"] == "expires_on"
    assert write_client.patch(held, {"expires_on": "2027-01-10"}, format="json").status_code == 200
    assert write_client.delete(held).status_code == 204
    assert not HeldCertification.objects.for_org(org).exists()

    assert write_client.delete(detail).status_code == 204
    assert not Person.objects.for_org(org).exists()
    assert write_client.get(detail).status_code == 404


@pytest.mark.django_db
def test_members_read_and_admins_write_by_session(api, org, member, admin_member, people_url):
    api.force_login(member)
    assert api.get(people_url).status_code == 200
    api_denied = api.post(people_url, {"person_id": "P1", "name": "Ada"}, format="json")
    assert api_denied.status_code == 403
    api.force_login(admin_member)
    assert (
        api.post(people_url, {"person_id": "P1", "name": "Ada"}, format="json").status_code == 201
    )
    assert Person.objects.for_org(org).get().history.get().history_user == admin_member


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(org, admin_member, people_url):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_member)
    response = client.post(people_url, {"person_id": "P1", "name": "Ada"}, format="json")
    assert response.status_code == 403
    assert not Person.objects.for_org(org).exists()


@pytest.mark.django_db
def test_create_is_idempotent_with_a_key(write_client, org, people_url):
    payload = {"person_id": "P7", "name": "Lin"}
    first = write_client.post(people_url, payload, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    replay = write_client.post(people_url, payload, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert replay["Location"] == first["Location"]
    assert replay["Idempotent-Replayed"] == "true"
    assert Person.objects.for_org(org).count() == 1
    other = write_client.post(
        people_url, {"person_id": "P8", "name": "Lin"}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    assert other.status_code == 409
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Person.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_people(
    read_client, org, people_url, django_assert_max_num_queries
):
    for _ in range(30):
        person = PersonFactory(organization=org)
        HeldCertificationFactory(person=person, organization=org)
    with django_assert_max_num_queries(6):
        response = read_client.get(people_url)
    assert len(response.json()["results"]) == 30


@pytest.mark.django_db
def test_certification_list_query_count(read_client, org, django_assert_max_num_queries):
    from portal.models import Certification

    person = PersonFactory(organization=org, person_id="P1")
    for certification in Certification.objects.all()[:10]:
        HeldCertificationFactory(person=person, organization=org, certification=certification)
    url = reverse("api-person-certification-list", args=[org.partner_id, "P1"])
    with django_assert_max_num_queries(6):
        response = read_client.get(url)
    assert len(response.json()["results"]) == 10


@pytest.mark.django_db
@pytest.mark.parametrize("person_id", ["a/b", "tab\there", "\x00"])
def test_a_person_id_must_be_usable_in_a_url(write_client, org, people_url, person_id):
    # Found by schemathesis: a slash made the Location URL impossible (a 500).
    PersonFactory(organization=org, person_id="P1")
    created = write_client.post(people_url, {"person_id": person_id, "name": "X"}, format="json")
    assert created.status_code == 400
    assert created.json()["errors"][0]["attr"] == "person_id"
    detail = reverse("api-person-detail", args=[org.partner_id, "P1"])
    changed = write_client.patch(detail, {"person_id": person_id}, format="json")
    assert changed.status_code == 400
    assert Person.objects.for_org(org).get().person_id == "P1"
