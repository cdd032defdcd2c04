"""Writes of people and their certifications, for the API (and any page that needs them).

The actor is an admin of the organization or one of its read-write API keys; the audit history
records the user, or the key's name as the change reason.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from portal.audit import audit_as
from portal.exceptions import ApplicationError
from portal.models import (
    Certification,
    HeldCertification,
    Organization,
    OrganizationAPIKey,
    Person,
    User,
)
from portal.selectors import membership_get


def _authorize(*, organization: Organization, actor: Any) -> str | None:
    """Refuse anyone but an admin or a read-write key of the organization; the audit reason."""
    if isinstance(actor, OrganizationAPIKey):
        if actor.organization_id != organization.pk or not actor.can_write:
            raise PermissionDenied(_("This API key cannot change this organization's people."))
        return f"API key {actor.name} ({actor.prefix})"
    if isinstance(actor, User):
        membership = membership_get(organization=organization, user=actor)
        if membership is not None and membership.is_admin:
            return None
    raise PermissionDenied(_("Only an admin of the partner organization can do this."))


def _save(instance: Any, *, actor: Any, reason: str | None, duplicate: str) -> None:
    audit_as(instance, actor=actor, reason=reason)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ApplicationError(duplicate) from error


def _check(instance: Any) -> None:
    """Field validation (lengths, e-mail format) as an ApplicationError naming the field."""
    try:
        instance.full_clean(exclude=["organization", "person", "certification"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        attr = None if field == "__all__" else field
        raise ApplicationError(messages[0], {"attr": attr}) from error


@transaction.atomic
def person_create(
    *,
    organization: Organization,
    actor: Any,
    person_id: str,
    name: str,
    email: str = "",
    active: bool = True,
) -> Person:
    """A person of the organization, unique by certification profile ID within it."""
    reason = _authorize(organization=organization, actor=actor)
    if Person.objects.for_org(organization).filter(person_id=person_id).exists():
        raise ApplicationError(
            _("A person with this certification profile ID exists already."), {"attr": "person_id"}
        )
    person = Person(
        organization=organization, person_id=person_id, name=name, email=email, active=active
    )
    _check(person)
    _save(person, actor=actor, reason=reason, duplicate=_("This person exists already."))
    return person


@transaction.atomic
def person_update(*, person: Person, actor: Any, **changes: Any) -> Person:
    """Change a person's name, e-mail, active flag or profile ID (unique in the organization)."""
    organization = person.organization
    reason = _authorize(organization=organization, actor=actor)
    new_id = changes.get("person_id")
    if (
        new_id is not None
        and new_id != person.person_id
        and Person.objects.for_org(organization).filter(person_id=new_id).exists()
    ):
        raise ApplicationError(
            _("A person with this certification profile ID exists already."), {"attr": "person_id"}
        )
    for field in ("person_id", "name", "email", "active"):
        if field in changes:
            setattr(person, field, changes[field])
    _check(person)
    _save(person, actor=actor, reason=reason, duplicate=_("This person exists already."))
    return person


@transaction.atomic
def person_delete(*, person: Person, actor: Any) -> None:
    """Remove a person and their certifications from the organization."""
    reason = _authorize(organization=person.organization, actor=actor)
    for held in HeldCertification.objects.for_org_id(person.organization_id).filter(person=person):
        audit_as(held, actor=actor, reason=reason)
        held.delete()
    audit_as(person, actor=actor, reason=reason)
    try:
        with transaction.atomic():
            person.delete()
    except (ProtectedError, RestrictedError) as error:
        # Rows of other apps that must not vanish with the person (a benefit assignment).
        raise ApplicationError(
            _("This person still holds benefits or other records: remove those first.")
        ) from error


def _certification(code: str) -> Certification:
    certification = Certification.objects.filter(code=code).first()
    if certification is None:
        raise ApplicationError(
            _("Unknown certification: %(code)s.") % {"code": code}, {"attr": "certification"}
        )
    return certification


@transaction.atomic
def held_certification_create(
    *,
    person: Person,
    actor: Any,
    certification: str,
    earned_on: date,
    expires_on: date | None = None,
) -> HeldCertification:
    """A certification a person holds, once per person and certification."""
    organization = person.organization
    reason = _authorize(organization=organization, actor=actor)
    catalog = _certification(certification)
    if (
        HeldCertification.objects.for_org(organization)
        .filter(person=person, certification=catalog)
        .exists()
    ):
        raise ApplicationError(
            _("This person already holds %(code)s.") % {"code": catalog.code},
            {"attr": "certification"},
        )
    held = HeldCertification(
        organization=organization,
        person=person,
        certification=catalog,
        earned_on=earned_on,
        expires_on=expires_on,
    )
    _check_dates(held)
    _save(held, actor=actor, reason=reason, duplicate=_("This person already holds it."))
    return held


def _check_dates(held: HeldCertification) -> None:
    if held.expires_on is not None and held.expires_on <= held.earned_on:
        raise ApplicationError(
            _("A certification expires after the day it was earned."), {"attr": "expires_on"}
        )


@transaction.atomic
def held_certification_update(
    *, held: HeldCertification, actor: Any, **changes: Any
) -> HeldCertification:
    """Change when a held certification was earned or expires."""
    reason = _authorize(organization=held.organization, actor=actor)
    for field in ("earned_on", "expires_on"):
        if field in changes:
            setattr(held, field, changes[field])
    _check_dates(held)
    _save(held, actor=actor, reason=reason, duplicate=_("This person already holds it."))
    return held


@transaction.atomic
def held_certification_delete(*, held: HeldCertification, actor: Any) -> None:
    """A person no longer holds a certification."""
    reason = _authorize(organization=held.organization, actor=actor)
    audit_as(held, actor=actor, reason=reason)
    held.delete()
