"""The score history of a designation and the forecast of every designation (member pages)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.access import org_member_required
from portal.models import Membership
from scoring import history_presenters
from scoring.forecast import forecast_stamp, organization_forecast_cached
from scoring.history import designation_get, designation_history


@org_member_required
def designation_history_page(
    request: HttpRequest, *, membership: Membership, designation_code: str
) -> HttpResponse:
    """Monthly totals and metric points over 24 months, the 70 line, window, status changes."""
    organization = membership.organization
    designation = designation_get(code=designation_code)
    if designation is None:
        raise Http404
    today = timezone.localdate()
    history = designation_history(organization=organization, designation=designation, today=today)
    context = {
        "organization": organization,
        "membership": membership,
        "designation": designation,
        "history": history,
        "page": history_presenters.history_page(history),
        "today": today,
    }
    return render(request, "scoring/history.html", context)


@org_member_required
def scores_forecast(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Every designation at the next six month-ends and the anniversary, if nothing changes."""
    organization = membership.organization
    today = timezone.localdate()
    forecast = organization_forecast_cached(
        organization=organization, today=today, stamp=forecast_stamp(organization=organization)
    )
    context = {
        "organization": organization,
        "membership": membership,
        "forecast": forecast,
        "rows": history_presenters.forecast_rows(forecast),
        "days": [history_presenters.day_text(day) for day in forecast.days],
        "anniversary": forecast.anniversary,
        "today": today,
    }
    return render(request, "scoring/forecast.html", context)
