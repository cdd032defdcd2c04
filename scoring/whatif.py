"""What-if: an organization's scores with hypothetical people and customers, nothing saved.

The projection reuses the nightly scoring's exact measure SQL: inside one transaction a twin of
the organization is written (its country, people, certifications and associations, less the
removals), then the hypothetical rows for the twin (people and their certifications, customers,
associations, usage); `compute_measures` runs for the twin (the projected measures), the engine
scores every designation, and the transaction is rolled back whatever happens — so nothing
persists, even on an error half-way, and the organization's own rows are never touched.

Today's measures of the organization are the same on every what-if request until its data or
the rules change: `whatif_current_cached` keeps them in the cache with the scores and shortest
paths from them, keyed by the organization, the as-of date, its latest scores' computation
(every change of the data its scores read triggers a recompute, which changes it), its frozen
tracks and the rule sets in force with the rule tables' stamp (any audited edit of the rules
changes it). A page without a scenario reads them from there, and an update measures the twin
alone.

A hypothetical customer is a customer won over the past year: associated (with the type
given) from twelve months before the current month, with nothing reported in that first
month and the figures given in every month since. So it is a net add, its growth counts
from a zero baseline, and its active users against its seats decide whether it is a
deployment, exactly as a real customer with those figures would. A hypothetical person holds
the certifications given, earned before the as-of date and not expiring.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, models, transaction

from portal.models import Certification, HeldCertification, Organization, Person
from scoring import engine
from scoring.engine.paths import ShortestPath, shortest_path
from scoring.forecast import forecast_stamp
from scoring.measures import add_months, compute_measures, current_month
from scoring.models import Association, Customer, Measure, TrackFreeze, Usage
from scoring.selectors import RuleSetInForce, rule_sets_in_force_stamped

CURRENT_CACHE_SECONDS = 24 * 3600


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
    usage: list[Usage] = []
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


def whatif_current_key(
    *,
    organization: Organization,
    as_of: date,
    rule_sets: Sequence[RuleSetInForce],
    rules_stamp: tuple[object, ...],
) -> str | None:
    """The cache key of the organization's scores today; None when it has no scores yet
    (nothing then says when its data changed, so nothing is cached). Two queries.

    What the measures read: the organization's rows (a change of any triggers a recompute: the
    latest scores' computation time), the shared telemetry (imports recompute the organizations
    they touch), the tracks frozen for a term covering the date (enrolment and renewal write
    them without a recompute) and the rules (the rule sets in force and the rule tables' stamp).
    """
    scores = forecast_stamp(organization=organization)
    if not scores:
        return None
    frozen = list(
        TrackFreeze.objects.for_org(organization)
        .filter(starts_on__lte=as_of, ends_on__gte=as_of)
        .order_by("pk")
        .values_list("pk", "designation_id", "track", "starts_on", "ends_on")
    )
    rules = ",".join(str(rs.model.pk) for rs in rule_sets)
    digest = hashlib.sha256(repr((rules_stamp, frozen)).encode()).hexdigest()[:32]
    return f"scoring:whatif:current:{organization.pk}:{as_of.isoformat()}:{scores}:{rules}:{digest}"


@dataclass(frozen=True)
class CurrentScores:
    """An organization's what-if starting point today, by designation code: its measures, the
    engine's result from them, and the shortest path from there (None: none within the
    search bound). What a page without a scenario shows, and the "today" of every update."""

    measures: dict[str, engine.Measures]
    results: dict[str, engine.DesignationResult]
    paths: dict[str, ShortestPath | None]


def _current_scores(
    organization: Organization, as_of: date, rule_sets: Sequence[RuleSetInForce]
) -> CurrentScores:
    measures = _measures(organization, as_of, rule_sets)
    results, paths = {}, {}
    for rs in rule_sets:
        code = rs.designation_code
        results[code] = engine.score_designation(rs.rules, measures[code])
        paths[code] = shortest_path(rs.rules, measures[code])
    return CurrentScores(measures=measures, results=results, paths=paths)


def whatif_current_cached(
    *,
    organization: Organization,
    as_of: date,
    rule_sets: Sequence[RuleSetInForce],
    rules_stamp: tuple[object, ...],
) -> CurrentScores:
    """Today's measures, scores and shortest paths of the organization, from the cache while
    its data and the rules are unchanged (`whatif_current_key`); computed (one measures
    statement, the engine and the six path searches) and kept otherwise."""
    key = whatif_current_key(
        organization=organization, as_of=as_of, rule_sets=rule_sets, rules_stamp=rules_stamp
    )
    if key is None:
        return _current_scores(organization, as_of, rule_sets)
    current = cache.get(key)
    if not isinstance(current, CurrentScores):
        current = _current_scores(organization, as_of, rule_sets)
        cache.set(key, current, CURRENT_CACHE_SECONDS)
    return current


def whatif_project(
    *, organization: Organization, scenario: Scenario, as_of: date, with_paths: bool = True
) -> WhatIf:
    """Every designation's score now and with the scenario applied, computed in a transaction
    that is always rolled back: nothing of the scenario is saved.

    Today's scores and paths come from the cache (`whatif_current_cached`): a page without a
    scenario measures nothing, and an update measures the scenario's twin alone."""
    rules_stamp, rule_sets = rule_sets_in_force_stamped(as_of=as_of)  # by designation position
    if not rule_sets:
        return WhatIf(as_of=as_of)
    today = whatif_current_cached(
        organization=organization, as_of=as_of, rule_sets=rule_sets, rules_stamp=rules_stamp
    )
    projected_measures = None
    if not scenario.empty:
        projected_measures = _measures_with(organization, scenario, as_of, rule_sets)
    projections = []
    for rs in rule_sets:
        code = rs.designation_code
        current = today.results[code]
        if projected_measures is None or projected_measures[code] == today.measures[code]:
            # The scenario changes nothing this designation reads: the engine would give
            # today's result and path again.
            projected, path = current, today.paths[code]
        else:
            measures = projected_measures[code]
            projected = engine.score_designation(rs.rules, measures)
            path = shortest_path(rs.rules, measures) if with_paths else None
        projections.append(
            Projection(
                rule_set=rs,
                current=current,
                projected=projected,
                path=path if with_paths else None,
                path_searched=with_paths,
            )
        )
    return WhatIf(as_of=as_of, projections=tuple(projections))


