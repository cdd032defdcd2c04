"""The shipped benefit catalog and program terms (migration benefits/0002)."""

from datetime import date
from decimal import Decimal

import pytest

from benefits.models import BenefitPackage, Grantor, QualificationWindowRule
from benefits.selectors import (
    annual_fee_in_force,
    package_catalog,
    package_in_force,
    specialization_available,
    window_rule_in_force,
)
from scoring.models import Specialization

pytestmark = pytest.mark.django_db


def items_of(code):
    package = BenefitPackage.objects.get(code=code)
    return {item.product.code: item.quantity for item in package.items.all()}


def test_security_package_is_the_seeds_table():
    items = items_of("designation-security")
    assert items["azure-production-credits"] == Decimal(6000)
    assert items["azure-dev-test-credits"] == Decimal(12000)
    assert items["visual-studio-enterprise"] == Decimal(25)
    assert items["d365-operations-sandbox"] == 1
    assert items["d365-sales-field-customer-service-sandbox"] == 1
    assert items["viva"] == 50
    assert (items["m365-e5"], items["m365-business-premium"], items["m365-edu-a5"]) == (100, 12, 25)
    assert items["windows-365-enterprise"] == 5
    assert items["project-online-plan-5"] == 20
    assert items["visio-online-plan-2"] == 5
    assert items["windows-iot"] == 2
    assert items["windows-server-standard-2022"] == 100
    assert items["windows-server-datacenter-2022"] == 32
    assert items["sql-server"] == 16
    assert items["system-center-standard"] == 100
    assert items["client-access-licenses"] is None  # "choice of CALs": no number published
    assert items["tpd-advisory-hours"] == 50


def test_security_specialization_package_is_the_seeds_increment():
    for specialization in Specialization.objects.filter(designation__code="security").exclude(
        name="Threat Protection"
    ):
        items = items_of(f"specialization-{specialization.code}")
        assert items == {
            "azure-production-credits": Decimal(9000),
            "azure-dev-test-credits": Decimal(24000),
            "visual-studio-enterprise": Decimal(10),
            "m365-e5": Decimal(50),
        }


def test_unpublished_designation_packages_hold_the_common_benefits_and_say_so():
    package = BenefitPackage.objects.get(code="designation-modern-work")
    assert not package.quantities_published
    assert "awaits staff" in package.catalog_note
    assert set(items_of("designation-modern-work")) == {
        "go-to-market-services",
        "tpd-advisory-hours",
        "technical-presales",
        "support-incidents",
        "co-sell-eligibility",
        "marketplace-benefits",
        "customer-facing-badge",
    }
    assert items_of("designation-modern-work")["support-incidents"] is None  # never invented


def test_tpd_hours_and_action_pack_as_published():
    assert items_of("legacy-gold") == {"tpd-advisory-hours": Decimal(50)}
    assert items_of("legacy-silver") == {"tpd-advisory-hours": Decimal(20)}
    action_pack = items_of("action-pack")
    assert action_pack["tpd-advisory-hours"] == 5
    assert action_pack["azure-monthly-credit"] == 100
    assert action_pack["visual-studio-professional"] == 3
    assert action_pack["office-365-e3"] == 5


def test_annual_fee_is_effective_dated_data():
    assert annual_fee_in_force(offer="solutions_partner", on=date(2023, 1, 1)).amount == 4730
    assert annual_fee_in_force(offer="solutions_partner", on=date(2026, 5, 1)).amount == 4875
    assert annual_fee_in_force(offer="legacy_gold", on=date(2023, 1, 1)).amount is None
    assert not annual_fee_in_force(offer="action_pack", on=date(2025, 2, 1)).available


def test_window_rule_changes_on_2023_09_19():
    assert (
        window_rule_in_force(on=date(2023, 9, 18)).kind
        == QualificationWindowRule.Kind.DAYS_BEFORE_ANNIVERSARY
    )
    rule = window_rule_in_force(on=date(2023, 9, 19))
    assert (rule.kind, rule.previous_months, rule.renewal_window_days) == ("rolling_months", 5, 30)


def test_a_new_package_version_never_rewrites_the_old_one():
    catalog = package_catalog()
    security = BenefitPackage.objects.get(code="designation-security")
    newer = BenefitPackage.objects.create(
        code=security.code,
        name=security.name,
        grantor=Grantor.DESIGNATION,
        designation=security.designation,
        effective_from=date(2025, 1, 1),
    )
    catalog = package_catalog()
    found = package_in_force(catalog, on=date(2024, 6, 1), designation_id=security.designation_id)
    assert found == security
    found = package_in_force(catalog, on=date(2025, 6, 1), designation_id=security.designation_id)
    assert found == newer


def test_specializations_of_2023_are_effective_dated():
    replaced = Specialization.objects.get(name="Windows Server and SQL Server Migration")
    successor = Specialization.objects.get(name="Infra and Database Migration")
    assert specialization_available(specialization=replaced, on=date(2023, 1, 8))
    assert not specialization_available(specialization=replaced, on=date(2023, 1, 9))
    assert not specialization_available(specialization=successor, on=date(2023, 1, 8))
    assert specialization_available(specialization=successor, on=date(2023, 1, 9))
    assert Specialization.objects.count() == 18 + 17
