"""A row of every benefits tenant model, for the tenancy tests (tests/portal/test_tenancy.py)."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils import timezone

from benefits.models import (
    BenefitActivation,
    BenefitAllowance,
    BenefitAssignment,
    BenefitProduct,
    DesignationStatus,
    DesignationStatusChange,
    DesignationTerm,
    Notification,
    NotificationKind,
    NotificationPreference,
    RenewalChoice,
    RenewalOption,
    SpecializationAward,
)
from portal.models import Organization, Person
from scoring.models import Designation, Specialization
from tests.factories import UserFactory


def benefits_rows(organization: Organization, *, person: Person) -> dict[type, models.Model]:
    designation = Designation.objects.get(code="security")
    product = BenefitProduct.objects.order_by("pk").first()
    user = UserFactory()
    on = date(2024, 6, 30)
    return {
        DesignationTerm: DesignationTerm.objects.create(
            organization=organization,
            designation=designation,
            kind=DesignationTerm.Kind.choices[0][0],
            starts_on=on,
            ends_on=date(2025, 6, 30),
        ),
        DesignationStatusChange: DesignationStatusChange.objects.create(
            organization=organization,
            designation=designation,
            status=DesignationStatus.QUALIFIED,
            changed_on=on,
            reason="tenancy test",
        ),
        SpecializationAward: SpecializationAward.objects.create(
            organization=organization,
            specialization=Specialization.objects.filter(designation=designation).first(),
            awarded_on=on,
            evidence_note="tenancy test",
        ),
        RenewalChoice: RenewalChoice.objects.create(
            organization=organization,
            anniversary=on,
            option=RenewalOption.SOLUTIONS_PARTNER,
            chosen_at=timezone.now(),
        ),
        BenefitAllowance: BenefitAllowance.objects.create(
            organization=organization, product=product
        ),
        BenefitAssignment: BenefitAssignment.objects.create(
            organization=organization, product=product, person=person, assigned_on=on
        ),
        BenefitActivation: BenefitActivation.objects.create(
            organization=organization,
            product=product,
            tenant="contoso.onmicrosoft.com",
            activated_on=on,
        ),
        Notification: Notification.objects.create(
            organization=organization,
            user=user,
            kind=NotificationKind.choices[0][0],
            event_key=f"tenancy-{organization.pk}",
        ),
        NotificationPreference: NotificationPreference.objects.create(
            organization=organization, user=user, kind=NotificationKind.choices[0][0]
        ),
    }
