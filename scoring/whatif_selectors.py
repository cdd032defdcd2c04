"""Reads of the what-if page: what an admin may remove in a scenario."""

from __future__ import annotations

from portal.models import Organization, Person
from scoring.models import Association


def whatif_person_choices(*, organization: Organization) -> list[tuple[int, str]]:
    """The organization's active people, by name: removable in a scenario."""
    return [
        (pk, f"{name} ({person_id})")
        for pk, name, person_id in Person.objects.for_org(organization)
        .filter(active=True)
        .order_by("name", "person_id")
        .values_list("pk", "name", "person_id")
    ]


def whatif_customer_choices(*, organization: Organization) -> list[tuple[int, str]]:
    """The customers associated with the organization (any type, any months): removable."""
    rows = (
        Association.objects.for_org(organization)
        .order_by("customer__platform", "customer__customer_id")
        .values_list("customer_id", "customer__name", "customer__platform", "customer__customer_id")
        .distinct()
    )
    return [(pk, f"{name or customer_id} ({platform})") for pk, name, platform, customer_id in rows]
