"""Property: whatever an import is given, it reports or imports, never raises, never half-writes.

Every kind, through both doors (CSV bytes and JSON records): rows built from the kind's real
columns with arbitrary text, numbers and dates (NUL characters and lone surrogates included),
valid rows mixed in, and files with arbitrary bytes spliced in. Each example runs in a
transaction that is rolled back, so the examples share the fixtures and never each other's rows.
"""

from __future__ import annotations

import csv
import io
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from portal.models import Organization
from scoring.imports import SPECS, ImportResult, import_csv, import_records
from tests.factories import PersonFactory
from tests.scoring.test_imports import DYN_A, M365_A, TPID_A, make_customers, table_counts

# CI=true (as .ci/run runs): the same examples on every run, so a red CI is reproducible.
settings.register_profile(
    "imports-ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "imports-dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = "imports-ci" if os.environ.get("CI") == "true" else "imports-dev"

# Rows that import cleanly against the fixtures below, one or two per kind.
VALID_ROWS: dict[str, list[dict[str, str]]] = {
    "organizations": [
        {"partner_id": "3000001", "name": "Woodgrove", "country": "JP",
         "renewal_date": "2026-03-31", "legacy_competencies": "Cloud Platform:gold"},
        {"partner_id": "1000001", "name": "Contoso Security", "country": "US"},
    ],
    "people": [
        {"partner_id": "1000001", "person_id": "P-2", "name": "Ben Ito",
         "email": "ben@contoso.example"},
        {"partner_id": "1000001", "person_id": "P-1", "name": "Aiko Tanaka"},
    ],
    "certifications": [
        {"partner_id": "1000001", "person_id": "P-1", "certification": "AZ-500",
         "earned_on": "2024-01-15", "expires_on": "2025-01-15"},
    ],
    "customers": [
        {"platform": "m365", "customer_id": M365_A, "name": "Northwind", "country": "JP",
         "production": "true"},
        {"platform": "azure", "customer_id": "77", "name": "Proseware"},
    ],
    "associations": [
        {"partner_id": "1000001", "platform": "m365", "customer_id": M365_A, "type": "CPOR",
         "workload": "MDE", "start_month": "2023-04", "end_month": ""},
        {"partner_id": "1000001", "platform": "azure", "customer_id": TPID_A, "type": "PAL",
         "start_month": "2023-01", "end_month": "2024-06"},
    ],
    "usage": [
        {"month": "2024-01", "platform": "m365", "customer_id": M365_A,
         "measure": "paid_seats", "workload": "", "value": "30"},
        {"month": "2024-01", "platform": "dynamics", "customer_id": DYN_A,
         "measure": "revenue_usd", "workload": "D365Sales", "value": "99.9"},
    ],
}  # fmt: skip

# Values that parse for some column of some kind, so that rows get past the first check.
PLAUSIBLE = st.sampled_from(
    sorted({value for rows in VALID_ROWS.values() for row in rows for value in row.values()})
)
NASTY = st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "=HYPERLINK(1)", "-0", "0001-01-01", "0001-01", "9999-12",
     "9999-12-31", "1" * 40, "9" * 5000, " ", '"', "\r\n", "é" * 300, "x" * 255]
)  # fmt: skip
DATES = st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
MONTHS = st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}")
NUMBERS = st.one_of(
    # Bounded: Python will not print integers of more than 4,300 digits (nor may the test).
    st.integers(min_value=-(10**50), max_value=10**50).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: format(d, "f")),
)
TEXT = st.one_of(
    PLAUSIBLE, NASTY, DATES, MONTHS, NUMBERS, st.text(max_size=30), st.text(max_size=300)
)
JSON_VALUE = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.integers(min_value=10**39, max_value=10**5000),  # past any column, and str()
    st.decimals(),
    st.lists(st.integers(), max_size=2),
)


def rows_of(kind: str, values: st.SearchStrategy[object]) -> st.SearchStrategy[list[dict]]:
    """Lists of rows of the kind's columns (some left out), valid rows mixed in."""
    columns = SPECS[kind].columns
    arbitrary = st.fixed_dictionaries({}, optional=dict.fromkeys(columns, values))
    valid = st.sampled_from(VALID_ROWS[kind])
    return st.lists(st.one_of(valid, arbitrary), min_size=1, max_size=6)


def csv_bytes(kind: str, rows: list[dict]) -> bytes:
    """The rows as a UTF-8 CSV of the kind's columns; a lone surrogate is written escaped."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SPECS[kind].columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in SPECS[kind].columns])
    return out.getvalue().encode("utf-8", "backslashreplace")


@pytest.fixture
def world(org):
    """What the valid rows refer to: an organization with a person, and customers."""
    PersonFactory(organization=org, person_id="P-1")
    make_customers()
    return org


def check(run) -> ImportResult:
    """Run one import in a transaction that is rolled back; report or import, never half-write."""
    with transaction.atomic():
        before = table_counts()
        result = run()
        assert isinstance(result, ImportResult)
        if not result.ok:
            assert table_counts() == before
            assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
            for error in result.errors:
                assert isinstance(error.line, int) and error.line >= 1
                assert isinstance(error.column, str) and isinstance(error.value, str)
                assert isinstance(error.reason, str) and error.reason
                str(error).encode("utf-8")  # printable: the command writes it to stderr
        transaction.set_rollback(True)
    event("imported" if result.ok else "reported")  # --hypothesis-show-statistics shows the mix
    return result


KINDS = list(SPECS)


@pytest.mark.parametrize("kind", KINDS)
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_arbitrary_records_are_reported_or_imported(world, kind, data):
    records = data.draw(rows_of(kind, JSON_VALUE), label="records")

    check(lambda: import_records(kind, records))


@pytest.mark.parametrize("kind", KINDS)
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_arbitrary_csv_rows_are_reported_or_imported(world, kind, data):
    rows = data.draw(rows_of(kind, TEXT), label="rows")

    check(lambda: import_csv(kind, io.BytesIO(csv_bytes(kind, rows))))


@pytest.mark.parametrize("kind", KINDS)
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_arbitrary_bytes_in_a_file_are_reported_or_imported(world, kind, data):
    valid = VALID_ROWS[kind]
    chosen = data.draw(st.sets(st.sampled_from(range(len(valid))), min_size=1), label="rows")
    good = csv_bytes(kind, [valid[index] for index in sorted(chosen)])
    at = data.draw(st.integers(min_value=0, max_value=len(good)), label="at")
    # Letters are often harmless where they land; the rest breaks a cell, a line or the text.
    spliced = data.draw(
        st.one_of(
            st.binary(min_size=1, max_size=40),
            st.lists(st.sampled_from(b'ab\x00\xff\xc3,"\r\n\t'), min_size=1).map(bytes),
        ),
        label="bytes",
    )
    whole = data.draw(st.booleans(), label="whole file arbitrary")
    payload = data.draw(st.binary(max_size=400)) if whole else good[:at] + spliced + good[at:]

    check(lambda: import_csv(kind, io.BytesIO(payload)))


def test_the_valid_rows_do_import(world):
    """The rows mixed in above are really valid, so the examples exercise the writes too."""
    with transaction.atomic():
        for kind, rows in VALID_ROWS.items():
            result = import_records(kind, rows)
            assert result.ok, (kind, result.errors)
            assert result.created + result.updated + result.unchanged == len(rows)
        transaction.set_rollback(True)
    assert Organization.objects.unscoped().count() == 1  # rolled back
