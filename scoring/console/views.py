"""Pages of the staff console: the organization list and its CSV export, an organization's
page with staff actions, and the program statistics (`/staff/`, active staff only)."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.csvsafe import SafeWriter
from portal.models import Organization
from portal.selectors import legacy_competency_list, member_list, person_list
from scoring import presenters as score_presenters
from scoring.console import hooks, presenters
from scoring.console.access import staff_required
from scoring.console.selectors import (
    NEAR_THE_LINE_POINTS,
    SORTS,
    STATUS_FILTERS,
    OrganizationQuery,
    blocking_metric_counts,
    current_scores_by_organization,
    designation_counts,
    hook_counts,
    organization_console_get,
    organization_console_list,
    organization_country_list,
    score_histogram,
    score_trend_by_month,
    track_choice_list,
)
from scoring.models import Designation
from scoring.selectors import designation_list, score_board, snapshot_date_shown, snapshot_dates
from scoring.services import scores_recompute

PAGE_SIZE = 50


def _designation(raw: str, designations: list[Designation]) -> Designation | None:
    return next((d for d in designations if d.code == raw), None)


def _organization_query(
    params: QueryDict, designations: list[Designation]
) -> tuple[OrganizationQuery, list[hooks.ConsoleFilter], dict[str, str]]:
    """The list's query from GET parameters; unknown values are ignored (the whole list)."""
    status = params.get("status", "")
    sort = params.get("sort", "name")
    track = params.get("track", "").strip()[:30]
    query = OrganizationQuery(
        search=params.get("q", "").strip()[:100],
        country=params.get("country", "").strip().upper()[:2],
        designation=_designation(params.get("designation", ""), designations),
        status=status if status in STATUS_FILTERS else "",
        track=track,
        sort=sort if sort in SORTS else "name",
    )
    applied = []
    values = {}
    for console_filter in hooks.console_filters():
        value = params.get(console_filter.key, "").strip()
        if value:
            applied.append(console_filter)
            values[console_filter.key] = value
    return query, applied, values


def _filtered(
    query: OrganizationQuery, applied: list[hooks.ConsoleFilter], values: dict[str, str]
) -> tuple[QuerySet[Organization], list[str]]:
    organizations = organization_console_list(query=query)
    problems = []
    for console_filter in applied:
        try:
            organizations = console_filter.apply(organizations, values[console_filter.key])
        except ValueError:
            problems.append(
                _("“%(value)s” is not a value for %(filter)s; that filter is ignored.")
                % {"value": values[console_filter.key][:40], "filter": console_filter.label}
            )
    return organizations, problems


def _rows(
    organizations: list[Organization], designations: list[Designation]
) -> tuple[list[presenters.OrganizationRow], list[hooks.ConsoleColumn]]:
    ids = [organization.pk for organization in organizations]
    columns = hooks.console_columns()
    rows = presenters.organization_rows(
        organizations,
        designations=designations,
        scores=current_scores_by_organization(organization_ids=ids),
        extra_columns=[column.values(ids) for column in columns],
        near_points=float(NEAR_THE_LINE_POINTS),
    )
    return rows, columns


@staff_required
def organization_list(request: HttpRequest) -> HttpResponse:
    """Every partner organization with its current score and qualification per designation."""
    designations = list(designation_list())
    query, applied, values = _organization_query(request.GET, designations)
    organizations, problems = _filtered(query, applied, values)
    for problem in problems:
        messages.warning(request, problem)
    page = Paginator(organizations, PAGE_SIZE).get_page(request.GET.get("page"))
    rows, columns = _rows(list(page.object_list), designations)
    without_page = request.GET.copy()
    without_page.pop("page", None)
    without_sort = without_page.copy()
    without_sort.pop("sort", None)
    context = {
        "query": query,
        "designations": designations,
        "countries": organization_country_list(),
        "tracks": track_choice_list(),
        "statuses": [(key, str(label)) for key, label in _status_labels().items()],
        "hook_filters": [
            {"filter": f, "value": values.get(f.key, "")} for f in hooks.console_filters()
        ],
        "columns": columns,
        "rows": rows,
        "page": page,
        "querystring": without_page.urlencode(),
        "sort_querystring": without_sort.urlencode(),
        "sorts": _sort_labels(),
    }
    return render(request, "scoring/console/organization_list.html", context)


def _status_labels() -> dict[str, str]:
    return {
        "qualified": _("Qualified"),
        "not_qualified": _("Not qualified"),
        "near": _("Near the line (within 10 points)"),
        "zero_metric": _("A metric at 0 points"),
    }


