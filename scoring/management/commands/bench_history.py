"""`manage.py bench_history --customers 500 --people 200` — server time of the history and
forecast pages and of the dashboard with its at-risk mark.

One synthetic organization (the scoring benchmark's generator, everything named "Bench") with
the customers and people asked for, a quarter of the certifications expiring over the coming
months and a renewal date; its scores computed today and a daily snapshot for each of the last
730 days (copies of today's with a varying total, so that the history page reads two years of
days). Prints median and p95 per page (Django's test client: middleware, queries, rendering);
the dashboard both with the at-risk forecast cached and without (the first view after a
recompute).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.models import Certification, HeldCertification, Membership, Organization, Person, User
from scoring.benchmark import CERT_SETS, bench_cleanup, bench_client, bench_generate
from scoring.models import ScoreSnapshot
from scoring.services import scores_recompute

BENCH_EMAIL = "bench-history@example.invalid"


class Command(BaseCommand):
    help = "Time the history, forecast and dashboard pages for one large organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument("--people", type=int, default=200)
        parser.add_argument("--samples", type=int, default=30)
        parser.add_argument("--keep", action="store_true", help="keep the generated data")

    def handle(self, *args: object, **options: object) -> None:
        today = timezone.localdate()
        User.objects.filter(email=BENCH_EMAIL).delete()
        bench_cleanup()
        data = bench_generate(
            organizations=1,
            customers_per_org=int(options["customers"]),  # type: ignore[call-overload]
            months=24,
            as_of=today,
        )
        organization_id = data.organization_ids[0]
        self._people(organization_id, int(options["people"]))  # type: ignore[call-overload]
        Organization.objects.unscoped().filter(pk=organization_id).update(
            renewal_date=today + timedelta(days=200)
        )
        scores_recompute(organization_ids=[organization_id], as_of=today)
        self._daily_history(organization_id)
        user = User.objects.create_user(email=BENCH_EMAIL, password=None)
        membership = Membership.objects.create(
            organization_id=organization_id, user=user, role=Membership.Role.ADMIN
        )
        client = bench_client(user)
        slug = membership.organization.slug
        samples = int(options["samples"])  # type: ignore[call-overload]
        qualified = ScoreSnapshot.objects.for_org_id(organization_id).filter(
            as_of=today, qualified=True
        )
        self.stdout.write(
            f"{options['customers']} customers, {options['people']} people, "
            f"{ScoreSnapshot.objects.for_org_id(organization_id).count()} snapshots, "
            f"{qualified.count()} designations qualified today"
        )
        pages: list[tuple[str, str, Callable[[], None]]] = [
            ("history", reverse("org_designation_history", args=[slug, "security"]), _noop),
            ("forecast", reverse("org_scores_forecast", args=[slug]), _noop),
            ("dashboard (at-risk cached)", reverse("org_scores", args=[slug]), _noop),
            ("dashboard (at-risk computed)", reverse("org_scores", args=[slug]), cache.clear),
        ]
        for name, url, before in pages:
            client.get(url)  # warm the rule-set cache and the connection
            times = []
            for _ in range(samples):
                before()
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            times.sort()
            p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
            self.stdout.write(
                f"  {name}: median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms"
                f" over {len(times)} samples"
            )
        if not options["keep"]:
            User.objects.filter(email=BENCH_EMAIL).delete()
            bench_cleanup()

    @staticmethod
    @transaction.atomic
    def _people(organization_id: int, people: int) -> None:
        today = timezone.localdate()
        have = Person.objects.for_org_id(organization_id).count()
        rng = random.Random(13)
        certifications = {c.code: c for c in Certification.objects.all()}
        made = Person.objects.bulk_create(
            Person(
                organization_id=organization_id,
                person_id=f"BH{organization_id}-{k}",
                name=f"Bench engineer h{k}",
            )
            for k in range(max(0, people - have))
        )
        HeldCertification.objects.bulk_create(
            HeldCertification(
                organization_id=organization_id,
                person=person,
                certification=certifications[code],
                earned_on=today - timedelta(days=400),
                expires_on=(
                    today + timedelta(days=rng.randrange(10, 200)) if rng.random() < 0.25 else None
                ),
            )
            for person in made
            for code in rng.choice(CERT_SETS)
        )

    @staticmethod
    @transaction.atomic
    def _daily_history(organization_id: int) -> None:
        today = timezone.localdate()
        rng = random.Random(17)
        latest = list(ScoreSnapshot.objects.for_org_id(organization_id).filter(as_of=today))
        ScoreSnapshot.objects.bulk_create(
            (
                ScoreSnapshot(
                    organization_id=organization_id,
                    designation_id=snapshot.designation_id,
                    rule_set_id=snapshot.rule_set_id,
                    as_of=today - timedelta(days=days),
                    total=(total := max(0.0, snapshot.total - rng.uniform(-10, 25))),
                    qualified=total >= 70,
                    metrics=snapshot.metrics,
                    track=snapshot.track,
                    tracks=snapshot.tracks,
                )
                for days in range(1, 731)
                for snapshot in latest
            ),
            batch_size=2000,
            ignore_conflicts=True,
        )


def _noop() -> None:
    return None
