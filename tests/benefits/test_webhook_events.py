"""designation.qualified / enrolled / lapsed: sent when the status history records the change,
through portal's signed webhooks, once per change; verified by a real receiver on loopback."""

from __future__ import annotations

from datetime import date

import pytest

from benefits.services import designation_enrol, designation_statuses_record
from portal import webhooks
from portal.models import WebhookDelivery
from tests.api.test_webhooks import Receiver
from tests.benefits.conftest import snapshot

pytestmark = pytest.mark.django_db

DESIGNATION_EVENTS = ["designation.qualified", "designation.enrolled", "designation.lapsed"]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def endpoint(org, admin_member, receiver):
    endpoint = webhooks.webhook_endpoint_create(
        organization=org, actor=admin_member, url=receiver.url, events=DESIGNATION_EVENTS
    )
    receiver.secret = endpoint.secret
    return endpoint


def test_the_three_events_are_registered():
    assert set(DESIGNATION_EVENTS) <= set(webhooks.EVENTS)


def test_qualified_then_enrolled_then_lapsed(
    org, admin_member, endpoint, receiver, django_capture_on_commit_callbacks
):
    org.renewal_date = None
    org.save()
    snapshot(org, "security", date(2024, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        designation_statuses_record(organization=org, on=date(2024, 3, 12))
    [qualified] = receiver.received
    assert qualified["verified"] is True
    assert qualified["event"] == "designation.qualified"
    data = qualified["body"]["data"]
    assert (data["designation"], data["status"], data["previous_status"], data["changed_on"]) == (
        "security",
        "qualified",
        "in_progress",
        "2024-03-12",
    )
    assert data["term"] is None
    assert qualified["body"]["organization"]["partner_id"] == org.partner_id

    with django_capture_on_commit_callbacks(execute=True):
        designation_enrol(
            organization=org, designation_code="security", actor=admin_member, on=date(2024, 3, 15)
        )
    enrolled = receiver.received[-1]
    assert enrolled["verified"] and enrolled["event"] == "designation.enrolled"
    assert enrolled["body"]["data"]["previous_status"] == "qualified"
    assert enrolled["body"]["data"]["term"] == {
        "kind": "enrolment",
        "starts_on": "2024-03-15",
        "ends_on": "2025-03-15",
    }
    assert enrolled["body"]["data"]["anniversary"] == "2025-03-15"

    # Not renewed: the renewal window closes 30 days after the anniversary.
    with django_capture_on_commit_callbacks(execute=True):
        designation_statuses_record(organization=org, on=date(2025, 3, 20))  # renewal due
        designation_statuses_record(organization=org, on=date(2025, 5, 1))
    assert [got["event"] for got in receiver.received] == DESIGNATION_EVENTS
    lapsed = receiver.received[-1]["body"]["data"]
    assert (lapsed["status"], lapsed["previous_status"]) == ("lapsed", "renewal_due")

    # The nightly pass again: nothing new recorded, nothing sent again.
    with django_capture_on_commit_callbacks(execute=True):
        designation_statuses_record(organization=org, on=date(2025, 5, 1))
    assert len(receiver.received) == 3


def test_a_rolled_back_change_announces_nothing(org, admin_member, endpoint, receiver):
    from django.db import transaction

    snapshot(org, "security", date(2024, 3, 10))
    with pytest.raises(RuntimeError), transaction.atomic():
        designation_statuses_record(organization=org, on=date(2024, 3, 12))
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.for_org(org).exists()
    assert receiver.received == []


def test_an_endpoint_gets_only_the_events_it_chose(
    org, admin_member, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhooks.webhook_endpoint_create(
        organization=org, actor=admin_member, url=receiver.url, events=["designation.enrolled"]
    )
    receiver.secret = endpoint.secret
    org.renewal_date = None
    org.save()
    snapshot(org, "security", date(2024, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        designation_statuses_record(organization=org, on=date(2024, 3, 12))
        designation_enrol(
            organization=org, designation_code="security", actor=admin_member, on=date(2024, 3, 15)
        )
    assert [got["event"] for got in receiver.received] == ["designation.enrolled"]


def test_another_organizations_change_goes_to_its_own_endpoints_only(
    other_org, endpoint, receiver, django_capture_on_commit_callbacks
):
    snapshot(other_org, "security", date(2024, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        designation_statuses_record(organization=other_org, on=date(2024, 3, 12))
    assert receiver.received == []
