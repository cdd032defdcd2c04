"""The isolation matrix: every `/api/v1/orgs/<partner_id>/…` endpoint and method, asked by a
key and by a signed-in admin of organization A for organization B's objects (B's Partner ID in
the URL with B's object ids, or A's Partner ID with B's object ids in the URL, the query and
the body), gets 404 or 403 and writes nothing.

The endpoints are walked from the URLconf: an endpoint or method added without a row in
MATRIX fails `test_the_matrix_covers_every_organization_endpoint`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from benefits.models import BenefitAssignment, BenefitProduct, DesignationStatusChange
from portal.api_keys import key_authenticate
from portal.models import IdempotencyRecord, Organization
from portal.tenancy import TenantModel
from scoring.models import (
    Customer,
    Designation,
    OrganizationBulkJob,
    ScoreRecomputeRequest,
    TelemetryBulkJob,
    Usage,
)
from tests.api.conftest import AS_OF, key_client, seed_organization
from tests.factories import HeldCertificationFactory, PersonFactory

PREFIX = "api/v1/orgs/<str:partner_id>/"


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def organization_endpoints() -> set[tuple[str, str]]:
    """(URL name, HTTP method) of every API endpoint under the organization prefix."""
    found = set()
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(PREFIX):
            continue
        actions = getattr(pattern.callback, "actions", None)
        assert actions, f"{route}: every API endpoint is a viewset with an action map"
        # DRF maps HEAD to the GET action itself: the GET case covers it.
        found.update((pattern.name, method.upper()) for method in actions if method != "head")
    return found


@dataclass
class Objects:
    """An organization's objects the matrix names."""

    organization: Organization
    person_id: str
    certification: str
    recompute_id: int
    customer_id: str
    assignment_id: int
    job_id: int


@dataclass(frozen=True)
class Case:
    """How to ask one endpoint for `objects`' things: URL kwargs, query and body."""

    kwargs: Any = lambda o: {}
    query: Any = lambda o: {}
    body: Any = lambda o: None
    format: str = "json"
    # TELEMETRY endpoints: only platform keys pass, so A's callers are refused before any
    # organization is looked up; the sanity check uses a platform key instead.
    telemetry: bool = False
    # False when the URL's ids are the program catalog's (a designation code), not B's.
    names_objects: bool = True


def _person(o: Objects) -> dict[str, str]:
    return {"person_id": o.person_id}


def _held(o: Objects) -> dict[str, str]:
    return {"person_id": o.person_id, "code": o.certification}


