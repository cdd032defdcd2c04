"""Bulk telemetry through the API: the import pipeline's validation, all or nothing, the
row-level report in the one error shape, Idempotency-Key and the batch limit."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse

from portal.models import IdempotencyRecord
from scoring.imports import import_csv
from scoring.models import Association, Customer, Usage
from tests.scoring.telemetry import associate, customer

TENANT = "0f8e3c8e-4b7a-4b8e-9d3c-2f1a5b6c7d8e"

USAGE_CSV = (
    "month,platform,customer_id,measure,workload,value\n"
    f"2026-01,m365,{TENANT},paid_seats,,120\n"
    f"2026-02,m365,{TENANT},paid_seats,,130\n"
)
BAD_USAGE_CSV = (
    "month,platform,customer_id,measure,workload,value\n"
    f"2026/01,m365,{TENANT},paid_seats,,120\n"
    f"2026-02,m365,{TENANT},paid_seats,MDE,130\n"
    f"2026-03,m365,{TENANT},paid_seats,,-1\n"
)


@pytest.fixture
def tenant(db):
    return Customer.objects.create(platform="m365", customer_id=TENANT, name="Northwind")


def _post_csv(client, url, text, **extra):
    return client.generic("POST", url, text.encode(), content_type="text/csv", **extra)


@pytest.mark.django_db
def test_usage_json_is_upserted(platform_client, tenant, org):
    associate(org, tenant, "CPOR")
    rows = [
        {
            "month": "2026-01",
            "platform": "m365",
            "customer_id": TENANT,
            "measure": "paid_seats",
            "value": 120,
        },
        {
            "month": "2026-02",
            "platform": "m365",
            "customer_id": TENANT,
            "measure": "paid_seats",
            "value": 130,
        },
    ]
    response = platform_client.post(reverse("api-telemetry-usage"), rows, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "kind": "usage",
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "recompute_queued": True,
    }
    assert sorted(Usage.objects.values_list("value", flat=True)) == [120, 130]
    rows[1]["value"] = 131
    again = platform_client.post(reverse("api-telemetry-usage"), rows, format="json").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 1)


@pytest.mark.django_db
def test_usage_csv_is_upserted(platform_client, tenant):
    response = _post_csv(platform_client, reverse("api-telemetry-usage"), USAGE_CSV)
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2
    assert Usage.objects.count() == 2


@pytest.mark.django_db
def test_bad_rows_are_all_reported_as_import_data_reports_them_and_nothing_is_written(
    platform_client, tenant
):
    response = _post_csv(platform_client, reverse("api-telemetry-usage"), BAD_USAGE_CSV)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    expected = import_csv("usage", io.BytesIO(BAD_USAGE_CSV.encode())).errors
    assert [(e["line"], e["attr"], e["value"], e["detail"]) for e in body["errors"]] == [
        (e.line, e.column, e.value, e.reason) for e in expected
    ]
    assert {e["line"] for e in body["errors"]} == {2, 3, 4}
    assert all(e["code"] == "invalid_row" for e in body["errors"])
    assert not Usage.objects.exists()


@pytest.mark.django_db
def test_one_bad_json_row_writes_nothing(platform_client, tenant):
    rows = [
        {
            "month": "2026-01",
            "platform": "m365",
            "customer_id": TENANT,
            "measure": "paid_seats",
            "value": 120,
        },
        {
            "month": "2026-02",
            "platform": "m365",
            "customer_id": "no-such",
            "measure": "paid_seats",
            "value": 1,
        },
    ]
    response = platform_client.post(reverse("api-telemetry-usage"), rows, format="json")
    assert response.status_code == 400
    assert [e["line"] for e in response.json()["errors"]] == [2]
    assert not Usage.objects.exists()


@pytest.mark.django_db
def test_not_a_list_not_json_and_other_media_types(platform_client):
    url = reverse("api-telemetry-usage")
    assert platform_client.post(url, {"month": "2026-01"}, format="json").status_code == 400
    broken = platform_client.generic("POST", url, b"[{", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["errors"][0]["code"] == "parse_error"
    other = platform_client.generic("POST", url, b"x", content_type="application/xml")
    assert other.status_code == 415 and other.json()["type"] == "client_error"


@pytest.mark.django_db
def test_beyond_the_maximum_batch_is_413_and_nothing_written(settings, platform_client, tenant):
    settings.API_BULK_MAX_ROWS = 1
    response = _post_csv(platform_client, reverse("api-telemetry-usage"), USAGE_CSV)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "payload_too_large"
    rows = [{"month": "2026-01"}, {"month": "2026-02"}]
    assert (
        platform_client.post(reverse("api-telemetry-usage"), rows, format="json").status_code == 413
    )
    settings.API_BULK_MAX_ROWS = 100
    settings.API_BULK_MAX_BYTES = 50
    assert _post_csv(platform_client, reverse("api-telemetry-usage"), USAGE_CSV).status_code == 413
    assert not Usage.objects.exists()


@pytest.mark.django_db
def test_idempotency_key_replays_and_refuses_another_body(platform_client, tenant):
    url = reverse("api-telemetry-usage")
    first = _post_csv(platform_client, url, USAGE_CSV, HTTP_IDEMPOTENCY_KEY="batch-1")
    Usage.objects.all().delete()  # were it processed again, it would create the rows again
    replay = _post_csv(platform_client, url, USAGE_CSV, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert not Usage.objects.exists()
    other = _post_csv(
        platform_client, url, USAGE_CSV.replace("130", "131"), HTTP_IDEMPOTENCY_KEY="batch-1"
    )
    assert other.status_code == 409
    assert not Usage.objects.exists()
    # A bad batch's 400 is stored too: the same retry gets the same report.
    bad = _post_csv(platform_client, url, BAD_USAGE_CSV, HTTP_IDEMPOTENCY_KEY="batch-2")
    assert bad.status_code == 400
    assert (
        _post_csv(platform_client, url, BAD_USAGE_CSV, HTTP_IDEMPOTENCY_KEY="batch-2").json()
        == bad.json()
    )
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.django_db
def test_customers_bulk(platform_client):
    rows = [{"platform": "azure", "customer_id": "123456", "name": "Contoso", "country": "JP"}]
    response = platform_client.post(reverse("api-telemetry-customers"), rows, format="json")
    assert response.status_code == 200
    assert Customer.objects.get().name == "Contoso"


@pytest.mark.django_db
def test_associations_bulk_take_the_organization_from_the_url(
    platform_client, org, other_org, tenant
):
    url = reverse("api-association-bulk", args=[org.partner_id])
    rows = [{"platform": "m365", "customer_id": TENANT, "type": "CPOR", "start_month": "2025-01"}]
    response = platform_client.post(url, rows, format="json")
    assert response.status_code == 200, response.json()
    assert Association.objects.for_org(org).count() == 1
    # A row naming another organization is refused, whatever the URL says.
    rows[0]["partner_id"] = other_org.partner_id
    rows[0]["type"] = "CPOR"
    rows[0]["workload"] = "MDE"
    refused = platform_client.post(url, rows, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["attr"] == "partner_id"
    csv_text = (
        "partner_id,platform,customer_id,type,workload,start_month\n"
        f"{other_org.partner_id},m365,{TENANT},CPOR,MDE,2025-01\n"
    )
    assert _post_csv(platform_client, url, csv_text).status_code == 400
    assert not Association.objects.for_org(other_org).exists()
    assert Association.objects.for_org(org).count() == 1
    csv_text = csv_text.replace(other_org.partner_id, org.partner_id)
    assert _post_csv(platform_client, url, csv_text).status_code == 200
    assert Association.objects.for_org(org).count() == 2


@pytest.mark.django_db
def test_associations_bulk_for_an_unknown_organization_is_404(platform_client):
    url = reverse("api-association-bulk", args=["99999999"])
    assert platform_client.post(url, [], format="json").status_code == 404


@pytest.mark.django_db
def test_customer_and_association_lists(read_client, org, other_org, django_assert_max_num_queries):
    for _ in range(20):
        mine = customer("m365")
        associate(org, mine, "CPOR")
        associate(other_org, mine, "CPOR")
    theirs = customer("azure")
    associate(other_org, theirs, "PAL")
    with django_assert_max_num_queries(5):
        customers = read_client.get(reverse("api-customer-list", args=[org.partner_id])).json()
    assert len(customers["results"]) == 20
    assert theirs.customer_id not in json.dumps(customers)
    assert all(len(c["associations"]) == 1 for c in customers["results"])
    with django_assert_max_num_queries(5):
        associations = read_client.get(
            reverse("api-association-list", args=[org.partner_id]), {"type": "CPOR"}
        ).json()
    assert len(associations["results"]) == 20
    empty = read_client.get(reverse("api-association-list", args=[org.partner_id]), {"type": "PAL"})
    assert empty.json()["results"] == []
