"""The scoring app's webhook events (portal.webhooks): scores recomputed, import finished.
Designation qualified / enrolled / lapsed come from the benefits app's status history
(`benefits.webhook_events`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from portal.models import WebhookEndpoint
from portal.webhooks import webhook_event_emit
from scoring.models import ScoreSnapshot


def _listening(organization_ids: Iterable[int]) -> set[int]:
    """The organizations with an active endpoint: the others cost one query per chunk."""
    return set(
        WebhookEndpoint.objects.unscoped()
        .filter(organization_id__in=list(organization_ids), active=True)
        .values_list("organization_id", flat=True)
    )


def _qualified_by_designation(organization_id: int, as_of: date) -> dict[str, dict[str, Any]]:
    """The scores of one date, the latest rule-set version of each designation."""
    rows = (
        ScoreSnapshot.objects.for_org_id(organization_id)
        .filter(as_of=as_of)
        .order_by("designation__position", "-rule_set__version")
        .values_list("designation__code", "total", "qualified", "rule_set__version")
    )
    scores: dict[str, dict[str, Any]] = {}
    for code, total, qualified, version in rows:
        scores.setdefault(
            code,
            {
                "designation": code,
                "total": total,
                "qualified": qualified,
                "rule_set_version": version,
            },
        )
    return scores


def scores_recomputed_notify(*, organization_ids: Iterable[int], as_of: date) -> None:
    """After a recompute: `scores.recomputed` for each organization listening, with each
    designation's total and whether it qualifies on that date. (Whether a designation is
    qualified, enrolled or lapsed in the program's sense — its qualification window, its
    term — is the benefits app's status history, which sends `designation.*`.)"""
    for organization_id in sorted(_listening(organization_ids)):
        current = _qualified_by_designation(organization_id, as_of)
        if not current:
            continue
        webhook_event_emit(
            organization_id=organization_id,
            event="scores.recomputed",
            data={"as_of": as_of, "scores": list(current.values())},
        )


def import_finished_notify(*, organization_ids: Iterable[int], report: dict[str, Any]) -> None:
    """`import.finished` for each organization an import changed."""
    for organization_id in sorted(_listening(organization_ids)):
        webhook_event_emit(organization_id=organization_id, event="import.finished", data=report)
