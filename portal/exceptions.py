"""The one domain exception for errors a user can cause."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request the business rules refuse; pages show `message`, the API returns it as a 400."""

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)
