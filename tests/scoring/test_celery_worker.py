"""The nightly job end to end: a real Celery worker on Redis, against the test database.

Runs where REDIS_URL is set and the database is PostgreSQL (CI); skipped otherwise, since a
worker process cannot share an in-memory SQLite test database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from portal import celery_app
from scoring.models import RecomputeRun, ScoreSnapshot
from scoring.tasks import scores_recompute_nightly_task
from tests.factories import OrganizationFactory
from tests.scoring.telemetry import associate, customer, monthly, usage

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("shipped_catalog"),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


@pytest.fixture
def worker():
    """A real worker process on a queue of its own, using the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a shared database server")
    db = connection.settings_dict
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_QUEUE": queue,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=0.5, destination=None):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start:\n" + process.stdout.read())
        yield process
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _snapshots():
    # Creating the organizations also queued their recompute as of today: look at one date.
    return sorted(
        ScoreSnapshot.objects.unscoped()
        .filter(as_of=date(2024, 6, 30))
        .values_list(
            "organization_id", "designation_id", "as_of", "total", "qualified", "computed_at"
        )
    )


def test_nightly_job_end_to_end_on_a_real_worker(worker):
    assert settings.CELERY_BROKER_URL.startswith("redis")
    orgs = [OrganizationFactory() for _ in range(5)]
    for org in orgs:
        tenant = customer("m365")
        associate(org, tenant, "CPOR")
        usage(tenant, "paid_seats", monthly("2024-01", "2024-06", 30))

    chunks = scores_recompute_nightly_task.delay("2024-06-30").get(timeout=60)
    assert chunks >= 1
    assert _wait_for(
        lambda: RecomputeRun.objects.get(run_date=date(2024, 6, 30)).status == "done"
    ), worker
    first = _snapshots()
    assert len(first) == 5 * 6
    security = ScoreSnapshot.objects.unscoped().filter(
        designation__code="security", as_of=date(2024, 6, 30)
    )
    assert {s.metrics[0]["points"] for s in security} == {2}  # one net customer add each

    # The same date again: the ledger says it ran; nothing is recomputed.
    assert scores_recompute_nightly_task.delay("2024-06-30").get(timeout=60) is None
    assert _snapshots() == first


def test_a_run_in_progress_makes_a_second_start_do_nothing(worker):
    OrganizationFactory()
    RecomputeRun.objects.create(run_date=date(2024, 7, 31))  # status: running
    assert scores_recompute_nightly_task.delay("2024-07-31").get(timeout=60) is None
    assert not ScoreSnapshot.objects.unscoped().filter(as_of=date(2024, 7, 31)).exists()


def test_two_simultaneous_starts_run_once(worker):
    OrganizationFactory()
    first = scores_recompute_nightly_task.delay("2024-08-31")
    second = scores_recompute_nightly_task.delay("2024-08-31")
    results = sorted([first.get(timeout=60), second.get(timeout=60)], key=lambda r: r is None)
    assert results[0] == 1 and results[1] is None
    assert _wait_for(lambda: RecomputeRun.objects.get(run_date="2024-08-31").status == "done")
    assert ScoreSnapshot.objects.unscoped().filter(as_of=date(2024, 8, 31)).count() == 6
