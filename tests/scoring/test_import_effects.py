"""What an import does around the rows: the command's contract, query counts, score recompute."""

from __future__ import annotations

import io
from datetime import date
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from scoring.imports import import_csv
from scoring.management.commands.import_data import Command as ImportDataCommand
from scoring.models import Usage
from scoring.services import scores_recompute_after_change
from tests.factories import OrganizationFactory
from tests.scoring.test_imports import (
    M365_A,
    USAGE,
    AssociationFactory,
    CustomerFactory,
    csv_file,
    load,
    make_customers,
    table_counts,
)

BAD_USAGE = f"""
    month,platform,customer_id,measure,workload,value
    2024-01,m365,{M365_A},paid_seats,,30
    2024-13,m365,{M365_A},paid_seats,,30
    2024-02,m365,{M365_A},paid_seats,,-5
    2024-02,m365,not-a-guid,paid_seats,,30
"""


@pytest.fixture
def customers(db):
    return make_customers()


def write_file(tmp_path, text: str):
    path = tmp_path / "data.csv"
    path.write_bytes(csv_file(text).getvalue())
    return path


# --- manage.py import_data ----------------------------------------------------------------------


def test_command_reports_the_counts(customers, tmp_path):
    path = write_file(tmp_path, USAGE)
    out = io.StringIO()

    call_command("import_data", "usage", str(path), stdout=out)
    call_command("import_data", "usage", str(path), stdout=out)

    assert out.getvalue().splitlines() == [
        "Imported 6 rows of usage: 6 created, 0 updated, 0 unchanged.",
        "Imported 6 rows of usage: 0 created, 0 updated, 6 unchanged.",
    ]


def test_command_prints_every_bad_row_and_writes_nothing(customers, tmp_path):
    path = write_file(tmp_path, BAD_USAGE)
    before = table_counts()
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"3 error\(s\) on 3 line\(s\).*nothing was imported"):
        call_command("import_data", "usage", str(path), stderr=err)

    assert err.getvalue().splitlines() == [
        'line 3, column "month": "2024-13" — not a month (YYYY-MM)',
        'line 4, column "value": "-5" — negative count (counts are 0 or more)',
        'line 5, column "customer_id": "not-a-guid" — '
        "not a tenant GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
    ]
    assert table_counts() == before


def test_command_exits_non_zero_on_a_bad_file(customers, tmp_path, capsys, monkeypatch):
    path = write_file(tmp_path, BAD_USAGE)
    # run_from_argv closes every connection when it ends; the test still needs its own.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exit_info:
        ImportDataCommand().run_from_argv(["manage.py", "import_data", "usage", str(path)])

    assert exit_info.value.code == 1
    stderr = capsys.readouterr().err
    assert 'line 3, column "month": "2024-13"' in stderr
    assert "nothing was imported" in stderr
    assert Usage.objects.count() == 0


def test_command_reports_nul_characters_and_bad_bytes_instead_of_a_traceback(org, tmp_path):
    """PostgreSQL refuses NUL in text; a terminal cannot print undecoded bytes: both are rows."""
    path = tmp_path / "people.csv"
    path.write_bytes(
        b"partner_id,person_id,name,email\n"
        b"1000001,P-1,Aiko\x00Tanaka,\n"
        b"1000001,P-2,Ben \xff\xfe Ito,\n"
        b"1000001,P-3,Chen Li,chen@example.com\n"
    )
    err = io.StringIO()
    before = table_counts()

    with pytest.raises(CommandError, match=r"2 error\(s\) on 2 line\(s\)"):
        call_command("import_data", "people", str(path), stderr=err)

    assert err.getvalue().splitlines() == [
        'line 2, column "name": "Aiko\\x00Tanaka" — '
        "contains a NUL character (0x00), which no text can hold",
        'line 3, column "name": "Ben \\xff\\xfe Ito" — not UTF-8 text (save the file as CSV UTF-8)',
    ]
    assert table_counts() == before


def test_command_refuses_an_unknown_kind_and_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_data", "licences", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_data", "usage", str(tmp_path / "missing.csv"))


def test_command_records_the_actor(db, tmp_path, staff):
    path = write_file(tmp_path, "partner_id,name,country\n3000001,Woodgrove,JP")

    call_command("import_data", "organizations", str(path), actor=staff.email, stdout=io.StringIO())

    from portal.models import Organization

    assert Organization.objects.unscoped().get().history.get().history_user == staff


# --- Queries do not grow with rows --------------------------------------------------------------


def usage_file(customer_ids: list[str], months: int) -> io.BytesIO:
    lines = ["month,platform,customer_id,measure,workload,value"]
    for customer_id in customer_ids:
        for month in range(1, months + 1):
            lines.append(f"2024-{month:02d},m365,{customer_id},paid_seats,,{month * 10}")
    return io.BytesIO("\n".join(lines).encode())


