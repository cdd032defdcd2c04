"""The web import on a real Celery worker on Redis: a job runs end to end; a worker killed in
the middle of the import leaves nothing half-written, and the job can be started again.

Runs where REDIS_URL is set and the database is PostgreSQL (CI); skipped otherwise, since a
worker process cannot share an in-memory SQLite test database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection

from portal import celery_app
from portal.models import Person
from scoring.console import import_selectors, import_services
from scoring.console.models import ImportJob
from scoring.models import ScoreSnapshot

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("shipped_catalog"),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


class Workers:
    """Start and kill real worker processes on a queue of this test's own."""

    def __init__(self) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.processes: list[subprocess.Popen[str]] = []

    def start(self) -> subprocess.Popen[str]:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_QUEUE": self.queue,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        }
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", self.queue,
                "--concurrency", "1", "--loglevel", "INFO", "--without-gossip",
                "--without-mingle", "--hostname", f"{self.queue}-{len(self.processes)}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: killed with its pool children
        )  # fmt: skip
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start:\n" + process.stdout.read())
        return process

    def kill(self, process: subprocess.Popen[str]) -> None:
        """SIGKILL to the worker and its pool: no warm shutdown, no cleanup of any kind."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def workers():
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a shared database server")
    workers = Workers()
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = workers.queue
    try:
        yield workers
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        workers.stop_all()


def _wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _status(job: ImportJob) -> str:
    return ImportJob.objects.get(pk=job.pk).status


def people_file(org, rows: int) -> ContentFile:
    lines = ["partner_id,person_id,name,email"]
    lines += [f"{org.partner_id},P{n:06d},Person {n},p{n}@example.com" for n in range(rows)]
    return ContentFile(("\n".join(lines) + "\n").encode(), name="people.csv")


def test_an_import_job_runs_on_a_real_worker(workers, org, staff):
    workers.start()
    job = import_services.import_job_create(kind="people", upload=people_file(org, 50), actor=staff)
    assert _wait_for(lambda: _status(job) == ImportJob.Status.VALID), _status(job)
    assert Person.objects.for_org(org).count() == 0
    import_services.import_job_confirm(job_id=job.pk, actor=staff)
    assert _wait_for(lambda: _status(job) == ImportJob.Status.DONE), _status(job)
    job.refresh_from_db()
    assert (job.created, job.rows_written, job.organizations_recomputed) == (50, 50, 1)
    assert Person.objects.for_org(org).count() == 50
    assert ScoreSnapshot.objects.for_org(org).exists()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_starts_again(
    workers, org, staff, monkeypatch
):
    rows = 40_000
    worker = workers.start()
    job = import_services.import_job_create(
        kind="people", upload=people_file(org, rows), actor=staff
    )
    assert _wait_for(lambda: _status(job) == ImportJob.Status.VALID), _status(job)
    import_services.import_job_confirm(job_id=job.pk, actor=staff)

    def writing() -> bool:
        live = cache.get(import_selectors.progress_cache_key(job.pk)) or {}
        return live.get("rows_written", 0) > 0

    # In the middle: the transaction has written rows that nobody else can see yet.
    assert _wait_for(writing), _status(job)
    workers.kill(worker)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTING and job.imported_at is None
    assert Person.objects.for_org(org).count() == 0  # nothing half-written
    assert job.created == job.rows_written == 0

    # No news from the dead worker for longer than the stale limit: staff start it again.
    monkeypatch.setattr(import_selectors, "STALE_AFTER_SECONDS", 1)
    time.sleep(1.5)
    assert import_selectors.import_job_restartable(job=job)
    import_services.import_job_restart(job_id=job.pk, actor=staff)
    workers.start()
    assert _wait_for(lambda: _status(job) == ImportJob.Status.DONE, timeout=240), _status(job)
    job.refresh_from_db()
    assert job.attempt == 2
    assert (job.created, job.updated, job.unchanged) == (rows, 0, 0)
    assert Person.objects.for_org(org).count() == rows
    assert job.organizations_recomputed == 1
