"""The set-based usage import (PostgreSQL) against the chunked one: same tables, same reports.

Each case runs the same file through both paths, each inside a savepoint that is rolled back
afterwards, and compares what they left in the usage tables (the yearly pivot the triggers keep
included) and the whole report (counts, organizations, every error).
"""

from __future__ import annotations

import io
import random
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction

from scoring.imports import import_csv, setbased
from scoring.imports.api import _load_chunked
from scoring.imports.fields import PLAIN_SHAPES, VALUE_DIGITS, VALUE_PLACES, FieldError
from scoring.imports.sources import CsvSource, RecordsSource
from scoring.imports.usage import UsageImporter
from scoring.models import Customer, Usage, UsageYear
from tests.scoring.test_imports import (
    DYN_A,
    M365_A,
    M365_B,
    TPID_A,
    USAGE,
    AssociationFactory,
    UsageFactory,
    csv_file,
    make_customers,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-based import is PostgreSQL's"
)

LOADERS = {"chunked": _load_chunked, "set-based": setbased.load}


def tables() -> dict[str, set[tuple[Any, ...]]]:
    usage = set(Usage.objects.values_list("customer_id", "measure", "workload", "month", "value"))
    year_columns = ["customer_id", "measure", "workload", "year"] + [f"m{m}" for m in range(1, 13)]
    years = set(UsageYear.objects.values_list(*year_columns))
    return {"usage": usage, "usage_year": years}


Data = str | bytes | list[dict[str, object]]


def _source(data: Data) -> CsvSource | RecordsSource:
    if isinstance(data, list):
        return RecordsSource(data)
    return CsvSource(io.BytesIO(data) if isinstance(data, bytes) else csv_file(data))


def both(data: Data) -> dict[str, Any]:
    """The report and the tables each path leaves; nothing of either stays written."""
    outcomes = {}
    for name, load in LOADERS.items():
        with transaction.atomic():
            importer = UsageImporter()
            assert setbased.applies(importer)
            setbased.last_phases.clear()
            result = load(importer, _source(data))
            outcomes[name] = (result.as_dict(), tables(), way())
            transaction.set_rollback(True)
    return outcomes


def way() -> str:
    """Which way the last set-based load went: "plain" (COPY of the file itself) or "rows"."""
    if "plain way given up" in setbased.last_phases:
        return "rows"
    return "plain" if "read and COPY" in setbased.last_phases else "rows"


def assert_same(data: Data, *, expected_way: str | None = None) -> dict[str, Any]:
    outcomes = both(data)
    chunked, set_based = outcomes["chunked"], outcomes["set-based"]
    assert set_based[0] == chunked[0]
    assert set_based[1] == chunked[1]
    if expected_way is not None:
        assert set_based[2] == expected_way
    return chunked[0]


@pytest.fixture
def customers(org) -> dict[str, Customer]:
    made = make_customers()
    AssociationFactory(organization=org, customer=made["m365"])
    AssociationFactory(organization=org, customer=made["azure"], type="PAL")
    return made


def many_rows(months: int, *, bump: int = 0) -> str:
    """Several customers and measures over `months` months (values grow; `bump` adds to some)."""
    lines = ["month,platform,customer_id,measure,workload,value"]
    for index in range(months):
        month = f"{2022 + index // 12}-{index % 12 + 1:02d}"
        extra = bump if index % 3 == 0 else 0
        lines += [
            f"{month},m365,{M365_A},paid_seats,,{30 + index + extra}",
            f"{month},m365,{M365_A.upper()},protected_users,mde,{12 + index}",
            f"{month},m365,{M365_B},active_users,Teams,{25 + extra}",
            f"{month},azure,000{TPID_A},acr_usd,security,{1250.5 + index + extra:.2f}",
            f"{month},dynamics,{DYN_A},revenue_usd,D365Sales,99.9",
        ]
    return "\n".join(lines)


def test_new_rows_give_the_same_tables_and_report(org, customers):
    report = assert_same(many_rows(30), expected_way="plain")

    assert (report["created"], report["updated"], report["unchanged"]) == (150, 0, 0)
    assert report["organization_ids"] == [org.id]


def test_a_reimport_changes_nothing_on_either_path(customers):
    import_csv("usage", csv_file(many_rows(30)))

    report = assert_same(many_rows(30), expected_way="plain")

    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 150)


def test_changed_and_new_values_are_counted_alike(customers):
    import_csv("usage", csv_file(many_rows(24)))

    report = assert_same(many_rows(30, bump=5), expected_way="plain")

    # 30 new rows (6 more months); every third of the first 24 months bumped on 3 series.
    assert (report["created"], report["updated"], report["unchanged"]) == (30, 24, 96)


def test_stored_values_written_differently_are_unchanged(customers):
    import_csv("usage", csv_file(USAGE))

    report = assert_same(USAGE.replace(",30\n", ",030\n").replace("99.9", "99.90"))

    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 6)


