"""Webhooks: registered by admins, signed with HMAC-SHA256 and a timestamp, delivered by
Celery with retries, logged, replayable, disabled after repeated failure. The receiver is a
real HTTP server on loopback that checks every signature itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from portal import webhooks
from portal.models import WebhookDelivery, WebhookEndpoint
from scoring.models import RuleSet, ScoreSnapshot
from scoring.webhook_events import scores_recomputed_notify
from tests.factories import HeldCertificationFactory, PersonFactory


class Receiver:
    """An integrator's endpoint: answers the scripted status codes and verifies signatures
    the way the README tells integrators to (independently of portal.webhooks)."""

    def __init__(self) -> None:
        self.secret = ""
        self.statuses: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers.get("Portal-Signature", "")
                parts = dict(part.split("=", 1) for part in header.split(","))
                expected = hmac.new(
                    receiver.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                receiver.received.append(
                    {
                        "verified": hmac.compare_digest(expected, parts["v1"])
                        and abs(time.time() - int(parts["t"])) < 300,
                        "event": self.headers["Portal-Event"],
                        "delivery": self.headers["Portal-Delivery"],
                        "body": json.loads(body),
                    }
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def endpoint(org, admin_member, receiver):
    endpoint = webhooks.webhook_endpoint_create(
        organization=org, actor=admin_member, url=receiver.url, events=list(webhooks.EVENTS)
    )
    receiver.secret = endpoint.secret
    return endpoint


def _emit(org, capture, event="scores.recomputed", data=None):
    with capture(execute=True):
        return webhooks.webhook_event_emit(
            organization_id=org.pk, event=event, data=data or {"as_of": date(2024, 6, 30)}
        )


@pytest.mark.django_db
def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(admin_client, org, receiver):
    url = reverse("org_webhooks", args=[org.slug])
    refused = admin_client.post(
        url, {"url": "http://example.com/hook", "events": ["import.finished"]}
    )
    assert refused.status_code == 400
    assert not WebhookEndpoint.objects.for_org(org).exists()
    response = admin_client.post(
        url, {"url": "https://example.com/hook", "events": ["import.finished", "scores.recomputed"]}
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.for_org(org).get()
    assert endpoint.events == ["import.finished", "scores.recomputed"]
    assert endpoint.secret in response.content.decode()
    page = admin_client.get(url).content.decode()
    assert "https://example.com/hook" in page and endpoint.secret not in page
    assert endpoint.history.get().history_user == response.wsgi_request.user


@pytest.mark.django_db
def test_a_member_cannot_manage_webhooks(member_client, org):
    assert member_client.get(reverse("org_webhooks", args=[org.slug])).status_code == 403


@pytest.mark.django_db
def test_a_delivery_is_signed_and_verified_by_the_receiver(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    [delivery] = _emit(org, django_capture_on_commit_callbacks)
    [got] = receiver.received
    assert got["verified"] is True
    assert got["event"] == "scores.recomputed"
    assert got["delivery"] == str(delivery.pk)
    assert got["body"]["type"] == "scores.recomputed"
    assert got["body"]["organization"]["partner_id"] == org.partner_id
    assert got["body"]["data"] == {"as_of": "2024-06-30"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)


@pytest.mark.django_db
def test_another_secret_does_not_verify(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.secret = "whsec_someone_else"
    _emit(org, django_capture_on_commit_callbacks)
    assert receiver.received[0]["verified"] is False


def test_verify_signature_refuses_a_changed_body_or_an_old_timestamp():
    body = b'{"type":"scores.recomputed"}'
    header = webhooks.signature_header(secret="s", body=body, timestamp=1_700_000_000)
    assert webhooks.verify_signature(secret="s", header=header, body=body, now=1_700_000_010)
    assert not webhooks.verify_signature(
        secret="s", header=header, body=body + b" ", now=1_700_000_010
    )
    assert not webhooks.verify_signature(secret="t", header=header, body=body, now=1_700_000_010)
    assert not webhooks.verify_signature(secret="s", header=header, body=body, now=1_700_001_000)
    assert not webhooks.verify_signature(secret="s", header="v1=abc", body=body)


def test_retries_back_off_exponentially():
    assert [webhooks.retry_delay(n) for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_until_it_answers(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 503]
    [delivery] = _emit(org, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert len(receiver.received) == 3
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 3, 200)


@pytest.mark.django_db
def test_repeated_failure_fails_the_delivery_and_then_disables_the_endpoint(
    settings, org, endpoint, receiver, django_capture_on_commit_callbacks, admin_client
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    receiver.statuses = [500] * 10
    [first] = _emit(org, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert (first.status, first.attempts, first.response_code) == ("failed", 2, 500)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 1
    _emit(org, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert _emit(org, django_capture_on_commit_callbacks) == []  # nothing goes to it any more
    assert len(receiver.received) == 4
    # The page shows it; the admin enables it again.
    page = admin_client.get(reverse("org_webhooks", args=[org.slug])).content.decode()
    assert "500" in page
    admin_client.post(reverse("org_webhook_enable", args=[org.slug, endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0


@pytest.mark.django_db
def test_replay_sends_the_same_event_again(
    org, endpoint, receiver, admin_client, django_capture_on_commit_callbacks
):
    [delivery] = _emit(org, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("org_webhook_replay", args=[org.slug, delivery.pk]))
    assert response.status_code == 302
    assert len(receiver.received) == 2
    assert receiver.received[1]["body"] == receiver.received[0]["body"]
    assert all(got["verified"] for got in receiver.received)
    replay = WebhookDelivery.objects.for_org(org).exclude(pk=delivery.pk).get()
    assert replay.replay_of == delivery and replay.status == "succeeded"


@pytest.mark.django_db
def test_another_organizations_delivery_cannot_be_replayed(
    org, other_org, endpoint, other_member, client, django_capture_on_commit_callbacks
):
    [delivery] = _emit(org, django_capture_on_commit_callbacks)
    client.force_login(other_member)
    response = client.post(reverse("org_webhook_replay", args=[other_org.slug, delivery.pk]))
    assert response.status_code == 302
    assert WebhookDelivery.objects.for_org(org).count() == 1


def _snapshot(org, as_of, qualified):
    rule_set = RuleSet.objects.get(designation__code="security", version=1)
    ScoreSnapshot.objects.create(
        organization=org,
        designation=rule_set.designation,
        rule_set=rule_set,
        as_of=as_of,
        total=75.0 if qualified else 40.0,
        qualified=qualified,
    )


@pytest.mark.django_db
def test_recomputed_scores_are_announced_with_each_designations_qualification(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    _snapshot(org, date(2024, 5, 31), qualified=False)
    _snapshot(org, date(2024, 6, 30), qualified=True)
    with django_capture_on_commit_callbacks(execute=True):
        scores_recomputed_notify(organization_ids=[org.pk], as_of=date(2024, 6, 30))
    # The program's designation.* events come from the benefits status history, not from a
    # score crossing the line (tests/benefits/test_webhook_events.py).
    [got] = receiver.received
    assert got["event"] == "scores.recomputed" and got["verified"]
    assert got["body"]["data"] == {
        "as_of": "2024-06-30",
        "scores": [
            {
                "designation": "security",
                "total": 75.0,
                "qualified": True,
                "rule_set_version": 1,
            }
        ],
    }


@pytest.mark.django_db
def test_an_api_import_announces_that_it_finished(
    org, endpoint, receiver, platform_client, django_capture_on_commit_callbacks
):
    from tests.scoring.telemetry import associate, customer

    tenant = customer("m365")
    associate(org, tenant, "CPOR")
    rows = [
        {
            "month": "2026-01",
            "platform": "m365",
            "customer_id": tenant.customer_id,
            "measure": "paid_seats",
            "value": 30,
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = platform_client.post(reverse("api-telemetry-usage"), rows, format="json")
    assert response.status_code == 200
    finished = [got for got in receiver.received if got["event"] == "import.finished"]
    assert finished[0]["body"]["data"]["kind"] == "usage"
    assert finished[0]["body"]["data"]["created"] == 1


@pytest.mark.django_db
def test_expiring_certifications_are_announced_30_and_7_days_ahead(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    today = date(2026, 1, 1)
    for days in (30, 7, 12):
        person = PersonFactory(organization=org)
        HeldCertificationFactory(
            person=person,
            organization=org,
            earned_on=date(2024, 1, 1),
            expires_on=today + timedelta(days=days),
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.certification_expiry_notify(on=today) == 2
    assert sorted(got["body"]["data"]["days_left"] for got in receiver.received) == [7, 30]


@pytest.mark.django_db
def test_the_webhooks_page_in_japanese(admin_client, org, endpoint):
    response = admin_client.get(reverse("org_webhooks", args=[org.slug]), HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    assert re.search(r'lang="ja"', response.content.decode())


@pytest.mark.django_db
def test_staff_register_endpoints_in_the_admin_with_the_same_rules(client, staff, org):
    client.force_login(staff)
    add = reverse("admin:portal_webhookendpoint_add")
    data = {
        "organization": org.pk,
        "url": "http://example.com/x",
        "events": '["import.finished"]',
        "active": "on",
    }
    assert client.post(add, data).status_code == 200  # the form again, with the error
    assert not WebhookEndpoint.objects.for_org(org).exists()
    data["url"] = "https://example.com/x"
    assert client.post(add, data).status_code == 302
    assert WebhookEndpoint.objects.for_org(org).get().events == ["import.finished"]
