"""`manage.py bench_drilldown --customers 500 --people 200` — server time of the designation
pages and every metric's drill-down.

One synthetic organization (the scoring benchmark's generator, everything named "Bench") with
the customers and people asked for, scored as of today; a member opens each designation's page
and each of its metrics' drill-downs, and the command prints the median and p95 of the server
time per page (Django's test client: middleware, the selectors' SQL and the rendering).
"""

from __future__ import annotations

import math
import statistics
import time

from django.core.management.base import BaseCommand, CommandParser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Membership, Organization, User
from scoring.benchmark import bench_cleanup, bench_generate
from scoring.management.commands.bench_whatif import Command as WhatIfBench
from scoring.models import ScoreSnapshot
from scoring.services import scores_recompute

BENCH_EMAIL = "bench-drilldown@example.invalid"


class Command(BaseCommand):
    help = "Time the designation pages and metric drill-downs of one large organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument("--people", type=int, default=200)
        parser.add_argument("--samples", type=int, default=20)
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
        scores_recompute(organization_ids=[organization_id], as_of=as_of)
        user = User.objects.create_user(email=BENCH_EMAIL, password=None)
        Membership.objects.create(
            organization_id=organization_id, user=user, role=Membership.Role.MEMBER
        )
        organization = Organization.objects.unscoped().get(pk=organization_id)
        client = Client()
        client.force_login(user)
        pages: list[tuple[str, str]] = []
        for snapshot in ScoreSnapshot.objects.for_org(organization).select_related("designation"):
            code = snapshot.designation.code
            pages.append((code, reverse("org_designation", args=[organization.slug, code])))
            for metric in snapshot.metrics:
                pages.append(
                    (
                        f"{code} / {metric['code']}",
                        reverse(
                            "org_metric_drilldown", args=[organization.slug, code, metric["code"]]
                        ),
                    )
                )
        worst = 0.0
        for label, url in pages:
            client.get(url, secure=True)  # warm the rule-set cache and the connection
            samples = []
            for _ in range(int(options["samples"])):  # type: ignore[call-overload]
                started = time.perf_counter()
                response = client.get(url, secure=True)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            samples.sort()
            p95 = samples[max(0, math.ceil(0.95 * len(samples)) - 1)]
            worst = max(worst, p95)
            self.stdout.write(
                f"{label}: median {statistics.median(samples):.0f} ms, p95 {p95:.0f} ms"
            )
        self.stdout.write(
            f"{len(pages)} pages ({options['customers']} customers, {options['people']} people):"
            f" worst p95 {worst:.0f} ms"
        )
        if not options["keep"]:
            User.objects.filter(email=BENCH_EMAIL).delete()
            bench_cleanup()
