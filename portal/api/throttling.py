"""A request budget per caller (each API key, each signed-in user).

Kept apart from the base classes: DRF's settings import it while `rest_framework.views` loads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import throttling
from rest_framework.request import Request

from portal.api.auth import caller_of


class CallerRateThrottle(throttling.SimpleRateThrottle):
    """Requests per caller (each key, each user), `API_RATE_LIMIT`; the actions a view lists in
    `bulk_actions` have their own budget, `API_BULK_RATE_LIMIT`. Read per request, so the
    settings are the one source."""

    scope = "api"

    def __init__(self) -> None:
        pass  # the rate depends on the view: set in allow_request

    def allow_request(self, request: Request, view: Any) -> bool:
        bulk = getattr(view, "action", None) in getattr(view, "bulk_actions", ())
        self.scope = "bulk" if bulk else "api"
        self.rate = settings.API_BULK_RATE_LIMIT if bulk else settings.API_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        caller = caller_of(request)
        ident = caller.identity if caller else self.get_ident(request)
        return f"throttle_{self.scope}_{ident}"
