"""What-if: an organization's scores with hypothetical people and customers, nothing saved.

The projection reuses the nightly scoring's exact measure SQL: inside one transaction the
hypothetical rows are written (people and their certifications, customers, associations,
usage) and the removals applied, `compute_measures` runs for the organization, the engine
scores every designation, and the transaction is rolled back whatever happens — so nothing
persists, even on an error half-way.

A hypothetical customer is a customer won over the past year: associated (with the type
given) from twelve months before the current month, with nothing reported in that first
month and the figures given in every month since. So it is a net add, its growth counts
from a zero baseline, and its active users against its seats decide whether it is a
deployment, exactly as a real customer with those figures would. A hypothetical person holds
the certifications given, earned before the as-of date and not expiring.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from portal.models import Certification, HeldCertification, Organization, Person
from scoring import engine
from scoring.engine.paths import ShortestPath, shortest_path
from scoring.measures import add_months, compute_measures, current_month
from scoring.models import Association, Customer, Measure, Usage
from scoring.selectors import RuleSetInForce, rule_sets_in_force_cached


@dataclass(frozen=True)
class HypotheticalPerson:
    """`count` people holding every certification of `certifications` (codes)."""

    certifications: tuple[str, ...]
    count: int = 1


@dataclass(frozen=True)
class HypotheticalCustomer:
    """`count` customers of a platform, associated by `association_type`, with these monthly
    figures (None: not reported)."""

    platform: str
    association_type: str
    count: int = 1
    workload: str = ""
    paid_seats: int | None = None
    active_users: int | None = None
    protected_users: int | None = None
    acr_usd: Decimal | None = None


@dataclass(frozen=True)
class Scenario:
    people: tuple[HypotheticalPerson, ...] = ()
    customers: tuple[HypotheticalCustomer, ...] = ()
    remove_people: tuple[int, ...] = ()  # Person ids of the organization
    remove_customers: tuple[int, ...] = ()  # Customer ids associated with the organization

    @property
    def empty(self) -> bool:
        return not (self.people or self.customers or self.remove_people or self.remove_customers)


@dataclass(frozen=True)
class Projection:
    """One designation now and under the scenario, with the shortest path from the latter."""

    rule_set: RuleSetInForce
    current: engine.DesignationResult
    projected: engine.DesignationResult
    path: ShortestPath | None  # None: no path within the search bound
    path_searched: bool = True


@dataclass(frozen=True)
class WhatIf:
    as_of: date
    projections: tuple[Projection, ...] = field(default_factory=tuple)


class _Rollback(Exception):
    """Leaves the what-if transaction so that nothing it wrote persists."""


def _write_people(organization: Organization, people: Sequence[HypotheticalPerson], as_of: date):
    codes = {code for person in people for code in person.certifications}
    catalog = dict(Certification.objects.filter(code__in=codes).values_list("code", "pk"))
    rows = []
    owners: list[tuple[Person, tuple[str, ...]]] = []
    for index, person in enumerate(people):
        for copy in range(person.count):
            row = Person(
                organization=organization,
                person_id=f"whatif-{index}-{copy}-{uuid.uuid4().hex[:12]}",
                name=f"What-if person {index + 1}.{copy + 1}",
            )
            rows.append(row)
            owners.append((row, person.certifications))
    Person.objects.bulk_create(rows)
    earned = as_of - timedelta(days=1)
    HeldCertification.objects.bulk_create(
        HeldCertification(
            organization=organization,
            person=row,
            certification_id=catalog[code],
            earned_on=earned,
        )
        for row, held in owners
        for code in held
        if code in catalog
    )


def _write_customers(
    organization: Organization, customers: Sequence[HypotheticalCustomer], as_of: date
) -> None:
    month = current_month(as_of)
    start = add_months(month, -12)
    made: list[tuple[Customer, HypotheticalCustomer]] = []
    for spec in customers:
        for _ in range(spec.count):
            made.append(
                (Customer(platform=spec.platform, customer_id=f"whatif-{uuid.uuid4()}"), spec)
            )
    Customer.objects.bulk_create([c for c, _ in made])
    Association.objects.bulk_create(
        Association(
            organization=organization,
            customer=cust,
            type=spec.association_type,
            workload=spec.workload,
            start_month=start,
        )
        for cust, spec in made
    )
    months = [add_months(start, n) for n in range(1, 13)]
    usage = []
    for cust, spec in made:
        figures = {
            Measure.PAID_SEATS: spec.paid_seats,
            Measure.ACTIVE_USERS: spec.active_users,
            Measure.PROTECTED_USERS: spec.protected_users,
            Measure.ACR_USD: spec.acr_usd,
        }
        for measure, value in figures.items():
            if value is None:
                continue
            usage.extend(
                Usage(
                    customer=cust,
                    measure=measure,
                    workload=spec.workload,
                    month=m,
                    value=Decimal(value),
                )
                for m in months
            )
    Usage.objects.bulk_create(usage, batch_size=1000)


def _measures(
    organization: Organization, as_of: date, rule_sets: Sequence[RuleSetInForce]
) -> dict[str, engine.Measures]:
    measures = compute_measures(
        organization_ids=[organization.pk], as_of=as_of, rule_sets=rule_sets
    )
    return dict(measures[organization.pk])


def whatif_project(
    *, organization: Organization, scenario: Scenario, as_of: date, with_paths: bool = True
) -> WhatIf:
    """Every designation's score now and with the scenario applied, computed in a transaction
    that is always rolled back: nothing of the scenario is saved."""
    rule_sets = rule_sets_in_force_cached(as_of=as_of)  # by designation position
    if not rule_sets:
        return WhatIf(as_of=as_of)
    current_measures = _measures(organization, as_of, rule_sets)
    projected_measures = current_measures
    if not scenario.empty:
        projected_measures = _measures_with(organization, scenario, as_of, rule_sets)
    projections = []
    for rs in rule_sets:
        current = engine.score_designation(rs.rules, current_measures[rs.designation_code])
        measures = projected_measures[rs.designation_code]
        projected = engine.score_designation(rs.rules, measures)
        path = shortest_path(rs.rules, measures) if with_paths else None
        projections.append(
            Projection(
                rule_set=rs,
                current=current,
                projected=projected,
                path=path,
                path_searched=with_paths,
            )
        )
    return WhatIf(as_of=as_of, projections=tuple(projections))


def _measures_with(
    organization: Organization,
    scenario: Scenario,
    as_of: date,
    rule_sets: Sequence[RuleSetInForce],
) -> dict[str, engine.Measures]:
    """The measures with the scenario written, read, then rolled back."""
    found: dict[str, engine.Measures] = {}
    try:
        with transaction.atomic():
            if scenario.remove_people:
                Person.objects.for_org(organization).filter(pk__in=scenario.remove_people).update(
                    active=False
                )
            if scenario.remove_customers:
                Association.objects.for_org(organization).filter(
                    customer_id__in=scenario.remove_customers
                ).delete()
            if scenario.people:
                _write_people(organization, scenario.people, as_of)
            if scenario.customers:
                _write_customers(organization, scenario.customers, as_of)
            found = _measures(organization, as_of, rule_sets)
            raise _Rollback
    except _Rollback:
        pass
    return found
