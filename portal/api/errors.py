"""One JSON shape for every error response: `{"type", "errors": [{"code", "detail", "attr"}]}`.

`type` is `validation_error` (400: the request's content), `client_error` (any other 4xx) or
`server_error`. Each error names the field it is about in `attr` (dotted for nested fields and
list items, null for the request as a whole); import rows add `line` and `value`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.exceptions import ApplicationError

VALIDATION_ERROR = "validation_error"
CLIENT_ERROR = "client_error"
SERVER_ERROR = "server_error"


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. `required`."))
    detail = serializers.CharField(help_text=_("Human-readable explanation."))
    attr = serializers.CharField(
        allow_null=True, help_text=_("The field concerned (dotted path), or null.")
    )
    line = serializers.IntegerField(
        required=False, help_text=_("Bulk uploads: the row (CSV line, or 1-based array index).")
    )
    value = serializers.CharField(required=False, help_text=_("Bulk uploads: the value refused."))


class ErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[VALIDATION_ERROR, CLIENT_ERROR, SERVER_ERROR])
    errors = ErrorItemSerializer(many=True)


def error_body(error_type: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": error_type, "errors": errors}


def client_error(status_code: int, code: str, detail: str) -> Response:
    """A response in the error shape for a refusal a view decides itself (409, 413, …)."""
    return Response(
        error_body(CLIENT_ERROR, [{"code": code, "detail": str(detail), "attr": None}]),
        status=status_code,
    )


def _flatten(detail: Any, attr: str | None = None) -> Iterator[dict[str, Any]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            yield from _flatten(value, f"{attr}.{name}" if attr and name else (name or attr))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, Mapping | list):
                yield from _flatten(value, f"{attr}.{index}" if attr else str(index))
            else:
                yield from _flatten(value, attr)
    else:
        code = getattr(detail, "code", None) or "invalid"
        yield {"code": str(code), "detail": str(detail), "attr": attr}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, headers), with every body in the one shape."""
    if isinstance(exc, ApplicationError):
        attr = exc.extra.get("attr")
        code = exc.extra.get("code", "invalid")
        exc = exceptions.ValidationError({attr or "non_field_errors": [exc.message]}, code=code)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(VALIDATION_ERROR, list(_flatten(exc.detail)))
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        errors = (
            list(_flatten(detail))
            if isinstance(detail, dict | list)
            else [{"code": detail.code, "detail": str(detail), "attr": None}]
        )
        error_type = SERVER_ERROR if response.status_code >= 500 else CLIENT_ERROR
        response.data = error_body(error_type, errors)
    return response


@csrf_exempt  # writes nothing: a 404 for any method, never the CSRF failure page
def not_found_view(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Any other path under /api/v1/: a 404 in the error shape, not the HTML page."""
    from django.http import JsonResponse

    body = error_body(
        CLIENT_ERROR, [{"code": "not_found", "detail": str(_("Not found.")), "attr": None}]
    )
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
