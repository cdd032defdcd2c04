"""UsageYear follows Usage through the database triggers, whatever writes the usage rows.

Runs on whichever database the suite runs on (CI: PostgreSQL's statement triggers with
transition tables, and SQLite's row triggers).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from scoring.imports import import_records
from scoring.models import Usage, UsageYear
from tests.scoring.telemetry import customer, month, usage

pytestmark = pytest.mark.django_db


def pivot_of_usage() -> dict[tuple[int, str, str, int], dict[int, Decimal]]:
    """What UsageYear must hold, computed from the usage rows in Python."""
    expected: dict[tuple[int, str, str, int], dict[int, Decimal]] = defaultdict(dict)
    for row in Usage.objects.all():
        key = (row.customer_id, row.measure, row.workload, row.month.year)
        expected[key][row.month.month] = row.value
    return dict(expected)


def stored_pivot() -> dict[tuple[int, str, str, int], dict[int, Decimal]]:
    stored = {}
    for row in UsageYear.objects.all():
        months = {m: getattr(row, f"m{m}") for m in range(1, 13)}
        stored[(row.customer_id, row.measure, row.workload, row.year)] = {
            m: value for m, value in months.items() if value is not None
        }
    return stored


def test_inserted_rows_are_pivoted_by_year():
    tenant = customer("m365")
    usage(tenant, "paid_seats", {"2023-11": 30, "2023-12": 31, "2024-01": 32})
    usage(tenant, "protected_users", {"2024-01": 5}, workload="MDE")

    assert stored_pivot() == {
        (tenant.pk, "paid_seats", "", 2023): {11: Decimal(30), 12: Decimal(31)},
        (tenant.pk, "paid_seats", "", 2024): {1: Decimal(32)},
        (tenant.pk, "protected_users", "MDE", 2024): {1: Decimal(5)},
    }


def test_updates_moves_and_deletes_follow():
    tenant, other = customer("m365"), customer("azure")
    usage(tenant, "paid_seats", {"2024-01": 30, "2024-02": 40, "2024-03": 50})
    usage(other, "acr_usd", {"2024-01": 100.5}, workload="security")

    Usage.objects.filter(customer=tenant, month=month("2024-02")).update(value=Decimal(45))
    Usage.objects.filter(customer=tenant, month=month("2024-03")).update(month=month("2025-01"))
    Usage.objects.filter(customer=tenant, month=month("2024-01")).delete()

    assert stored_pivot() == pivot_of_usage()
    assert stored_pivot()[(tenant.pk, "paid_seats", "", 2024)] == {2: Decimal(45)}
    assert stored_pivot()[(tenant.pk, "paid_seats", "", 2025)] == {1: Decimal(50)}


def test_a_year_left_without_usage_disappears():
    tenant = customer("m365")
    usage(tenant, "paid_seats", {"2023-12": 30, "2024-01": 30})

    Usage.objects.filter(month__year=2023).delete()

    assert set(stored_pivot()) == {(tenant.pk, "paid_seats", "", 2024)}


def test_the_import_upsert_keeps_it_in_step():
    tenant = customer("m365")
    rows = [
        {"month": "2024-01", "platform": "m365", "customer_id": tenant.customer_id,
         "measure": "paid_seats", "workload": "", "value": "30"},
        {"month": "2024-02", "platform": "m365", "customer_id": tenant.customer_id,
         "measure": "paid_seats", "workload": "", "value": "35"},
    ]  # fmt: skip
    import_records("usage", rows)
    rows[1]["value"] = "36"
    rows.append({**rows[0], "month": "2023-12", "value": "12"})
    import_records("usage", rows)

    assert stored_pivot() == pivot_of_usage()
    assert stored_pivot()[(tenant.pk, "paid_seats", "", 2024)] == {1: Decimal(30), 2: Decimal(36)}


def test_deleting_the_customer_removes_its_years():
    tenant, kept = customer("m365"), customer("m365")
    usage(tenant, "paid_seats", {"2024-01": 30})
    usage(kept, "paid_seats", {"2024-01": 40})

    tenant.delete()

    assert set(stored_pivot()) == {(kept.pk, "paid_seats", "", 2024)}


def test_deleting_a_customer_deletes_its_series():
    """No database-level foreign key (migration 0015): Django's CASCADE deletes the series, and
    the triggers still keep the other customers' yearly rows."""
    tenant, other = customer("m365"), customer("m365")
    usage(tenant, "paid_seats", {"2024-01": 30, "2024-02": 40})
    usage(other, "paid_seats", {"2024-01": 7})

    tenant.delete()

    assert not Usage.objects.filter(customer_id=tenant.pk).exists()
    assert stored_pivot() == {(other.pk, "paid_seats", "", 2024): {1: Decimal(7)}}
