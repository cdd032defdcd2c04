"""The schema, its offline documentation and the one error shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.api.conftest import key_client

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


@pytest.mark.django_db
def test_the_schema_is_served_as_openapi_3_to_anyone(api):
    # Public like the docs: integrators read them before they have a key; they hold no data.
    response = api.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")
    assert b"/api/v1/orgs/{partner_id}/scores/" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_the_docs_load_every_asset_from_this_site(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar" in html  # the bundled Swagger UI / Redoc
    # Nothing from another host: every src/href is a path on this site.
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert urls
    assert not [url for url in urls if re.match(r"^(https?:)?//", url)], urls
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html)


def test_the_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.")


def test_the_committed_schema_is_current(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    assert SCHEMA_FILE.exists(), "run: manage.py spectacular --file docs/openapi.yaml"
    assert SCHEMA_FILE.read_text() == out.read_text(), (
        "docs/openapi.yaml is stale: manage.py spectacular --file docs/openapi.yaml"
    )


def test_every_operation_documents_its_errors_and_a_description():
    import yaml

    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description"), where
            assert {"401", "403", "429"} <= set(operation["responses"]), where
            if "{" in path:
                assert "404" in operation["responses"], where
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    content = response["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/ErrorResponse"}, where


@pytest.mark.django_db
def test_validation_errors_have_the_one_shape(write_client, org):
    response = write_client.post(
        reverse("api-person-list", args=[org.partner_id]), {"name": ""}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {
        ("person_id", "required"),
        ("name", "blank"),
    }
    assert all(set(e) == {"code", "detail", "attr"} for e in body["errors"])


@pytest.mark.django_db
def test_application_errors_have_the_one_shape(write_client, org):
    url = reverse("api-person-list", args=[org.partner_id])
    assert (
        write_client.post(url, {"person_id": "P1", "name": "Ada"}, format="json").status_code == 201
    )
    response = write_client.post(url, {"person_id": "P1", "name": "Ada"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {
                "code": "invalid",
                "detail": "A person with this certification profile ID exists already.",
                "attr": "person_id",
            }
        ],
    }


@pytest.mark.django_db
def test_not_found_and_unauthenticated_have_the_one_shape(api, org):
    response = api.get(reverse("api-organization", args=[org.partner_id]))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["code"] == "not_authenticated"
    response = key_client("spo_nothing_here").get(
        reverse("api-organization", args=[org.partner_id])
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


@pytest.mark.django_db
def test_throttling_per_key(settings, read_client, write_client, org):
    settings.API_RATE_LIMIT = "3/min"
    url = reverse("api-organization", args=[org.partner_id])
    assert [read_client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    throttled = read_client.get(url)
    assert throttled.json()["errors"][0]["code"] == "throttled"
    assert "Retry-After" in throttled
    # Another key has its own budget.
    assert write_client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/orgs/1000001/scores/recompute/abc/", "/api/v2/"]
)
def test_unknown_api_paths_are_404_in_the_error_shape(read_client, path):
    # Found by schemathesis: a path the URLconf does not match gave the HTML 404 page.
    response = read_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "not_found"