BAD = f"""
    month,platform,customer_id,measure,workload,value
    2024-01,m365,{M365_A},paid_seats,,30
    2024-13,m365,{M365_A},paid_seats,,30
    2024-02,m365,{M365_A},paid_seats,,-5
    2024-02,m365,1234-not-a-guid,paid_seats,,30
    2024-02,azure,TPID42,acr_usd,security,10
    2024-02,azure,{TPID_A},acr_usd,security,10.005
    2024-02,azure,{TPID_A},paid_seats,,10
    2024-02,m365,{M365_A},protected_users,Quantum,10
    2024-01,m365,{M365_A},paid_seats,,31
    2024-02,m365,{M365_A},paid_seats,AzureDefender,3
    2024-02,m365,{M365_A},active_users,,3
    2024-02,m365,{M365_A},certifications,,1.5
    2024-02,m365,{DYN_A},paid_seats,,3
    2024-02,m365,{DYN_A},paid_seats,,4
    2024-02,m365,{M365_A},paid_seats
    2024-02,m365,{M365_A},paid_seats,,"7\x00"
    2024-03,m365,{M365_A},paid_seats,,
"""


def test_bad_rows_are_reported_alike_and_nothing_is_written(customers):
    UsageFactory(customer=customers["m365"], month=date(2023, 12, 1))
    before = tables()

    report = assert_same(BAD, expected_way="rows")

    assert not report["ok"]
    assert len(report["errors"]) == 16
    assert tables() == before


def test_an_unknown_customer_alone_stops_the_merge(customers):
    """No row fails in Python: the merge itself finds the customer missing."""
    text = USAGE + f"\n2024-02,azure,77,acr_usd,security,5\n2024-03,m365,{M365_A},paid_seats,,3"

    report = assert_same(text, expected_way="rows")

    assert [(e["line"], e["value"]) for e in report["errors"]] == [(9, "77")]


@pytest.mark.parametrize("value", ["30", "31"], ids=["equal-to-stored", "different"])
def test_a_duplicate_alone_is_found_whatever_is_stored(customers, value):
    """A twin is refused even when both rows equal what is stored (the anti-join skips those)."""
    UsageFactory(customer=customers["m365"], month=date(2024, 1, 1), value=Decimal(30))
    text = USAGE + f"\n2024-01,m365,{M365_A},paid_seats,,{value}"

    report = assert_same(text, expected_way="rows")

    assert [(e["line"], e["reason"]) for e in report["errors"]] == [(9, "duplicate of line 2")]


def test_records_load_alike(customers):
    records: list[dict[str, object]] = [
        {
            "month": "2024-01",
            "platform": "m365",
            "customer_id": M365_A,
            "measure": "paid_seats",
            "value": 30,
        },
        {
            "month": "2024-01",
            "platform": "azure",
            "customer_id": TPID_A,
            "measure": "acr_usd",
            "workload": "security",
            "value": 12.5,
        },
        {
            "month": "2024-01",
            "platform": "azure",
            "customer_id": TPID_A,
            "measure": "acr_usd",
            "workload": "security",
            "value": True,
        },
        {
            "month": "2024-01",
            "platform": "azure",
            "customer_id": "99",
            "measure": "acr_usd",
            "workload": "security",
            "value": 1,
        },
    ]

    assert_same(records[:2])
    report = assert_same(records)

    assert [e["line"] for e in report["errors"]] == [3, 4]


def test_import_csv_takes_the_set_based_path_on_postgresql(customers):
    setbased.last_phases.clear()

    result = import_csv("usage", csv_file(USAGE))

    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    assert "merge" in setbased.last_phases
    assert Usage.objects.count() == 6