def _sort_labels() -> list[tuple[str, str]]:
    return [
        ("name", _("Name A–Z")),
        ("-name", _("Name Z–A")),
        ("partner_id", _("Partner ID")),
        ("country", _("Country")),
        ("score", _("Score, highest first")),
        ("-score", _("Score, lowest first")),
    ]


@staff_required
def organization_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV (formula-safe), every page of it."""
    designations = list(designation_list())
    query, applied, values = _organization_query(request.GET, designations)
    organizations, _problems = _filtered(query, applied, values)
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    extra_labels = [str(column.label) for column in hooks.console_columns()]
    writer.writerow(presenters.export_header(designations, extra_labels))
    # A page's worth at a time: a constant number of queries per page, bounded memory.
    paginator = Paginator(organizations, 500)
    for number in paginator.page_range:
        rows, _columns = _rows(list(paginator.page(number).object_list), designations)
        writer.writerows(presenters.export_row(row) for row in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="partner-scores-{stamp}.csv"'
    return response


def _organization_or_404(partner_id: str) -> Organization:
    organization = organization_console_get(partner_id=partner_id)
    if organization is None:
        raise Http404(_("No such partner organization."))
    return organization


@staff_required
def organization_detail(request: HttpRequest, partner_id: str) -> HttpResponse:
    """What the partner sees (scores, people, legacy competencies, members) and staff actions."""
    organization = _organization_or_404(partner_id)
    dates = snapshot_dates(organization=organization)
    as_of = snapshot_date_shown(dates=dates, wanted=None)
    board = score_board(organization=organization, as_of=as_of)
    cards = score_presenters.score_cards(board)
    people = list(person_list(organization=organization))
    panels = [
        render_to_string(
            panel.template_name,
            {"organization": organization, **panel.context(organization)},
            request=request,
        )
        for panel in hooks.console_panels()
    ]
    context: dict[str, Any] = {
        "organization": organization,
        "as_of": as_of,
        "cards": cards,
        "qualified_count": sum(1 for card in cards if card.qualified),
        "designation_count": len(board.designations),
        "people": people,
        "legacy_competencies": list(legacy_competency_list(organization=organization)),
        "members": list(member_list(organization=organization)),
        "panels": panels,
        "admin_url": reverse("admin:portal_organization_change", args=[organization.pk]),
    }
    return render(request, "scoring/console/organization_detail.html", context)


@staff_required
@require_POST
def organization_recompute(request: HttpRequest, partner_id: str) -> HttpResponse:
    """Staff: recompute this organization's scores as of today, then show them."""
    organization = _organization_or_404(partner_id)
    today = timezone.localdate()
    scores_recompute(organization_ids=[organization.pk], as_of=today)
    messages.success(request, _("Scores recomputed as of %(date)s.") % {"date": today.isoformat()})
    return redirect("staff_organization", partner_id=organization.partner_id)


@staff_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Per designation: qualified, near the line, hook counts; the distribution of scores and
    its trend by month; the metrics that most often block qualification."""
    designations = list(designation_list())
    designation = _designation(request.GET.get("designation", ""), designations)
    counts = designation_counts(designations=designations)
    extra_counts = hook_counts(counts=hooks.console_designation_counts())
    blocking = blocking_metric_counts()
    histogram = score_histogram(designation=designation)
    labels = presenters.histogram_labels()
    trend = score_trend_by_month(designation=designation)
    rows = []
    for count in counts:
        rows.append(
            {
                "counts": count,
                "extra": [values.get(count.designation.pk, 0) for _label, values in extra_counts],
                "blocking": presenters.blocking_metrics(blocking.get(count.designation.pk, {}))[:3],
            }
        )
    overall: dict[str, int] = {}
    for by_metric in blocking.values():
        for code, organizations in by_metric.items():
            overall[code] = overall.get(code, 0) + organizations
    context = {
        "designations": designations,
        "designation": designation,
        "rows": rows,
        "extra_labels": [label for label, _values in extra_counts],
        "histogram": presenters.bar_chart(labels, histogram),
        "histogram_total": sum(histogram),
        "trend": trend,
        "trend_chart": presenters.trend_chart(trend),
        "trend_rows": [{"trend": t, "average": presenters.average_text(t.average)} for t in trend],
        "blocking_overall": presenters.blocking_metrics(overall),
    }
    return render(request, "scoring/console/statistics.html", context)
