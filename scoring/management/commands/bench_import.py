"""`manage.py bench_import --rows N`: time a usage import of N rows on the configured database."""

from __future__ import annotations

import io
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from portal.csvsafe import SafeWriter
from scoring.imports import ImportResult, import_csv
from scoring.models import Customer

BENCH_NAME = "Bench customer"
MONTHS = [f"{year}-{month:02d}" for year in (2023, 2024) for month in range(1, 13)]

# What a customer of each platform reports every month: (measure, workload, typical size).
REPORTS = {
    "m365": [
        ("paid_seats", "", 400),
        ("protected_users", "MDE", 250),
        ("protected_users", "AADP", 300),
        ("active_users", "Teams", 350),
        ("active_users", "Exchange", 380),
    ],
    "azure": [
        ("acr_usd", "security", 1500),
        ("acr_usd", "infrastructure", 9000),
        ("acr_usd", "data-ai", 4000),
    ],
    "dynamics": [
        ("paid_seats", "", 120),
        ("active_users", "D365Sales", 100),
        ("revenue_usd", "D365Sales", 8000),
    ],
}
PLATFORM_SHARE = [("m365", 0.6), ("azure", 0.25), ("dynamics", 0.15)]


class Command(BaseCommand):
    help = (
        "Generate a usage CSV of N plausible rows (and its customers), import it with "
        "import_csv, and print rows, seconds, rows/s and peak RSS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000, help="Usage rows to import.")
        parser.add_argument("--seed", type=int, default=2022, help="Seed of the generated data.")
        parser.add_argument(
            "--repeat", action="store_true", help="Import the same file again (all unchanged)."
        )
        parser.add_argument(
            "--keep", action="store_true", help="Keep the generated customers and usage."
        )

    def handle(
        self, *args: Any, rows: int, seed: int, repeat: bool, keep: bool, **options: Any
    ) -> None:
        if rows < 1:
            raise CommandError("--rows must be at least 1.")
        rng = random.Random(seed)
        customers = _customers(rng, rows)
        self.stdout.write(
            f"Database: {connection.vendor}; {len(customers)} customers, {rows} usage rows."
        )
        try:
            with tempfile.TemporaryFile() as customer_file, tempfile.TemporaryFile() as usage_file:
                _write(customer_file, _customer_lines(customers))
                _write(usage_file, _usage_lines(rng, customers, rows))
                self.stdout.write(f"Usage CSV: {usage_file.tell() / 1e6:.1f} MB")
                self._timed("customers", customer_file)
                self._timed("usage", usage_file)
                if repeat:
                    self._timed("usage", usage_file)
        finally:
            if not keep:
                deleted, _ = Customer.objects.filter(name__startswith=BENCH_NAME).delete()
                self.stdout.write(f"Cleaned up {deleted} generated rows.")

    def _timed(self, kind: str, stream: Any) -> ImportResult:
        stream.seek(0)
        started = time.perf_counter()
        result = import_csv(kind, stream)
        seconds = time.perf_counter() - started
        if not result.ok:
            for error in result.errors[:20]:
                self.stderr.write(str(error))
            raise CommandError(f"The generated {kind} file did not import.")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        self.stdout.write(
            f"{kind}: {result.rows} rows in {seconds:.1f} s = {result.rows / seconds:,.0f} rows/s "
            f"({result.created} created, {result.updated} updated, {result.unchanged} unchanged); "
            f"peak RSS {peak_mb:.0f} MB"
        )
        return result


def _customers(rng: random.Random, rows: int) -> list[tuple[str, str]]:
    """Just enough (platform, customer id) pairs for `rows` monthly figures over 24 months."""
    platforms = [p for p, _ in PLATFORM_SHARE]
    weights = [share for _, share in PLATFORM_SHARE]
    customers: list[tuple[str, str]] = []
    capacity = 0
    while capacity < rows:
        platform = rng.choices(platforms, weights)[0]
        if platform == "azure":
            customer_id = str(9_000_000_000 + len(customers))
        else:
            customer_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        customers.append((platform, customer_id))
        capacity += len(REPORTS[platform]) * len(MONTHS)
    return customers


def _customer_lines(customers: list[tuple[str, str]]) -> Iterator[tuple[str, ...]]:
    yield ("platform", "customer_id", "name", "country", "production")
    for number, (platform, customer_id) in enumerate(customers):
        yield (platform, customer_id, f"{BENCH_NAME} {number}", "JP", "true")


def _usage_lines(
    rng: random.Random, customers: list[tuple[str, str]], rows: int
) -> Iterator[tuple[str, ...]]:
    """Month by month, every customer's figures, growing a little each month; stops at `rows`."""
    yield ("month", "platform", "customer_id", "measure", "workload", "value")
    written = 0
    sizes = {customer: rng.uniform(0.2, 3.0) for customer in customers}
    for step, month in enumerate(MONTHS):
        growth = 1 + step / 48
        for customer in customers:
            platform, customer_id = customer
            for measure, workload, typical in REPORTS[platform]:
                value = typical * sizes[customer] * growth
                shown = f"{value:.2f}" if measure.endswith("_usd") else str(round(value))
                yield (month, platform, customer_id, measure, workload, shown)
                written += 1
                if written >= rows:
                    return


def _write(stream: Any, lines: Iterator[tuple[str, ...]]) -> None:
    """The rows as UTF-8 CSV, written through the portal's one CSV writer, in batches."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, lineterminator="\n")
    for number, line in enumerate(lines, start=1):
        writer.writerow(line)
        if number % 10_000 == 0:
            stream.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    stream.write(buffer.getvalue().encode())
