"""The web import: upload, validation report (nothing written), confirmation, the import and
its recomputes as a job with progress, the history, re-uploads, restarts."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from portal.models import Organization, Person
from scoring.console import import_selectors, import_services
from scoring.console.models import ImportJob
from scoring.imports import import_csv
from scoring.models import Customer, Designation, ScoreSnapshot

pytestmark = pytest.mark.django_db

PEOPLE_GOOD = (
    "partner_id,person_id,name,email\n"
    "1000001,P1,Aiko Tanaka,aiko@example.com\n"
    "1000001,P2,Ben Ito,ben@example.com\n"
)
PEOPLE_BAD = (
    "partner_id,person_id,name,email\n"
    "1000001,P1,Aiko Tanaka,aiko@example.com\n"
    "9999999,P2,Ben Ito,ben@example.com\n"
    "1000001,P3,,not-an-address\n"
)


class CommittingClient:
    """The test client, running what a request queued for after its commit (the tasks): the
    test's own transaction never commits."""

    def __init__(self, client, capture):
        self._client = client
        self._capture = capture

    def post(self, *args, **kwargs):
        with self._capture(execute=True):
            return self._client.post(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def staff_client(client, staff, django_capture_on_commit_callbacks):
    client.force_login(staff)
    return CommittingClient(client, django_capture_on_commit_callbacks)


def upload(client, text: str, kind: str = "people", name: str = "people.csv"):
    data = {"kind": kind, "file": SimpleUploadedFile(name, text.encode(), "text/csv")}
    return client.post(reverse("staff_imports"), data)


def latest_job() -> ImportJob:
    return ImportJob.objects.order_by("-pk").first()


def test_a_file_with_bad_rows_is_reported_and_nothing_is_written(staff_client, org):
    response = upload(staff_client, PEOPLE_BAD)
    job = latest_job()
    assert response.status_code == 302 and response["Location"] == reverse(
        "staff_import", args=[job.pk]
    )
    assert job.status == ImportJob.Status.INVALID
    assert Person.objects.for_org(org).count() == 0
    body = staff_client.get(response["Location"]).content.decode()
    assert 'data-testid="import-report"' in body
    assert 'data-testid="confirm"' not in body
    lines = {(e["line"], e["column"]) for e in job.errors}
    assert (3, "partner_id") in lines and (4, "name") in lines
    assert "9999999" in body and "unknown partner" in body


def test_the_report_is_the_command_paths_report(staff_client, org):
    """One validation path: the upload reports exactly what `import_data` would."""
    upload(staff_client, PEOPLE_BAD)
    command = import_csv("people", io.BytesIO(PEOPLE_BAD.encode()))
    expected = [
        {"line": e.line, "column": e.column, "value": e.value, "reason": e.reason}
        for e in command.errors
    ]
    assert latest_job().errors == expected
    assert latest_job().error_count == len(expected) > 0


def test_a_good_file_waits_for_confirmation_then_imports_and_recomputes(staff_client, org, staff):
    upload(staff_client, PEOPLE_GOOD, name="team.csv")
    job = latest_job()
    assert job.status == ImportJob.Status.VALID
    assert job.rows_validated == 2
    assert Person.objects.for_org(org).count() == 0  # nothing written before confirmation
    assert not ScoreSnapshot.objects.for_org(org).exists()
    page = staff_client.get(reverse("staff_import", args=[job.pk])).content.decode()
    assert 'data-testid="confirm"' in page

    response = staff_client.post(reverse("staff_import_confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.created, job.updated, job.unchanged) == (2, 0, 0)
    assert (job.rows_written, job.organizations_total, job.organizations_recomputed) == (2, 1, 1)
    assert job.confirmed_by == staff and job.duration_seconds is not None
    assert Person.objects.for_org(org).count() == 2
    assert ScoreSnapshot.objects.for_org(org).count() == Designation.objects.count()
    result = staff_client.get(reverse("staff_import", args=[job.pk])).content.decode()
    assert 'data-testid="import-result"' in result
    assert job.sha256 == hashlib.sha256(PEOPLE_GOOD.encode()).hexdigest()
    assert job.file_name == "team.csv"


def test_the_import_queues_no_second_recompute(staff_client, org, monkeypatch):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    queued = []
    from scoring import tasks

    monkeypatch.setattr(tasks.scores_recompute_task, "delay", lambda *a: queued.append(a))
    staff_client.post(reverse("staff_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.organizations_recomputed == 1
    assert queued == []  # the job recomputed them itself


def test_the_upload_is_stored_under_media_root(staff_client, org, settings):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    path = Path(job.file.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert path.read_text() == PEOPLE_GOOD


def test_re_uploading_an_imported_file_says_so(staff_client, org):
    upload(staff_client, PEOPLE_GOOD)
    first = latest_job()
    staff_client.post(reverse("staff_import_confirm", args=[first.pk]))
    upload(staff_client, PEOPLE_GOOD, name="again.csv")
    second = latest_job()
    body = staff_client.get(reverse("staff_import", args=[second.pk])).content.decode()
    assert 'data-testid="already-imported"' in body
    assert "This file was already imported" in body
    staff_client.post(reverse("staff_import_confirm", args=[second.pk]))
    second.refresh_from_db()
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert second.organizations_total == 0  # unchanged data: nothing to recompute
    # A different file is not "already imported".
    upload(staff_client, PEOPLE_GOOD.replace("Ben Ito", "Ben Itō"))
    body = staff_client.get(reverse("staff_import", args=[latest_job().pk])).content.decode()
    assert 'data-testid="already-imported"' not in body


def test_the_import_validates_again_and_writes_nothing_when_data_changed(staff_client, org):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    Organization.objects.unscoped().filter(pk=org.pk).update(partner_id="1000009")
    staff_client.post(reverse("staff_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert job.error_count == 2
    assert not Person.objects.unscoped().exists()


def test_only_a_validated_file_can_be_confirmed(staff_client, org):
    upload(staff_client, PEOPLE_BAD)
    job = latest_job()
    response = staff_client.post(reverse("staff_import_confirm", args=[job.pk]), follow=True)
    assert "Only a validated file" in response.content.decode()
    assert not Person.objects.unscoped().exists()


def test_a_missing_kind_or_an_empty_file_is_refused(staff_client):
    response = upload(staff_client, PEOPLE_GOOD, kind="")
    assert response.status_code == 200 and not ImportJob.objects.exists()
    response = upload(staff_client, "")
    assert response.status_code == 200 and not ImportJob.objects.exists()


def test_a_stalled_job_can_be_started_again_and_an_old_attempt_then_stops(staff_client, org):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    # As if a worker took the job and died: importing, nothing committed, no news for long.
    stalled = timezone.now() - timedelta(seconds=import_selectors.STALE_AFTER_SECONDS + 5)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.IMPORTING, attempt=1, progress_at=stalled
    )
    job.refresh_from_db()
    assert import_selectors.import_job_restartable(job=job)
    body = staff_client.get(reverse("staff_import", args=[job.pk])).content.decode()
    assert 'data-testid="restart"' in body
    staff_client.post(reverse("staff_import_restart", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.attempt == 2
    assert Person.objects.for_org(org).count() == 2
    # The dead attempt's message delivered again: superseded, it does nothing.
    assert import_services.import_job_run(job_id=job.pk, attempt=1) is None


def test_a_running_job_that_reports_is_not_restartable(staff_client, org):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.IMPORTING, attempt=1, progress_at=timezone.now()
    )
    response = staff_client.post(reverse("staff_import_restart", args=[job.pk]), follow=True)
    assert "cannot be restarted" in response.content.decode()
    assert ImportJob.objects.get(pk=job.pk).attempt == 1


def test_a_job_whose_rows_are_in_only_recomputes_when_restarted(staff_client, org):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    staff_client.post(reverse("staff_import_confirm", args=[job.pk]))
    ScoreSnapshot.objects.for_org(org).delete()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, organizations_recomputed=0
    )
    staff_client.post(reverse("staff_import_restart", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.created, job.unchanged) == (2, 0)  # not imported a second time
    assert ScoreSnapshot.objects.for_org(org).exists()


def test_the_progress_json(staff_client, org):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    staff_client.post(reverse("staff_import_confirm", args=[job.pk]))
    progress = staff_client.get(reverse("staff_import_progress", args=[job.pk])).json()
    assert progress["status"] == "done" and progress["finished"] is True
    steps = {step["key"]: step for step in progress["steps"]}
    assert steps["validated"]["done"] == 2 and steps["written"]["done"] == 2
    assert steps["recomputed"] == {**steps["recomputed"], "done": 1, "total": 1, "percent": 100}


def test_live_progress_inside_the_transaction_comes_from_the_cache(org):
    """While the import's transaction runs, the row cannot show its counts; the cache can."""
    job = ImportJob.objects.create(
        kind="people", file_name="x.csv", sha256="0" * 64, lines=11, attempt=3,
        status=ImportJob.Status.IMPORTING, progress_at=timezone.now(),
    )  # fmt: skip
    progress = import_services.JobProgress(job)
    progress.validated(10)
    progress.written(4)
    live = import_selectors.import_job_progress(job=job)
    assert (live.rows_validated, live.rows_written, live.rows_expected) == (10, 4, 10)
    # Another attempt's counts are not this one's.
    job.attempt = 4
    assert import_selectors.import_job_progress(job=job).rows_written == 0


def test_more_than_a_thousand_bad_values_go_to_a_full_report(staff_client, org):
    rows = "".join(f"9999999,P{n},Name {n},\n" for n in range(1200))
    upload(staff_client, "partner_id,person_id,name,email\n" + rows)
    job = latest_job()
    assert job.error_count == 1200 and len(job.errors) == 1000
    response = staff_client.get(reverse("staff_import_report", args=[job.pk]))
    report = b"".join(response.streaming_content).decode()
    assert report.count("\n") == 1201
    page = staff_client.get(reverse("staff_import", args=[job.pk])).content.decode()
    assert "200 more are in the full report" in page


def test_customers_and_usage_kinds_upload_too(staff_client):
    upload(
        staff_client,
        "platform,customer_id,name\nm365,6f9619ff-8b86-d011-b42d-00c04fc964ff,A\n",
        kind="customers",
    )
    job = latest_job()
    staff_client.post(reverse("staff_import_confirm", args=[job.pk]))
    assert Customer.objects.count() == 1


def test_the_history_lists_who_when_file_hash_kind_and_counts(
    staff_client, org, django_assert_max_num_queries
):
    for n in range(5):
        upload(staff_client, PEOPLE_GOOD + f"1000001,P{n + 10},X,\n")
    with django_assert_max_num_queries(8):
        response = staff_client.get(reverse("staff_imports"))
    body = response.content.decode()
    assert body.count("data-job=") == 5
    assert "staff@example.com" in body and "people.csv" in body


def test_non_staff_get_404_on_the_import_pages(client, org, member):
    job = ImportJob.objects.create(kind="people", file_name="x.csv", sha256="0" * 64)
    client.force_login(member)
    for name in ("staff_import", "staff_import_progress", "staff_import_report"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("staff_import_confirm", args=[job.pk])).status_code == 404
    assert client.get(reverse("staff_imports")).status_code == 404


def test_a_large_upload_is_hashed_and_stored_in_flat_memory(staff, tmp_path):
    """Given a 8 MB upload spooled to disk (Django's parser streams anything larger than
    FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file): hashing and storing it read a chunk at a
    time."""
    import tracemalloc

    from django.core.files.uploadedfile import TemporaryUploadedFile

    row = "1000001,P{n:07d},A person with a fairly long name to fill the line,p@example.com\n"
    upload_file = TemporaryUploadedFile("big.csv", "text/csv", 0, "utf-8")
    upload_file.write(b"partner_id,person_id,name,email\n")
    for n in range(100_000):
        upload_file.write(row.format(n=n).encode())
    upload_file.flush()
    size = upload_file.tell()
    upload_file.size = size
    assert size > 8_000_000
    tracemalloc.start()
    try:
        job = import_services.import_job_create(kind="people", upload=upload_file, actor=staff)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.file_size == size and job.lines == 100_001
    assert job.sha256 == hashlib.sha256(Path(job.file.path).read_bytes()).hexdigest()
    assert peak < 3 * 1024 * 1024, peak  # a 1 MB read chunk and change, not the file
    upload_file.close()  # moved into MEDIA_ROOT by the storage: nothing left to delete


def test_a_job_stalled_while_validating_is_validated_again(staff_client, org):
    upload(staff_client, PEOPLE_GOOD)
    job = latest_job()
    stalled = timezone.now() - timedelta(seconds=import_selectors.STALE_AFTER_SECONDS + 5)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.VALIDATING, progress_at=stalled
    )
    cache.delete(import_selectors.progress_cache_key(job.pk))  # its last news: long ago
    job.refresh_from_db()
    assert import_selectors.import_job_restartable(job=job)
    staff_client.post(reverse("staff_import_restart", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID and job.attempt == 0
    assert not Person.objects.unscoped().exists()