MATRIX: dict[tuple[str, str], Case] = {
    ("api-organization", "GET"): Case(),
    ("api-person-list", "GET"): Case(query=lambda o: {"name": o.person_id}),
    ("api-person-list", "POST"): Case(
        body=lambda o: {
            "person_id": o.person_id,
            "name": "Intruder",
            "organization": o.organization.pk,
        }
    ),
    ("api-person-detail", "GET"): Case(kwargs=_person),
    ("api-person-detail", "PATCH"): Case(kwargs=_person, body=lambda o: {"name": "Changed"}),
    ("api-person-detail", "DELETE"): Case(kwargs=_person),
    ("api-person-certification-list", "GET"): Case(kwargs=_person),
    ("api-person-certification-list", "POST"): Case(
        kwargs=_person, body=lambda o: {"certification": "AZ-104", "earned_on": "2024-01-01"}
    ),
    ("api-person-certification-detail", "GET"): Case(kwargs=_held),
    ("api-person-certification-detail", "PATCH"): Case(
        kwargs=_held, body=lambda o: {"expires_on": "2030-01-01"}
    ),
    ("api-person-certification-detail", "DELETE"): Case(kwargs=_held),
    ("api-customer-list", "GET"): Case(query=lambda o: {"customer_id": o.customer_id}),
    ("api-association-list", "GET"): Case(query=lambda o: {"customer_id": o.customer_id}),
    ("api-association-bulk", "POST"): Case(
        body=lambda o: [
            {
                "partner_id": o.organization.partner_id,
                "platform": "m365",
                "customer_id": o.customer_id,
                "type": "CPOR",
                "workload": "MDE",
                "start_month": "2024-01",
            }
        ],
        telemetry=True,
    ),
    ("api-score-current", "GET"): Case(),
    ("api-score-designation", "GET"): Case(
        kwargs=lambda o: {"designation": "security"}, names_objects=False
    ),
    ("api-score-history", "GET"): Case(query=lambda o: {"designation": "security"}),
    ("api-score-recompute", "POST"): Case(body=lambda o: {"as_of": AS_OF.isoformat()}),
    ("api-score-recompute-detail", "GET"): Case(kwargs=lambda o: {"pk": o.recompute_id}),
    ("api-bulk-job", "GET"): Case(kwargs=lambda o: {"pk": o.job_id}, telemetry=True),
    ("api-bulk-job-restart", "POST"): Case(kwargs=lambda o: {"pk": o.job_id}, telemetry=True),
    ("api-benefits", "GET"): Case(query=lambda o: {"on": "2024-04-01"}),
    ("api-benefit-entitlements", "GET"): Case(query=lambda o: {"on": "2024-04-01"}),
    ("api-benefit-assignment-list", "GET"): Case(query=lambda o: {"person_id": o.person_id}),
    ("api-benefit-assignment-list", "POST"): Case(
        body=lambda o: {
            "product": "visual-studio-enterprise",
            "person_id": o.person_id,
            "organization": o.organization.pk,
        }
    ),
    ("api-benefit-assignment-detail", "GET"): Case(kwargs=lambda o: {"pk": o.assignment_id}),
    ("api-benefit-assignment-detail", "DELETE"): Case(kwargs=lambda o: {"pk": o.assignment_id}),
    ("api-benefit-status-history", "GET"): Case(query=lambda o: {"designation": "security"}),
}


def test_the_matrix_covers_every_organization_endpoint():
    walked = organization_endpoints()
    assert walked, "the walk found no organization endpoint"
    missing = walked - set(MATRIX)
    assert not missing, f"new organization endpoints without an isolation case: {sorted(missing)}"
    assert not set(MATRIX) - walked, "cases for endpoints that no longer exist"


def _objects(organization: Organization, suffix: str, platform_caller: str) -> Objects:
    seed_organization(organization, people=1, customers=1)
    person = PersonFactory(organization=organization, person_id=f"ONLY-{suffix}")
    HeldCertificationFactory(person=person, organization=organization)
    # Held by someone else than `person`: deleting `person` stays possible.
    assignment = BenefitAssignment.objects.create(
        organization=organization,
        product=BenefitProduct.objects.get(code="visual-studio-enterprise"),
        person=PersonFactory(organization=organization),
        assigned_on=AS_OF,
    )
    DesignationStatusChange.objects.create(
        organization=organization,
        designation=Designation.objects.get(code="security"),
        status="qualified",
        changed_on=AS_OF,
        reason=f"ONLY-{suffix} qualified",
    )
    job = OrganizationBulkJob.objects.create(
        organization=organization,
        caller=platform_caller,
        kind="associations",
        media_type="application/json",
        rows=1,
        state="succeeded",
    )
    recompute = ScoreRecomputeRequest.objects.create(
        organization=organization, as_of=AS_OF, requested_by="test"
    )
    association = (
        apps.get_model("scoring", "Association")
        .objects.for_org(organization)
        .select_related("customer")
        .first()
    )
    return Objects(
        organization=organization,
        person_id=person.person_id,
        certification="AZ-500",
        recompute_id=recompute.pk,
        customer_id=association.customer.customer_id,
        assignment_id=assignment.pk,
        job_id=job.pk,
    )


