"""Bulk uploads beyond API_BULK_ASYNC_ROWS: 202 with a job to poll, run through the same
pipeline (all or nothing, the same report and error shape), Idempotency-Key kept, the job
readable by the key that sent it only. (The real Celery worker: test_bulk_jobs_worker.py.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.api_keys import platform_key_create
from portal.models import IdempotencyRecord
from scoring.models import Association, OrganizationBulkJob, TelemetryBulkJob, Usage
from tests.api.conftest import key_client
from tests.api.test_telemetry import BAD_USAGE_CSV, TENANT, USAGE_CSV, _post_csv

pytestmark = pytest.mark.django_db

USAGE_ROWS = [
    {"month": f"2026-0{m}", "platform": "m365", "customer_id": TENANT, "measure": "paid_seats",
     "value": 100 + m}
    for m in range(1, 4)
]  # fmt: skip


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.API_BULK_ASYNC_ROWS = 1
    settings.API_BULK_RATE_LIMIT = "1000/min"


@pytest.fixture
def tenant(db, org):
    from scoring.models import Customer
    from tests.scoring.telemetry import associate

    customer = Customer.objects.create(platform="m365", customer_id=TENANT, name="Northwind")
    associate(org, customer, "CPOR")
    return customer


def test_a_large_json_batch_is_a_job_that_succeeds(
    platform_client, tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = platform_client.post(reverse("api-telemetry-usage"), USAGE_ROWS, format="json")
    assert response.status_code == 202, response.json()
    job = TelemetryBulkJob.objects.get()
    assert response["Location"].endswith(reverse("api-telemetry-job", kwargs={"pk": job.pk}))
    assert response.json()["url"] == response["Location"]
    polled = platform_client.get(response["Location"])
    assert polled.status_code == 200
    body = polled.json()
    assert body["state"] == "succeeded"
    assert body["rows"] == 3
    assert body["progress"] == {"rows_validated": 3, "rows_written": 3}
    assert body["report"] == {
        "kind": "usage",
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "recompute_queued": True,
    }
    assert body["error"] is None
    assert sorted(Usage.objects.values_list("value", flat=True)) == [101, 102, 103]
    assert not job.payload or not job.payload.storage.exists(job.payload.name)


def test_a_small_batch_is_still_answered_at_once(platform_client, tenant, settings):
    settings.API_BULK_ASYNC_ROWS = 2
    response = _post_csv(platform_client, reverse("api-telemetry-usage"), USAGE_CSV)
    assert response.status_code == 200
    assert not TelemetryBulkJob.objects.exists()


def test_a_bad_row_fails_the_job_in_the_one_error_shape_and_writes_nothing(
    platform_client, tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_csv(platform_client, reverse("api-telemetry-usage"), BAD_USAGE_CSV)
    assert response.status_code == 202
    body = platform_client.get(response["Location"]).json()
    assert body["state"] == "failed"
    assert body["report"] is None
    assert body["error"]["type"] == "validation_error"
    lines = {(item["line"], item["attr"]) for item in body["error"]["errors"]}
    assert {(2, "month"), (3, "workload"), (4, "value")} <= lines
    assert all(item["code"] == "invalid_row" for item in body["error"]["errors"])
    assert not Usage.objects.exists()


def test_the_same_idempotency_key_gives_the_same_job(
    platform_client, tenant, django_capture_on_commit_callbacks
):
    url = reverse("api-telemetry-usage")
    with django_capture_on_commit_callbacks(execute=True):
        first = platform_client.post(url, USAGE_ROWS, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
        again = platform_client.post(url, USAGE_ROWS, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert TelemetryBulkJob.objects.count() == 1
    other = platform_client.post(url, USAGE_ROWS[:2], format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert other.status_code == 409
    assert IdempotencyRecord.objects.count() == 1


def test_the_row_limit_is_checked_before_any_job(platform_client, tenant, settings):
    settings.API_BULK_MAX_ROWS = 2
    response = platform_client.post(reverse("api-telemetry-usage"), USAGE_ROWS, format="json")
    assert response.status_code == 413
    assert not TelemetryBulkJob.objects.exists()


def test_only_the_key_that_sent_it_reads_a_job(
    platform_client, tenant, staff, read_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = platform_client.post(reverse("api-telemetry-usage"), USAGE_ROWS, format="json")
    url = response["Location"]
    other_pipeline = key_client(platform_key_create(actor=staff, name="Other pipeline").key)
    refused = other_pipeline.get(url)
    assert refused.status_code == 404
    assert refused.json()["type"] == "client_error"
    assert read_client.get(url).status_code == 403  # an organization key reads no telemetry


def test_an_organizations_association_job_is_under_its_partner_id(
    platform_client, org, other_org, staff, django_capture_on_commit_callbacks
):
    from scoring.models import Customer

    Customer.objects.create(platform="m365", customer_id=TENANT, name="Northwind")
    rows = [
        {"platform": "m365", "customer_id": TENANT, "type": "CPOR", "workload": workload,
         "start_month": "2025-01"}
        for workload in ("", "MDE")
    ]  # fmt: skip
    url = reverse("api-association-bulk", kwargs={"partner_id": org.partner_id})
    mismatch = [{**rows[0], "partner_id": other_org.partner_id}, rows[1]]
    refused = platform_client.post(url, mismatch, format="json")
    assert refused.status_code == 400  # checked before any job is made
    assert not OrganizationBulkJob.objects.for_org(org).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = platform_client.post(url, rows, format="json")
    assert response.status_code == 202, response.json()
    job = OrganizationBulkJob.objects.for_org(org).get()
    assert response["Location"].endswith(
        reverse("api-bulk-job", kwargs={"partner_id": org.partner_id, "pk": job.pk})
    )
    polled = platform_client.get(response["Location"]).json()
    assert polled["state"] == "succeeded", polled
    assert Association.objects.for_org(org).count() == 2
    # The job under another Partner ID, or for another key: 404.
    elsewhere = reverse("api-bulk-job", kwargs={"partner_id": other_org.partner_id, "pk": job.pk})
    assert platform_client.get(elsewhere).status_code == 404
    other_pipeline = key_client(platform_key_create(actor=staff, name="Other pipeline").key)
    assert other_pipeline.get(response["Location"]).status_code == 404


def test_a_running_job_shows_its_live_progress(platform_client, tenant):
    from django.core.cache import cache

    from scoring.api_jobs import TELEMETRY, progress_cache_key

    response = platform_client.post(reverse("api-telemetry-usage"), USAGE_ROWS, format="json")
    job = TelemetryBulkJob.objects.get()
    assert platform_client.get(response["Location"]).json()["state"] == "queued"
    TelemetryBulkJob.objects.filter(pk=job.pk).update(state="running", rows_validated=3)
    cache.set(progress_cache_key(TELEMETRY, job.pk), {"rows_validated": 3, "rows_written": 2})
    body = platform_client.get(response["Location"]).json()
    assert (body["state"], body["progress"]) == (
        "running",
        {"rows_validated": 3, "rows_written": 2},
    )


def test_a_job_whose_worker_was_lost_is_failed_and_restartable(
    platform_client, tenant, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    from scoring import api_jobs

    response = platform_client.post(reverse("api-telemetry-usage"), USAGE_ROWS, format="json")
    job = TelemetryBulkJob.objects.get()
    restart = reverse("api-telemetry-job-restart", kwargs={"pk": job.pk})
    # Queued: not restartable.
    assert platform_client.post(restart).status_code == 409

    # Claimed by a worker that then died: it gave news once, long ago.
    started = timezone.now() - timedelta(seconds=api_jobs.STALE_AFTER_SECONDS + 5)
    TelemetryBulkJob.objects.filter(pk=job.pk).update(
        state="running", started_at=started, attempts=1
    )
    cache.delete(api_jobs._beat_cache_key(api_jobs.TELEMETRY, job.pk))
    # A worker that gives news is alive: not restartable.
    api_jobs._beat(api_jobs.TELEMETRY, job.pk)
    body = platform_client.get(response["Location"]).json()
    assert (body["state"], body["restartable"]) == ("running", False)
    assert platform_client.post(restart).status_code == 409

    monkeypatch.setattr(api_jobs, "STALE_AFTER_SECONDS", -1)  # its last news is now stale
    body = platform_client.get(response["Location"]).json()
    assert (body["state"], body["restartable"]) == ("failed", True)
    assert body["error"]["errors"][0]["code"] == "worker_lost"
    assert Usage.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        restarted = platform_client.post(restart)
    assert restarted.status_code == 202, restarted.json()
    assert restarted["Location"] == response["Location"]
    body = platform_client.get(response["Location"]).json()
    assert (body["state"], body["restartable"]) == ("succeeded", False)
    assert body["report"]["created"] == 3
    assert Usage.objects.count() == 3
    assert TelemetryBulkJob.objects.get().attempts == 2
    # Finished: not restartable again.
    assert platform_client.post(restart).status_code == 409
