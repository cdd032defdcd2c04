"""`manage.py bench_whatif --customers 500 --people 200` — server time of a what-if update.

One synthetic organization (the scoring benchmark's generator, everything named "Bench") with
the customers and people asked for; an admin posts a scenario to the what-if page as htmx does
(two hypothetical people, a customer, one removal each) and the command prints the median and
p95 of the server time (Django's test client: middleware, form, the rolled-back projection,
the six shortest paths and the partial's rendering).
"""

from __future__ import annotations

import math
import statistics
import time

from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse
from django.utils import timezone

from portal.models import Person
from scoring.benchmark import bench_admin_cleanup, bench_admin_organization, bench_client
from scoring.models import Association

BENCH_EMAIL = "bench-whatif@example.invalid"


class Command(BaseCommand):
    help = "Time what-if updates for one organization with many customers and people."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument("--people", type=int, default=200)
        parser.add_argument("--samples", type=int, default=30)
        parser.add_argument("--keep", action="store_true", help="keep the generated data")

    def handle(self, *args: object, **options: object) -> None:
        as_of = timezone.localdate()
        bench = bench_admin_organization(
            customers=int(options["customers"]),  # type: ignore[call-overload]
            people=int(options["people"]),  # type: ignore[call-overload]
            email=BENCH_EMAIL,
            as_of=as_of,
        )
        organization_id = bench.organization.pk
        client = bench_client(bench.user, HTTP_HX_REQUEST="true")
        url = reverse("org_scores_whatif", args=[bench.organization.slug])
        person = Person.objects.for_org_id(organization_id).values_list("pk", flat=True)[0]
        customer = (
            Association.objects.for_org_id(organization_id)
            .values_list("customer_id", flat=True)
            .first()
        )
        post = {
            "people-TOTAL_FORMS": "2",
            "people-INITIAL_FORMS": "0",
            "people-0-certifications": "AZ-104, AZ-305",
            "people-0-count": "2",
            "people-1-certifications": "MS-500, AZ-500, SC-200",
            "people-1-count": "1",
            "customers-TOTAL_FORMS": "1",
            "customers-INITIAL_FORMS": "0",
            "customers-0-platform": "azure",
            "customers-0-association_type": "PAL",
            "customers-0-count": "1",
            "customers-0-workload": "security",
            "customers-0-acr_usd": "12500",
            "remove-remove_people": [str(person)],
            "remove-remove_customers": [str(customer)],
        }
        client.post(url, post)  # warm the rule-set cache and the connection
        samples = []
        for _ in range(int(options["samples"])):  # type: ignore[call-overload]
            started = time.perf_counter()
            response = client.post(url, post)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        samples.sort()
        p95 = samples[max(0, math.ceil(0.95 * len(samples)) - 1)]
        self.stdout.write(
            f"what-if update ({options['customers']} customers, {options['people']} people):"
            f" median {statistics.median(samples):.0f} ms, p95 {p95:.0f} ms,"
            f" over {len(samples)} samples"
        )
        if not options["keep"]:
            bench_admin_cleanup(email=BENCH_EMAIL)
