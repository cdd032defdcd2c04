"""Entitlements for the benefit year: packages, stacking, mid-term and transition rules,
specializations, Microsoft Cloud."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from benefits.models import BenefitPackage, BenefitProduct, Grantor, PackageItem, RenewalOption
from benefits.selectors import entitlements_on, holdings_on, stack_grants
from benefits.services import designation_enrol, specialization_award
from portal.exceptions import ApplicationError
from scoring.models import Specialization
from tests.benefits.conftest import DESIGNATIONS, snapshot
from tests.factories import LegacyCompetencyHeldFactory

pytestmark = pytest.mark.django_db


def enrol(org, actor, code, on):
    snapshot(org, code, on)
    return designation_enrol(organization=org, designation_code=code, actor=actor, on=on)


def test_one_designation_brings_its_package(org, security_enrolled):
    entitlements = entitlements_on(organization=org, on=date(2024, 4, 1))
    assert entitlements.option == RenewalOption.SOLUTIONS_PARTNER
    assert entitlements.quantity("azure-production-credits") == 6000
    assert entitlements.quantity("visual-studio-enterprise") == 25
    assert entitlements.quantity("m365-e5") == 100
    assert entitlements.quantity("tpd-advisory-hours") == 50
    assert entitlements.quantity("client-access-licenses") is None  # included, not numbered
    assert entitlements.year_ends_on == date(2025, 3, 15)


def test_nothing_before_enrolment(org):
    snapshot(org, "security", date(2024, 3, 10))
    entitlements = entitlements_on(organization=org, on=date(2024, 3, 11))
    assert entitlements.option is None and entitlements.grants == ()


def test_a_further_designation_adds_at_once_and_common_benefits_do_not_double(
    org, admin_member, security_enrolled
):
    # Given Modern Work is enrolled mid-year
    enrol(org, admin_member, "modern-work", date(2024, 9, 2))
    # Then its package counts from that day, to the shared anniversary
    before = entitlements_on(organization=org, on=date(2024, 9, 1))
    after = entitlements_on(organization=org, on=date(2024, 9, 2))
    assert len(before.packages) == 1 and len(after.packages) == 2
    # and TP&D hours stack by maximum, not sum
    assert after.quantity("tpd-advisory-hours") == 50
    assert after.year_ends_on == date(2025, 3, 15)


def test_stacking_sum_versus_maximum(org):
    # Given two packages granting the same two products
    sums = BenefitProduct.objects.get(code="m365-e5")
    maxes = BenefitProduct.objects.get(code="tpd-advisory-hours")
    first = BenefitPackage.objects.create(
        code="a", name="A", grantor=Grantor.ACTION_PACK, effective_from=date(2030, 1, 1)
    )
    second = BenefitPackage.objects.create(
        code="b", name="B", grantor=Grantor.ACTION_PACK, effective_from=date(2030, 1, 1)
    )
    items = [
        (first, PackageItem.objects.create(package=first, product=sums, quantity=100)),
        (second, PackageItem.objects.create(package=second, product=sums, quantity=50)),
        (first, PackageItem.objects.create(package=first, product=maxes, quantity=50)),
        (second, PackageItem.objects.create(package=second, product=maxes, quantity=20)),
    ]
    grants = {g.product.code: g for g in stack_grants(items)}
    assert grants["m365-e5"].quantity == 150
    assert grants["tpd-advisory-hours"].quantity == 50
    assert grants["m365-e5"].sources == ("A", "B")


def test_transition_keeps_current_benefits_until_the_first_anniversary(org, admin_member):
    # Given a legacy gold partner whose anniversary falls in the transition year
    LegacyCompetencyHeldFactory(organization=org)
    org.renewal_date = date(2023, 6, 30)
    org.save()
    # When it qualifies for and enrols in Security after GA
    enrol(org, admin_member, "security", date(2022, 11, 2))
    # Then it holds Security at once but keeps its legacy benefits until the anniversary
    entitlements = entitlements_on(organization=org, on=date(2023, 1, 10))
    assert entitlements.holdings.holding("security").held
    assert entitlements.transition and entitlements.option == RenewalOption.LEGACY
    assert entitlements.quantity("tpd-advisory-hours") == 50
    assert entitlements.grant("azure-production-credits") is None


def test_without_legacy_competencies_the_first_designation_brings_benefits_at_once(
    org, admin_member
):
    org.renewal_date = date(2023, 6, 30)
    org.save()
    enrol(org, admin_member, "security", date(2022, 11, 2))
    entitlements = entitlements_on(organization=org, on=date(2022, 11, 2))
    assert not entitlements.transition
    assert entitlements.quantity("azure-production-credits") == 6000


def test_a_package_version_after_the_grant_does_not_rewrite_it(org, security_enrolled):
    security = BenefitPackage.objects.get(code="designation-security")
    newer = BenefitPackage.objects.create(
        code=security.code,
        name="Security 2024-06",
        grantor=Grantor.DESIGNATION,
        designation=security.designation,
        effective_from=date(2024, 6, 1),
    )
    PackageItem.objects.create(
        package=newer, product=BenefitProduct.objects.get(code="m365-e5"), quantity=1
    )
    assert entitlements_on(organization=org, on=date(2024, 7, 1)).quantity("m365-e5") == 100


def test_microsoft_cloud_at_six(org, admin_member):
    org.renewal_date = None
    org.save()
    for code in DESIGNATIONS[:5]:
        enrol(org, admin_member, code, date(2024, 3, 1))
    assert not holdings_on(organization=org, on=date(2024, 3, 1)).microsoft_cloud
    enrol(org, admin_member, DESIGNATIONS[5], date(2024, 3, 2))
    assert entitlements_on(organization=org, on=date(2024, 3, 2)).microsoft_cloud


# --- specializations ------------------------------------------------------------------------


def security_specializations():
    return list(Specialization.objects.filter(designation__code="security").order_by("name"))


def award(org, staff, specialization, on):
    return specialization_award(
        organization=org,
        specialization_code=specialization.code,
        awarded_on=on,
        evidence_note="Three customer references checked.",
        actor=staff,
    )


def test_award_refused_without_the_parent_designation(org, staff):
    with pytest.raises(ApplicationError, match=r"needs the designation Security.* first"):
        award(org, staff, security_specializations()[0], date(2024, 4, 1))


def test_only_staff_award(org, admin_member, security_enrolled):
    with pytest.raises(PermissionDenied):
        award(org, admin_member, security_specializations()[0], date(2024, 4, 1))


def test_specialization_increment_adds_to_the_designation(org, staff, security_enrolled):
    cloud_security = next(s for s in security_specializations() if s.name == "Cloud Security")
    award(org, staff, cloud_security, date(2024, 4, 1))
    entitlements = entitlements_on(organization=org, on=date(2024, 4, 1))
    assert entitlements.quantity("azure-production-credits") == 6000 + 9000
    assert entitlements.quantity("azure-dev-test-credits") == 12000 + 24000
    assert entitlements.quantity("visual-studio-enterprise") == 25 + 10
    assert entitlements.quantity("m365-e5") == 100 + 50
    assert entitlements_on(organization=org, on=date(2024, 3, 31)).quantity("m365-e5") == 100


def test_security_cap_is_three(org, staff, security_enrolled):
    first, second, third, fourth = security_specializations()  # Threat Protection from 2023
    for specialization in (first, second, third):
        award(org, staff, specialization, date(2024, 4, 1))
    with pytest.raises(ApplicationError, match="at most 3"):
        award(org, staff, fourth, date(2024, 4, 2))


def test_a_specialization_lapses_with_its_designation(org, staff, security_enrolled):
    award(org, staff, security_specializations()[0], date(2024, 4, 1))
    assert holdings_on(organization=org, on=date(2025, 3, 15)).specializations
    assert not holdings_on(organization=org, on=date(2025, 4, 15)).specializations
    assert entitlements_on(organization=org, on=date(2025, 4, 15)).grants == ()
