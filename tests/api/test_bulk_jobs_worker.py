"""A large bulk upload through the API on a real Celery worker on Redis: 202, the job runs in
the worker, the caller polls it to `succeeded` and the rows are in — all of them.

Runs where REDIS_URL is set and the database is PostgreSQL (CI); skipped otherwise, since a
worker process cannot share an in-memory SQLite test database.
"""

from __future__ import annotations

import os
import time

import pytest
from django.urls import reverse

from portal import celery_app
from portal.api_keys import platform_key_create
from scoring.models import Customer, TelemetryBulkJob, Usage
from tests.api.conftest import key_client
from tests.scoring.console.test_import_worker import Workers, _wait_for
from tests.scoring.telemetry import associate

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("shipped_catalog"),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]

CUSTOMERS = 25
MONTHS = [f"{year}-{month:02d}" for year in (2024, 2025) for month in range(1, 13)]


@pytest.fixture
def workers(settings, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a shared database server")
    settings.MEDIA_ROOT = str(tmp_path)  # shared with the worker (Workers passes it on)
    workers = Workers()
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = workers.queue
    try:
        yield workers
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        workers.stop_all()


def test_a_large_usage_csv_runs_on_a_real_worker(workers, org, staff, settings):
    settings.API_BULK_ASYNC_ROWS = 100
    settings.API_BULK_RATE_LIMIT = "1000/min"
    lines = ["month,platform,customer_id,measure,workload,value"]
    for number in range(CUSTOMERS):
        tenant = f"{number:08x}-0000-4000-8000-{number:012x}"
        associate(org, Customer.objects.create(platform="m365", customer_id=tenant), "CPOR")
        lines += [f"{month},m365,{tenant},paid_seats,,{10 + number}" for month in MONTHS]
    body = ("\n".join(lines) + "\n").encode()
    rows = CUSTOMERS * len(MONTHS)
    client = key_client(platform_key_create(actor=staff, name="Pipeline").key)
    workers.start()

    response = client.generic(
        "POST",
        reverse("api-telemetry-usage"),
        body,
        content_type="text/csv",
        HTTP_IDEMPOTENCY_KEY="usage-batch-1",
    )
    assert response.status_code == 202, response.content
    assert response.json()["state"] in ("queued", "running")
    location = response["Location"]

    def finished() -> bool:
        return client.get(location).json()["state"] in ("succeeded", "failed")

    assert _wait_for(finished), client.get(location).json()
    job = client.get(location).json()
    assert job["state"] == "succeeded", job
    assert job["report"] == {
        "kind": "usage",
        "rows": rows,
        "created": rows,
        "updated": 0,
        "unchanged": 0,
        "recompute_queued": True,
    }
    assert job["progress"] == {"rows_validated": rows, "rows_written": rows}
    assert Usage.objects.count() == rows
    assert TelemetryBulkJob.objects.get().attempts == 1

    # The same Idempotency-Key and body: the stored 202, the same job, nothing run again.
    again = client.generic(
        "POST",
        reverse("api-telemetry-usage"),
        body,
        content_type="text/csv",
        HTTP_IDEMPOTENCY_KEY="usage-batch-1",
    )
    assert (again.status_code, again["Location"]) == (202, location)
    assert TelemetryBulkJob.objects.count() == 1


def test_a_worker_killed_mid_bulk_job_leaves_nothing_and_the_job_restarts(
    workers, staff, settings, monkeypatch
):
    from scoring import api_jobs

    settings.API_BULK_ASYNC_ROWS = 100
    settings.API_BULK_RATE_LIMIT = "1000/min"
    customers = 1250
    measures = [("paid_seats", ""), ("active_users", "Teams"), ("protected_users", "MDE")]
    tenants = [f"{n:08x}-0000-4000-8000-{n:012x}" for n in range(customers)]
    Customer.objects.bulk_create(
        Customer(platform="m365", customer_id=tenant, name=f"Tenant {n}")
        for n, tenant in enumerate(tenants)
    )
    lines = ["month,platform,customer_id,measure,workload,value"]
    lines += [
        f"{month},m365,{tenant},{measure},{workload},{10 + n}"
        for month in MONTHS
        for n, tenant in enumerate(tenants)
        for measure, workload in measures
    ]
    rows = len(lines) - 1
    body = ("\n".join(lines) + "\n").encode()
    client = key_client(platform_key_create(actor=staff, name="Pipeline").key)
    worker = workers.start()
    # The import is one transaction that writes the usage table in a single statement at the
    # end: hold a lock that statement waits for, so that the worker dies inside it (the
    # set-based import is otherwise done before a test could kill anything).
    holder = _lock_usage_table()

    response = client.generic("POST", reverse("api-telemetry-usage"), body, content_type="text/csv")
    assert response.status_code == 202, response.content
    location = response["Location"]
    job = TelemetryBulkJob.objects.get()

    # In the middle of the write: the rows are staged in the import's transaction and its
    # INSERT waits for the lock; nobody sees anything yet.
    assert _wait_for(_usage_insert_waiting), client.get(location).json()
    workers.kill(worker)
    holder.rollback()
    holder.close()

    assert Usage.objects.count() == 0  # nothing half-written
    job.refresh_from_db()
    assert (job.state, job.attempts, job.finished_at) == ("running", 1, None)
    # While its worker might still be alive, the job is running and cannot be restarted.
    polled = client.get(location).json()
    assert (polled["state"], polled["restartable"]) == ("running", False)
    restart = reverse("api-telemetry-job-restart", kwargs={"pk": job.pk})
    assert client.post(restart).status_code == 409

    # No news from the dead worker for longer than the stale limit: failed, restartable.
    monkeypatch.setattr(api_jobs, "STALE_AFTER_SECONDS", 1)
    time.sleep(1.5)
    polled = client.get(location).json()
    assert (polled["state"], polled["restartable"]) == ("failed", True), polled
    assert polled["error"]["errors"][0]["code"] == "worker_lost"
    assert Usage.objects.count() == 0

    restarted = client.post(restart)
    assert restarted.status_code == 202, restarted.content
    assert client.get(location).json()["state"] == "queued"
    # The new worker is alive: a second of silence (a large chunk) is not a lost worker.
    monkeypatch.setattr(api_jobs, "STALE_AFTER_SECONDS", 300)
    workers.start()

    def finished() -> bool:
        return client.get(location).json()["state"] in ("succeeded", "failed")

    assert _wait_for(finished, timeout=300), client.get(location).json()
    polled = client.get(location).json()
    assert polled["state"] == "succeeded", polled
    assert polled["report"]["created"] == rows
    assert Usage.objects.count() == rows
    assert TelemetryBulkJob.objects.get().attempts == 2


def _lock_usage_table():  # type: ignore[no-untyped-def]  # a psycopg connection
    """A second connection holding SHARE on the usage table: reads go on, writes wait."""
    import psycopg
    from django.db import connection

    holder = psycopg.connect(**connection.get_connection_params())
    holder.execute("LOCK TABLE scoring_usage IN SHARE MODE")  # psycopg opens the transaction
    return holder


def _usage_insert_waiting() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE %s AND query LIKE %s",
            ["%INSERT INTO%", "%scoring_usage%"],
        )
        return cursor.fetchone()[0] > 0