def _row_counts() -> dict[str, Any]:
    """Every tenant table's rows by organization, and the global tables an endpoint could
    write (counted)."""
    counts: dict[str, Any] = {}
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            # A key's last use is bookkeeping, not data a request could write.
            columns = [f.attname for f in model._meta.concrete_fields if f.name != "last_used_at"]
            by_organization: dict[int, list[dict[str, Any]]] = {}
            for row in model.objects.unscoped().order_by("pk").values(*columns):
                by_organization.setdefault(row["organization_id"], []).append(row)
            counts[model._meta.label] = by_organization
    for model in (Customer, Usage, IdempotencyRecord, TelemetryBulkJob):
        counts[model._meta.label] = model.objects.count()
    return counts


def _request(client, method: str, url: str, case: Case, objects: Objects):
    query = case.query(objects)
    if query:
        url = f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}"
    body = case.body(objects)
    call = getattr(client, method.lower())
    if body is None:
        return call(url)
    return call(url, body, format=case.format)


@pytest.fixture
def two_organizations(org, other_org, platform_key):
    # B's jobs were sent by the platform key (the only kind of caller that uploads in bulk).
    caller = f"platform-key:{key_authenticate(platform_key).pk}"
    return _objects(org, "A", caller), _objects(other_org, "B", caller)


def _callers(org, admin_member, write_key):
    from rest_framework.test import APIClient

    session = APIClient()
    session.force_login(admin_member)
    return {"org_key": key_client(write_key), "session": session}


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["org_key", "session"])
@pytest.mark.parametrize(("name", "method"), sorted(MATRIX), ids=lambda v: str(v))
def test_a_caller_of_a_gets_nothing_of_b(
    two_organizations,
    org,
    admin_member,
    write_key,
    other_write_key,
    platform_key,
    caller,
    name,
    method,
):
    mine, theirs = two_organizations
    case = MATRIX[(name, method)]
    client = _callers(org, admin_member, write_key)[caller]
    before = _row_counts()

    # B's Partner ID in the URL, B's ids in the URL, the query and the body.
    url = reverse(
        name, kwargs={"partner_id": theirs.organization.partner_id, **case.kwargs(theirs)}
    )
    response = _request(client, method, url, case, theirs)
    assert response.status_code in (403, 404), (response.status_code, response.content[:300])
    assert theirs.person_id.encode() not in response.content
    assert response.json()["type"] == "client_error"
    if not case.telemetry:
        assert response.status_code == 404  # existence of B never leaks

    # A's Partner ID with B's ids in the URL, the query and the body.
    url = reverse(name, kwargs={"partner_id": mine.organization.partner_id, **case.kwargs(theirs)})
    response = _request(client, method, url, case, theirs)
    if case.kwargs(theirs) and case.names_objects:
        # The path names B's object under A: no such object for A.
        assert response.status_code in (403, 404), (response.status_code, response.content[:300])
    if method == "GET":
        # B's ids in the query find nothing (a create may echo the id it made in A; the row
        # check below shows that B's rows are untouched).
        assert theirs.person_id.encode() not in response.content
        assert theirs.customer_id.encode() not in response.content

    after = _row_counts()
    if method == "GET" or (case.kwargs(theirs) and case.names_objects):
        assert after == before, "a refused request wrote something"
    else:
        # A create on A's own URL may write A's rows; B's rows are what must not change.
        theirs_id = theirs.organization.pk
        for label, rows in after.items():
            if isinstance(rows, dict):
                assert rows.get(theirs_id) == before[label].get(theirs_id), label

    # Sanity: the same URL is real for B's own callers, so the refusals above are the tenant
    # check and not a broken URL.
    own = key_client(platform_key if case.telemetry else other_write_key)
    url = reverse(
        name, kwargs={"partner_id": theirs.organization.partner_id, **case.kwargs(theirs)}
    )
    assert _request(own, method, url, case, theirs).status_code not in (403, 404)


# --- endpoints outside any organization --------------------------------------------------------

GLOBAL_PREFIX = "api/v1/"


def global_endpoints() -> set[tuple[str, str]]:
    """(URL name, HTTP method) of every API viewset endpoint outside the organization prefix
    (the schema and its documentation pages are not viewsets and serve no data)."""
    found = set()
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(GLOBAL_PREFIX) or route.startswith(PREFIX):
            continue
        actions = getattr(pattern.callback, "actions", None)
        if actions is None:
            continue
        found.update((pattern.name, method.upper()) for method in actions if method != "head")
    return found


