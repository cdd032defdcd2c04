"""The designation page and a metric's drill-down, under `orgs/<slug>/scores/<designation>/`.

Both read the snapshot shown on the dashboard's date (`?as_of=`, the latest by default); the
drill-down lists the rows behind the metric's points (`scoring.drilldown`), formatted by
`scoring.drilldown_presenters`.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.access import org_member_required
from portal.models import Membership
from scoring import drilldown_presenters, presenters
from scoring.drilldown import drilldown_snapshot_get, metric_drilldown
from scoring.models import Designation, ScoreSnapshot
from scoring.selectors import certification_group_rows, designation_list, snapshot_dates
from scoring.views import _parse_as_of


def _designation_or_404(code: str) -> Designation:
    designation = designation_list().filter(code=code).first()
    if designation is None:
        raise Http404(_("No such designation."))
    return designation


def _snapshot_shown(
    request: HttpRequest, membership: Membership, designation: Designation
) -> ScoreSnapshot | None:
    dates = snapshot_dates(organization=membership.organization)
    as_of = _parse_as_of(request, dates)
    return drilldown_snapshot_get(
        organization=membership.organization, designation_code=designation.code, as_of=as_of
    )


def _as_of_query(request: HttpRequest, snapshot: ScoreSnapshot | None) -> str:
    """Links keep the date asked for (the latest needs none)."""
    if snapshot is None or not request.GET.get("as_of"):
        return ""
    return f"?as_of={snapshot.as_of.isoformat()}"


@org_member_required
def designation(
    request: HttpRequest, designation_code: str, *, membership: Membership
) -> HttpResponse:
    """One designation: the total, the line to qualify, and each metric with its gap."""
    found = _designation_or_404(designation_code)
    snapshot = _snapshot_shown(request, membership, found)
    requirements = presenters.requirement_texts(
        certification_group_rows(rule_set_ids={snapshot.rule_set_id} if snapshot else set())
    )
    card = presenters.designation_score(found, snapshot, requirements)
    context = {
        "organization": membership.organization,
        "membership": membership,
        "designation": found,
        "snapshot": snapshot,
        "page": drilldown_presenters.designation_page(card),
        "nav_metrics": drilldown_presenters.nav_metrics(snapshot),
        "current_metric": "",
        "as_of_query": _as_of_query(request, snapshot),
    }
    return render(request, "scoring/designation.html", context)


@org_member_required
def metric_drilldown_page(
    request: HttpRequest, designation_code: str, metric_code: str, *, membership: Membership
) -> HttpResponse:
    """The customers and people behind one metric's points, and those that almost count."""
    found = _designation_or_404(designation_code)
    snapshot = _snapshot_shown(request, membership, found)
    if snapshot is None:
        raise Http404(_("No scores for this designation."))
    drill = metric_drilldown(snapshot=snapshot, metric_code=metric_code)
    if drill is None:
        raise Http404(_("No such metric."))
    context = {
        "organization": membership.organization,
        "membership": membership,
        "designation": found,
        "snapshot": snapshot,
        "page": drilldown_presenters.drilldown_page(drill),
        "nav_metrics": drilldown_presenters.nav_metrics(snapshot),
        "current_metric": metric_code,
        "as_of_query": _as_of_query(request, snapshot),
    }
    return render(request, "scoring/metric_drilldown.html", context)
