"""Webhooks: organizations' HTTPS endpoints receive signed events, delivered by Celery.

Every delivery is a POST of a JSON event (`{"id", "type", "created", "organization", "data"}`)
with the headers `Portal-Event`, `Portal-Delivery` and `Portal-Signature: t=<unix time>,
v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>`; a receiver recomputes it
(`verify_signature`) and refuses stale timestamps. A delivery that gets no 2xx is retried with
exponential backoff (`WEBHOOK_MAX_ATTEMPTS`); an endpoint whose deliveries keep failing
(`WEBHOOK_DISABLE_AFTER_FAILURES` in a row) is disabled until an admin enables it again. Every
attempt is logged with the response code, and any delivery can be replayed. Deliveries go to
public addresses only: a URL naming a private, link-local or reserved address is refused when it is
registered, the host is resolved and checked again at each delivery (and the connection made to
the checked address), and redirects are not followed.

Apps above portal emit their events with `webhook_event_emit` (scoring: scores recomputed and
import finished; benefits: designation qualified / enrolled / lapsed, from its status history);
portal itself sends certification expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import uuid
from datetime import date, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.audit import audit_as
from portal.exceptions import ApplicationError
from portal.models import (
    HeldCertification,
    Organization,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.selectors import membership_get

EVENTS = {
    "scores.recomputed": gettext_lazy("Scores recomputed"),
    "designation.qualified": gettext_lazy("Designation qualified"),
    "designation.enrolled": gettext_lazy("Designation enrolled"),
    "designation.lapsed": gettext_lazy("Designation lapsed"),
    "certification.expiring": gettext_lazy("Certification expiring"),
    "import.finished": gettext_lazy("Import finished"),
}
SIGNATURE_HEADER = "Portal-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
RESPONSE_KEPT_CHARACTERS = 2000


# --- signing -----------------------------------------------------------------------------------


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret=secret, timestamp=timestamp, body=body)}"


def verify_signature(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the header's signature matches and its timestamp is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- endpoints -----------------------------------------------------------------------------------


def _require_admin(*, organization: Organization, actor: User) -> None:
    if actor.is_staff:
        return
    membership = membership_get(organization=organization, user=actor)
    if membership is None or not membership.is_admin:
        raise PermissionDenied(_("Only an admin of the partner organization can do this."))


def validated_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError as error:
        raise ApplicationError(_("Enter a valid URL."), {"attr": "url"}) from error
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback_allowed = settings.WEBHOOK_ALLOW_HTTP_LOOPBACK and _is_loopback(host)
    if parts.scheme != "https" and not loopback_allowed:
        raise ApplicationError(_("A webhook URL must use HTTPS."), {"attr": "url"})
    literal = _ip_literal(host)
    if literal is not None and not _address_allowed(literal):
        raise ApplicationError(
            _("A webhook URL must point to a public address, not %(address)s.")
            % {"address": literal},
            {"attr": "url"},
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    address = _ip_literal(host)
    return address is not None and address.is_loopback


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Deliveries go to public addresses only: never to the portal's own network (private,
    link-local — the cloud metadata service —, shared, reserved), and to loopback only where
    `WEBHOOK_ALLOW_HTTP_LOOPBACK` allows it (development and the tests' receivers)."""
    if address.is_loopback:
        return bool(settings.WEBHOOK_ALLOW_HTTP_LOOPBACK)
    return address.is_global and not address.is_multicast


