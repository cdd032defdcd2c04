"""`manage.py bench_api`: the REST API under a real load generator, on the configured database.

1. Throughput: one synthetic organization (the scoring benchmark's generator, everything named
   "Bench") with its scores, an organization key, gunicorn (2 workers, DEBUG off) on a free
   loopback port, and `wrk` against `GET /api/v1/ping/` (the trivial endpoint) and
   `GET /api/v1/orgs/<partner_id>/scores/` (the score read) in the same run: requests/s, p95
   latency and the ratio score/ping (target ≥ 50 %).
2. Bulk (`--rows N`, 0 to skip): the same N usage rows of bench_import's generator, once through
   `import_csv` (what `import_data` runs) and once as the same CSV posted to
   `POST /api/v1/telemetry/usage/` with a platform key, timed until its job has succeeded; the
   usage written is removed between the two so that both create every row. Rows/s of each and
   the ratio API/import (target ≥ 80 %).

wrk (`/usr/bin/wrk`) is required; without it the command stops with a non-zero status.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from portal.api_keys import organization_key_create, platform_key_create
from portal.models import Membership, Organization, OrganizationAPIKey, PlatformAPIKey, User
from scoring.benchmark import BENCH_PREFIX, bench_cleanup, bench_generate
from scoring.imports import import_csv
from scoring.management.commands import bench_import
from scoring.models import Customer
from scoring.services import scores_recompute

BENCH_EMAIL = "bench-api@example.invalid"
KEY_NAME = "Bench API"
WRK = "/usr/bin/wrk"

# wrk's `done` hook: the figures as one JSON line (latencies in microseconds).
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %f, "errors": %d, "p50": %d, "p95": %d, "p99": %d}\\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_wrk(output: str) -> WrkResult:
    """The figures of the `done` hook's line in wrk's output."""
    match = re.search(r"^BENCH (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise CommandError(f"wrk printed no figures:\n{output}")
    data = json.loads(match.group(1))
    return WrkResult(
        requests=int(data["requests"]),
        seconds=float(data["seconds"]),
        errors=int(data["errors"]),
        p50_ms=data["p50"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
    )


class Command(BaseCommand):
    help = (
        "Benchmark the REST API on gunicorn with wrk: the score read against the trivial ping "
        "(requests/s, p95), and a bulk usage upload against import_data (rows/s)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=500, help="Customers of the org.")
        parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run.")
        parser.add_argument("--connections", type=int, default=16, help="wrk connections.")
        parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
        parser.add_argument("--rounds", type=int, default=3, help="wrk runs per endpoint.")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
        parser.add_argument(
            "--rows", type=int, default=100_000, help="Usage rows of the bulk comparison (0: skip)."
        )
        parser.add_argument(
            "--bulk-rounds", type=int, default=2, help="API uploads (between import_data runs)."
        )
        parser.add_argument(
            "--reuse", action="store_true", help="Reuse the benchmark organization if present."
        )
        parser.add_argument("--keep", action="store_true", help="Keep the generated data.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (shutil.which(WRK) or shutil.which("wrk")):
            raise CommandError(
                f"wrk is not installed ({WRK} not found): install it (apt-get install wrk) to "
                "run this benchmark."
            )
        self.wrk = shutil.which(WRK) or shutil.which("wrk") or WRK
        self.options = options
        self.stdout.write(f"Database: {connection.vendor}")
        organization = self._organization(options["customers"], options["reuse"])
        user = self._admin(organization)
        org_key = organization_key_create(
            organization=organization, actor=user, name=KEY_NAME, scope="read"
        ).key
        platform_key = platform_key_create(actor=user, name=KEY_NAME).key
        try:
            with self._gunicorn() as base_url:
                self._throughput(base_url, organization, org_key)
                if options["rows"] > 0:
                    self._bulk(base_url, options["rows"], platform_key)
        finally:
            OrganizationAPIKey.objects.for_org(organization).filter(name=KEY_NAME).delete()
            PlatformAPIKey.objects.filter(name=KEY_NAME).delete()
            if not options["keep"]:
                User.objects.filter(email=BENCH_EMAIL).delete()
                bench_cleanup()
                Customer.objects.filter(name__startswith=bench_import.BENCH_NAME).delete()

    # --- data --------------------------------------------------------------------------------

    def _organization(self, customers: int, reuse: bool) -> Organization:
        existing = Organization.objects.filter(name__startswith=f"{BENCH_PREFIX} partner ").first()
        if reuse and existing is not None:
            self.stdout.write(f"Reusing {existing.name}.")
            return existing
        User.objects.filter(email=BENCH_EMAIL).delete()
        bench_cleanup()
        started = time.perf_counter()
        data = bench_generate(
            organizations=1, customers_per_org=customers, months=24, as_of=timezone.localdate()
        )
        scores_recompute(organization_ids=data.organization_ids, as_of=timezone.localdate())
        self.stdout.write(
            f"Seeded 1 organization, {customers} customers, {data.usage_rows} usage rows and its "
            f"scores in {time.perf_counter() - started:.1f} s."
        )
        return Organization.objects.get(pk=data.organization_ids[0])

    @staticmethod
    def _admin(organization: Organization) -> User:
        user = User.objects.filter(email=BENCH_EMAIL).first()
        if user is None:
            user = User.objects.create_user(email=BENCH_EMAIL, password=None)
            user.is_staff = True  # platform keys are created by staff
            user.save(update_fields=["is_staff"])
        Membership.objects.unscoped().get_or_create(
            organization=organization, user=user, defaults={"role": Membership.Role.ADMIN}
        )
        return user

    # --- the server --------------------------------------------------------------------------

    @contextmanager
    def _gunicorn(self) -> Iterator[str]:
        port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
            "CONN_MAX_AGE": "600",  # persistent connections, as in production
            "API_RATE_LIMIT": "100000000/s",  # the load generator is one key
            "API_BULK_RATE_LIMIT": "100000000/s",
            "CELERY_TASK_ALWAYS_EAGER": "true",  # a bulk job runs in the web worker
            "LOG_LEVEL": "ERROR",  # not a line per 401 of the start-up check
            "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collected static files
        }
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            env.setdefault("DATABASE_URL", f"sqlite:///{settings.DATABASES['default']['NAME']}")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(self.options["workers"]),
            "--timeout",
            "900",
            "--log-level",
            "warning",
        ]
        process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
        base_url = f"http://127.0.0.1:{port}"
        try:
            self._wait_until_up(process, base_url)
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @staticmethod
    def _wait_until_up(process: subprocess.Popen[bytes], base_url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(f"gunicorn exited with status {process.returncode}.")
            try:
                urllib.request.urlopen(f"{base_url}/api/v1/ping/", timeout=2)
            except urllib.error.HTTPError:
                return  # it answers (a 401 without a key)
            except OSError:
                time.sleep(0.3)
        raise CommandError("gunicorn did not answer within 60 s.")

    # --- throughput --------------------------------------------------------------------------

    def _wrk(self, url: str, key: str, script: Path, seconds: int | None = None) -> WrkResult:
        header = f"Authorization: Bearer {key}"
        check = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(check, timeout=30) as response:  # fails loudly if not 200
            response.read()
        command = [
            self.wrk,
            f"-t{self.options['threads']}",
            f"-c{self.options['connections']}",
            f"-d{seconds or self.options['duration']}s",
            "--latency",
            "-H",
            header,
            "-s",
            str(script),
            url,
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        result = parse_wrk(output)
        if result.errors:
            raise CommandError(f"{result.errors} failed requests to {url}:\n{output}")
        return result

    def _throughput(self, base_url: str, organization: Organization, key: str) -> None:
        ping_url = f"{base_url}/api/v1/ping/"
        score_url = f"{base_url}/api/v1/orgs/{organization.partner_id}/scores/"
        with tempfile.TemporaryDirectory() as directory:
            script = Path(directory) / "done.lua"
            script.write_text(WRK_SCRIPT)
            self.stdout.write(
                f"wrk: {self.options['threads']} threads, {self.options['connections']} "
                f"connections, {self.options['duration']} s each; gunicorn "
                f"{self.options['workers']} workers"
            )
            for url in (ping_url, score_url):
                self._wrk(url, key, script, seconds=2)  # warm-up: connections, caches, imports
            runs: dict[str, list[WrkResult]] = {"ping": [], "score read": []}
            # Interleaved rounds, the median of each: the machine's other load hits both alike.
            for _round in range(self.options["rounds"]):
                runs["ping"].append(self._wrk(ping_url, key, script))
                runs["score read"].append(self._wrk(score_url, key, script))
            results = {}
            for name, measured in runs.items():
                results[name] = result = sorted(measured, key=lambda r: r.per_second)[
                    len(measured) // 2
                ]
                each = ", ".join(f"{r.per_second:,.0f}" for r in measured)
                self.stdout.write(
                    f"{name:<11} {result.per_second:8,.0f} requests/s   p50 {result.p50_ms:6.1f} "
                    f"ms   p95 {result.p95_ms:6.1f} ms   p99 {result.p99_ms:6.1f} ms   "
                    f"(median of {len(measured)} runs: {each})"
                )
        ratio = results["score read"].per_second / results["ping"].per_second
        verdict = "met" if ratio >= 0.5 else "MISSED"
        self.stdout.write(f"score read / ping: {ratio:.0%} (target >= 50 %: {verdict})")

    # --- bulk --------------------------------------------------------------------------------

    def _bulk(self, base_url: str, rows: int, key: str) -> None:
        rng = random.Random(2022)
        customers = bench_import._customers(rng, rows)
        Customer.objects.filter(name__startswith=bench_import.BENCH_NAME).delete()
        with tempfile.TemporaryFile() as customer_file, tempfile.TemporaryFile() as usage_file:
            bench_import._write(customer_file, bench_import._customer_lines(customers))
            bench_import._write(usage_file, bench_import._usage_lines(rng, customers, rows))
            customer_file.seek(0)
            if not import_csv("customers", customer_file).ok:
                raise CommandError("The generated customers did not import.")
            usage_file.seek(0)
            body = usage_file.read()
        self.stdout.write(f"Bulk: {rows} usage rows, {len(body) / 1e6:.1f} MB of CSV")

        # import_data and the API in turn, import_data first and last: the API's mean is
        # compared with import_data's (the table is emptied and vacuumed before each run, so
        # every run creates every row into the same table).
        imports: list[float] = []
        posts: list[float] = []
        steps = ["import_data", "API (CSV)"] * self.options["bulk_rounds"] + ["import_data"]
        for step in steps:
            self._remove_usage()
            started = time.perf_counter()
            if step == "import_data":
                result = import_csv("usage", io.BytesIO(body))
                if not result.ok or result.created != rows:
                    raise CommandError(
                        f"import_csv: {result.errors[:5]} ({result.created} created)"
                    )
            else:
                report = self._post_and_wait(f"{base_url}/api/v1/telemetry/usage/", key, body)
                if report.get("created") != rows:
                    raise CommandError(f"The API upload did not create every row: {report}")
            seconds = time.perf_counter() - started
            (imports if step == "import_data" else posts).append(rows / seconds)
            self.stdout.write(
                f"{step:<12} {rows} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s"
            )
        self._remove_usage()
        imported = sum(imports) / len(imports)
        posted = sum(posts) / len(posts)
        ratio = posted / imported
        verdict = "met" if ratio >= 0.8 else "MISSED"
        self.stdout.write(
            f"API / import_data (means {posted:,.0f} / {imported:,.0f} rows/s): {ratio:.0%} "
            f"(target >= 80 %: {verdict})"
        )

    @staticmethod
    def _remove_usage() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM scoring_usage WHERE customer_id IN "
                "(SELECT id FROM scoring_customer WHERE name LIKE %s)",
                [f"{bench_import.BENCH_NAME} %"],
            )
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                cursor.execute("VACUUM ANALYZE scoring_usage")  # no dead rows for the next run

    @staticmethod
    def _post_and_wait(url: str, key: str, body: bytes) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=900) as response:
            answer = json.loads(response.read())
        if "state" not in answer:  # a small batch is answered at once
            return dict(answer)
        while answer["state"] in ("queued", "running"):
            time.sleep(0.2)
            poll = urllib.request.Request(
                answer["url"], headers={"Authorization": headers["Authorization"]}
            )
            with urllib.request.urlopen(poll, timeout=60) as response:
                answer = json.loads(response.read())
        if answer["state"] != "succeeded":
            raise CommandError(f"The API job failed: {answer.get('error')}")
        return dict(answer["report"])
