"""The benefits endpoints: what the organization holds and could choose, entitlements with
their use, assignments (read-write keys and admins, through the benefits services), the
status history; query-count ceilings that an N+1 would break."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from benefits.models import BenefitAssignment, DesignationStatusChange
from benefits.services import designation_enrol
from tests.api.conftest import key_client
from tests.benefits.conftest import snapshot
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

ON = date(2024, 4, 1)
VS = "visual-studio-enterprise"  # 25 seats with Security, reassignable after 90 days


@pytest.fixture
def enrolled(org, admin_member):
    """`org` qualified for Security on 2024-03-10 and enrolled on 2024-03-15."""
    org.renewal_date = None
    org.save()
    snapshot(org, "security", date(2024, 3, 10))
    designation_enrol(
        organization=org, designation_code="security", actor=admin_member, on=date(2024, 3, 15)
    )
    org.refresh_from_db()
    return org


@pytest.fixture
def today():
    with time_machine.travel(date(2024, 4, 1), tick=False) as traveller:
        yield traveller


def _url(name, org, **kwargs):
    return reverse(name, kwargs={"partner_id": org.partner_id, **kwargs})


def test_the_benefits_held_and_within_reach(read_client, enrolled, django_assert_max_num_queries):
    # 19 on SQLite: the key, the holdings, the catalog once — not one query per designation.
    with django_assert_max_num_queries(21):
        response = read_client.get(_url("api-benefits", enrolled), {"on": ON.isoformat()})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["on"], body["option"], body["anniversary"]) == (
        "2024-04-01",
        "solutions_partner",
        "2025-03-15",
    )
    security = next(d for d in body["designations"] if d["designation"] == "security")
    assert security["status"] == "enrolled" and security["held"] is True
    assert security["term"] == {
        "kind": "enrolment",
        "starts_on": "2024-03-15",
        "ends_on": "2025-03-15",
    }
    assert VS in [grant["product"] for grant in security["benefits"]]
    others = [d for d in body["designations"] if d["designation"] != "security"]
    assert others and all(d["status"] == "in_progress" and not d["can_enrol"] for d in others)
    assert next(g for g in body["benefits"] if g["product"] == VS)["quantity"] == 25
    assert body["renewal"] is None


def test_a_bad_date_is_a_400_naming_it(read_client, org):
    response = read_client.get(_url("api-benefits", org), {"on": "2024-13-01"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "on"


def test_entitlements_count_use_and_remaining(
    write_client, read_client, enrolled, today, django_assert_max_num_queries
):
    people = PersonFactory.create_batch(2, organization=enrolled)
    for person in people:
        created = write_client.post(
            _url("api-benefit-assignment-list", enrolled),
            {"product": VS, "person_id": person.person_id},
            format="json",
        )
        assert created.status_code == 201, created.json()
    # 15 on SQLite, whatever the number of grants and assignments.
    with django_assert_max_num_queries(16):
        response = read_client.get(_url("api-benefit-entitlements", enrolled))
    assert response.status_code == 200
    vs = next(row for row in response.json()["entitlements"] if row["product"] == VS)
    assert (vs["granted"], vs["assigned"], vs["remaining"], vs["use"]) == (25, 2, 23, "seat")


def test_a_read_write_key_assigns_and_unassigns_through_the_services(
    write_client, read_client, enrolled, today
):
    person = PersonFactory(organization=enrolled, person_id="P-SEAT")
    url = _url("api-benefit-assignment-list", enrolled)
    assert (
        read_client.post(url, {"product": VS, "person_id": "P-SEAT"}, format="json").status_code
        == 403
    )
    response = write_client.post(url, {"product": VS, "person_id": "P-SEAT"}, format="json")
    assert response.status_code == 201
    assignment = BenefitAssignment.objects.for_org(enrolled).get()
    assert response["Location"] == response.json()["url"]
    assert response["Location"].endswith(
        _url("api-benefit-assignment-detail", enrolled, pk=assignment.pk)
    )
    assert response.json()["person_id"] == "P-SEAT" and response.json()["open"] is True
    assert assignment.person == person and assignment.assigned_by is None
    assert assignment.history.get().history_change_reason.startswith(
        "benefit assigned by API key HR sync"
    )

    twice = write_client.post(url, {"product": VS, "person_id": "P-SEAT"}, format="json")
    assert twice.status_code == 400
    assert "already has" in twice.json()["errors"][0]["detail"]
    unknown = write_client.post(url, {"product": VS, "person_id": "NOBODY"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["attr"] == "person_id"

    detail = response["Location"]
    early = write_client.delete(detail)
    assert early.status_code == 400  # Visual Studio: reassignable after 90 days
    assert "90 days" in early.json()["errors"][0]["detail"]
    today.move_to(date(2024, 7, 1))
    assert write_client.delete(detail).status_code == 204
    assignment.refresh_from_db()
    assert assignment.unassigned_on == date(2024, 7, 1)
    assert read_client.get(detail).json()["open"] is False


def test_an_admin_assigns_in_the_browser_session_too(client, admin_member, enrolled, today):
    from rest_framework.test import APIClient

    PersonFactory(organization=enrolled, person_id="P-ADMIN")
    session = APIClient()
    session.force_login(admin_member)
    response = session.post(
        _url("api-benefit-assignment-list", enrolled),
        {"product": VS, "person_id": "P-ADMIN"},
        format="json",
    )
    assert response.status_code == 201
    assert BenefitAssignment.objects.for_org(enrolled).get().assigned_by == admin_member


def test_a_member_cannot_assign(member, enrolled, today):
    from rest_framework.test import APIClient

    PersonFactory(organization=enrolled, person_id="P-MEMBER")
    session = APIClient()
    session.force_login(member)
    response = session.post(
        _url("api-benefit-assignment-list", enrolled),
        {"product": VS, "person_id": "P-MEMBER"},
        format="json",
    )
    assert response.status_code == 403
    assert not BenefitAssignment.objects.for_org(enrolled).exists()


def test_the_assignment_list_filters_in_constant_queries(
    read_client, enrolled, admin_member, django_assert_max_num_queries
):
    from benefits.models import BenefitProduct

    product = BenefitProduct.objects.get(code=VS)
    people = PersonFactory.create_batch(12, organization=enrolled)
    for index, person in enumerate(people):
        BenefitAssignment.objects.create(
            organization=enrolled,
            product=product,
            person=person,
            assigned_on=ON,
            unassigned_on=date(2024, 9, 1) if index % 3 == 0 else None,
        )
    url = _url("api-benefit-assignment-list", enrolled)
    with django_assert_max_num_queries(6):  # key, its last use, the page: not one per row
        response = read_client.get(url, {"page_size": 50})
    assert len(response.json()["results"]) == 12
    assert len(read_client.get(url, {"open": "true"}).json()["results"]) == 8
    mine = read_client.get(url, {"person_id": people[1].person_id}).json()["results"]
    assert [row["person_id"] for row in mine] == [people[1].person_id]


def test_the_status_history_newest_first(read_client, enrolled, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = read_client.get(_url("api-benefit-status-history", enrolled))
    assert response.status_code == 200
    [change] = response.json()["results"]
    assert (change["designation"], change["status"], change["changed_on"]) == (
        "security",
        "enrolled",
        "2024-03-15",
    )
    assert DesignationStatusChange.objects.for_org(enrolled).count() == 1
    assert (
        read_client.get(_url("api-benefit-status-history", enrolled), {"status": "lapsed"}).json()[
            "results"
        ]
        == []
    )


def test_another_organizations_key_sees_none_of_it(other_write_key, enrolled):
    client = key_client(other_write_key)
    for name in ("api-benefits", "api-benefit-entitlements", "api-benefit-assignment-list"):
        assert client.get(_url(name, enrolled)).status_code == 404


def test_a_person_holding_a_benefit_is_not_deleted_but_refused(write_client, enrolled, today):
    person = PersonFactory(organization=enrolled, person_id="P-HOLDS")
    write_client.post(
        _url("api-benefit-assignment-list", enrolled),
        {"product": VS, "person_id": "P-HOLDS"},
        format="json",
    )
    response = write_client.delete(_url("api-person-detail", enrolled, person_id="P-HOLDS"))
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    person.refresh_from_db()  # still there, with its assignment
    assert BenefitAssignment.objects.for_org(enrolled).filter(person=person).exists()
