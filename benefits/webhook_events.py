"""The benefits app's webhook events (portal.webhooks): a designation qualified, enrolled or
lapsed, sent when the status history records the change (`benefits.services._record_status`:
the nightly status pass, an enrolment), once per recorded change.

Payload `data`: `designation` (code), `status` (`qualified` | `enrolled` | `lapsed`),
`previous_status` (the status recorded before, `in_progress` when none was), `changed_on`
(the date of the change), `reason` (why, in English), `anniversary` (the organization's
renewal date, or null) and `term` (`kind`, `starts_on`, `ends_on` of the designation's latest
term, or null).
"""

from __future__ import annotations

from typing import Any

from benefits.models import DesignationStatus, DesignationStatusChange, DesignationTerm
from portal.models import WebhookEndpoint
from portal.webhooks import webhook_event_emit

STATUS_EVENTS = {
    DesignationStatus.QUALIFIED: "designation.qualified",
    DesignationStatus.ENROLLED: "designation.enrolled",
    DesignationStatus.LAPSED: "designation.lapsed",
}


def designation_status_changed_notify(*, change: DesignationStatusChange) -> None:
    """Emit the change's event to the organization's endpoints that want it (inside the
    caller's transaction: the deliveries go out after it commits)."""
    event = STATUS_EVENTS.get(DesignationStatus(change.status))
    if event is None:
        return
    organization_id = change.organization_id
    if (
        not WebhookEndpoint.objects.for_org_id(organization_id).filter(active=True).exists()
    ):  # most organizations have no endpoint: one query, nothing else
        return
    previous = (
        DesignationStatusChange.objects.for_org_id(organization_id)
        .filter(designation_id=change.designation_id)
        .exclude(pk=change.pk)
        .filter(changed_on__lte=change.changed_on)
        .order_by("-changed_on", "-recorded_at", "-pk")
        .values_list("status", flat=True)
        .first()
    )
    term = (
        DesignationTerm.objects.for_org_id(organization_id)
        .filter(designation_id=change.designation_id, starts_on__lte=change.changed_on)
        .order_by("-starts_on")
        .first()
    )
    data: dict[str, Any] = {
        "designation": change.designation.code,
        "status": change.status,
        "previous_status": previous or DesignationStatus.IN_PROGRESS.value,
        "changed_on": change.changed_on,
        "reason": change.reason,
        "anniversary": change.organization.renewal_date,
        "term": (
            {"kind": term.kind, "starts_on": term.starts_on, "ends_on": term.ends_on}
            if term is not None
            else None
        ),
    }
    webhook_event_emit(organization_id=organization_id, event=event, data=data)