def _bytes(text: str, *, newline: str = "\n", bom: bool = False) -> bytes:
    lines = [line.strip() for line in text.strip().splitlines()]
    return (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode() + newline.encode()


def _reordered(text: str) -> str:
    """The file with its columns in another order and its header in capitals."""
    rows = [line.strip().split(",") for line in text.strip().splitlines()]
    order = [5, 3, 2, 1, 0, 4]
    rows[0] = [cell.upper() for cell in rows[0]]
    return "\n".join(",".join(row[i] for i in order) for row in rows)


PLAIN_FILES = {
    "crlf": _bytes(USAGE, newline="\r\n"),
    "bom": _bytes(USAGE, bom=True),
    "columns-reordered-and-upper-case": _bytes(_reordered(USAGE)),
    "no-workload-column": _bytes(
        f"""
        month,platform,customer_id,measure,value
        2024-01,m365,{M365_A},paid_seats,30
        2024-01,dynamics,{DYN_A},paid_seats,40
        """
    ),
    "no-line-end-at-the-end": _bytes(USAGE).rstrip(b"\n"),
    "leading-zeros": _bytes(USAGE.replace(",30\n", ",0030\n").replace("99.9", "099.90")),
}


@pytest.mark.parametrize("data", PLAIN_FILES.values(), ids=PLAIN_FILES.keys())
def test_plain_files_go_the_copy_way_with_the_same_result(customers, data):
    report = assert_same(data, expected_way="plain")

    assert report["ok"]
    assert report["created"] == report["rows"]


# Files the plain way hands to the row-by-row reader: the same report, line for line.
ROW_FILES = {
    "quoted-cell": _bytes(USAGE.replace(",30\n", ',"30"\n')),
    "quoted-line-break": _bytes(USAGE.replace("D365Sales,99.9", '"D365\nSales",99.9')),
    "blank-line": _bytes(USAGE.replace("\n    2024-01,azure", "\n\n    2024-01,azure")),
    "trailing-empty-row": _bytes(USAGE + "\n,,,,,"),
    "mixed-line-ends": _bytes(USAGE).replace(b"\n", b"\r\n", 2),
    "lone-carriage-returns": _bytes(USAGE, newline="\r"),
    "value-with-spaces": _bytes(USAGE.replace(",30\n", ", 30 \n")),
    "negative-zero": _bytes(USAGE.replace(",30\n", ",-0\n")),
    "count-with-decimals": _bytes(USAGE.replace(",30\n", ",30.0\n")),
    "three-decimals": _bytes(USAGE.replace("1250.50", "1250.505")),
    "not-utf8": _bytes(USAGE).replace(b"Teams", b"T\xe9ams"),
    "nul": _bytes(USAGE).replace(b"Teams", b"Te\x00ams"),
    "copy-end-marker": _bytes(USAGE) + b"\\.\n" + _bytes(USAGE).split(b"\n", 1)[1],
    "wider-row": _bytes(USAGE.replace(",30\n", ",30,extra\n")),
    "unknown-header": _bytes(USAGE.replace("workload", "workloads")),
}


@pytest.mark.parametrize("data", ROW_FILES.values(), ids=ROW_FILES.keys())
def test_other_files_are_read_row_by_row_with_the_same_report(customers, data):
    assert_same(data, expected_way="rows")


def test_every_plain_shape_reads_as_its_parser_reads_it(db):
    """A cell of a plain shape is cast in SQL: the parsers accept it, as the same number."""
    rng = random.Random(7)
    texts: dict[str, Decimal] = {}
    for parser, shapes in PLAIN_SHAPES.items():
        for shape in shapes:
            for _ in range(3):
                text = "".join(rng.choice("0123456789") if c == "9" else c for c in shape)
                texts[text] = parser(text)
    with connection.cursor() as cursor:
        cursor.execute("SELECT t, t::numeric(16, 2) FROM unnest(%s::text[]) t", [list(texts)])
        cast = dict(cursor.fetchall())
    assert cast == texts


def test_the_plain_shapes_are_exactly_what_the_parsers_accept_unchanged():
    """No shape is missing: a plain spelling the parsers take as written has a plain shape."""
    for parser, shapes in PLAIN_SHAPES.items():
        for digits in range(1, VALUE_DIGITS + 1):
            for places in range(VALUE_PLACES + 1):
                text = "1" * digits + ("." + "5" * places if places else "")
                try:
                    parser(text)
                except FieldError:
                    continue
                assert translate_shape(text) in shapes, text


def translate_shape(text: str) -> str:
    return "".join("9" if c.isdigit() else c for c in text)


@pytest.mark.django_db(transaction=True)
def test_the_files_customers_cannot_be_deleted_while_it_imports(customers):
    """Usage has no database-level foreign key: the import locks the file's customers."""
    # No workload: a transactional test's database has no catalog rows.
    text = (
        f"month,platform,customer_id,measure,workload,value\n2024-01,m365,{M365_A},paid_seats,,30"
    )
    with transaction.atomic():
        setbased._load(UsageImporter(), CsvSource(csv_file(text)))
        assert setbased.last_phases.get("read and COPY") is not None
        settings = connection.settings_dict
        with psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            dbname=settings["NAME"],
            autocommit=True,
        ) as other:
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM scoring_customer WHERE id = %s", [customers["m365"].pk])
        transaction.set_rollback(True)


def test_a_customer_deleted_after_it_was_resolved_stops_the_import(customers, monkeypatch):
    """The plain way reads customers' keys from its map: one deleted between resolving and
    locking would leave usage without a customer, so the import stops, nothing written."""
    resolve = setbased._learned_customers

    def resolve_then_delete(cursor):
        found = resolve(cursor)
        Customer.objects.filter(pk=customers["dynamics"].pk).delete()
        return found

    monkeypatch.setattr(setbased, "_learned_customers", resolve_then_delete)
    before = tables()

    with pytest.raises(RuntimeError, match="deleted during the import"):
        import_csv("usage", csv_file(USAGE))

    assert tables() == before
