"""The scoring app's webhook events (portal.webhooks): scores recomputed, designation qualified
or lapsed (compared with the organization's previous scores), import finished."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from portal.models import WebhookDelivery, WebhookEndpoint
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


def _announced(organization_id: int, event: str, designation: str, as_of: date) -> bool:
    return (
        WebhookDelivery.objects.for_org_id(organization_id)
        .filter(
            event=event,
            payload__data__designation=designation,
            payload__data__as_of=as_of.isoformat(),
        )
        .exists()
    )


def scores_recomputed_notify(*, organization_ids: Iterable[int], as_of: date) -> None:
    """After a recompute: `scores.recomputed` for each organization listening, and
    `designation.qualified` / `designation.lapsed` where a designation changed since the
    previous date with scores."""
    for organization_id in sorted(_listening(organization_ids)):
        current = _qualified_by_designation(organization_id, as_of)
        if not current:
            continue
        previous_date = (
            ScoreSnapshot.objects.for_org_id(organization_id)
            .filter(as_of__lt=as_of)
            .order_by("-as_of")
            .values_list("as_of", flat=True)
            .first()
        )
        previous = (
            _qualified_by_designation(organization_id, previous_date) if previous_date else {}
        )
        webhook_event_emit(
            organization_id=organization_id,
            event="scores.recomputed",
            data={"as_of": as_of, "scores": list(current.values())},
        )
        for code, score in current.items():
            was = previous.get(code, {}).get("qualified", False)
            if score["qualified"] == was:
                continue
            event = "designation.qualified" if score["qualified"] else "designation.lapsed"
            if _announced(organization_id, event, code, as_of):
                continue  # a rerun of the same date: the change was announced already
            webhook_event_emit(
                organization_id=organization_id,
                event=event,
                data={"as_of": as_of, "previous_as_of": previous_date, **score},
            )


def import_finished_notify(*, organization_ids: Iterable[int], report: dict[str, Any]) -> None:
    """`import.finished` for each organization an import changed."""
    for organization_id in sorted(_listening(organization_ids)):
        webhook_event_emit(organization_id=organization_id, event="import.finished", data=report)
