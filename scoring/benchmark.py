"""Synthetic, realistic telemetry for the scoring benchmark (`manage.py bench_scoring`).

Each organization gets C customers — about 40 % Microsoft 365 tenants, 40 % Azure customers and
20 % Dynamics tenants — associated through CPOR / PAL / DPOR / CSP, some of them only for part of
the window, each in a segment (a quarter of the organizations serve mostly SMB customers, so that
the Azure 2026 track classification goes both ways), with M months of usage: paid seats that ramp
up (or drop to zero), for half the tenants also per workload (the 2026 seat bands); protected and
active users of two workloads; Azure consumed revenue by solution area or by Azure service code
(distinct-service deployments); Dynamics revenue, active users and Customer Insights capacity (the
Business Applications consumption value). Everything the 2026 rule sets read is there.
PostgreSQL loads through COPY; SQLite through executemany. Everything created is named "Bench"
so that it can be removed again.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from portal.models import (
    Certification,
    HeldCertification,
    Membership,
    Organization,
    Person,
    User,
)
from scoring.measures import add_months, current_month
from scoring.models import Association, Customer

BENCH_PREFIX = "Bench"
SECURITY_WORKLOADS = ["MDE", "MDO", "AADP", "MIP"]
MODERN_WORK_WORKLOADS = ["Teams", "Exchange", "SharePoint", "OneDrive"]
AREAS = ["security", "infrastructure", "data-ai", "digital-app-innovation"]
AZURE_SERVICES = [
    "virtual-machines",
    "azure-kubernetes-service",
    "app-service",
    "azure-functions",
    "storage",
    "key-vault",
    "azure-sql-database",
    "azure-cosmos-db",
    "azure-openai",
    "microsoft-fabric",
]
DYNAMICS_WORKLOADS = ["D365Sales", "D365CustomerService", "PowerApps", "D365BusinessCentral"]
SEGMENTS = ["smb", "corporate", "enterprise"]
# Association types per platform, weighted: the 2026 rules attribute CSP everywhere.
ASSOCIATION_TYPES = {
    "m365": ["CPOR", "CPOR", "CPOR", "CSP", "CSP", "DPOR"],
    "azure": ["PAL", "PAL", "PAL", "CSP", "CSP", "DPOR"],
    "dynamics": ["DPOR", "DPOR", "CPOR", "CSP", "CSP", "PAL"],
}
CERT_SETS = [
    ["MS-500", "AZ-500", "SC-200"],
    ["MS-500", "AZ-500", "SC-300"],
    ["AZ-104", "AZ-305"],
    ["DP-203", "AZ-305"],
    ["AZ-204", "AZ-400"],
    ["MS-700", "MS-102"],
    ["PL-200", "PL-600"],
    ["AZ-500"],
]


@dataclass
class BenchData:
    organization_ids: list[int]
    usage_rows: int


BENCH_TABLES_SQL = [
    # Plain SQL, children first: the rows are synthetic, so the per-row audit and
    # recompute-on-change machinery of an ORM delete would only slow the benchmark down.
    "DELETE FROM scoring_usage WHERE customer_id IN "
    "(SELECT id FROM scoring_customer WHERE name LIKE %(customers)s)",
    "DELETE FROM scoring_scoresnapshot WHERE organization_id IN {orgs}",
    "DELETE FROM scoring_association WHERE organization_id IN {orgs}",
    "DELETE FROM portal_heldcertification WHERE organization_id IN {orgs}",
    "DELETE FROM portal_person WHERE organization_id IN {orgs}",
    "DELETE FROM scoring_customer WHERE name LIKE %(customers)s",
    "DELETE FROM portal_organization WHERE name LIKE %(orgs)s",
]


@transaction.atomic
def bench_cleanup() -> None:
    """Remove everything a previous benchmark created."""
    orgs = "(SELECT id FROM portal_organization WHERE name LIKE %(orgs)s)"
    params = {"customers": f"{BENCH_PREFIX} customer %", "orgs": f"{BENCH_PREFIX} partner %"}
    with connection.cursor() as cursor:
        for statement in BENCH_TABLES_SQL:
            cursor.execute(statement.replace("{orgs}", orgs), params)


def bench_existing() -> BenchData:
    """What a previous benchmark left (`--keep`), to time it again without generating it."""
    ids = list(
        Organization.objects.filter(name__startswith=f"{BENCH_PREFIX} partner ")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM scoring_usage u JOIN scoring_customer c ON c.id = u.customer_id "
            "WHERE c.name LIKE %s",
            [f"{BENCH_PREFIX} customer %"],
        )
        (rows,) = cursor.fetchone()
    return BenchData(organization_ids=ids, usage_rows=int(rows))


def _usage_rows(
    rng: random.Random, customers: list[tuple[int, str]], months: list[date]
) -> Iterator[tuple[date, int, str, str, Decimal]]:
    count = len(months)
    for customer_pk, platform in customers:
        start = rng.randrange(0, count // 2) if rng.random() < 0.3 else 0
        stop = rng.randrange(count // 2, count) if rng.random() < 0.1 else count
        if platform == "m365":
            seats = rng.choice([10, 30, 60, 150, 400, 1200])
            security = rng.sample(SECURITY_WORKLOADS, 2)
            modern = rng.sample(MODERN_WORK_WORKLOADS, 2)
            share = rng.uniform(0.02, 0.12)
            growth = rng.uniform(0.0, 0.02)
            per_workload = rng.random() < 0.5
            for i in range(start, stop):
                month = months[i]
                paid = seats + (i - start) * seats // 40
                yield month, customer_pk, "paid_seats", "", Decimal(paid)
                if per_workload:
                    yield month, customer_pk, "paid_seats", modern[0], Decimal(paid)
                    yield month, customer_pk, "paid_seats", security[0], Decimal(paid // 2)
                users = int(paid * min(0.9, share + growth * (i - start)))
                for workload in security:
                    yield month, customer_pk, "protected_users", workload, Decimal(users)
                for workload in modern:
                    yield month, customer_pk, "active_users", workload, Decimal(users * 2)
        elif platform == "azure":
            if rng.random() < 0.5:
                areas = rng.sample(AREAS, rng.choice([1, 1, 2]))
            else:
                areas = rng.sample(AZURE_SERVICES, rng.choice([1, 2, 3]))
            base = rng.choice([50, 200, 800, 1500, 4000])
            for i in range(start, stop):
                for area in areas:
                    value = Decimal(base * (1 + 0.04 * (i - start))).quantize(Decimal("0.01"))
                    yield months[i], customer_pk, "acr_usd", area, value
        else:
            seats = rng.choice([5, 12, 40, 100])
            products = rng.sample(DYNAMICS_WORKLOADS, 2)
            insights = rng.random() < 0.2
            for i in range(start, stop):
                users = seats + i // 4
                yield months[i], customer_pk, "paid_seats", "", Decimal(users)
                yield months[i], customer_pk, "revenue_usd", products[0], Decimal(seats * 95)
                yield months[i], customer_pk, "active_users", products[0], Decimal(users)
                yield months[i], customer_pk, "active_users", products[1], Decimal(users // 2)
                if insights:
                    yield (
                        months[i],
                        customer_pk,
                        "capacity",
                        "D365CustomerInsights",
                        Decimal(users * 2000),
                    )


def _copy_usage(rows: Iterator[tuple[date, int, str, str, Decimal]]) -> int:
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(
                "COPY scoring_usage (month, customer_id, measure, workload, value) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        batch: list[tuple[str, int, str, str, str]] = []
        sql = (
            "INSERT INTO scoring_usage (month, customer_id, measure, workload, value) "
            "VALUES (%s, %s, %s, %s, %s)"
        )
        for month, customer_pk, measure, workload, value in rows:
            batch.append((month.isoformat(), customer_pk, measure, workload, str(value)))
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


@transaction.atomic
def bench_generate(
    *, organizations: int, customers_per_org: int, months: int, as_of: date, seed: int = 7
) -> BenchData:
    """Create the synthetic organizations, people, customers, associations and usage."""
    rng = random.Random(seed)
    month_list = [add_months(current_month(as_of), offset - months + 1) for offset in range(months)]
    base_id = 900_000_000
    orgs = Organization.objects.bulk_create(
        Organization(
            partner_id=str(base_id + n),
            name=f"{BENCH_PREFIX} partner {n:05d}",
            slug=f"bench-partner-{n:05d}",
            country="CN" if n % 50 == 0 else rng.choice(["JP", "US", "DE", "GB", "AU"]),
        )
        for n in range(organizations)
    )
    certifications = {c.code: c for c in Certification.objects.all()}
    people = Person.objects.bulk_create(
        Person(organization=org, person_id=f"B{org.pk}-{k}", name=f"{BENCH_PREFIX} engineer {k}")
        for org in orgs
        for k in range(rng.randrange(4, 12))
    )
    HeldCertification.objects.bulk_create(
        HeldCertification(
            organization_id=person.organization_id,
            person=person,
            certification=certifications[code],
            earned_on=add_months(month_list[0], rng.randrange(0, months)),
        )
        for person in people
        for code in rng.choice(CERT_SETS)
    )
    platforms = ["m365", "m365", "azure", "azure", "dynamics"]
    mostly_smb = {n for n in range(organizations) if rng.random() < 0.25}
    customer_objects = [
        Customer(
            segment=(
                ("smb" if rng.random() < 0.9 else "corporate")
                if n in mostly_smb
                else rng.choice(SEGMENTS)
            ),
            platform=(platform := platforms[(n + k) % 5]),
            customer_id=(
                str(10_000_000 + n * customers_per_org + k)
                if platform == "azure"
                else f"{n:08x}-{k:04x}-4000-8000-{rng.getrandbits(48):012x}"
            ),
            name=f"{BENCH_PREFIX} customer {n}-{k}",
        )
        for n in range(organizations)
        for k in range(customers_per_org)
    ]
    created = Customer.objects.bulk_create(customer_objects, batch_size=5000)
    associations = []
    for index, cust in enumerate(created):
        org = orgs[index // customers_per_org]
        start = month_list[rng.randrange(0, months)] if rng.random() < 0.25 else month_list[0]
        associations.append(
            Association(
                organization=org,
                customer=cust,
                type=rng.choice(ASSOCIATION_TYPES[cust.platform]),
                start_month=start,
            )
        )
    Association.objects.bulk_create(associations, batch_size=5000)
    rows = _copy_usage(_usage_rows(rng, [(c.pk, c.platform) for c in created], month_list))
    return BenchData(organization_ids=[o.pk for o in orgs], usage_rows=rows)


@dataclass
class BenchOrganization:
    """One synthetic organization with an admin signed in as `user` (the page benchmarks)."""

    organization: Organization
    user: User


def bench_admin_organization(
    *, customers: int, people: int, email: str, as_of: date
) -> BenchOrganization:
    """One organization of `customers` customers and `people` people, its scores computed, and an
    admin membership for a user with this e-mail (removed again by `bench_admin_cleanup`)."""
    from scoring.services import scores_recompute  # services import the engine, not this module

    bench_admin_cleanup(email=email)
    data = bench_generate(organizations=1, customers_per_org=customers, months=24, as_of=as_of)
    organization = Organization.objects.unscoped().get(pk=data.organization_ids[0])
    _top_up_people(organization.pk, people, as_of)
    scores_recompute(organization_ids=[organization.pk], as_of=as_of, workers=1)
    user = User.objects.create_user(email=email, password=None)
    Membership.objects.create(organization=organization, user=user, role=Membership.Role.ADMIN)
    return BenchOrganization(organization=organization, user=user)


def bench_client(user: User, **defaults: Any) -> Client:
    """A test client signed in as the user, on a host the settings allow (DisallowedHost else)."""
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    client = Client(SERVER_NAME=hosts[0] if hosts else "testserver", **defaults)
    client.force_login(user)
    return client


def bench_admin_cleanup(*, email: str) -> None:
    """Remove the benchmark's admin (its membership first, then the organization) and its data."""
    User.objects.filter(email=email).delete()
    bench_cleanup()


@transaction.atomic
def _top_up_people(organization_id: int, people: int, as_of: date) -> None:
    have = Person.objects.for_org_id(organization_id).count()
    rng = random.Random(11)
    certifications = {c.code: c for c in Certification.objects.all()}
    made = Person.objects.bulk_create(
        Person(
            organization_id=organization_id,
            person_id=f"BW{organization_id}-{k}",
            name=f"{BENCH_PREFIX} engineer w{k}",
        )
        for k in range(max(0, people - have))
    )
    HeldCertification.objects.bulk_create(
        HeldCertification(
            organization_id=organization_id,
            person=person,
            certification=certifications[code],
            earned_on=as_of.replace(day=1),
        )
        for person in made
        for code in rng.choice(CERT_SETS)
    )
