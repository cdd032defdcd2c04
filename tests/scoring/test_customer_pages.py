"""The Customers tab: associated customers, association types and months, latest figures and
what each is eligible toward; search, filters, pages; one query for the figures."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from scoring.measures import add_months, current_month
from tests.scoring.telemetry import associate, customer, usage

pytestmark = pytest.mark.django_db


def url(org, **params) -> str:
    from urllib.parse import urlencode

    base = reverse("org_customers", args=[org.slug])
    return base + ("?" + urlencode(params) if params else "")


def _month_text(offset: int) -> str:
    month = add_months(current_month(timezone.localdate()), offset)
    return f"{month:%Y-%m}"


@pytest.fixture
def book(org, other_org):
    """A big M365 tenant (CPOR, 400 seats), a small one (20 seats), an Azure customer (PAL)."""
    last = _month_text(-1)
    big = customer("m365")
    big.name = "Big Tenant"
    big.save()
    associate(org, big, "CPOR", start=_month_text(-12))
    usage(big, "paid_seats", {_month_text(-2): 380, last: 400})
    usage(big, "protected_users", {last: 150}, workload="MDE")
    small = customer("m365")
    small.name = "Small Tenant"
    small.save()
    associate(org, small, "DPOR", start=_month_text(-12), end=_month_text(-6))
    usage(small, "paid_seats", {last: 20})
    azure = customer("azure")
    azure.name = "Azure Shop"
    azure.save()
    associate(org, azure, "PAL", start=_month_text(-3))
    usage(azure, "acr_usd", {last: 2500}, workload="app-service")
    theirs = customer("m365")
    theirs.name = "Not Ours"
    theirs.save()
    associate(other_org, theirs, "CPOR")
    return big, small, azure


def rows(response):
    return {row.entry.customer.name: row for row in response.context["rows"]}


def test_lists_the_organizations_customers_with_figures(client, member, org, book):
    client.force_login(member)
    response = client.get(url(org))
    assert response.status_code == 200
    shown = rows(response)
    assert set(shown) == {"Big Tenant", "Small Tenant", "Azure Shop"}
    big = shown["Big Tenant"]
    assert big.seats.startswith("400 ")  # the latest month, not the earlier 380
    assert big.protected_users.startswith("150 ")
    assert big.associations[0].type == "CPOR"
    assert shown["Azure Shop"].acr.startswith("$2,500 ")
    assert shown["Small Tenant"].associations[0].months.count("–") == 1
    assert "Not Ours" not in response.content.decode()


def test_eligibility_follows_the_rules_in_force(client, member, org, book):
    client.force_login(member)
    shown = rows(client.get(url(org)))
    # 400 seats through CPOR: over the Modern Work seat threshold (301); 20 seats are not.
    assert any("Modern Work" in text for text in shown["Big Tenant"].eligible)
    assert shown["Small Tenant"].eligible == ()
    # $2,500 of App Service ACR through PAL: over the Azure net-customer-add threshold.
    assert any("Infrastructure (Azure)" in text for text in shown["Azure Shop"].eligible)
    eligible = rows(client.get(url(org, designation="modern-work")))
    assert set(eligible) == {"Big Tenant"}


def test_search_and_filters(client, member, org, book):
    client.force_login(member)
    assert set(rows(client.get(url(org, q="tenant")))) == {"Big Tenant", "Small Tenant"}
    assert set(rows(client.get(url(org, platform="azure")))) == {"Azure Shop"}
    assert set(rows(client.get(url(org, type="DPOR")))) == {"Small Tenant"}
    # The small tenant's association ended six months ago.
    assert set(rows(client.get(url(org, current="on")))) == {"Big Tenant", "Azure Shop"}
    # A bad value is ignored.
    assert len(rows(client.get(url(org, platform="mainframe")))) == 3


def test_other_organization_gets_404(client, other_member, org, book):
    client.force_login(other_member)
    assert client.get(url(org)).status_code == 404


def test_paginated_with_a_query_ceiling(client, member, org, django_assert_max_num_queries):
    last = _month_text(-1)
    for number in range(35):
        cust = customer("m365")
        associate(org, cust, "CPOR", start=_month_text(-12))
        associate(org, cust, "DPOR", start=_month_text(-12))
        usage(cust, "paid_seats", {_month_text(-3): 300, _month_text(-2): 310, last: 320 + number})
        usage(cust, "protected_users", {last: 10}, workload="MDE")
    client.force_login(member)
    client.get(url(org))  # the rule sets in force are cached per process
    with django_assert_max_num_queries(10):
        response = client.get(url(org))
    assert len(response.context["rows"]) == 25
    assert response.context["page"].paginator.count == 35
    second = client.get(url(org, page=2))
    assert len(second.context["rows"]) == 10
    with django_assert_max_num_queries(14):
        client.get(url(org, designation="modern-work"))


def test_renders_in_japanese(client, member, org, book):
    client.force_login(member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    response = client.get(url(org))
    assert response.status_code == 200
    assert '<html lang="ja"' in response.content.decode()
