"""The Customers page's display text (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from scoring.customer_selectors import CustomerEntry
from scoring.models import Measure, Platform
from scoring.presenters import metric_label


@dataclass(frozen=True)
class AssociationText:
    type: str
    workload: str
    months: str  # "2025-01 – 2025-12", "since 2025-01"


@dataclass(frozen=True)
class CustomerRow:
    entry: CustomerEntry
    platform: str
    associations: tuple[AssociationText, ...]
    seats: str
    protected_users: str
    acr: str
    eligible: tuple[str, ...]


def _figure(entry: CustomerEntry, measure: str, *, usd: bool = False) -> str:
    value = entry.figures.total(measure)
    if value is None:
        return "—"
    text = number_format(value.quantize(Decimal(1)), decimal_pos=0, force_grouping=True)
    shown = f"${text}" if usd else text
    month = entry.figures.month(measure)
    return f"{shown} ({date_format(month, 'YEAR_MONTH_FORMAT')})" if month else shown


def _months(start: date, end: date | None) -> str:
    start_text = date_format(start, "YEAR_MONTH_FORMAT")
    if end is None:
        return _("since %(start)s") % {"start": start_text}
    return f"{start_text} – {date_format(end, 'YEAR_MONTH_FORMAT')}"


def customer_row(entry: CustomerEntry) -> CustomerRow:
    platform = entry.customer.platform
    return CustomerRow(
        entry=entry,
        platform=str(Platform(platform).label) if platform in Platform.values else platform,
        associations=tuple(
            AssociationText(a.type, a.workload, _months(a.start_month, a.end_month))
            for a in entry.associations
        ),
        seats=_figure(entry, Measure.PAID_SEATS),
        protected_users=_figure(entry, Measure.PROTECTED_USERS),
        acr=_figure(entry, Measure.ACR_USD, usd=True),
        eligible=_eligible_texts(entry),
    )


def _eligible_texts(entry: CustomerEntry) -> tuple[str, ...]:
    """One line per designation naming its metrics ("Security Solutions Partner: Deployments");
    a metric counted per track (Enterprise, SMB) is named once."""
    metrics: dict[str, dict[str, None]] = {}
    for eligibility in entry.eligible:
        name = eligibility.designation.display_name
        metric = metric_label(eligibility.metric_code.rsplit("/", 1)[-1])
        metrics.setdefault(name, {})[metric] = None
    return tuple(
        _("%(designation)s: %(metrics)s") % {"designation": name, "metrics": ", ".join(found)}
        for name, found in metrics.items()
    )
