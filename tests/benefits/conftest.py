"""Helpers of the benefits tests: stored daily qualified flags, enrolled organizations."""

from datetime import date, timedelta

import pytest

from scoring.models import Designation, RuleSet, ScoreSnapshot

DESIGNATIONS = [
    "business-applications",
    "modern-work",
    "security",
    "infrastructure-azure",
    "data-ai-azure",
    "digital-app-innovation-azure",
]


def snapshot(organization, code, as_of, *, qualified=True, version=1):
    """One stored daily score of a designation, as the nightly job writes it."""
    designation = Designation.objects.get(code=code)
    rule_set = RuleSet.objects.get(designation=designation, version=version)
    return ScoreSnapshot.objects.create(
        organization=organization,
        designation=designation,
        rule_set=rule_set,
        as_of=as_of,
        total=75.0 if qualified else 40.0,
        qualified=qualified,
        metrics=[],
    )


def daily(organization, code, start, end, *, qualified=True):
    day = start
    while day <= end:
        snapshot(organization, code, day, qualified=qualified)
        day += timedelta(days=1)


@pytest.fixture
def security_enrolled(org, admin_member):
    """`org` qualified for Security on 2024-03-10 and enrolled on 2024-03-15 (anniversary
    2025-03-15)."""
    from benefits.services import designation_enrol

    org.renewal_date = None
    org.save()
    snapshot(org, "security", date(2024, 3, 10))
    term = designation_enrol(
        organization=org, designation_code="security", actor=admin_member, on=date(2024, 3, 15)
    )
    org.refresh_from_db()
    return term


@pytest.fixture
def benefits_catalog(shipped_catalog):
    """The benefit catalog of migration benefits/0002 for transactional tests (their flush
    empties it, as the scoring catalog of `shipped_catalog`)."""
    import importlib

    from django.apps import apps

    from benefits.models import BenefitProduct

    if not BenefitProduct.objects.exists():
        catalog = importlib.import_module("benefits.migrations.0002_benefit_catalog")
        catalog.load_catalog(apps, None)
