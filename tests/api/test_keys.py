"""API keys: created on the settings page (organization) or in the admin (platform), shown
once, stored hashed, refused once revoked, limited to their scope."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portal.api_keys import hash_secret, organization_key_create
from portal.models import OrganizationAPIKey, Person, PlatformAPIKey
from tests.api.conftest import key_client

KEY_RE = re.compile(r"spo_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def _every_stored_text(model) -> str:
    rows = (
        list(model.unscoped_objects.values())
        if hasattr(model, "unscoped_objects")
        else list(model.objects.values())
    )
    history = list(model.history.values())
    return repr(rows + history)


@pytest.mark.django_db
def test_an_admin_creates_a_key_shown_once_and_stored_hashed(admin_client, org):
    url = reverse("org_api_keys", args=[org.slug])
    response = admin_client.post(url, {"name": "HR sync", "scope": "read_write"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    keys = KEY_RE.findall(response.content.decode())
    assert len(set(keys)) == 1
    key = keys[0]
    record = OrganizationAPIKey.objects.for_org(org).get()
    assert (record.name, record.scope, record.created_by.email) == (
        "HR sync",
        "read_write",
        response.wsgi_request.user.email,
    )
    secret = key.split("_", 2)[2]
    assert record.hashed_secret == hash_secret(secret)
    assert secret not in _every_stored_text(OrganizationAPIKey)
    # Never shown again.
    assert not KEY_RE.search(admin_client.get(url).content.decode())
    # And it works.
    response = key_client(key).get(reverse("api-organization", args=[org.partner_id]))
    assert response.status_code == 200
    assert response.json()["partner_id"] == org.partner_id


@pytest.mark.django_db
def test_a_member_cannot_see_or_create_keys(member_client, org):
    url = reverse("org_api_keys", args=[org.slug])
    assert member_client.get(url).status_code == 403
    assert member_client.post(url, {"name": "Mine", "scope": "read"}).status_code == 403
    assert not OrganizationAPIKey.objects.for_org(org).exists()


@pytest.mark.django_db
def test_the_page_lists_keys_with_last_use_in_english_and_japanese(admin_client, org, read_key):
    key_client(read_key).get(reverse("api-organization", args=[org.partner_id]))
    record = OrganizationAPIKey.objects.for_org(org).get()
    assert record.last_used_at is not None
    url = reverse("org_api_keys", args=[org.slug])
    for language in ("en", "ja"):
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        html = response.content.decode()
        assert f"spo_{record.prefix}_…" in html
        assert record.last_used_at.strftime("%Y-%m-%d") in html
        assert read_key not in html


@pytest.mark.django_db
def test_a_revoked_key_is_refused_and_the_revocation_audited(admin_client, admin_member, org):
    issued = organization_key_create(organization=org, actor=admin_member, name="Old", scope="read")
    client = key_client(issued.key)
    url = reverse("api-organization", args=[org.partner_id])
    assert client.get(url).status_code == 200
    response = admin_client.post(reverse("org_api_key_revoke", args=[org.slug, issued.record.pk]))
    assert response.status_code == 302
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"
    history = issued.record.history.order_by("history_id")
    assert [(h.history_type, h.history_user) for h in history] == [
        ("+", admin_member),
        ("~", admin_member),
    ]
    assert history.last().revoked_at is not None


@pytest.mark.django_db
def test_a_wrong_secret_or_unknown_kind_is_refused(org, read_key):
    url = reverse("api-organization", args=[org.partner_id])
    kind, prefix, secret = read_key.split("_", 2)
    for bad in (f"{kind}_{prefix}_{secret[:-1]}x", f"spx_{prefix}_{secret}", "spo__", prefix):
        assert key_client(bad).get(url).status_code == 401, bad


@pytest.mark.django_db
def test_a_read_key_cannot_write(read_client, org):
    response = read_client.post(
        reverse("api-person-list", args=[org.partner_id]),
        {"person_id": "P1", "name": "Ada"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["detail"] == "This API key is read-only."
    recompute = read_client.post(reverse("api-score-recompute", args=[org.partner_id]), {})
    assert recompute.status_code == 403
    assert not Person.objects.for_org(org).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "api-organization",
        "api-person-list",
        "api-customer-list",
        "api-association-list",
        "api-score-current",
        "api-score-history",
    ],
)
def test_a_platform_key_reads_nothing_of_an_organization(platform_client, org, name):
    response = platform_client.get(reverse(name, args=[org.partner_id]))
    assert response.status_code == 403
    assert response.json()["type"] == "client_error"


@pytest.mark.django_db
def test_a_platform_key_reads_the_catalog(platform_client):
    assert platform_client.get(reverse("api-catalog-designation-list")).status_code == 200


@pytest.mark.django_db
def test_an_organization_key_or_a_user_cannot_write_telemetry(write_client, admin_client, org):
    for client in (write_client, admin_client):
        for url in (
            reverse("api-telemetry-customers"),
            reverse("api-association-bulk", args=[org.partner_id]),
        ):
            response = client.post(url, "[]", content_type="application/json")
            assert response.status_code == 403, url


@pytest.mark.django_db
def test_staff_create_a_platform_key_in_the_admin_shown_once(client, staff):
    client.force_login(staff)
    response = client.post(reverse("admin:portal_platformapikey_add"), {"name": "Telemetry"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    keys = re.findall(r"spp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", response.content.decode())
    assert len(set(keys)) == 1
    record = PlatformAPIKey.objects.get()
    assert record.created_by == staff
    secret = keys[0].split("_", 2)[2]
    assert record.hashed_secret == hash_secret(secret)
    assert secret not in _every_stored_text(PlatformAPIKey)
    changelist = client.get(reverse("admin:portal_platformapikey_changelist"))
    assert keys[0] not in changelist.content.decode()
    # Revoked through the admin action, it is refused.
    client.post(
        reverse("admin:portal_platformapikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [record.pk]},
    )
    record.refresh_from_db()
    assert record.revoked_at is not None
    assert (
        key_client(keys[0]).post(reverse("api-telemetry-usage"), [], format="json").status_code
        == 401
    )
