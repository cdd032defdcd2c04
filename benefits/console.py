"""What benefits adds to the staff console (`scoring.console.hooks`, registered in
`BenefitsConfig.ready`): each organization's designation status and anniversary in the list, a
"renewal within N days" filter, and per designation how many organizations are enrolled, due to
renew and lapsed.

Set-based, for a page or the whole program at once: the statuses follow `holdings_on`'s terms
(a term in force: enrolled; ended, within the renewal window: renewal due; ended before that:
lapsed), read from the terms alone — the console lists; the organization's own pages decide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from benefits.models import DesignationStatus, DesignationTerm
from benefits.selectors import holdings_on, window_rule_in_force, window_rules
from portal.models import Organization


def _terms() -> QuerySet[DesignationTerm]:
    # Program staff see every partner's terms: a deliberate cross-tenant read.
    return DesignationTerm.objects.unscoped()


def statuses(
    *, organization_ids: Iterable[int] | None, on: date
) -> dict[int, dict[int, DesignationStatus]]:
    """organization id → designation id → enrolled / renewal due / lapsed (one query for the
    terms, one for the window rules); designations never held are absent."""
    terms = _terms().order_by("organization_id", "designation_id", "starts_on")
    if organization_ids is not None:
        terms = terms.filter(organization_id__in=list(organization_ids))
    rules = window_rules()
    latest: dict[tuple[int, int], tuple[date, date]] = {}
    for organization_id, designation_id, starts_on, ends_on in terms.values_list(
        "organization_id", "designation_id", "starts_on", "ends_on"
    ):
        key = (organization_id, designation_id)
        held = latest.get(key)
        if held is None or not (held[0] <= on <= held[1]):
            latest[key] = (starts_on, ends_on)
    result: dict[int, dict[int, DesignationStatus]] = defaultdict(dict)
    for (organization_id, designation_id), (starts_on, ends_on) in latest.items():
        if starts_on <= on <= ends_on:
            status = DesignationStatus.ENROLLED
        elif ends_on < on:
            grace = window_rule_in_force(on=ends_on, rules=rules).renewal_window_days
            due = on <= ends_on + timedelta(days=grace)
            status = DesignationStatus.RENEWAL_DUE if due else DesignationStatus.LAPSED
        else:
            continue  # a term that starts later: not held yet
        result[organization_id][designation_id] = status
    return result


def status_column(organization_ids: Sequence[int]) -> Mapping[int, str]:
    """The list's "Designation status" column: how many enrolled, due and lapsed."""
    by_organization = statuses(organization_ids=organization_ids, on=timezone.localdate())
    texts = {}
    for organization_id, by_designation in by_organization.items():
        counted = [
            (status, sum(1 for s in by_designation.values() if s == status))
            for status in (
                DesignationStatus.ENROLLED,
                DesignationStatus.RENEWAL_DUE,
                DesignationStatus.LAPSED,
            )
        ]
        texts[organization_id] = " · ".join(
            f"{DesignationStatus(status).label} {count}" for status, count in counted if count
        )
    return texts


def renewal_within_filter(
    organizations: QuerySet[Organization], raw: str
) -> QuerySet[Organization]:
    """Organizations whose anniversary comes within N days: a term in force ends by then, or,
    holding none, the organization's renewal date falls by then."""
    if not raw.isdigit() or int(raw) > 3660:
        raise ValueError(raw)
    today = timezone.localdate()
    until = today + timedelta(days=int(raw))
    in_force = _terms().filter(
        organization=OuterRef("pk"), starts_on__lte=today, ends_on__gte=today
    )
    return organizations.filter(
        Exists(in_force.filter(ends_on__lte=until))
        | (~Exists(in_force) & Q(renewal_date__gte=today, renewal_date__lte=until))
    )


def designation_counts() -> Mapping[str, Mapping[int, int]]:
    """Status → designation id → organizations (enrolled, renewal due, lapsed; one read)."""
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for by_designation in statuses(organization_ids=None, on=timezone.localdate()).values():
        for designation_id, status in by_designation.items():
            counts[str(status)][designation_id] += 1
    return counts


def organization_panel(organization: Organization) -> Mapping[str, Any]:
    """The console's organization page: its designation statuses and specializations today,
    with staff's way to award one (the admin's award form, which goes through the service)."""
    holdings = holdings_on(organization=organization, on=timezone.localdate())
    award_url = (
        reverse("admin:benefits_specializationaward_add")
        + "?"
        + urlencode({"organization": organization.pk})
    )
    return {"holdings": holdings, "award_url": award_url}


def register() -> None:
    """Fill in the console's hooks (from `BenefitsConfig.ready`)."""
    from scoring.console.hooks import (
        ConsoleColumn,
        ConsoleDesignationCount,
        ConsoleFilter,
        ConsolePanel,
        register_console_column,
        register_console_designation_count,
        register_console_filter,
        register_console_panel,
    )

    register_console_column(
        ConsoleColumn(
            key="designation_status", label=gettext_lazy("Designation status"), values=status_column
        )
    )
    register_console_filter(
        ConsoleFilter(
            key="renewal_within",
            label=gettext_lazy("Renewal within (days)"),
            apply=renewal_within_filter,
        )
    )
    register_console_designation_count(
        ConsoleDesignationCount(
            key="designation_status",
            columns=(
                (DesignationStatus.ENROLLED.value, gettext_lazy("Enrolled")),
                (DesignationStatus.RENEWAL_DUE.value, gettext_lazy("Renewal due")),
                (DesignationStatus.LAPSED.value, gettext_lazy("Lapsed")),
            ),
            counts=designation_counts,
        )
    )
    register_console_panel(
        ConsolePanel(
            key="benefits",
            template_name="benefits/console/_organization_panel.html",
            context=organization_panel,
        )
    )