@pytest.mark.parametrize("reload", [False, True], ids=["new", "changed"])
def test_usage_import_queries_do_not_grow_with_rows(db, django_assert_max_num_queries, reload):
    organization = OrganizationFactory()
    tenants = CustomerFactory.create_batch(50, platform="m365")
    for customer in tenants[:5]:
        AssociationFactory(organization=organization, customer=customer)
    many = [customer.customer_id for customer in tenants]
    if reload:
        import_csv("usage", usage_file(many, 10))
        Usage.objects.filter(month=date(2024, 3, 1)).update(value=1)

    with CaptureQueriesContext(connection) as fifty:
        import_csv("usage", usage_file(many[:5], 10))
    with django_assert_max_num_queries(20) as five_hundred:
        result = import_csv("usage", usage_file(many, 10))

    assert result.rows == 500
    assert len(five_hundred.captured_queries) == len(fifty.captured_queries)


# --- Scores are recomputed after a load that changed something ----------------------------------


@pytest.fixture
def recompute_spy():
    """Watches the import's call of scores_recompute_after_change; the real function still runs.

    Both load paths are watched by the one spy: the chunked one and the set-based one (usage on
    PostgreSQL)."""
    with (
        mock.patch(
            "scoring.imports.api.scores_recompute_after_change",
            wraps=scores_recompute_after_change,
        ) as spy,
        mock.patch("scoring.imports.setbased.scores_recompute_after_change", new=spy),
    ):
        yield spy


def queued_ids(spy: mock.Mock) -> list[int]:
    """The organization ids of the import's single recompute request, which waits for commit."""
    spy.assert_called_once()
    # The service batches a transaction's requests into one callback, which the fixtures' own
    # audited writes may have registered already: check it is pending rather than new.
    assert connection.run_on_commit, "no recompute waits for the commit"
    return sorted(spy.call_args.kwargs["organization_ids"])


def test_usage_load_queues_a_recompute_of_the_associated_organizations(
    org, other_org, customers, django_capture_on_commit_callbacks, recompute_spy
):
    AssociationFactory(organization=org, customer=customers["m365"])
    AssociationFactory(organization=other_org, customer=customers["azure"], type="PAL")
    bystander = OrganizationFactory()
    AssociationFactory(organization=bystander, customer=customers["m365_b"])

    with django_capture_on_commit_callbacks(execute=False):
        result = load("usage", USAGE)

    assert result.ok
    assert queued_ids(recompute_spy) == sorted([org.pk, other_org.pk])
    assert result.organization_ids == sorted([org.pk, other_org.pk])


def test_an_unchanged_load_queues_nothing(
    org, customers, django_capture_on_commit_callbacks, recompute_spy
):
    AssociationFactory(organization=org, customer=customers["m365"])
    load("usage", USAGE)
    recompute_spy.reset_mock()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = load("usage", USAGE)

    assert result.unchanged == 6
    assert callbacks == []
    recompute_spy.assert_not_called()


def test_a_failed_load_queues_nothing(
    org, customers, django_capture_on_commit_callbacks, recompute_spy
):
    AssociationFactory(organization=org, customer=customers["m365"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = load("usage", BAD_USAGE)

    assert not result.ok
    assert callbacks == []
    recompute_spy.assert_not_called()


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("people", "partner_id,person_id,name\n1000001,P-1,Aiko\n2000002,P-1,Chen"),
        (
            "associations",
            f"partner_id,platform,customer_id,type,start_month\n1000001,m365,{M365_A},CPOR,2024-01",
        ),
        ("customers", f"platform,customer_id,name\nm365,{M365_A},Renamed"),
    ],
)
def test_tenant_kinds_queue_their_organizations(
    org, other_org, customers, django_capture_on_commit_callbacks, recompute_spy, kind, text
):
    expected = {"people": [org.pk, other_org.pk], "associations": [org.pk]}
    if kind == "customers":
        AssociationFactory(organization=other_org, customer=customers["m365"])

    with django_capture_on_commit_callbacks(execute=False):
        result = load(kind, text)

    assert result.ok, result.errors
    assert queued_ids(recompute_spy) == sorted(expected.get(kind, [other_org.pk]))


def test_organizations_load_queues_the_loaded_organizations(
    db, django_capture_on_commit_callbacks, recompute_spy
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = load("organizations", "partner_id,name,country\n3000001,A,JP\n3000002,B,US")

    assert len(callbacks) == 1
    assert queued_ids(recompute_spy) == result.organization_ids
    assert len(result.organization_ids) == 2
