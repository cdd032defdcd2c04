"""Celery tasks of the benefits app: thin wrappers taking ids and ISO dates."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from benefits import services
from portal.models import Organization

RETRY_POLICY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="benefits.notifications_email", **RETRY_POLICY)
def notifications_email_task(notification_ids: list[int]) -> int:
    """E-mail these notifications (those already e-mailed are skipped)."""
    return services.notifications_email(notification_ids=notification_ids)


@shared_task(name="benefits.notifications_run", ignore_result=False, **RETRY_POLICY)
def notifications_run_task(organization_id: int, as_of: str) -> int:
    """The nightly benefits pass of one organization (idempotent)."""
    organization = Organization.objects.unscoped().get(pk=organization_id)
    created = services.notifications_run(organization=organization, on=date.fromisoformat(as_of))
    return len(created)


@shared_task(name="benefits.nightly", acks_late=True)
def benefits_nightly_task(run_date: str | None = None) -> int:
    """Fan out one task per organization (a deliberate cross-tenant job)."""
    day = run_date or timezone.localdate().isoformat()
    ids = list(Organization.objects.unscoped().order_by("pk").values_list("pk", flat=True))
    for organization_id in ids:
        notifications_run_task.delay(organization_id, day)
    return len(ids)
