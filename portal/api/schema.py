"""The OpenAPI schema: every operation documents its error responses in the one error shape."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from portal.api.errors import ErrorResponseSerializer


def _error(description: Any, code: str, detail: str, error_type: str = "client_error") -> Any:
    return OpenApiResponse(
        ErrorResponseSerializer,
        description=description,
        examples=[
            OpenApiExample(
                code,
                value={
                    "type": error_type,
                    "errors": [{"code": code, "detail": detail, "attr": None}],
                },
                response_only=True,
            )
        ],
    )


ERRORS = {
    "400": _error(
        _("The request is invalid: every problem is listed."),
        "invalid",
        "Enter a valid date.",
        "validation_error",
    ),
    "401": _error(
        _("No valid credentials: sign in, or send a valid API key."),
        "not_authenticated",
        "Authentication credentials were not provided.",
    ),
    "403": _error(
        _("The caller may not do this (read-only key, not an admin, platform key)."),
        "permission_denied",
        "This API key is read-only.",
    ),
    "404": _error(
        _("No such object, or no such organization for this caller."),
        "not_found",
        "Not found.",
    ),
    "415": _error(
        _("The body's Content-Type is not one this operation reads."),
        "unsupported_media_type",
        'Unsupported media type "text/plain" in request.',
    ),
    "429": _error(
        _("Too many requests from this key or user; retry after the Retry-After delay."),
        "throttled",
        "Request was throttled. Expected available in 12 seconds.",
    ),
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        for code, response in ERRORS.items():
            filtered = bool(getattr(self.view, "filterset_class", None))
            if code == "400" and self.method == "GET" and not filtered:
                continue
            if code == "415" and self.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
                continue  # no body read
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        return responses

    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        """Nested serializers (`PersonApi.OutputSerializer`) are named after their endpoint:
        `PersonApiOutput`, not one `Output` shared by all."""
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, _dot, inner = qualname.rpartition(".")
            return outer.replace(".", "") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)  # type: ignore[arg-type]
