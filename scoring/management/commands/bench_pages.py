"""`manage.py bench_pages --customers 500 --people 200` — p95 server time of every partner page.

One synthetic organization (the scoring benchmark's generator, everything named "Bench") with
the customers and people asked for, its scores computed, and an admin signed in. Every page
under `orgs/<slug>/` is found in the URL configuration (a page added later is timed without
touching this command): its URL arguments are filled from the organization — each designation
and each of its metrics in turn — and pages that only take POST (405 to a GET) are left out.
For each page (and the filtered views in `VARIANTS`) the command prints the median and p95 of
the server time (Django's test client: middleware, selectors, presenters and the template),
the same for the Django process's CPU time (on a busy machine the wall time includes waiting
for a core), the number of queries, and marks the pages over the target.
"""

from __future__ import annotations

import itertools
import logging
import math
import statistics
import time
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from django.utils import timezone

from portal.models import HeldCertification, Person
from scoring.benchmark import bench_admin_cleanup, bench_admin_organization, bench_client
from scoring.models import Association
from scoring.selectors import rule_sets_in_force_cached

BENCH_EMAIL = "bench-pages@example.invalid"
PREFIX = "orgs/%(slug)s/"
# Filtered views of a page timed beside it (its query string), the costly filters first.
VARIANTS = {
    "org_people": ["?designation=security", "?expiring=on&certification=AZ-104"],
    "org_customers": [
        "?page=10",
        "?designation=modern-work",
        "?platform=azure&type=PAL&current=on",
    ],
}


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def organization_pages() -> list[tuple[str, str, list[str]]]:
    """(URL name, format string, its parameters) of every named page under `orgs/<slug>/`."""
    pages = []
    for name, entries in get_resolver().reverse_dict.lists():
        if not isinstance(name, str):
            continue
        for possibilities, *_ in entries:
            for route, params in possibilities:
                if route.startswith(PREFIX):
                    pages.append((name, route, list(params)))
    return sorted({(n, r, tuple(p)) for n, r, p in pages})  # type: ignore[misc]


class Command(BaseCommand):
    help = "Time every organization page for one organization with many customers and people."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument("--people", type=int, default=200)
        parser.add_argument("--samples", type=int, default=20)
        parser.add_argument("--target-ms", type=float, default=100.0)
        parser.add_argument("--only", default="", help="time only URL names containing this")
        parser.add_argument("--keep", action="store_true", help="keep the generated data")

    def handle(self, *args: object, **options: object) -> None:
        as_of = timezone.localdate()
        customers, people = int(options["customers"]), int(options["people"])  # type: ignore[call-overload]
        bench = bench_admin_organization(
            customers=customers, people=people, email=BENCH_EMAIL, as_of=as_of
        )
        organization = bench.organization
        designations = [r.designation_code for r in rule_sets_in_force_cached(as_of=as_of)]
        metrics = [
            (r.designation_code, m.code)
            for r in rule_sets_in_force_cached(as_of=as_of)
            for m in r.rules.metrics
        ]
        certifications = list(
            HeldCertification.objects.for_org_id(organization.pk).values_list("person_id", "pk")[
                :50
            ]
        )
        samples_wanted = int(options["samples"])  # type: ignore[call-overload]
        values: dict[str, Iterator[object]] = {
            "slug": itertools.repeat(organization.slug),
            "designation_code": itertools.cycle(designations),
            "person_pk": itertools.cycle(
                Person.objects.for_org_id(organization.pk).values_list("pk", flat=True)[:50]
            ),
            "held_pk": itertools.cycle(
                HeldCertification.objects.for_org_id(organization.pk).values_list("pk", flat=True)[
                    :50
                ]
            ),
            "customer_id": itertools.cycle(
                Association.objects.for_org_id(organization.pk).values_list(
                    "customer_id", flat=True
                )[:50]
            ),
        }
        client = bench_client(bench.user)
        self.stdout.write(
            f"database: {connection.vendor}; one organization, {customers} customers,"
            f" {people} people, as of {as_of}; {samples_wanted} samples a page"
        )
        over = []
        # A GET to an action answers 405, which Django logs as a warning: not news here.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        for name, route, params in organization_pages():
            if options["only"] and str(options["only"]) not in name:
                continue
            for query in ["", *VARIANTS.get(name, [])]:
                urls = self._urls(
                    route, params, values, metrics, certifications, samples_wanted + 1
                )
                if urls is None:
                    self.stdout.write(f"  {name:45} skipped: no sample value for {params}")
                    break
                first = client.get(next(urls) + query)  # warm caches; and what is the page?
                if first.status_code == 405:
                    break  # an action, not a page
                label = name + query
                timings, cpu, queries, statuses = [], [], [], set()
                for url in urls:
                    with CaptureQueriesContext(connection) as captured:
                        started, started_cpu = time.perf_counter(), time.process_time()
                        response = client.get(url + query)
                        timings.append((time.perf_counter() - started) * 1000)
                        cpu.append((time.process_time() - started_cpu) * 1000)
                    queries.append(len(captured))
                    statuses.add(response.status_code)
                p95 = _p95(timings)
                mark = ""
                if p95 > float(options["target_ms"]):  # type: ignore[arg-type]
                    mark = "  OVER"
                    over.append(label)
                self.stdout.write(
                    f"  {label:45} median {statistics.median(timings):6.1f} ms"
                    f"  p95 {p95:6.1f} ms  (CPU {statistics.median(cpu):5.1f} / {_p95(cpu):5.1f})"
                    f"  queries {max(queries):3d}"
                    f"  HTTP {','.join(map(str, sorted(statuses)))}{mark}"
                )
        self.stdout.write(
            f"{len(over)} page(s) over {options['target_ms']} ms p95"
            + (f": {', '.join(over)}" if over else "")
        )
        if not options["keep"]:
            bench_admin_cleanup(email=BENCH_EMAIL)

    @staticmethod
    def _urls(
        route: str,
        params: list[str],
        values: dict[str, Iterator[object]],
        metrics: list[tuple[str, str]],
        certifications: list[tuple[int, int]],
        count: int,
    ) -> Iterator[str] | None:
        """`count` URLs of the page, its arguments varied (None when one cannot be filled)."""
        pairs: Iterator[tuple[tuple[str, object], ...]] | None = None
        paired: set[str] = set()  # the arguments the pairs fill
        fillers = values
        if "metric_code" in params:  # a metric of that designation
            pairs = itertools.cycle(
                (("designation_code", code), ("metric_code", metric)) for code, metric in metrics
            )
            paired = {"designation_code", "metric_code"}
        elif "held_pk" in params:  # a certification of that person
            pairs = itertools.cycle(
                (("person_pk", person), ("held_pk", held)) for person, held in certifications
            )
            paired = {"person_pk", "held_pk"}
        if any(p not in fillers and p not in paired for p in params):
            return None

        def generate() -> Iterator[str]:
            for _ in range(count):
                kwargs: dict[str, object] = {}
                if pairs is not None:
                    kwargs.update(next(pairs))
                for p in params:
                    if p not in kwargs:
                        kwargs[p] = next(fillers[p])
                yield "/" + route % kwargs

        return generate()
