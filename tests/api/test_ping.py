"""`GET /api/v1/ping/`: the trivial authenticated endpoint (and the benchmark's baseline)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.api_keys import key_authenticate, organization_key_revoke
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db


def test_an_organization_key_gets_its_organization(read_client):
    response = read_client.get(reverse("api-ping"))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["organization"] == "contoso"
    assert body["time"].endswith("Z") or "+" in body["time"]


def test_a_platform_key_has_no_organization(platform_client):
    response = platform_client.get(reverse("api-ping"))
    assert response.status_code == 200
    assert response.json()["organization"] is None


def test_no_key_or_a_revoked_key_is_a_401(api, org, admin_member, read_key):
    assert api.get(reverse("api-ping")).status_code == 401
    organization_key_revoke(
        organization=org, key_id=key_authenticate(read_key).pk, actor=admin_member
    )
    response = key_client(read_key).get(reverse("api-ping"))
    assert response.status_code == 401
    assert response.json()["type"] == "client_error"


def test_a_ping_reads_the_key_only(read_client):
    read_client.get(reverse("api-ping"))  # the key's last use is written at most once a minute
    with CaptureQueriesContext(connection) as queries:
        assert read_client.get(reverse("api-ping")).status_code == 200
    assert len(queries) <= 1, [q["sql"] for q in queries]
