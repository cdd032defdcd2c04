"""Fixtures of the API tests: keys of every kind and clients that send them."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from portal.api_keys import organization_key_create, platform_key_create
from scoring import services
from tests.factories import HeldCertificationFactory, PersonFactory
from tests.scoring.telemetry import associate, customer, monthly, usage

AS_OF = date(2024, 6, 30)


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def read_key(org, admin_member) -> str:
    return organization_key_create(
        organization=org, actor=admin_member, name="Dashboard", scope="read"
    ).key


@pytest.fixture
def write_key(org, admin_member) -> str:
    return organization_key_create(
        organization=org, actor=admin_member, name="HR sync", scope="read_write"
    ).key


@pytest.fixture
def other_write_key(other_org, other_member) -> str:
    return organization_key_create(
        organization=other_org, actor=other_member, name="Their HR sync", scope="read_write"
    ).key


@pytest.fixture
def platform_key(staff) -> str:
    return platform_key_create(actor=staff, name="Telemetry pipeline").key


@pytest.fixture
def read_client(read_key):
    return key_client(read_key)


@pytest.fixture
def write_client(write_key):
    return key_client(write_key)


@pytest.fixture
def platform_client(platform_key):
    return key_client(platform_key)


def seed_organization(organization, *, people: int = 2, customers: int = 2) -> None:
    """People with certifications, customers with associations and usage, and scores."""
    for _ in range(people):
        person = PersonFactory(organization=organization)
        HeldCertificationFactory(person=person, organization=organization)
    for _ in range(customers):
        tenant = customer("m365")
        associate(organization, tenant, "CPOR")
        usage(tenant, "paid_seats", monthly("2023-01", "2024-06", 30))
    services.scores_recompute(organization_ids=[organization.pk], as_of=AS_OF)
