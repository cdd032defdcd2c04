"""Reads of the people pages: an organization's people, their certifications, what they count for.

What a person counts toward comes from the rule sets in force (their certification
requirements, the same ones `scoring.measures` counts people with), so the pages and the scores
agree: a person counts for a metric (at a step of a gated metric) when they are active and
their certifications active on the day meet every group of the requirement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet

from portal.models import Certification, HeldCertification, Organization, Person
from scoring.models import Designation
from scoring.selectors import CertificationRequirement, rule_sets_in_force_cached

EXPIRY_WARNING_DAYS = 90


@dataclass(frozen=True)
class Contribution:
    """A person counts toward this designation's metric (at this step of a gated metric)."""

    designation: Designation
    metric_code: str  # the metric's slot: "code", or "track/code" for a metric of one track
    step_key: str  # "people", or "step<N>" for a gated metric's step


@dataclass(frozen=True)
class PeopleQuery:
    """The people list's search and filters, as parsed from the query string."""

    search: str = ""
    certification: str = ""  # a catalog code
    expiring: bool = False  # holds a certification expiring within 90 days
    designation: str = ""  # a designation code: counts toward it
    inactive: bool = False  # show deactivated people too


def _requirements(*, as_of: date) -> list[tuple[Designation, CertificationRequirement]]:
    return [
        (rule_set.model.designation, requirement)
        for rule_set in rule_sets_in_force_cached(as_of=as_of)
        for requirement in rule_set.certification_requirements
    ]


def _meets(requirement: CertificationRequirement, codes: frozenset[str]) -> bool:
    return all(
        group <= codes if mode == "all" else bool(group & codes)
        for mode, group in requirement.groups
    )


def contributions_of(
    *, codes_by_person: dict[int, frozenset[str]], as_of: date
) -> dict[int, list[Contribution]]:
    """Person pk → what the certification codes they hold (active ones) make them count for."""
    requirements = _requirements(as_of=as_of)
    matched: dict[frozenset[str], list[Contribution]] = {}
    result: dict[int, list[Contribution]] = {}
    for person_pk, codes in codes_by_person.items():
        found = matched.get(codes)
        if found is None:
            found = matched[codes] = [
                Contribution(designation, requirement.metric_code, requirement.key)
                for designation, requirement in requirements
                if _meets(requirement, codes)
            ]
        result[person_pk] = found
    return result


def _active_codes(held: Iterable[HeldCertification], day: date) -> frozenset[str]:
    return frozenset(h.certification.code for h in held if h.is_active_on(day))


def people_counting_toward(
    *, organization: Organization, designation_code: str, as_of: date
) -> set[int]:
    """The pks of the organization's active people who count toward a designation on the day."""
    codes: dict[int, set[str]] = defaultdict(set)
    rows = (
        HeldCertification.objects.for_org(organization)
        .filter(person__active=True)
        .filter(HeldCertification.active_on_q(as_of))
        .values_list("person_id", "certification__code")
    )
    for person_pk, code in rows:
        codes[person_pk].add(code)
    counted = contributions_of(
        codes_by_person={pk: frozenset(c) for pk, c in codes.items()}, as_of=as_of
    )
    return {
        pk
        for pk, contributions in counted.items()
        if any(c.designation.code == designation_code for c in contributions)
    }


def _with_certifications(people: QuerySet[Person], organization: Organization) -> QuerySet[Person]:
    held = (
        HeldCertification.objects.for_org(organization)
        .select_related("certification")
        .order_by("certification__code")
    )
    return people.prefetch_related(Prefetch("certifications", queryset=held))


def person_list(*, organization: Organization, query: PeopleQuery, as_of: date) -> QuerySet[Person]:
    """The organization's people matching the search and filters, by name, with certifications."""
    people = Person.objects.for_org(organization)
    if not query.inactive:
        people = people.filter(active=True)
    if query.search:
        people = people.filter(Q(name__icontains=query.search) | Q(email__icontains=query.search))
    if query.certification:
        people = people.filter(
            pk__in=HeldCertification.objects.for_org(organization)
            .filter(certification__code=query.certification)
            .values("person_id")
        )
    if query.expiring:
        people = people.filter(
            pk__in=HeldCertification.objects.for_org(organization)
            .filter(
                expires_on__gt=as_of, expires_on__lte=as_of + timedelta(days=EXPIRY_WARNING_DAYS)
            )
            .values("person_id")
        )
    if query.designation:
        people = people.filter(
            pk__in=people_counting_toward(
                organization=organization, designation_code=query.designation, as_of=as_of
            )
        )
    return _with_certifications(people.order_by("name", "person_id"), organization)


def person_get(*, organization: Organization, pk: int) -> Person | None:
    """One person of the organization, with their certifications; None for anyone else's."""
    people = _with_certifications(Person.objects.for_org(organization).filter(pk=pk), organization)
    return people.first()


def held_certification_get(
    *, organization: Organization, person: Person, pk: int
) -> HeldCertification | None:
    """One certification a person of the organization holds."""
    return (
        HeldCertification.objects.for_org(organization)
        .select_related("certification", "person")
        .filter(person=person, pk=pk)
        .first()
    )


def page_contributions(*, people: Iterable[Person], as_of: date) -> dict[int, list[Contribution]]:
    """What each of these people (certifications prefetched) counts toward on the day."""
    return contributions_of(
        codes_by_person={
            person.pk: _active_codes(person.certifications.all(), as_of)
            if person.active
            else frozenset()
            for person in people
        },
        as_of=as_of,
    )


def certification_catalog_list() -> QuerySet[Certification]:
    """The catalog's active certifications, by code (the filter and the add form)."""
    return Certification.objects.filter(active=True).order_by("code")


def designation_choices() -> list[tuple[str, str]]:
    """Designations (code, name) in program order, for the "counts toward" filter."""
    return [(d.code, d.display_name) for d in Designation.objects.order_by("position", "code")]
