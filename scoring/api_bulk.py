"""Bulk telemetry uploads through the API: a JSON array or the data-formats.md CSV, validated
and written by the same pipeline as `manage.py import_data` (all rows or none). Batches of more
than `API_BULK_ASYNC_ROWS` rows are answered 202 with a job to poll (`scoring.api_jobs`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from portal.api.auth import Caller
from portal.api.errors import (
    SERVER_ERROR,
    VALIDATION_ERROR,
    ErrorResponseSerializer,
    error_body,
)
from portal.api.idempotency import idempotent_response
from portal.models import Organization
from scoring.api_jobs import (
    ORGANIZATION,
    TELEMETRY,
    bulk_job_create,
    bulk_job_lost,
    bulk_job_progress,
    import_report,
    row_error_items,
)
from scoring.imports import import_csv, import_records
from scoring.imports.result import RowError
from scoring.models import BulkJobFields, OrganizationBulkJob
from scoring.webhook_events import import_finished_notify

JSON = "application/json"
CSV = "text/csv"


class BulkReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    recompute_queued = serializers.BooleanField(
        help_text=gettext_lazy("Whether the affected organizations' scores are being recomputed.")
    )


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def _read_body(request: Request) -> bytes:
    limit = settings.API_BULK_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_large = PayloadTooLarge(
        _("The body is larger than %(limit)s bytes: split the batch.") % {"limit": limit}
    )
    if length > limit:
        raise too_large
    # Read from the stream, not request.body: DATA_UPLOAD_MAX_MEMORY_SIZE is for forms.
    body = request.read(limit + 1)  # type: ignore[attr-defined]  # DRF proxies HttpRequest
    if len(body) > limit:
        raise too_large
    return body


def _too_many(rows: int) -> int:
    limit = settings.API_BULK_MAX_ROWS
    if rows > limit:
        raise PayloadTooLarge(
            _("%(rows)s rows: a batch has at most %(limit)s rows; split it.")
            % {"rows": rows, "limit": limit}
        )
    return rows


def _csv_rows(body: bytes) -> int:
    if b'"' not in body:
        # No quoting, so no line break inside a cell: the lines are the rows (csv's own line
        # breaks: \r, \n, \r\n), a row of empty cells is blank. The same count, without
        # parsing every cell of a large batch.
        lines = body.splitlines()
        rows = sum(1 for line in lines if line.replace(b",", b"").strip())
        return max(rows - 1, 0)  # the header
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", errors="replace", newline="")
    rows = sum(1 for cells in csv.reader(text) if any(cell.strip() for cell in cells))
    return max(rows - 1, 0)  # the header


def _row_errors_response(errors: list[RowError]) -> Response:
    return Response(
        error_body(VALIDATION_ERROR, row_error_items(errors)), status=status.HTTP_400_BAD_REQUEST
    )


def bulk_upload(
    request: Request,
    *,
    caller: Caller,
    kind: str,
    organization: Organization | None = None,
    prepare_record: Callable[[int, dict[str, Any]], RowError | None] | None = None,
    check_csv_row: Callable[[int, dict[str, str]], RowError | None] | None = None,
) -> Response:
    """Validate the whole batch and write it all, or answer 400 with every bad row; beyond
    `API_BULK_ASYNC_ROWS` rows, store it and answer 202 with the job (`Location`) that will.

    `prepare_record` may fill in or refuse each JSON record (line, record) and `check_csv_row`
    each CSV row (line, values) before the pipeline sees them — the organization in the URL,
    for associations (whose jobs are then the `organization`'s).
    """
    body = _read_body(request)
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type == JSON:
        try:
            records = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise exceptions.ParseError(_("The body is not valid JSON.")) from None
        if not isinstance(records, list):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Send a JSON array of rows.")]}, code="not_a_list"
            )
        rows = _too_many(len(records))
    elif media_type == CSV:
        rows = _too_many(_csv_rows(body))
    else:
        raise exceptions.UnsupportedMediaType(media_type or "none")

    def handler() -> Response:
        early: list[RowError] = []
        if media_type == JSON:
            if prepare_record is not None:
                for line, record in enumerate(records, start=1):
                    if isinstance(record, dict) and (problem := prepare_record(line, record)):
                        early.append(problem)
            if early:
                return _row_errors_response(early)
            if rows > settings.API_BULK_ASYNC_ROWS:
                return _job_response(
                    request, caller, organization, kind, JSON, _json(records), rows
                )
            result = import_records(kind, records, actor=caller.user)
        else:
            if check_csv_row is not None:
                early = _check_csv(body, check_csv_row)
            if early:
                return _row_errors_response(early)
            if rows > settings.API_BULK_ASYNC_ROWS:
                return _job_response(request, caller, organization, kind, CSV, body, rows)
            result = import_csv(kind, io.BytesIO(body), actor=caller.user)
        if not result.ok:
            return _row_errors_response(result.errors)
        report = import_report(result)
        if result.created or result.updated:
            import_finished_notify(organization_ids=result.organization_ids, report=report)
        return Response(report, status=status.HTTP_200_OK)

    return idempotent_response(request, caller=caller, body=body, handler=handler)


class BulkJobProgressSerializer(serializers.Serializer):
    rows_validated = serializers.IntegerField(min_value=0)
    rows_written = serializers.IntegerField(
        min_value=0, help_text=gettext_lazy("Written in the import's transaction, not yet visible.")
    )


class BulkJobSerializer(serializers.Serializer):
    """A bulk upload run by Celery: poll `url` until `state` is `succeeded` or `failed`."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(choices=BulkJobFields.State.choices)
    rows = serializers.IntegerField(min_value=0, help_text=gettext_lazy("Rows sent."))
    progress = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    report = BulkReportSerializer(
        allow_null=True,
        help_text=gettext_lazy("Succeeded: what the synchronous upload answers with a 200."),
    )
    error = ErrorResponseSerializer(
        allow_null=True,
        help_text=gettext_lazy(
            "Failed: the error a synchronous upload would answer (every bad row; nothing "
            "was written)."
        ),
    )

    restartable = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "The worker running the job was lost (nothing was written; `state` is `failed`): "
            "POST to `url` + `restart/` to run it again from the start."
        )
    )

    def get_restartable(self, job: BulkJobFields) -> bool:
        return bulk_job_lost(scope=self._scope(job), job=job)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if data["restartable"]:
            data["state"] = BulkJobFields.State.FAILED.value
            data["error"] = error_body(
                SERVER_ERROR,
                [
                    {
                        "code": "worker_lost",
                        "detail": _(
                            "The worker running this job stopped; nothing was written. "
                            "Restart the job."
                        ),
                        "attr": None,
                    }
                ],
            )
        return data

    def _scope(self, job: BulkJobFields) -> str:
        return ORGANIZATION if isinstance(job, OrganizationBulkJob) else TELEMETRY

    @extend_schema_field(BulkJobProgressSerializer)
    def get_progress(self, job: BulkJobFields) -> dict[str, int]:
        return bulk_job_progress(scope=self._scope(job), job=job)

    def get_url(self, job: BulkJobFields) -> str:
        if isinstance(job, OrganizationBulkJob):
            return reverse(
                "api-bulk-job",
                kwargs={"partner_id": job.organization.partner_id, "pk": job.pk},
                request=self.context.get("request"),
            )
        return reverse(
            "api-telemetry-job", kwargs={"pk": job.pk}, request=self.context.get("request")
        )


def _json(records: list[Any]) -> bytes:
    return json.dumps(records, separators=(",", ":")).encode()


def _job_response(
    request: Request,
    caller: Caller,
    organization: Organization | None,
    kind: str,
    media_type: str,
    body: bytes,
    rows: int,
) -> Response:
    job = bulk_job_create(
        organization=organization,
        caller=caller.identity,
        kind=kind,
        media_type=media_type,
        body=body,
        rows=rows,
    )
    job.refresh_from_db()  # an in-process task may have run it already
    data = BulkJobSerializer(job, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


def _check_csv(
    body: bytes, check: Callable[[int, dict[str, str]], RowError | None]
) -> list[RowError]:
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    header = [cell.strip().lower() for cell in next(reader, [])]
    problems = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if len(cells) != len(header) or not any(cell.strip() for cell in cells):
            continue  # the pipeline reports it
        problem = check(start, dict(zip(header, (cell.strip() for cell in cells), strict=True)))
        if problem is not None:
            problems.append(problem)
    return problems