def _not_in(column: str, values: Sequence[int]) -> str:
    return f" AND {column} NOT IN ({', '.join(['%s'] * len(values))})" if values else ""


def _copy_rows(
    model: type[models.Model],
    *,
    replace: dict[str, str],
    where: str,
    params: Sequence[int | bool],
    joins: str = "",
) -> None:
    """INSERT INTO the model's table a copy of its rows matching `where` (aliased `src`), every
    column as it is but those in `replace` (column → SQL expression), with new primary keys."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    selected = ", ".join(replace.get(column, f"src.{column}") for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {selected} FROM {table} src {joins} WHERE {where}",
            list(params),
        )


def _twin(organization: Organization, scenario: Scenario) -> Organization:
    """A copy of the organization — its country, active people with their certifications,
    associations and frozen tracks, less the scenario's removals — that the scenario's
    additions go to.

    Measuring the twin gives the projected measures with the nightly scoring's statement, and
    the real organization's rows are never touched. Bulk writes: no history rows, no recompute
    queued (and all of it rolled back).
    """
    twin = Organization(
        partner_id=str(uuid.uuid4().int)[:20],
        name=f"What-if {organization.name}"[:200],
        slug=f"whatif-{uuid.uuid4().hex}",
        country=organization.country,
        renewal_date=organization.renewal_date,
    )
    Organization.objects.bulk_create([twin])
    # Copied in the database, three INSERT … SELECT statements: at 200 people and 500
    # customers, building the rows in Python cost more than measuring them.
    twin_id = int(twin.pk)  # an integer from the database, written into the statements
    removed_people = [int(pk) for pk in scenario.remove_people]
    people = Person._meta.db_table
    removed_customers = [int(pk) for pk in scenario.remove_customers]
    _copy_rows(
        Person,
        replace={"organization_id": str(twin_id)},
        where="src.organization_id = %s AND src.active = %s" + _not_in("src.id", removed_people),
        params=[organization.pk, True, *removed_people],
    )
    _copy_rows(
        HeldCertification,
        replace={"organization_id": str(twin_id), "person_id": "twin_person.id"},
        joins=(
            f"JOIN {people} original ON original.id = src.person_id "
            f"JOIN {people} twin_person ON twin_person.organization_id = {twin_id}"
            " AND twin_person.person_id = original.person_id"
        ),
        where="src.organization_id = %s",
        params=[organization.pk],
    )
    _copy_rows(
        Association,
        replace={"organization_id": str(twin_id)},
        where="src.organization_id = %s" + _not_in("src.customer_id", removed_customers),
        params=[organization.pk, *removed_customers],
    )
    # The tracks frozen for the enrolment year hold for the twin too: a scenario changes the
    # data, not the track the partner enrolled on.
    _copy_rows(
        TrackFreeze,
        replace={"organization_id": str(twin_id)},
        where="src.organization_id = %s",
        params=[organization.pk],
    )
    return twin


def _measures_with(
    organization: Organization,
    scenario: Scenario,
    as_of: date,
    rule_sets: Sequence[RuleSetInForce],
) -> dict[str, engine.Measures]:
    """The scenario's measures (on the organization's twin), then roll back."""
    found: dict[str, engine.Measures] | None = None
    try:
        with transaction.atomic():
            twin = _twin(organization, scenario)
            if scenario.people:
                _write_people(twin, scenario.people, as_of)
            if scenario.customers:
                _write_customers(twin, scenario.customers, as_of)
            measures = compute_measures(
                organization_ids=[twin.pk], as_of=as_of, rule_sets=rule_sets
            )
            found = dict(measures[twin.pk])
            raise _Rollback
    except _Rollback:
        pass
    assert found is not None
    return found
