"""Reads of the Customers page: the organization's associated customers, their latest figures
and what each is eligible to count for under the rule sets in force.

Customers are global telemetry; a partner sees the ones it is associated with (through its own
associations, `Association.objects.for_org`). The latest figures of a page of customers come
from one statement over the usage pivoted by year (`latest_figures`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Window

from portal.models import Organization
from scoring.measures import TENANT_MEASURES, WINDOW_MONTHS, add_months, current_month
from scoring.models import Association, Customer, Designation, Measure, UsageYear
from scoring.selectors import SourceParams, rule_sets_in_force_cached

MONTH_COLUMNS = tuple(f"m{month}" for month in range(1, 13))

# The figures the page shows for each customer, in its columns' order.
SHOWN_MEASURES = (Measure.PAID_SEATS, Measure.PROTECTED_USERS, Measure.ACR_USD)


@dataclass(frozen=True)
class CustomerQuery:
    search: str = ""  # name or customer ID
    platform: str = ""
    association_type: str = ""
    current_only: bool = False  # an association covering this month
    designation: str = ""  # eligible toward this designation


@dataclass(frozen=True)
class Eligibility:
    """By its latest month the customer meets a metric source's conditions."""

    designation: Designation
    metric_code: str


@dataclass
class CustomerFigures:
    """A customer's latest month per measure and that month's value per workload."""

    latest: dict[str, tuple[date, dict[str, Decimal]]] = field(default_factory=dict)

    def total(self, measure: str, workloads: Sequence[str] | None = None) -> Decimal | None:
        """The latest month's value: of every series (None) or of these workloads' series
        ("" is the whole customer's)."""
        found = self.latest.get(measure)
        if found is None:
            return None
        values = found[1]
        if workloads is None:
            return sum(values.values(), Decimal(0))
        return sum((v for w, v in values.items() if w in workloads), Decimal(0))

    def month(self, measure: str) -> date | None:
        found = self.latest.get(measure)
        return found[0] if found else None


@dataclass(frozen=True)
class CustomerEntry:
    customer: Customer
    associations: tuple[Association, ...]
    figures: CustomerFigures
    eligible: tuple[Eligibility, ...]


def _associated(organization: Organization) -> QuerySet[Association]:
    return Association.objects.for_org(organization)


def customer_list(
    *, organization: Organization, query: CustomerQuery, as_of: date
) -> QuerySet[Customer]:
    """The customers associated with the organization matching the search and filters."""
    associations = _associated(organization).filter(customer=OuterRef("pk"))
    if query.association_type:
        associations = associations.filter(type=query.association_type)
    if query.current_only:
        month = current_month(as_of)
        associations = associations.filter(start_month__lte=month).filter(
            Q(end_month__isnull=True) | Q(end_month__gte=month)
        )
    customers = Customer.objects.filter(Exists(associations))
    if query.search:
        customers = customers.filter(
            Q(name__icontains=query.search) | Q(customer_id__icontains=query.search)
        )
    if query.platform:
        customers = customers.filter(platform=query.platform)
    return customers.order_by("name", "platform", "customer_id")


def latest_figures(
    *, customer_ids: Sequence[int], measures: Sequence[str], as_of: date
) -> dict[int, CustomerFigures]:
    """Each customer's latest month per measure within the scoring window (24 months) and that
    month's value per workload, in one query.

    It reads the usage pivoted by year (`UsageYear`, kept in step with `Usage` by triggers, the
    table the scoring statement reads): one row per series and calendar year, so two or three
    rows a series instead of twenty-four; a window over each customer's series orders them.
    """
    if not customer_ids:
        return {}
    first = add_months(current_month(as_of), -(WINDOW_MONTHS - 1))
    last = current_month(as_of)
    rows = (
        UsageYear.objects.filter(
            customer_id__in=customer_ids,
            measure__in=measures,
            year__gte=first.year,
            year__lte=last.year,
        )
        .annotate(
            latest_year=Window(
                Max("year"), partition_by=[F("customer_id"), F("measure"), F("workload")]
            )
        )
        .filter(year=F("latest_year"))
        .values_list("customer_id", "measure", "workload", "year", *MONTH_COLUMNS)
    )
    # (customer, measure) -> workload -> (its latest month, value)
    series: dict[tuple[int, str], dict[str, tuple[date, Decimal]]] = defaultdict(dict)
    for customer_id, measure, workload, year, *values in rows:
        for index in range(12, 0, -1):
            value = values[index - 1]
            month = date(year, index, 1)
            if value is not None and first <= month <= last:
                series[(customer_id, measure)][workload] = (month, value)
                break
    figures: dict[int, CustomerFigures] = defaultdict(CustomerFigures)
    for (customer_id, measure), by_workload in series.items():
        latest = max(month for month, _ in by_workload.values())
        figures[customer_id].latest[measure] = (
            latest,
            {w: v for w, (month, v) in by_workload.items() if month == latest},
        )
    return figures


