"""Notifications: each event once per user whatever the nightly runs; e-mail per kind opt-out."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from benefits.models import Notification, NotificationKind
from benefits.services import notification_preferences_set, notifications_run
from benefits.tasks import benefits_nightly_task
from tests.benefits.conftest import snapshot
from tests.factories import HeldCertificationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def run(org, on, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return notifications_run(organization=org, on=on)


def test_qualified_is_told_once_however_many_nightly_runs(
    org, admin_member, member, django_capture_on_commit_callbacks
):
    snapshot(org, "security", date(2024, 3, 10))
    first = run(org, date(2024, 3, 10), django_capture_on_commit_callbacks)
    second = run(org, date(2024, 3, 10), django_capture_on_commit_callbacks)
    third = run(org, date(2024, 3, 11), django_capture_on_commit_callbacks)
    assert [n.kind for n in first] == [NotificationKind.QUALIFIED]
    assert second == [] and third == []
    assert Notification.objects.for_org(org).count() == 1  # admins only, once
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin_member.email]
    assert "Security" in mail.outbox[0].body and "qualifies" in mail.outbox[0].body


def test_enrolled_renewal_due_and_lapsed(
    org, admin_member, security_enrolled, django_capture_on_commit_callbacks
):
    kinds = []
    for day in (date(2024, 3, 15), date(2025, 3, 16), date(2025, 4, 15)):
        kinds += [n.kind for n in run(org, day, django_capture_on_commit_callbacks)]
    assert NotificationKind.ENROLLED in kinds
    assert NotificationKind.RENEWAL_DUE in kinds
    assert NotificationKind.RENEWAL_WINDOW_OPEN in kinds
    assert NotificationKind.LAPSED in kinds


def test_renewal_choice_due_within_14_days(
    org, admin_member, security_enrolled, django_capture_on_commit_callbacks
):
    assert NotificationKind.RENEWAL_CHOICE_DUE not in [
        n.kind for n in run(org, date(2025, 3, 30), django_capture_on_commit_callbacks)
    ]  # 15 days before the window closes on 2025-04-14
    assert NotificationKind.RENEWAL_CHOICE_DUE in [
        n.kind for n in run(org, date(2025, 3, 31), django_capture_on_commit_callbacks)
    ]


def test_certification_expiring_within_90_days(
    org, admin_member, django_capture_on_commit_callbacks
):
    person = PersonFactory(organization=org, name="Ren Sato")
    HeldCertificationFactory(
        person=person, earned_on=date(2022, 1, 1), expires_on=date(2024, 6, 30)
    )
    assert run(org, date(2024, 3, 31), django_capture_on_commit_callbacks) == []
    (notice,) = run(org, date(2024, 4, 1), django_capture_on_commit_callbacks)
    assert notice.kind == NotificationKind.CERTIFICATION_EXPIRING
    assert run(org, date(2024, 4, 2), django_capture_on_commit_callbacks) == []
    assert "Ren Sato" in mail.outbox[-1].body


def test_email_can_be_turned_off_per_kind(org, admin_member, django_capture_on_commit_callbacks):
    notification_preferences_set(
        organization=org,
        user=admin_member,
        email_kinds={k for k in NotificationKind.values if k != NotificationKind.QUALIFIED},
    )
    snapshot(org, "security", date(2024, 3, 10))
    (notice,) = run(org, date(2024, 3, 10), django_capture_on_commit_callbacks)
    assert notice.emailed_at is None and mail.outbox == []  # still listed in the portal


def test_japanese_email_for_a_japanese_organization(
    org, admin_member, django_capture_on_commit_callbacks
):
    org.country = "JP"
    org.save()
    snapshot(org, "security", date(2024, 3, 10))
    run(org, date(2024, 3, 10), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1  # rendered under translation.override("ja")


def test_nightly_task_fans_out(org, other_org, admin_member, django_capture_on_commit_callbacks):
    snapshot(org, "security", date(2024, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        assert benefits_nightly_task("2024-03-10") == 2
    with django_capture_on_commit_callbacks(execute=True):
        benefits_nightly_task("2024-03-10")
    assert Notification.objects.unscoped().count() == 1


def test_notifications_page_and_preferences(
    admin_client,
    org,
    admin_member,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    snapshot(org, "security", date(2024, 3, 10))
    run(org, date(2024, 3, 10), django_capture_on_commit_callbacks)
    url = reverse("org_benefits_notifications", args=[org.slug])
    with django_assert_max_num_queries(10):
        body = admin_client.get(url).content.decode()
    assert "qualifies" in body
    response = admin_client.post(
        reverse("org_benefits_notification_preferences", args=[org.slug]),
        {"email": [NotificationKind.LAPSED]},
    )
    assert response.status_code == 302
    body = admin_client.get(url).content.decode()
    assert body.count("checked") == 1
    admin_client.post(
        reverse("org_benefits_notification_preferences", args=[org.slug]), {"action": "read"}
    )
    assert Notification.objects.for_org(org).get().read_at is not None