def _b_names(o: Objects) -> dict[str, str]:
    """B's identifiers, slipped into the query of a global endpoint."""
    return {
        "partner_id": o.organization.partner_id,
        "organization": o.organization.slug,
        "person_id": o.person_id,
        "customer_id": o.customer_id,
    }


def _usage_row(o: Objects) -> list[dict[str, str]]:
    return [
        {
            "month": "2024-05",
            "platform": "m365",
            "customer_id": o.customer_id,
            "measure": "paid_seats",
            "workload": "",
            "value": "99",
        }
    ]


GLOBAL_MATRIX: dict[tuple[str, str], Case] = {
    ("api-ping", "GET"): Case(query=_b_names),
    ("api-catalog-certification-list", "GET"): Case(query=_b_names),
    ("api-catalog-certification-detail", "GET"): Case(
        kwargs=lambda o: {"code": o.certification}, query=_b_names
    ),
    ("api-catalog-designation-list", "GET"): Case(query=_b_names),
    ("api-catalog-rule-set-list", "GET"): Case(query=_b_names),
    ("api-catalog-workload-list", "GET"): Case(query=_b_names),
    ("api-telemetry-job", "GET"): Case(kwargs=lambda o: {"pk": o.job_id}, telemetry=True),
    ("api-telemetry-job-restart", "POST"): Case(kwargs=lambda o: {"pk": o.job_id}, telemetry=True),
    ("api-telemetry-customers", "POST"): Case(
        body=lambda o: [{"platform": "m365", "customer_id": o.customer_id, "name": "Taken"}],
        telemetry=True,
    ),
    ("api-telemetry-usage", "POST"): Case(body=_usage_row, telemetry=True),
}


def test_the_global_matrix_covers_every_global_endpoint():
    walked = global_endpoints()
    assert ("api-ping", "GET") in walked
    missing = walked - set(GLOBAL_MATRIX)
    assert not missing, f"new global endpoints without an isolation case: {sorted(missing)}"
    assert not set(GLOBAL_MATRIX) - walked, "cases for endpoints that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["org_key", "session"])
@pytest.mark.parametrize(("name", "method"), sorted(GLOBAL_MATRIX), ids=lambda v: str(v))
def test_a_global_endpoint_tells_a_caller_of_a_nothing_of_b(
    two_organizations, org, admin_member, write_key, platform_key, caller, name, method
):
    _mine, theirs = two_organizations
    case = GLOBAL_MATRIX[(name, method)]
    # A telemetry job is global: B's one was sent by the platform key.
    job = TelemetryBulkJob.objects.create(
        caller=f"platform-key:{key_authenticate(platform_key).pk}",
        kind="usage",
        media_type="application/json",
        rows=1,
        state="succeeded",
    )
    theirs.job_id = job.pk
    client = _callers(org, admin_member, write_key)[caller]
    before = _row_counts()

    url = reverse(name, kwargs=case.kwargs(theirs))
    response = _request(client, method, url, case, theirs)
    if case.telemetry:
        assert response.status_code == 403, (response.status_code, response.content[:300])
        assert response.json()["type"] == "client_error"
    else:
        assert response.status_code == 200, (response.status_code, response.content[:300])
    for name_of_b in (theirs.organization.slug, theirs.organization.name, theirs.person_id):
        assert name_of_b.encode() not in response.content
    assert theirs.customer_id.encode() not in response.content
    assert _row_counts() == before, "a refused or read-only request wrote something"

    if name == "api-ping":
        # The organization is the key's own, whatever the query names; none for a session.
        assert response.json()["organization"] == ("contoso" if caller == "org_key" else None)

    # Sanity: the endpoint answers its proper caller (a platform key for telemetry).
    if case.telemetry:
        own = key_client(platform_key)
        assert _request(own, method, url, case, theirs).status_code not in (401, 403, 404)
