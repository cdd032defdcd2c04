"""The what-if page: hypothetical people and customers, projected scores, the shortest path.

Admins simulate (a form POST; htmx posts the same form as they type and swaps in the results
partial); members see today's scores and shortest paths read-only, and a POST from them is
403. Nothing is saved (`scoring.whatif`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from portal.access import org_member_required
from portal.models import Membership
from scoring import whatif_presenters
from scoring.whatif import Scenario, whatif_project
from scoring.whatif_forms import WhatIfInput


@org_member_required
@require_http_methods(["GET", "POST"])
def whatif(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Every designation's projected points, track and qualification under a scenario."""
    organization = membership.organization
    focus = request.GET.get("designation", "")[:60]
    if request.method == "POST" and not membership.is_admin:
        raise PermissionDenied
    form = None
    scenario = Scenario()
    if membership.is_admin:
        form = WhatIfInput(
            organization=organization, data=request.POST if request.method == "POST" else None
        )
        if request.method == "POST" and form.is_valid():
            scenario = form.scenario()
    as_of = timezone.localdate()
    result = whatif_project(organization=organization, scenario=scenario, as_of=as_of)
    cards = whatif_presenters.projection_cards(result, focus=focus)
    qualified_now, qualified_projected = whatif_presenters.qualified_counts(cards)
    context = {
        "organization": organization,
        "membership": membership,
        "form": form,
        "cards": cards,
        "as_of": as_of,
        "focus": focus,
        "scenario_empty": scenario.empty,
        "qualified_now": qualified_now,
        "qualified_projected": qualified_projected,
        "errors": form.error_texts() if form is not None and form.people.is_bound else [],
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "scoring/whatif/_results.html", context)
    return render(request, "scoring/whatif/page.html", context)
