"""`Idempotency-Key` on writes: the same key with the same request gets the stored response;
the same key with another request gets 409. Records are kept per caller for
`API_IDEMPOTENCY_TTL_HOURS` (default 24)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.auth import Caller
from portal.api.errors import client_error
from portal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
STORED_HEADERS = ("Location",)


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n{request.content_type}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def idempotent_response(
    request: Request, *, caller: Caller, body: bytes, handler: Callable[[], Response]
) -> Response:
    """Run `handler` once per (caller, Idempotency-Key); replay its response afterwards.

    A handler that raises stores nothing, so the request can be sent again with the same key.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not 1 <= len(key) <= 255:
        raise exceptions.ValidationError(
            {HEADER: [_("An Idempotency-Key has 1 to 255 characters.")]}
        )
    fingerprint = _fingerprint(request, body)
    expired = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    records = IdempotencyRecord.objects.filter(caller=caller.identity, key=key)
    records.filter(created_at__lt=expired).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                caller=caller.identity, key=key, request_hash=fingerprint
            )
    except IntegrityError:
        stored = records.first()
        if stored is None:  # expired and deleted by a concurrent request: run again
            return handler()
        if stored.request_hash != fingerprint:
            return client_error(
                status.HTTP_409_CONFLICT,
                "idempotency_key_reused",
                _("This Idempotency-Key was used with a different request."),
            )
        if stored.status_code is None:
            return client_error(
                status.HTTP_409_CONFLICT,
                "idempotency_request_in_progress",
                _("A request with this Idempotency-Key is still being processed."),
            )
        replay = Response(stored.response_body, status=stored.status_code)
        for name, value in stored.response_headers.items():
            replay[name] = value
        replay["Idempotent-Replayed"] = "true"
        return replay
    try:
        response = handler()
    except BaseException:
        record.delete()
        raise
    if response.status_code >= 500:
        record.delete()
        return response
    record.status_code = response.status_code
    record.response_body = response.data
    record.response_headers = {name: response[name] for name in STORED_HEADERS if name in response}
    record.save(update_fields=["status_code", "response_body", "response_headers"])
    return response
