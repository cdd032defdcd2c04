"""The set-based usage import (PostgreSQL) against the chunked one: same tables, same reports.

Each case runs the same file through both paths, each inside a savepoint that is rolled back
afterwards, and compares what they left in the usage tables (the yearly pivot the triggers keep
included) and the whole report (counts, organizations, every error).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from scoring.imports import import_csv, setbased
from scoring.imports.api import _load_chunked
from scoring.imports.sources import CsvSource, RecordsSource
from scoring.imports.usage import UsageImporter
from scoring.models import Customer, Usage, UsageYear
from tests.scoring.test_imports import (
    DYN_A,
    M365_A,
    M365_B,
    TPID_A,
    USAGE,
    AssociationFactory,
    UsageFactory,
    csv_file,
    make_customers,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-based import is PostgreSQL's"
)

LOADERS = {"chunked": _load_chunked, "set-based": setbased.load}


def tables() -> dict[str, set[tuple[Any, ...]]]:
    usage = set(Usage.objects.values_list("customer_id", "measure", "workload", "month", "value"))
    year_columns = ["customer_id", "measure", "workload", "year"] + [f"m{m}" for m in range(1, 13)]
    years = set(UsageYear.objects.values_list(*year_columns))
    return {"usage": usage, "usage_year": years}


def both(data: str | list[dict[str, object]]) -> dict[str, Any]:
    """The report and the tables each path leaves; nothing of either stays written."""
    outcomes = {}
    for name, load in LOADERS.items():
        with transaction.atomic():
            importer = UsageImporter()
            assert setbased.applies(importer)
            source = RecordsSource(data) if isinstance(data, list) else CsvSource(csv_file(data))
            result = load(importer, source)
            outcomes[name] = (result.as_dict(), tables())
            transaction.set_rollback(True)
    return outcomes


def assert_same(data: str | list[dict[str, object]]) -> dict[str, Any]:
    outcomes = both(data)
    chunked, set_based = outcomes["chunked"], outcomes["set-based"]
    assert set_based[0] == chunked[0]
    assert set_based[1] == chunked[1]
    return chunked[0]


@pytest.fixture
def customers(org) -> dict[str, Customer]:
    made = make_customers()
    AssociationFactory(organization=org, customer=made["m365"])
    AssociationFactory(organization=org, customer=made["azure"], type="PAL")
    return made


def many_rows(months: int, *, bump: int = 0) -> str:
    """Several customers and measures over `months` months (values grow; `bump` adds to some)."""
    lines = ["month,platform,customer_id,measure,workload,value"]
    for index in range(months):
        month = f"{2022 + index // 12}-{index % 12 + 1:02d}"
        extra = bump if index % 3 == 0 else 0
        lines += [
            f"{month},m365,{M365_A},paid_seats,,{30 + index + extra}",
            f"{month},m365,{M365_A.upper()},protected_users,mde,{12 + index}",
            f"{month},m365,{M365_B},active_users,Teams,{25 + extra}",
            f"{month},azure,000{TPID_A},acr_usd,security,{1250.5 + index + extra:.2f}",
            f"{month},dynamics,{DYN_A},revenue_usd,D365Sales,99.9",
        ]
    return "\n".join(lines)


def test_new_rows_give_the_same_tables_and_report(org, customers):
    report = assert_same(many_rows(30))

    assert (report["created"], report["updated"], report["unchanged"]) == (150, 0, 0)
    assert report["organization_ids"] == [org.id]


def test_a_reimport_changes_nothing_on_either_path(customers):
    import_csv("usage", csv_file(many_rows(30)))

    report = assert_same(many_rows(30))

    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 150)


def test_changed_and_new_values_are_counted_alike(customers):
    import_csv("usage", csv_file(many_rows(24)))

    report = assert_same(many_rows(30, bump=5))

    # 30 new rows (6 more months); every third of the first 24 months bumped on 3 series.
    assert (report["created"], report["updated"], report["unchanged"]) == (30, 24, 96)


def test_stored_values_written_differently_are_unchanged(customers):
    import_csv("usage", csv_file(USAGE))

    report = assert_same(USAGE.replace(",30\n", ",030\n").replace("99.9", "99.90"))

    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 6)


BAD = f"""
    month,platform,customer_id,measure,workload,value
    2024-01,m365,{M365_A},paid_seats,,30
    2024-13,m365,{M365_A},paid_seats,,30
    2024-02,m365,{M365_A},paid_seats,,-5
    2024-02,m365,1234-not-a-guid,paid_seats,,30
    2024-02,azure,TPID42,acr_usd,security,10
    2024-02,azure,{TPID_A},acr_usd,security,10.005
    2024-02,azure,{TPID_A},paid_seats,,10
    2024-02,m365,{M365_A},protected_users,Quantum,10
    2024-01,m365,{M365_A},paid_seats,,31
    2024-02,m365,{M365_A},paid_seats,AzureDefender,3
    2024-02,m365,{M365_A},active_users,,3
    2024-02,m365,{M365_A},certifications,,1.5
    2024-02,m365,{DYN_A},paid_seats,,3
    2024-02,m365,{DYN_A},paid_seats,,4
    2024-02,m365,{M365_A},paid_seats
    2024-02,m365,{M365_A},paid_seats,,"7\x00"
    2024-03,m365,{M365_A},paid_seats,,
