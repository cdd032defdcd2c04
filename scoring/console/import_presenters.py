"""The web import's display text: history rows and the progress bar (no database)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from scoring.console.import_selectors import ImportProgress
from scoring.console.models import ImportJob


@dataclass(frozen=True)
class JobRow:
    job: ImportJob
    status: str
    duration: str
    size: str


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} B"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(seconds).1f s") % {"seconds": seconds}
    return _("%(minutes)d min %(seconds)d s") % {
        "minutes": seconds // 60,
        "seconds": seconds % 60,
    }


def job_row(job: ImportJob) -> JobRow:
    return JobRow(
        job=job,
        status=str(ImportJob.Status(job.status).label),
        duration=duration_text(job.duration_seconds),
        size=size_text(job.file_size),
    )


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: int
    total: int  # 0: not known yet

    @property
    def percent(self) -> int:
        if self.total <= 0:
            return 0
        return max(0, min(100, round(100 * self.done / self.total)))


@dataclass(frozen=True)
class ProgressView:
    status: str
    status_label: str
    finished: bool
    stale: bool
    steps: tuple[Step, ...]


def progress_view(job: ImportJob, progress: ImportProgress) -> ProgressView:
    expected = progress.rows_expected
    written_total = expected
    if job.status in (ImportJob.Status.RECOMPUTING, ImportJob.Status.DONE):
        written_total = progress.rows_written  # the import's own count, once known
    return ProgressView(
        status=progress.status,
        status_label=str(ImportJob.Status(progress.status).label),
        finished=progress.finished,
        stale=progress.stale,
        steps=(
            Step("validated", _("Rows validated"), progress.rows_validated, expected),
            Step("written", _("Rows written"), progress.rows_written, written_total),
            Step(
                "recomputed",
                _("Organizations recomputed"),
                progress.organizations_recomputed,
                progress.organizations_total,
            ),
        ),
    )


def progress_json(view: ProgressView) -> dict[str, object]:
    return {
        "status": view.status,
        "status_label": view.status_label,
        "finished": view.finished,
        "stale": view.stale,
        "steps": [{**asdict(step), "percent": step.percent} for step in view.steps],
    }
