"""Pages of the web import: upload and history, one job (report, confirm, progress, result),
its progress as JSON for the page's poller, the full report as CSV."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.exceptions import ApplicationError
from scoring.console import import_presenters
from scoring.console.access import staff_required
from scoring.console.import_selectors import (
    import_job_earlier,
    import_job_get,
    import_job_list,
    import_job_progress,
    import_job_restartable,
)
from scoring.console.import_services import (
    import_job_confirm,
    import_job_create,
    import_job_restart,
)
from scoring.console.models import ImportJob
from scoring.imports import KINDS


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[("", "—")] + [(kind, kind) for kind in KINDS],
    )
    file = forms.FileField(label=gettext_lazy("CSV file (UTF-8, header row)"))


def _job_or_404(job_id: int) -> ImportJob:
    job = import_job_get(job_id=job_id)
    if job is None:
        raise Http404(_("No such import."))
    return job


@staff_required
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload a file; the history of imports."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], actor=request.user
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("staff_import", job_id=job.pk)
    page = Paginator(import_job_list(), 25).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "jobs": [import_presenters.job_row(job) for job in page.object_list],
    }
    return render(request, "scoring/console/import_list.html", context)


@staff_required
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """One import: its progress (polled), its report, confirmation, its result."""
    job = _job_or_404(job_id)
    progress = import_job_progress(job=job)
    context = {
        "job": job,
        "row": import_presenters.job_row(job),
        "progress": import_presenters.progress_view(job, progress),
        "earlier": import_job_earlier(job=job),
        "restartable": import_job_restartable(job=job),
        "errors": job.errors,
        "more_errors": max(0, job.error_count - len(job.errors)),
    }
    return render(request, "scoring/console/import_detail.html", context)


@staff_required
def import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    """The job's progress for the page's poller."""
    job = _job_or_404(job_id)
    view = import_presenters.progress_view(job, import_job_progress(job=job))
    return JsonResponse(import_presenters.progress_json(view))


@staff_required
@require_POST
def import_confirm(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        import_job_confirm(job_id=job_id, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("staff_import", job_id=job_id)


@staff_required
@require_POST
def import_restart(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        import_job_restart(job_id=job_id, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("The import was started again."))
    return redirect("staff_import", job_id=job_id)


@staff_required
def import_report(request: HttpRequest, job_id: int) -> FileResponse:
    """The full report (every bad value) as CSV."""
    job = _job_or_404(job_id)
    if not job.report:
        raise Http404(_("This import has no separate report."))
    return FileResponse(
        job.report.open("rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-report.csv",
        content_type="text/csv",
    )
