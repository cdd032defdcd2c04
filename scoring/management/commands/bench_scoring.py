"""`manage.py bench_scoring --orgs N --customers-per-org C --months M` — prints figures."""

from __future__ import annotations

import random
import statistics
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from scoring.benchmark import bench_cleanup, bench_existing, bench_generate
from scoring.selectors import rule_sets_in_force
from scoring.services import scores_recompute


def _seconds(action) -> float:  # type: ignore[no-untyped-def]  # any zero-argument callable
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _scan() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(value) FROM scoring_usage")
        cursor.fetchone()


class Command(BaseCommand):
    help = "Generate synthetic telemetry, recompute every score and print timing figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orgs", type=int, default=200)
        parser.add_argument("--customers-per-org", type=int, default=50)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument(
            "--as-of", default="", help="YYYY-MM-DD; default today (the rules in force now)"
        )
        parser.add_argument("--samples", type=int, default=25, help="single-org recomputes")
        parser.add_argument("--keep", action="store_true", help="keep the generated data")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="time the data a previous --keep run left instead of generating it again",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="worker processes for the full recompute's chunks",
        )

    def handle(self, *args: object, **options: object) -> None:
        as_of = (
            date.fromisoformat(str(options["as_of"])) if options["as_of"] else timezone.localdate()
        )
        orgs, customers, months = options["orgs"], options["customers_per_org"], options["months"]
        self.stdout.write(f"database: {connection.vendor}; as of {as_of}")
        in_force = rule_sets_in_force(as_of=as_of)
        self.stdout.write(
            "rule sets in force: "
            + ", ".join(
                f"{rs.designation_code} {rs.model.release or rs.model.version}" for rs in in_force
            )
        )
        data = bench_existing() if options["reuse"] else None
        if data is None or not data.organization_ids:
            bench_cleanup()
            started = time.perf_counter()
            data = bench_generate(
                organizations=int(orgs),  # type: ignore[call-overload]
                customers_per_org=int(customers),  # type: ignore[call-overload]
                months=int(months),  # type: ignore[call-overload]
                as_of=as_of,
            )
            self.stdout.write(f"generated in {time.perf_counter() - started:.1f} s")
        else:
            self.stdout.write("reusing the data of a previous --keep run")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE scoring_usage")
                cursor.execute("ANALYZE")
        ids = data.organization_ids
        # Warm the caches (table, indexes, rule sets) so that every figure is taken warm.
        _scan()
        scores_recompute(organization_ids=ids[:250], as_of=as_of)
        scan = _seconds(_scan)
        workers = int(options["workers"])  # type: ignore[call-overload]
        recompute = _seconds(
            lambda: scores_recompute(organization_ids=ids, as_of=as_of, workers=workers)
        )
        half = _seconds(
            lambda: scores_recompute(
                organization_ids=ids[: len(ids) // 2], as_of=as_of, workers=workers
            )
        )
        rng = random.Random(11)
        sample = rng.sample(ids, min(int(options["samples"]), len(ids)))  # type: ignore[call-overload]
        singles = [
            _seconds(lambda pk=pk: scores_recompute(organization_ids=[pk], as_of=as_of))
            for pk in sample
        ]
        self.stdout.write(f"organizations:            {len(ids)}")
        self.stdout.write(f"telemetry rows:           {data.usage_rows}")
        self.stdout.write(f"recompute seconds:        {recompute:.2f} ({workers} worker processes)")
        self.stdout.write(f"organizations per second: {len(ids) / recompute:.1f}")
        self.stdout.write(f"SUM(value) scan seconds:  {scan:.3f}")
        self.stdout.write(f"recompute / scan:         {recompute / scan:.1f}x")
        self.stdout.write(
            f"half the orgs seconds:    {half:.2f} (full / half {recompute / half:.2f}x)"
        )
        self.stdout.write(f"one organization median:  {statistics.median(singles) * 1000:.1f} ms")
        if not options["keep"]:
            bench_cleanup()
