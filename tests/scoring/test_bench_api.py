"""bench_api's parts that need no server: wrk's figures, and a clear stop without wrk."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scoring.management.commands import bench_api

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:41234/api/v1/ping/
  2 threads and 16 connections
  Latency Distribution
     50%  125.80ms
     99%  184.30ms
  1431 requests in 10.01s, 0.52MB read
Requests/sec:    142.96
"""
WRK_OUTPUT += (
    'BENCH {"requests": 1431, "seconds": 10.010000, "errors": 0, '
    '"p50": 125800, "p95": 171100, "p99": 184300}\n'
)


def test_the_done_hooks_figures_are_read():
    result = bench_api.parse_wrk(WRK_OUTPUT)
    assert (result.requests, result.errors) == (1431, 0)
    assert result.per_second == pytest.approx(142.96, abs=0.01)
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == (125.8, 171.1, 184.3)


def test_output_without_the_figures_is_an_error():
    with pytest.raises(CommandError, match="no figures"):
        bench_api.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_without_wrk_the_command_stops_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(bench_api.shutil, "which", lambda name: None)
    with pytest.raises(CommandError, match="wrk is not installed"):
        call_command("bench_api")
