"""`manage.py bench_import --rows N`: time a usage import of N rows on the configured database.

On PostgreSQL each usage import is measured against a plain COPY of the same file into an
untyped, unindexed table (text columns, the file's shape), timed in the same run just before
it: the ratio is what the import costs over the database's own bulk load. The resident memory
is sampled while the rows are read (at a quarter, half and all of them) to show it stays flat.
"""

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
from scoring.imports import ImportResult, setbased
from scoring.imports.api import _importer, _load, _load_chunked
from scoring.imports.sources import CsvSource
from scoring.imports.tracked import _CountingSource
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
        parser.add_argument(
            "--chunked",
            action="store_true",
            help="Time the chunked path (read twice, written chunk by chunk) instead of the "
            "set-based one on PostgreSQL.",
        )

    def handle(
        self,
        *args: Any,
        rows: int,
        seed: int,
        repeat: bool,
        keep: bool,
        chunked: bool,
        **options: Any,
    ) -> None:
        if rows < 1:
            raise CommandError("--rows must be at least 1.")
        self.chunked = chunked
        self.milestones = sorted({max(1, rows // 4), max(1, rows // 2), rows})
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
        baseline = _plain_copy(stream) if kind == "usage" and _copies() else None
        stream.seek(0)
        memory = _MemoryProbe(self.milestones if kind == "usage" else [])
        importer = _importer(kind, actor=None)
        source = _CountingSource(CsvSource(stream), memory)
        started = time.perf_counter()
        result = _load_chunked(importer, source) if self.chunked else _load(importer, source)
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
        if kind == "usage" and not self.chunked and setbased.last_phases:
            shown = ", ".join(f"{name} {sec:.2f} s" for name, sec in setbased.last_phases.items())
            self.stdout.write(f"  phases: {shown}")
        if memory.samples:
            shown = ", ".join(f"{rows:,} rows {mb:.0f} MB" for rows, mb in memory.samples)
            self.stdout.write(f"  RSS while reading: {shown}")
        if baseline is not None:
            plain, temporary = baseline
            self.stdout.write(
                f"  plain COPY of the same file into an untyped, unindexed table: {plain:.2f} s "
                f"(a temporary one: {temporary:.2f} s); "
                f"import / COPY = {seconds / min(plain, temporary):.1f}x"
            )
        return result


class _MemoryProbe:
    """A progress listener that notes the resident memory when the rows read pass milestones."""

    def __init__(self, milestones: list[int]) -> None:
        self._pending = list(milestones)
        self.samples: list[tuple[int, float]] = []

    def validated(self, rows: int) -> None:
        while self._pending and rows >= self._pending[0]:
            self.samples.append((self._pending.pop(0), _rss_mb()))

    def written(self, rows: int) -> None:
        pass


def _rss_mb() -> float:
    """The process's resident set now (not its peak), from /proc."""
    try:
        with open("/proc/self/status") as status:
            for text in status:
                if text.startswith("VmRSS:"):
                    return int(text.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _copies() -> bool:
    return connection.vendor == "postgresql"


def _plain_copy(stream: Any) -> tuple[float, float]:
    """Seconds to COPY the CSV file as it is into an untyped, unindexed table: a plain table
    and a temporary one (no WAL, like the import's staging table); the faster is the baseline.
    """
    stream.seek(0)
    header = stream.readline().decode().strip().split(",")
    columns = ", ".join(f"{name} text" for name in header)
    seconds = []
    for temporary in ("", "TEMPORARY"):
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE {temporary} TABLE bench_plain_copy ({columns})")
            try:
                stream.seek(0)
                started = time.perf_counter()
                sql = "COPY bench_plain_copy FROM STDIN (FORMAT csv, HEADER)"
                with cursor.cursor.copy(sql) as copy:
                    while block := stream.read(1 << 20):
                        copy.write(block)
                seconds.append(time.perf_counter() - started)
            finally:
                cursor.execute("DROP TABLE bench_plain_copy")
    return seconds[0], seconds[1]


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
