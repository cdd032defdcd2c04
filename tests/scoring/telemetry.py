"""Compact builders for telemetry in tests: customers, associations and monthly usage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.models import Organization
from scoring.models import Association, Customer, Usage

_counter = iter(range(1, 10_000_000))


def month(text: str) -> date:
    year, mon = text.split("-")
    return date(int(year), int(mon), 1)


def customer(platform: str, *, production: bool = True, customer_id: str | None = None) -> Customer:
    number = next(_counter)
    if customer_id is None:
        customer_id = (
            str(100000 + number)
            if platform == "azure"
            else f"{number:08x}-0000-4000-8000-{number:012x}"
        )
    return Customer.objects.create(
        platform=platform, customer_id=customer_id, name=f"Customer {number}", production=production
    )


def associate(
    organization: Organization,
    cust: Customer,
    type: str,
    start: str = "2020-01",
    end: str | None = None,
    workload: str = "",
) -> Association:
    return Association.objects.create(
        organization=organization,
        customer=cust,
        type=type,
        workload=workload,
        start_month=month(start),
        end_month=month(end) if end else None,
    )


def usage(cust: Customer, measure: str, values: dict[str, float | int], workload: str = "") -> None:
    Usage.objects.bulk_create(
        Usage(
            customer=cust,
            measure=measure,
            workload=workload,
            month=month(m),
            value=Decimal(str(v)),
        )
        for m, v in values.items()
    )


def monthly(start: str, end: str, value: float | int) -> dict[str, float | int]:
    """The same value for every month from start to end inclusive."""
    first, last = month(start), month(end)
    out: dict[str, float | int] = {}
    index = first.year * 12 + first.month - 1
    while True:
        y, m = divmod(index, 12)
        current = date(y, m + 1, 1)
        if current > last:
            return out
        out[f"{current:%Y-%m}"] = value
        index += 1
