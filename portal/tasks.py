"""Celery tasks of the portal app: thin, ids in, one service each."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from portal import webhooks


@shared_task(bind=True, name="portal.deliver_webhook", acks_late=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> bool | None:  # type: ignore[no-untyped-def]  # Celery binds self
    """Send one delivery; retried with exponential backoff until WEBHOOK_MAX_ATTEMPTS."""
    attempt = self.request.retries + 1
    while True:
        delivered = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
        if delivered is None or delivered:
            return delivered
        if attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
            webhooks.webhook_delivery_give_up(delivery_id=delivery_id)
            return False
        if not self.request.is_eager:
            raise self.retry(countdown=webhooks.retry_delay(attempt))
        # In-process tasks (no broker): nobody would run a later retry, so try again now.
        attempt += 1


@shared_task(name="portal.certification_expiry_webhooks", acks_late=True)
def certification_expiry_task(on: str | None = None) -> int:
    """Daily: announce certifications expiring in 30 and in 7 days."""
    from datetime import date

    return webhooks.certification_expiry_notify(on=date.fromisoformat(on) if on else None)
