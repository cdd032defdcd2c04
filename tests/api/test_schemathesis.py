"""Schemathesis against the live schema, on a seeded database: every operation, generated
requests, no 5xx and no response that breaks the schema (status codes, content types,
headers and bodies as documented)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api_keys import organization_key_create, platform_key_create
from portal.wsgi import application
from tests.api.conftest import seed_organization
from tests.factories import HeldCertificationFactory, PersonFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(db, org, admin_member, staff, settings):
    settings.API_RATE_LIMIT = "100000/min"
    settings.API_BULK_RATE_LIMIT = "100000/min"
    seed_organization(org)
    person = PersonFactory(organization=org, person_id="P-FUZZ")
    HeldCertificationFactory(person=person, organization=org)
    return {
        "partner_id": org.partner_id,
        "person_id": person.person_id,
        "code": "AZ-500",
        "designation": "security",
        "org_key": organization_key_create(
            organization=org, actor=admin_member, name="Fuzz", scope="read_write"
        ).key,
        "platform_key": platform_key_create(actor=staff, name="Fuzz").key,
    }


@pytest.fixture
def keep_the_test_connection():
    """The WSGI application closes database connections after each request (Django's
    request_finished receiver); the test's transaction lives on that connection, so keep it
    open as Django's own test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(seeded, keep_the_test_connection):
    # Examples from the schema and generated requests; the coverage phase (every boundary of
    # every parameter) would take minutes on two cores.
    config = SchemathesisConfig.from_dict(
        {"phases": {"coverage": {"enabled": False}}, "generation": {"max-examples": 12}}
    )
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    # The same generated requests on every run: CI fails on a change, not on luck.
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_to_its_schema(case, seeded):
    # The organization and its objects are the seeded ones, so requests reach real rows.
    for name in ("partner_id", "person_id", "code", "designation"):
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = seeded[name]
    telemetry = case.path.startswith("/api/v1/telemetry/") or case.path.endswith(
        ("/bulk/", "/jobs/{id}/")
    )
    key = seeded["platform_key"] if telemetry else seeded["org_key"]
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
