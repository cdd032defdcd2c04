"""Benefit use: seats and credits within the grant, tenants, the reassignment delay."""

import threading
import time
from datetime import date

import pytest
from django.db import connection, connections

from benefits import services
from benefits.models import BenefitAssignment, BenefitProduct
from benefits.selectors import benefit_use, entitlements_on
from benefits.services import benefit_activate, benefit_assign, benefit_unassign
from portal.exceptions import ApplicationError
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def use_of(org, code, on):
    uses = benefit_use(entitlements=entitlements_on(organization=org, on=on))
    return next(u for u in uses if u.product.code == code)


def test_seats_within_the_grant(org, admin_member, security_enrolled):
    people = PersonFactory.create_batch(3, organization=org)
    on = date(2024, 4, 1)
    for person in people[:2]:
        benefit_assign(
            organization=org,
            product_code="visual-studio-enterprise",
            person_id=person.pk,
            actor=admin_member,
            on=on,
        )
    use = use_of(org, "visual-studio-enterprise", on)
    assert (use.granted, use.assigned, use.free) == (25, 2, 23)
    with pytest.raises(ApplicationError, match="already has"):
        benefit_assign(
            organization=org,
            product_code="visual-studio-enterprise",
            person_id=people[0].pk,
            actor=admin_member,
            on=on,
        )


def test_no_seat_beyond_the_grant(org, admin_member, security_enrolled):
    product = BenefitProduct.objects.get(code="windows-365-enterprise")  # 5 users
    people = PersonFactory.create_batch(6, organization=org)
    for person in people[:5]:
        benefit_assign(
            organization=org,
            product_code=product.code,
            person_id=person.pk,
            actor=admin_member,
            on=date(2024, 4, 1),
        )
    with pytest.raises(ApplicationError, match="All 5"):
        benefit_assign(
            organization=org,
            product_code=product.code,
            person_id=people[5].pk,
            actor=admin_member,
            on=date(2024, 4, 1),
        )


def test_each_azure_credit_goes_to_one_user(org, admin_member, security_enrolled):
    first, second = PersonFactory.create_batch(2, organization=org)
    benefit_assign(
        organization=org,
        product_code="azure-production-credits",
        person_id=first.pk,
        actor=admin_member,
        on=date(2024, 4, 1),
    )
    with pytest.raises(ApplicationError, match="All 1"):
        benefit_assign(
            organization=org,
            product_code="azure-production-credits",
            person_id=second.pk,
            actor=admin_member,
            on=date(2024, 4, 1),
        )


def test_another_organizations_person_cannot_be_assigned(
    org, other_org, admin_member, security_enrolled
):
    stranger = PersonFactory(organization=other_org)
    with pytest.raises(ApplicationError, match="active person"):
        benefit_assign(
            organization=org,
            product_code="m365-e5",
            person_id=stranger.pk,
            actor=admin_member,
            on=date(2024, 4, 1),
        )


def test_not_granted_means_not_assignable(org, admin_member):
    person = PersonFactory(organization=org)
    with pytest.raises(ApplicationError, match="not granted"):
        benefit_assign(
            organization=org,
            product_code="m365-e5",
            person_id=person.pk,
            actor=admin_member,
            on=date(2024, 4, 1),
        )


def test_visual_studio_reassigned_only_after_90_days(org, admin_member, security_enrolled):
    person = PersonFactory(organization=org)
    assignment = benefit_assign(
        organization=org,
        product_code="visual-studio-enterprise",
        person_id=person.pk,
        actor=admin_member,
        on=date(2024, 4, 1),
    )
    with pytest.raises(ApplicationError, match="from 2024-06-30"):
        benefit_unassign(
            organization=org, assignment_id=assignment.pk, actor=admin_member, on=date(2024, 6, 29)
        )
    benefit_unassign(
        organization=org, assignment_id=assignment.pk, actor=admin_member, on=date(2024, 6, 30)
    )
    assert use_of(org, "visual-studio-enterprise", date(2024, 7, 1)).assigned == 0


def test_m365_seat_can_move_at_once(org, admin_member, security_enrolled):
    person = PersonFactory(organization=org)
    assignment = benefit_assign(
        organization=org,
        product_code="m365-e5",
        person_id=person.pk,
        actor=admin_member,
        on=date(2024, 4, 1),
    )
    benefit_unassign(
        organization=org, assignment_id=assignment.pk, actor=admin_member, on=date(2024, 4, 1)
    )
    assert assignment.history.first().history_user == admin_member


def test_cloud_service_activated_on_one_tenant(org, admin_member, security_enrolled):
    benefit_activate(
        organization=org,
        product_code="m365-e5",
        tenant="contoso.onmicrosoft.com",
        actor=admin_member,
        on=date(2024, 4, 1),
    )
    assert use_of(org, "m365-e5", date(2024, 4, 1)).activation.tenant == "contoso.onmicrosoft.com"
    with pytest.raises(ApplicationError, match="already activated"):
        benefit_activate(
            organization=org,
            product_code="m365-e5",
            tenant="other",
            actor=admin_member,
            on=date(2024, 4, 1),
        )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_cannot_take_the_last_seat(
    benefits_catalog, org, admin_member, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite locks the whole database for a writer: the row-lock race needs PostgreSQL"
        )
    from tests.benefits.conftest import snapshot

    org.renewal_date = None
    org.save()
    snapshot(org, "security", date(2024, 3, 10))
    services.designation_enrol(
        organization=org, designation_code="security", actor=admin_member, on=date(2024, 3, 15)
    )
    product = BenefitProduct.objects.get(code="windows-365-enterprise")  # 5 users
    holders = PersonFactory.create_batch(4, organization=org)
    for person in holders:  # through the service, so the allowance row exists before the race
        benefit_assign(
            organization=org,
            product_code=product.code,
            person_id=person.pk,
            actor=admin_member,
            on=date(2024, 4, 1),
        )
    contenders = PersonFactory.create_batch(2, organization=org)

    # Widen the gap between reading the grant and writing the seat, where a race would slip in.
    real_entitlements = services.entitlements_on

    def slow_entitlements(**kwargs):
        result = real_entitlements(**kwargs)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(services, "entitlements_on", slow_entitlements)
    barrier = threading.Barrier(2)
    outcomes = []

    def assign(person):
        try:
            barrier.wait()
            benefit_assign(
                organization=org,
                product_code=product.code,
                person_id=person.pk,
                actor=admin_member,
                on=date(2024, 4, 2),
            )
            outcomes.append("assigned")
        except ApplicationError as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=assign, args=(p,)) for p in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=len) == [
        "assigned",
        "All 5 of Windows 365 Enterprise are assigned.",
    ]
    open_seats = BenefitAssignment.objects.for_org(org).filter(
        product=product, unassigned_on__isnull=True
    )
    assert open_seats.count() == 5
