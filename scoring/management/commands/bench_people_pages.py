"""`manage.py bench_people_pages --customers 500 --people 200` — server time of the People and
Customers tabs.

One synthetic organization (the scoring benchmark's generator, everything named "Bench") with
the customers and people asked for; a member opens each page (list, filtered lists, a person
page) through Django's test client, and the command prints the median and p95 server time of
each (middleware, selectors, presenters and the template), with the CPU time the Django
process spent (the wall time on a busy machine includes waiting for a core).
"""

from __future__ import annotations

import math
import statistics
import time

from django.core.management.base import BaseCommand, CommandParser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Membership, Person, User
from scoring.benchmark import bench_cleanup, bench_generate
from scoring.management.commands.bench_whatif import Command as WhatIfBench

BENCH_EMAIL = "bench-people@example.invalid"


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class Command(BaseCommand):
    help = "Time the People and Customers pages for one organization with many rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument("--people", type=int, default=200)
        parser.add_argument("--samples", type=int, default=30)
        parser.add_argument("--keep", action="store_true", help="keep the generated data")

    def handle(self, *args: object, **options: object) -> None:
        as_of = timezone.localdate()
        User.objects.filter(email=BENCH_EMAIL).delete()
        bench_cleanup()
        data = bench_generate(
            organizations=1,
            customers_per_org=int(options["customers"]),  # type: ignore[call-overload]
            months=24,
            as_of=as_of,
        )
        organization_id = data.organization_ids[0]
        WhatIfBench._top_up_people(organization_id, int(options["people"]))  # type: ignore[call-overload]
        user = User.objects.create_user(email=BENCH_EMAIL, password=None)
        membership = Membership.objects.create(
            organization_id=organization_id, user=user, role=Membership.Role.MEMBER
        )
        slug = membership.organization.slug
        person = Person.objects.for_org_id(organization_id).values_list("pk", flat=True)[0]
        people = reverse("org_people", args=[slug])
        customers = reverse("org_customers", args=[slug])
        pages = {
            "people": people,
            "people, counts toward Security": people + "?designation=security",
            "people, expiring, AZ-104": people + "?expiring=on&certification=AZ-104",
            "person": reverse("org_person", kwargs={"slug": slug, "person_pk": person}),
            "customers": customers,
            "customers, page 10": customers + "?page=10",
            "customers, eligible toward Modern Work": customers + "?designation=modern-work",
            "customers, Azure PAL this month": customers + "?platform=azure&type=PAL&current=on",
        }
        client = Client()
        client.force_login(user)
        try:
            for name, url in pages.items():
                client.get(url, secure=True)  # warm the rule-set cache and the connection
                samples, cpu = [], []
                for _ in range(int(options["samples"])):  # type: ignore[call-overload]
                    started, started_cpu = time.perf_counter(), time.process_time()
                    response = client.get(url, secure=True)
                    samples.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                    assert response.status_code == 200, (url, response.status_code)
                self.stdout.write(
                    f"{name}: median {statistics.median(samples):.0f} ms, p95 {_p95(samples):.0f}"
                    f" ms (Django process CPU: median {statistics.median(cpu):.0f} ms,"
                    f" p95 {_p95(cpu):.0f} ms)"
                )
        finally:
            if not options["keep"]:
                User.objects.filter(email=BENCH_EMAIL).delete()
                bench_cleanup()
        self.stdout.write(
            f"({options['customers']} customers, {options['people']} people,"
            f" {options['samples']} samples per page)"
        )
