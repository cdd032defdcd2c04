"""Recompute an organization's scores after any audited change to what its scores read.

Every audited model (django-simple-history) sends `post_create_historical_record` on create,
change and delete — from the admin, the pages, services and imports alike — so one receiver
covers every door without each caller having to remember it.
"""

from __future__ import annotations

from typing import Any

from simple_history.signals import post_create_historical_record

from portal.models import HeldCertification, Organization, Person
from scoring.models import Association
from scoring.services import scores_recompute_on_commit

SCORED_MODELS = (Organization, Person, HeldCertification, Association)


def recompute_after_audited_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not isinstance(instance, SCORED_MODELS):
        return
    organization_id = (
        instance.pk if isinstance(instance, Organization) else instance.organization_id
    )
    if organization_id:
        scores_recompute_on_commit(organization_ids=[organization_id])


post_create_historical_record.connect(
    recompute_after_audited_change, dispatch_uid="scoring.recompute_after_audited_change"
)
