"""Recompute an organization's scores after any audited change to what its scores read.

Every audited model (django-simple-history) sends `post_create_historical_record` on create,
change and delete — from the admin (bulk deletes too: they delete row by row when receivers
listen), the pages, services — so one receiver covers every door without each caller having
to remember it. Which organizations a change affects is `scores_recompute_after_change`'s
decision. Imports write history in bulk, which sends no signal, and call the service directly.
"""

from __future__ import annotations

from typing import Any

from simple_history.signals import post_create_historical_record

from scoring.services import scores_recompute_after_change


def recompute_after_audited_change(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    scores_recompute_after_change(instances=[history_instance])


post_create_historical_record.connect(
    recompute_after_audited_change, dispatch_uid="scoring.recompute_after_audited_change"
)