def _covers(association: Association, month: date) -> bool:
    return association.start_month <= month and (
        association.end_month is None or association.end_month >= month
    )


def _series_workloads(source: SourceParams) -> tuple[str, ...]:
    """The series a source reads, as the scoring statement does: a tenant measure (paid seats)
    the whole tenant's, other measures their workloads' (or the whole customer's)."""
    if source.measure in TENANT_MEASURES:
        return ("",)
    return source.workloads or ("",)


def _eligible(
    customer: Customer,
    associations: Sequence[Association],
    figures: CustomerFigures,
    sources: Sequence[tuple[Designation, SourceParams]],
    *,
    first_only: bool = False,
) -> tuple[Eligibility, ...]:
    """What the customer is eligible toward; `first_only`: stop at the first (a filter)."""
    found: list[Eligibility] = []
    for designation, source in sources:
        if source.platform != customer.platform or source.measure not in figures.latest:
            continue
        if source.production_only and not customer.production:
            continue
        workloads = _series_workloads(source)
        month = figures.month(source.measure)
        value = figures.total(source.measure, workloads)
        if month is None or value is None:
            continue
        if not any(
            a.type in source.attributions
            and _covers(a, month)
            and (not a.workload or "" in workloads or a.workload in workloads)
            for a in associations
        ):
            continue
        threshold = (
            source.seat_threshold if source.seat_threshold is not None else source.usage_threshold
        )
        if value <= 0 or (threshold is not None and value < threshold):
            continue
        entry = Eligibility(designation, source.metric_code)
        if entry not in found:
            found.append(entry)
            if first_only:
                break
    return tuple(found)


def _sources(as_of: date, designation_code: str = "") -> list[tuple[Designation, SourceParams]]:
    return [
        (rule_set.model.designation, source)
        for rule_set in rule_sets_in_force_cached(as_of=as_of)
        if not designation_code or rule_set.designation_code == designation_code
        for source in rule_set.sources
    ]


def customer_entries(
    *,
    organization: Organization,
    customers: Sequence[Customer],
    as_of: date,
    designation_code: str = "",
    shown: Sequence[str] = SHOWN_MEASURES,
) -> list[CustomerEntry]:
    """The customers with their associations, latest figures (`shown` and those the sources
    read) and eligibility (toward every designation, or only `designation_code`): three queries
    whatever the number of customers."""
    ids = [c.pk for c in customers]
    by_customer: dict[int, list[Association]] = defaultdict(list)
    for association in (
        _associated(organization)
        .filter(customer_id__in=ids)
        .order_by("type", "workload", "start_month")
    ):
        by_customer[association.customer_id].append(association)
    sources = _sources(as_of, designation_code)
    measures = sorted(set(shown) | {s.measure for _, s in sources})
    figures = latest_figures(customer_ids=ids, measures=measures, as_of=as_of)
    entries = []
    for customer in customers:
        customer_figures = figures.get(customer.pk, CustomerFigures())
        associations = by_customer.get(customer.pk, [])
        entries.append(
            CustomerEntry(
                customer=customer,
                associations=tuple(associations),
                figures=customer_figures,
                eligible=_eligible(customer, associations, customer_figures, sources),
            )
        )
    return entries


def customers_eligible_toward(
    *, organization: Organization, customers: QuerySet[Customer], designation_code: str, as_of: date
) -> list[Customer]:
    """Those of `customers` eligible toward the designation: every one is checked, in three
    queries (the customers, their associations, their latest figures)."""
    everyone = list(customers)
    ids = [c.pk for c in everyone]
    by_customer: dict[int, list[Association]] = defaultdict(list)
    for association in _associated(organization).filter(customer_id__in=ids):
        by_customer[association.customer_id].append(association)
    sources = _sources(as_of, designation_code)
    figures = latest_figures(
        customer_ids=ids, measures=sorted({s.measure for _, s in sources}), as_of=as_of
    )
    return [
        customer
        for customer in everyone
        if customer.pk in figures
        and _eligible(
            customer, by_customer[customer.pk], figures[customer.pk], sources, first_only=True
        )
    ]