def validated_events(events: list[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise ApplicationError(_("Choose at least one event."), {"attr": "events"})
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise ApplicationError(
            _("Unknown event: %(event)s.") % {"event": unknown[0]}, {"attr": "events"}
        )
    return chosen


@transaction.atomic
def webhook_endpoint_create(
    *, organization: Organization, actor: User, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    """An admin (or staff) registers an HTTPS endpoint for some events; its secret is new."""
    _require_admin(organization=organization, actor=actor)
    endpoint = WebhookEndpoint(
        organization=organization,
        url=validated_url(url),
        events=validated_events(events),
        description=(description or "").strip()[:200],
        created_by=actor,
    )
    audit_as(endpoint, actor=actor)
    endpoint.save()
    return endpoint


def _endpoint(organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.for_org(organization)
        .select_for_update()
        .filter(pk=endpoint_id)
        .first()
    )
    if endpoint is None:
        raise ApplicationError(_("This webhook endpoint does not exist."))
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, organization: Organization, actor: User, endpoint_id: int) -> None:
    """An admin removes an endpoint and its delivery log."""
    _require_admin(organization=organization, actor=actor)
    endpoint = _endpoint(organization, endpoint_id)
    audit_as(endpoint, actor=actor)
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_enable(
    *, organization: Organization, actor: User, endpoint_id: int
) -> WebhookEndpoint:
    """An admin enables an endpoint again (after it was disabled for failing)."""
    _require_admin(organization=organization, actor=actor)
    endpoint = _endpoint(organization, endpoint_id)
    endpoint.active, endpoint.disabled_at, endpoint.consecutive_failures = True, None, 0
    audit_as(endpoint, actor=actor)
    endpoint.save(update_fields=["active", "disabled_at", "consecutive_failures"])
    return endpoint


def webhook_endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_org(organization).order_by("-created_at")


def webhook_delivery_list(*, organization: Organization, limit: int = 50) -> list[WebhookDelivery]:
    """The latest deliveries of the organization's endpoints, newest first."""
    return list(
        WebhookDelivery.objects.for_org(organization)
        .select_related("endpoint")
        .order_by("-created_at", "-pk")[:limit]
    )


# --- events and deliveries -----------------------------------------------------------------------


def _queue(delivery_ids: list[int]) -> None:
    from portal.tasks import webhook_deliver_task

    for delivery_id in delivery_ids:
        webhook_deliver_task.delay(delivery_id)


def webhook_event_emit(
    *, organization_id: int, event: str, data: dict[str, Any]
) -> list[WebhookDelivery]:
    """Record the event for every active endpoint of the organization that wants it; the
    deliveries are sent after the current transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}.")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.for_org_id(organization_id).filter(active=True)
        if event in endpoint.events
    ]
    if not endpoints:
        return []
    organization = Organization.objects.unscoped().get(pk=organization_id)
    payload = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": event,
        "created": timezone.now().isoformat(),
        "organization": {"partner_id": organization.partner_id, "name": organization.name},
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            organization_id=organization_id,
            endpoint=endpoint,
            event=event,
            event_id=payload["id"],
            payload=payload,
        )
        for endpoint in endpoints
    )
    transaction.on_commit(partial(_queue, [delivery.pk for delivery in deliveries]))
    return deliveries


@transaction.atomic
def webhook_delivery_replay(
    *, organization: Organization, actor: User, delivery_id: int
) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery (same event id, so receivers can tell)."""
    _require_admin(organization=organization, actor=actor)
    original = (
        WebhookDelivery.objects.for_org(organization)
        .select_related("endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if original is None:
        raise ApplicationError(_("This delivery does not exist."))
    replay = WebhookDelivery.objects.create(
        organization=organization,
        endpoint=original.endpoint,
        event=original.event,
        event_id=original.event_id,
        payload=original.payload,
        replay_of=original,
    )
    transaction.on_commit(partial(_queue, [replay.pk]))
    return replay


class AddressRefused(OSError):
    """The endpoint's host resolved to an address deliveries may not go to."""


def _resolved_address(host: str, port: int) -> str:
    """Resolve the host once and check every address it has; the connection then goes to the
    checked address, so a DNS answer that changes between check and connect cannot point a
    delivery at the portal's own network."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    for text in addresses:
        address = _ip_literal(text.split("%", 1)[0])
        if address is None or not _address_allowed(address):
            raise AddressRefused(
                _("The endpoint's host %(host)s resolves to %(address)s, which is not public.")
                % {"host": host, "address": text}
            )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to the endpoint, its host resolved and checked first (`_resolved_address`); redirects
    are not followed (a 3xx is the receiver's answer, logged as a failure)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _resolved_address(host, port)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(host, port, address, settings.WEBHOOK_TIMEOUT_SECONDS)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_KEPT_CHARACTERS).decode("utf-8", "replace")
        return response.status, text
    finally:
        connection.close()


def webhook_delivery_attempt(*, delivery_id: int) -> bool | None:
    """Send one delivery once and log the outcome: True when the receiver answered 2xx, False
    otherwise, None when there is nothing to send (done already, endpoint gone or disabled)."""
    delivery = (
        WebhookDelivery.objects.unscoped()  # a task holds only the id
        .select_related("endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    endpoint = delivery.endpoint
    if not endpoint.active:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.error = _("The endpoint is disabled.")
        delivery.save(update_fields=["status", "error"])
        return None
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SolutionsPartnerPortal-Webhooks/1",
        "Portal-Event": delivery.event,
        "Portal-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature_header(secret=endpoint.secret, body=body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    try:
        code, text = _post(endpoint.url, body, headers)
        error = ""
    except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, timed out, TLS,
        # an address that is not public, a malformed answer
        code, text, error = None, "", f"{type(exc).__name__}: {exc}"
    delivery.response_code, delivery.response_body, delivery.error = code, text, error
    succeeded = code is not None and 200 <= code < 300
    if succeeded:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        WebhookEndpoint.objects.for_org_id(endpoint.organization_id).filter(pk=endpoint.pk).update(
            consecutive_failures=0
        )
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "response_code",
            "response_body",
            "error",
            "status",
        ]
    )
    return succeeded


@transaction.atomic
def webhook_delivery_give_up(*, delivery_id: int) -> None:
    """The last attempt failed: the delivery failed, and an endpoint that failed too many
    deliveries in a row is disabled."""
    delivery = WebhookDelivery.objects.unscoped().filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status"])
    endpoints = WebhookEndpoint.objects.for_org_id(delivery.organization_id).filter(
        pk=delivery.endpoint_id
    )
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    endpoints.filter(
        active=True, consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES
    ).update(active=False, disabled_at=timezone.now())


def retry_delay(attempt: int) -> int:
    """Seconds before the next attempt: 30 s, 1 min, 2 min, … capped at an hour."""
    return min(30 * 2 ** max(attempt - 1, 0), 3600)


# --- portal's own event: certifications about to expire ------------------------------------------


def certification_expiry_notify(*, on: date | None = None) -> int:
    """Emit `certification.expiring` for certifications expiring exactly 30 days or 7 days
    from `on` (so each is announced twice, not every day); the number of events."""
    on = on or timezone.localdate()
    days = (on + timedelta(days=30), on + timedelta(days=7))
    wanted = set(
        WebhookEndpoint.objects.unscoped()
        .filter(active=True)
        .values_list("organization_id", flat=True)
    )
    held = (
        HeldCertification.objects.unscoped()
        .filter(organization_id__in=wanted, expires_on__in=days)
        .select_related("person", "certification")
        .order_by("organization_id", "expires_on")
    )
    emitted = 0
    for certification in held:
        emitted += bool(
            webhook_event_emit(
                organization_id=certification.organization_id,
                event="certification.expiring",
                data={
                    "person_id": certification.person.person_id,
                    "person_name": certification.person.name,
                    "certification": certification.certification.code,
                    "expires_on": certification.expires_on,
                    "days_left": (certification.expires_on - on).days,  # type: ignore[operator]  # filtered on it
                },
            )
        )
    return emitted
