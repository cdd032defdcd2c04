"""What a person counts toward (the rule sets' requirements) and the organization-scoped import."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.utils import timezone

from portal.models import Person
from scoring.imports.api import import_csv_for_organization
from scoring.people_selectors import contributions_of, people_counting_toward
from tests.factories import HeldCertificationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _keys(codes: set[str]) -> set[tuple[str, str, str]]:
    found = contributions_of(codes_by_person={1: frozenset(codes)}, as_of=timezone.localdate())[1]
    return {(c.designation.code, c.metric_code.rsplit("/", 1)[-1], c.step_key) for c in found}


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (set(), set()),
        ({"MS-102"}, {("modern-work", "advanced_certifications", "people")}),
        (
            {"AZ-104"},
            {
                ("infrastructure-azure", "intermediate_certifications", "step1"),
                ("data-ai-azure", "intermediate_certifications", "step1"),
                ("digital-app-innovation-azure", "intermediate_certifications", "step1"),
            },
        ),
        # SC-400 is retired: it no longer meets the Security step 3 group.
        ({"SC-400"}, set()),
        ({"SC-401"}, {("security", "intermediate_certifications", "step3")}),
    ],
)
def test_contributions_follow_the_requirements_in_force(codes, expected):
    assert _keys(codes) == expected


def test_people_counting_toward_skips_expired_and_deactivated(org, other_org):
    today = timezone.localdate()
    counts = HeldCertificationFactory(person=PersonFactory(organization=org)).person
    expired = PersonFactory(organization=org)
    HeldCertificationFactory(
        person=expired, earned_on=date(2020, 1, 1), expires_on=date(2021, 1, 1)
    )
    inactive = PersonFactory(organization=org, active=False)
    HeldCertificationFactory(person=inactive)
    HeldCertificationFactory(person=PersonFactory(organization=other_org))
    found = people_counting_toward(organization=org, designation_code="security", as_of=today)
    assert found == {counts.pk}


def test_the_organization_import_writes_only_its_rows_as_the_actor(org, other_org, admin_member):
    good = import_csv_for_organization(
        "people",
        io.StringIO(f"partner_id,person_id,name\n{org.partner_id},A1,Ann\n,A2,Abe\n"),
        organization=org,
        actor=admin_member,
    )
    assert good.ok and good.created == 2 and good.organization_ids == [org.pk]
    assert (
        Person.objects.for_org(org).get(person_id="A1").history.get().history_user == admin_member
    )
    bad = import_csv_for_organization(
        "people",
        io.StringIO(
            f"partner_id,person_id,name\n{other_org.partner_id},B1,Bea\n9999999,B2,Bo\n"
            f"{org.partner_id},A3,Amy\n"
        ),
        organization=org,
        actor=admin_member,
    )
    assert [(e.line, e.column) for e in bad.errors] == [(2, "partner_id"), (3, "partner_id")]
    assert not Person.objects.for_org(other_org).exists()
    assert not Person.objects.for_org(org).filter(person_id="A3").exists()
