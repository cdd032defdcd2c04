"""`manage.py bench_whatif --customers 500 --people 200` — server time of a what-if update.

One synthetic organization (the scoring benchmark's generator, everything named "Bench") with
the customers and people asked for; an admin posts a scenario to the what-if page as htmx does
(two hypothetical people, a customer, one removal each) and the command prints the median and
p95 of the server time (Django's test client: middleware, form, the rolled-back projection,
the six shortest paths and the partial's rendering).
"""

from __future__ import annotations

import math
import random
import statistics
import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Certification, HeldCertification, Membership, Person, User
from scoring.benchmark import CERT_SETS, bench_cleanup, bench_generate
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
        User.objects.filter(email=BENCH_EMAIL).delete()  # its membership first, then the org
        bench_cleanup()
        data = bench_generate(
            organizations=1,
            customers_per_org=int(options["customers"]),  # type: ignore[call-overload]
            months=24,
            as_of=as_of,
        )
        organization_id = data.organization_ids[0]
        self._top_up_people(organization_id, int(options["people"]))  # type: ignore[call-overload]
        user = User.objects.create_user(email=BENCH_EMAIL, password=None)
        membership = Membership.objects.create(
            organization_id=organization_id, user=user, role=Membership.Role.ADMIN
        )
        client = Client(HTTP_HX_REQUEST="true")
        client.force_login(user)
        url = reverse("org_scores_whatif", args=[membership.organization.slug])
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
            User.objects.filter(email=BENCH_EMAIL).delete()
            bench_cleanup()

    @staticmethod
    @transaction.atomic
    def _top_up_people(organization_id: int, people: int) -> None:
        have = Person.objects.for_org_id(organization_id).count()
        rng = random.Random(11)
        certifications = {c.code: c for c in Certification.objects.all()}
        made = Person.objects.bulk_create(
            Person(
                organization_id=organization_id,
                person_id=f"BW{organization_id}-{k}",
                name=f"Bench engineer w{k}",
            )
            for k in range(max(0, people - have))
        )
        HeldCertification.objects.bulk_create(
            HeldCertification(
                organization_id=organization_id,
                person=person,
                certification=certifications[code],
                earned_on=timezone.localdate().replace(day=1),
            )
            for person in made
            for code in rng.choice(CERT_SETS)
        )
