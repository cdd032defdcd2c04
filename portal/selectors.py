"""Reads of the tenancy app: organizations, memberships, people and invitations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import BooleanField, Case, Count, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from portal.models import (
    HeldCertification,
    Invitation,
    Membership,
    Organization,
    OrganizationLegacyCompetency,
    Person,
    User,
)


def organization_list_for_user(*, user: User) -> QuerySet[Organization]:
    """The organizations the user is a member of, by name."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.for_user(user).order_by("name")


def membership_get_for_slug(*, user: User, slug: str) -> Membership | None:
    """The user's membership of the organization with this slug (organization joined), or None."""
    if not user.is_authenticated:
        return None
    # The organization is not known yet: a cross-tenant read narrowed to this user's own rows.
    return (
        Membership.objects.unscoped()
        .select_related("organization")
        .filter(user=user, organization__slug=slug)
        .first()
    )


def membership_get(*, organization: Organization, user: User) -> Membership | None:
    """The user's membership of the organization, or None."""
    if not user.is_authenticated:
        return None
    return Membership.objects.for_org(organization).filter(user=user).first()


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    """The organization's memberships with their users, admins first."""
    return (
        Membership.objects.for_org(organization)
        .select_related("user")
        .order_by(
            Case(When(role=Membership.Role.ADMIN, then=Value(0)), default=Value(1)),
            "user__email",
        )
    )


def member_get(*, organization: Organization, membership_id: int) -> Membership | None:
    """One membership of the organization, with its user; None when it is not one of theirs."""
    return (
        Membership.objects.for_org(organization)
        .select_related("user")
        .filter(pk=membership_id)
        .first()
    )


def invitation_list(*, organization: Organization, open_only: bool = True) -> QuerySet[Invitation]:
    """The organization's invitations, newest first; only open ones unless asked otherwise."""
    invitations = Invitation.objects.for_org(organization).select_related("invited_by")
    if open_only:
        invitations = invitations.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
    return invitations.order_by("-created_at")


def legacy_competency_list(*, organization: Organization) -> QuerySet[OrganizationLegacyCompetency]:
    """The legacy competencies the organization held, Gold first."""
    return (
        OrganizationLegacyCompetency.objects.for_org(organization)
        .select_related("competency")
        .order_by("level", "competency__name")
    )


def held_certification_active_q(*, on: date) -> Q:
    """A certification counts while active on `on` (`HeldCertification.active_on_q`)."""
    return HeldCertification.active_on_q(on)


@dataclass(frozen=True)
class PeopleSummary:
    """The organization home's figures: active people, their certifications, the next to lapse."""

    people: int
    certifications: int
    active_certifications: int
    expiring: list[HeldCertification]


def people_summary(
    *, organization: Organization, on: date | None = None, expiring: int = 8
) -> PeopleSummary:
    """Counts in one aggregate, and the `expiring` active certifications that lapse first."""
    on = on or timezone.localdate()
    held = HeldCertification.objects.for_org(organization).filter(person__active=True)
    figures = held.aggregate(
        total=Count("pk"), active=Count("pk", filter=held_certification_active_q(on=on))
    )
    soonest = list(
        held.filter(held_certification_active_q(on=on), expires_on__isnull=False)
        .select_related("person", "certification")
        .order_by("expires_on", "person__name", "certification__code")[:expiring]
    )
    return PeopleSummary(
        people=Person.objects.for_org(organization).filter(active=True).count(),
        certifications=figures["total"],
        active_certifications=figures["active"],
        expiring=soonest,
    )


def person_list(
    *, organization: Organization, active_only: bool = True, on: date | None = None
) -> QuerySet[Person]:
    """The organization's people with their certifications (each annotated `is_active` on `on`)."""
    on = on or timezone.localdate()
    held = (
        HeldCertification.objects.for_org(organization)
        .select_related("certification")
        .annotate(
            is_active=Case(
                When(held_certification_active_q(on=on), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("certification__code")
    )
    people = Person.objects.for_org(organization)
    if active_only:
        people = people.filter(active=True)
    return people.prefetch_related(Prefetch("certifications", queryset=held)).order_by(
        "name", "person_id"
    )


def invitation_accepted_by(*, token: str, user: User) -> bool:
    """Whether this user already accepted the invitation with this token.

    A cross-tenant read: the token, not a URL, names the organization, and the read is
    narrowed to the user's own acceptance.
    """
    return Invitation.objects.unscoped().filter(token=token, accepted_by=user).exists()
