"""A large bulk upload through the API on a real Celery worker on Redis: 202, the job runs in
the worker, the caller polls it to `succeeded` and the rows are in — all of them.

Runs where REDIS_URL is set and the database is PostgreSQL (CI); skipped otherwise, since a
worker process cannot share an in-memory SQLite test database.
"""

from __future__ import annotations

import os

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
