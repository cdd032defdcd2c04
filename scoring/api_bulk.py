"""Bulk telemetry uploads through the API: a JSON array or the data-formats.md CSV, validated
and written by the same pipeline as `manage.py import_data` (all rows or none)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.auth import Caller
from portal.api.errors import VALIDATION_ERROR, error_body
from portal.api.idempotency import idempotent_response
from scoring.imports import import_csv, import_records
from scoring.imports.result import ImportResult, RowError
from scoring.webhook_events import import_finished_notify

JSON = "application/json"
CSV = "text/csv"


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


def _too_many(rows: int) -> None:
    limit = settings.API_BULK_MAX_ROWS
    if rows > limit:
        raise PayloadTooLarge(
            _("%(rows)s rows: a batch has at most %(limit)s rows; split it.")
            % {"rows": rows, "limit": limit}
        )


def _csv_rows(body: bytes) -> int:
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", errors="replace", newline="")
    rows = sum(1 for cells in csv.reader(text) if any(cell.strip() for cell in cells))
    return max(rows - 1, 0)  # the header


def _row_errors_response(errors: list[RowError]) -> Response:
    items = [
        {
            "code": "invalid_row",
            "detail": error.reason,
            "attr": error.column or None,
            "line": error.line,
            "value": error.value,
        }
        for error in errors
    ]
    return Response(error_body(VALIDATION_ERROR, items), status=status.HTTP_400_BAD_REQUEST)


def _report(result: ImportResult) -> dict[str, Any]:
    return {
        "kind": result.kind,
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "recompute_queued": bool(result.organization_ids and (result.created or result.updated)),
    }


def bulk_upload(
    request: Request,
    *,
    caller: Caller,
    kind: str,
    prepare_record: Callable[[int, dict[str, Any]], RowError | None] | None = None,
    check_csv_row: Callable[[int, dict[str, str]], RowError | None] | None = None,
) -> Response:
    """Validate the whole batch and write it all, or answer 400 with every bad row.

    `prepare_record` may fill in or refuse each JSON record (line, record) and `check_csv_row`
    each CSV row (line, values) before the pipeline sees them — the organization in the URL,
    for associations.
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
        _too_many(len(records))
    elif media_type == CSV:
        _too_many(_csv_rows(body))
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
            result = import_records(kind, records, actor=caller.user)
        else:
            if check_csv_row is not None:
                early = _check_csv(body, check_csv_row)
            if early:
                return _row_errors_response(early)
            result = import_csv(kind, io.BytesIO(body), actor=caller.user)
        if not result.ok:
            return _row_errors_response(result.errors)
        report = _report(result)
        if result.created or result.updated:
            import_finished_notify(organization_ids=result.organization_ids, report=report)
        return Response(report, status=status.HTTP_200_OK)

    return idempotent_response(request, caller=caller, body=body, handler=handler)


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
