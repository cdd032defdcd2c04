"""What-if: an organization's scores with hypothetical people and customers, nothing saved.

The projection reuses the nightly scoring's exact measure SQL: inside one transaction a twin of
the organization is written (its country, people, certifications and associations, less the
removals), then the hypothetical rows for the twin (people and their certifications, customers,
associations, usage); `compute_measures` runs for the organization and its twin in one call
(today's and the projected measures), the engine scores every designation, and the transaction
is rolled back whatever happens — so nothing persists, even on an error half-way, and the
organization's own rows are never touched.

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
    if scenario.empty:
        current_measures = projected_measures = _measures(organization, as_of, rule_sets)
    else:
        current_measures, projected_measures = _measures_now_and_with(
            organization, scenario, as_of, rule_sets
        )
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


def _twin(organization: Organization, scenario: Scenario) -> Organization:
    """A copy of the organization — its country, active people with their certifications and
    associations, less the scenario's removals — that the scenario's additions go to.

    Measuring the organization and its twin in one `compute_measures` call gives today's and
    the projected measures from one statement, and the real organization's rows are never
    touched. Bulk writes: no history rows, no recompute queued (and all of it rolled back).
    """
    twin = Organization(
        partner_id=str(uuid.uuid4().int)[:20],
        name=f"What-if {organization.name}"[:200],
        slug=f"whatif-{uuid.uuid4().hex}",
        country=organization.country,
        renewal_date=organization.renewal_date,
    )
    Organization.objects.bulk_create([twin])
    people = (
        Person.objects.for_org(organization)
        .filter(active=True)
        .exclude(pk__in=scenario.remove_people)
        .values_list("pk", "person_id", "name")
    )
    copies = {pk: Person(organization=twin, person_id=pid, name=name) for pk, pid, name in people}
    Person.objects.bulk_create(copies.values())
    HeldCertification.objects.bulk_create(
        HeldCertification(
            organization=twin,
            person=copies[person],
            certification_id=certification,
            earned_on=earned,
            expires_on=expires,
        )
        for person, certification, earned, expires in HeldCertification.objects.for_org(
            organization
        )
        .filter(person_id__in=list(copies))
        .values_list("person_id", "certification_id", "earned_on", "expires_on")
    )
    Association.objects.bulk_create(
        Association(
            organization=twin,
            customer_id=customer,
            type=kind,
            workload=workload,
            start_month=start,
            end_month=end,
        )
        for customer, kind, workload, start, end in Association.objects.for_org(organization)
        .exclude(customer_id__in=scenario.remove_customers)
        .values_list("customer_id", "type", "workload", "start_month", "end_month")
    )
    return twin


def _measures_now_and_with(
    organization: Organization,
    scenario: Scenario,
    as_of: date,
    rule_sets: Sequence[RuleSetInForce],
) -> tuple[dict[str, engine.Measures], dict[str, engine.Measures]]:
    """Today's measures and the scenario's (on the organization's twin), then roll back."""
    found: tuple[dict[str, engine.Measures], dict[str, engine.Measures]] | None = None
    try:
        with transaction.atomic():
            twin = _twin(organization, scenario)
            if scenario.people:
                _write_people(twin, scenario.people, as_of)
            if scenario.customers:
                _write_customers(twin, scenario.customers, as_of)
            measures = compute_measures(
                organization_ids=[organization.pk, twin.pk], as_of=as_of, rule_sets=rule_sets
            )
            found = dict(measures[organization.pk]), dict(measures[twin.pk])
            raise _Rollback
    except _Rollback:
        pass
    assert found is not None
    return found
