"""Pages of the scoring app: an organization's Partner Capability Score dashboard.

The dashboard reads stored snapshots only (`scoring.selectors`) and shows them as text
(`scoring.presenters`); the one write is the admins' "Recompute now", which runs the same
synchronous recompute as `manage.py recompute_scores` for this organization.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.access import org_admin_required, org_member_required
from portal.models import Membership
from scoring import history_presenters, presenters
from scoring.forecast import at_risk_designations
from scoring.measures import current_month
from scoring.selectors import (
    score_board,
    score_summary_snapshots,
    snapshot_date_shown,
    snapshot_dates,
)
from scoring.services import scores_recompute

ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def score_summary_panel(membership: Membership) -> dict[str, Any]:
    """The organization home's score panel (registered in `ScoringConfig.ready`)."""
    snapshots = score_summary_snapshots(organization=membership.organization)
    return {"scores": presenters.score_summary(snapshots)}


def _parse_as_of(request: HttpRequest, dates: list[date]) -> date | None:
    """The requested date's scores: the latest on or before it; the latest for a bad value."""
    raw = request.GET.get("as_of", "").strip()
    if not raw or not dates:
        return snapshot_date_shown(dates=dates, wanted=None)
    try:
        if not ISO_DATE_RE.fullmatch(raw):
            raise ValueError(raw)
        wanted = date.fromisoformat(raw)
    except ValueError:
        messages.error(
            request,
            _("“%(value)s” is not a date (YYYY-MM-DD); showing the latest scores.")
            % {"value": raw[:40]},
        )
        return snapshot_date_shown(dates=dates, wanted=None)
    shown = snapshot_date_shown(dates=dates, wanted=wanted)
    if shown is not None and shown > wanted:
        messages.warning(
            request,
            _("There are no scores as of %(date)s or before; showing the latest scores.")
            % {"date": wanted.isoformat()},
        )
    elif shown is not None and shown != wanted:
        messages.info(
            request,
            _("No scores were computed on %(date)s; showing the latest before it, %(shown)s.")
            % {"date": wanted.isoformat(), "shown": shown.isoformat()},
        )
    return shown


@org_member_required
def scores(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Every designation's total, qualification and per-metric points and gaps on one date."""
    organization = membership.organization
    dates = snapshot_dates(organization=organization)
    as_of = _parse_as_of(request, dates)
    board = score_board(organization=organization, as_of=as_of)
    cards = presenters.score_cards(board)
    today = timezone.localdate()
    # The forecast starts today: the mark only goes with the latest scores.
    at_risk = (
        at_risk_designations(
            organization=organization, snapshots=list(board.snapshots.values()), today=today
        )
        if as_of is not None and dates and as_of == dates[0]
        else {}
    )
    risks = [
        history_presenters.day_text(at_risk[card.designation.pk])
        if card.designation.pk in at_risk
        else ""
        for card in cards
    ]
    qualified_count = sum(1 for card in cards if card.qualified)
    designation_count = len(board.designations)
    context = {
        "organization": organization,
        "membership": membership,
        "as_of": as_of,
        "current_month": current_month(as_of) if as_of else None,
        "dates": dates,
        "cards": cards,
        "cards_with_risk": list(zip(cards, risks, strict=True)),
        "qualified_count": qualified_count,
        "designation_count": designation_count,
        "microsoft_cloud": designation_count > 0 and qualified_count == designation_count,
        "today": today,
    }
    return render(request, "scoring/scores.html", context)


@org_member_required
@org_admin_required
@require_POST
def scores_recompute_now(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Admins: recompute this organization's scores as of today, then show them."""
    organization = membership.organization
    today = timezone.localdate()
    scores_recompute(organization_ids=[organization.pk], as_of=today)
    messages.success(request, _("Scores recomputed as of %(date)s.") % {"date": today.isoformat()})
    return redirect("org_scores", slug=organization.slug)
