"""The data-format additions for the published versions (data-formats.md, last section), through
the CSV door and the records door alike: CSP associations, customer segments, paid seats of
one workload, Azure consumption by service, capacity. What worked before keeps working."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from scoring.imports import import_records
from scoring.models import Association, Customer, Usage, Workload
from tests.scoring.test_imports import (
    DYN_A,
    M365_A,
    TPID_A,
    errors_of,
    load,
    make_customers,
    table_counts,
)


@pytest.fixture
def customers(db) -> dict[str, Customer]:
    return make_customers()


@pytest.fixture
def aks(db) -> Workload:
    service = Workload.objects.create(
        code="azure-kubernetes-service-t",
        name="Azure Kubernetes Service",
        platform="azure",
        kind=Workload.Kind.SERVICE,
    )
    service.areas.set(Workload.objects.filter(code="digital-app-innovation"))
    return service


def test_csp_associations_are_accepted_on_every_platform(org, customers):
    result = load(
        "associations",
        f"""
        partner_id,platform,customer_id,type,workload,start_month,end_month
        1000001,m365,{M365_A},CSP,,2023-04,
        1000001,azure,{TPID_A},csp,,2023-01,
        1000001,dynamics,{DYN_A},CSP,,2023-01,
        1000001,m365,{M365_A},DPOR,,2023-01,
        1000001,azure,{TPID_A},DPOR,,2023-01,
        """,
    )

    assert result.ok, result.errors
    assert sorted(Association.objects.for_org(org).values_list("type", flat=True)) == [
        "CSP",
        "CSP",
        "CSP",
        "DPOR",
        "DPOR",
    ]


def test_an_unknown_association_type_names_csp(org, customers):
    result = load(
        "associations",
        f"""
        partner_id,platform,customer_id,type,workload,start_month,end_month
        1000001,m365,{M365_A},MPN,,2023-04,
        """,
    )

    assert errors_of(result) == [(2, "type", "MPN")]
    assert result.errors[0].reason == "unknown association type (CPOR, PAL, DPOR or CSP)"


def test_customer_segment_is_optional_and_kept_when_absent(db):
    first = load(
        "customers",
        f"""
        platform,customer_id,name,segment
        azure,{TPID_A},Adventure Works,SMB
        m365,{M365_A},Northwind,
        """,
    )
    without = load("customers", f"platform,customer_id\nazure,{TPID_A}\n")

    assert first.ok and without.ok, (first.errors, without.errors)
    assert Customer.objects.get(customer_id=TPID_A).segment == "smb"
    assert Customer.objects.get(customer_id=M365_A).segment == ""


def test_a_bad_segment_is_a_row_error(db):
    before = table_counts()

    result = load("customers", f"platform,customer_id,segment\nazure,{TPID_A},huge\n")

    assert errors_of(result) == [(2, "segment", "huge")]
    assert result.errors[0].reason == "unknown segment (smb, corporate, enterprise)"
    assert table_counts() == before


def test_usage_additions_are_accepted(customers, aks):
    result = load(
        "usage",
        f"""
        month,platform,customer_id,measure,workload,value
        2024-01,m365,{M365_A},paid_seats,Teams,320
        2024-01,m365,{M365_A},paid_seats,,400
        2024-01,azure,{TPID_A},acr_usd,azure-kubernetes-service-t,1500
        2024-01,azure,{TPID_A},acr_usd,security,10
        2024-01,dynamics,{DYN_A},capacity,D365Sales,50000
        """,
    )

    assert result.ok, result.errors
    assert sorted(Usage.objects.values_list("measure", "workload", "value")) == [
        ("acr_usd", "azure-kubernetes-service-t", Decimal("1500.00")),
        ("acr_usd", "security", Decimal("10.00")),
        ("capacity", "D365Sales", Decimal("50000.00")),
        ("paid_seats", "", Decimal("400.00")),
        ("paid_seats", "Teams", Decimal("320.00")),
    ]


def test_usage_additions_are_checked(customers, aks):
    before = table_counts()

    result = load(
        "usage",
        f"""
        month,platform,customer_id,measure,workload,value
        2024-01,m365,{M365_A},paid_seats,security,3
        2024-01,m365,{M365_A},acr_usd,azure-kubernetes-service-t,3
        2024-01,dynamics,{DYN_A},capacity,,3
        2024-01,m365,{M365_A},capacity,Teams,3
        2024-01,dynamics,{DYN_A},capacity,D365Sales,1.5
        """,
    )

    assert errors_of(result) == [
        (2, "workload", "security"),
        (3, "measure", "acr_usd"),
        (4, "workload", ""),
        (5, "measure", "capacity"),
        (6, "value", "1.5"),
    ]
    assert table_counts() == before


def test_records_door_takes_the_additions(org, customers, aks):
    result = import_records(
        "usage",
        [
            {"month": "2024-02", "platform": "azure", "customer_id": int(TPID_A),
             "measure": "acr_usd", "workload": "azure-kubernetes-service-t", "value": 12.5},
            {"month": "2024-02", "platform": "dynamics", "customer_id": DYN_A,
             "measure": "capacity", "workload": "D365Sales", "value": 10},
        ],
    )  # fmt: skip
    customers_result = import_records(
        "customers", [{"platform": "azure", "customer_id": TPID_A, "segment": "corporate"}]
    )
    associations = import_records(
        "associations",
        [{"partner_id": "1000001", "platform": "azure", "customer_id": TPID_A, "type": "CSP",
          "workload": None, "start_month": "2023-01", "end_month": None}],
    )  # fmt: skip

    assert result.ok and customers_result.ok and associations.ok
    assert Usage.objects.filter(month=date(2024, 2, 1)).count() == 2
    assert Customer.objects.get(customer_id=TPID_A).segment == "corporate"
    assert Association.objects.for_org(org).get().type == "CSP"
