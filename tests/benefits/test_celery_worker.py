"""Notifications sent by a real Celery worker on Redis (CI); skipped without Redis/PostgreSQL."""

from datetime import date

import pytest

from benefits.models import Notification
from benefits.tasks import notifications_run_task
from tests.benefits.conftest import snapshot
from tests.factories import MembershipFactory, OrganizationFactory
from tests.scoring.test_celery_worker import _wait_for, worker  # noqa: F401  # the worker fixture

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("benefits_catalog"),
    pytest.mark.skipif(
        not __import__("os").environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"
    ),
]


def test_a_real_worker_notifies_once_and_emails(worker):  # noqa: F811  # the fixture above
    org = OrganizationFactory()
    MembershipFactory(organization=org, role="admin")
    snapshot(org, "security", date(2024, 3, 10))

    assert notifications_run_task.delay(org.pk, "2024-03-10").get(timeout=60) == 1
    assert notifications_run_task.delay(org.pk, "2024-03-10").get(timeout=60) == 0
    assert _wait_for(
        lambda: Notification.objects.for_org(org).filter(emailed_at__isnull=False).exists()
    )
    assert Notification.objects.for_org(org).count() == 1
