"""Who made a change, for django-simple-history: the one way services name the actor.

simple-history reads `_history_user` (and `_change_reason`) from the instance when it saves
the historical record; setting them through this function keeps that private hook in one place.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from portal.models import User


def audit_as(instance: models.Model, *, actor: Any, reason: str | None = None) -> models.Model:
    """Record `actor` (a user; anything else — an API key, a command — leaves the history's user
    empty) and an optional reason on the next save or delete of `instance`; returns it."""
    if isinstance(actor, User):
        instance._history_user = actor  # type: ignore[attr-defined]  # simple-history's hook
    if reason is not None:
        instance._change_reason = reason  # type: ignore[attr-defined]  # simple-history's hook
    return instance