"""


def test_bad_rows_are_reported_alike_and_nothing_is_written(customers):
    UsageFactory(customer=customers["m365"], month=date(2023, 12, 1))
    before = tables()

    report = assert_same(BAD)

    assert not report["ok"]
    assert len(report["errors"]) == 16
    assert tables() == before


def test_an_unknown_customer_alone_stops_the_merge(customers):
    """No row fails in Python: the merge itself finds the customer missing."""
    text = USAGE + f"\n2024-02,azure,77,acr_usd,security,5\n2024-03,m365,{M365_A},paid_seats,,3"

    report = assert_same(text)

    assert [(e["line"], e["value"]) for e in report["errors"]] == [(9, "77")]


@pytest.mark.parametrize("value", ["30", "31"], ids=["equal-to-stored", "different"])
def test_a_duplicate_alone_is_found_whatever_is_stored(customers, value):
    """A twin is refused even when both rows equal what is stored (the anti-join skips those)."""
    UsageFactory(customer=customers["m365"], month=date(2024, 1, 1), value=Decimal(30))
    text = USAGE + f"\n2024-01,m365,{M365_A},paid_seats,,{value}"

    report = assert_same(text)

    assert [(e["line"], e["reason"]) for e in report["errors"]] == [(9, "duplicate of line 2")]


def test_records_load_alike(customers):
    records: list[dict[str, object]] = [
        {
            "month": "2024-01",
            "platform": "m365",
            "customer_id": M365_A,
            "measure": "paid_seats",
            "value": 30,
        },
        {
            "month": "2024-01",
            "platform": "azure",
            "customer_id": TPID_A,
            "measure": "acr_usd",
            "workload": "security",
            "value": 12.5,
        },
        {
            "month": "2024-01",
            "platform": "azure",
            "customer_id": TPID_A,
            "measure": "acr_usd",
            "workload": "security",
            "value": True,
        },
        {
            "month": "2024-01",
            "platform": "azure",
            "customer_id": "99",
            "measure": "acr_usd",
            "workload": "security",
            "value": 1,
        },
    ]

    assert_same(records[:2])
    report = assert_same(records)

    assert [e["line"] for e in report["errors"]] == [3, 4]


def test_import_csv_takes_the_set_based_path_on_postgresql(customers):
    setbased.last_phases.clear()

    result = import_csv("usage", csv_file(USAGE))

    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    assert "merge" in setbased.last_phases
    assert Usage.objects.count() == 6
