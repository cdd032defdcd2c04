"""Imports of data-formats.md: every kind, all-or-nothing, idempotent upserts, error reports."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import factory
import pytest
import time_machine

from portal.models import (
    HeldCertification,
    Organization,
    OrganizationLegacyCompetency,
    Person,
)
from scoring.imports import ImportResult, RowError, import_csv, import_records
from scoring.models import Association, Customer, Platform, Usage
from tests.factories import HeldCertificationFactory, PersonFactory

M365_A = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
M365_B = "0f8fad5b-d9cb-469f-a165-70867728950e"
DYN_A = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
TPID_A = "42424242"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    platform = Platform.M365
    customer_id = factory.Sequence(lambda n: f"{n + 1:08x}-0000-4000-8000-{n + 1:012x}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    country = "US"


class AssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Association

    organization = factory.SubFactory("tests.factories.OrganizationFactory")
    customer = factory.SubFactory(CustomerFactory)
    type = "CPOR"
    workload = ""
    start_month = date(2023, 1, 1)
    end_month = None


class UsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Usage

    month = date(2024, 1, 1)
    customer = factory.SubFactory(CustomerFactory)
    measure = "paid_seats"
    workload = ""
    value = Decimal("30")


def csv_file(text: str, *, bom: bool = False) -> io.BytesIO:
    """A CSV upload as bytes; the text is dedented line by line."""
    lines = [line.strip() for line in text.strip().splitlines()]
    data = "\n".join(lines).encode("utf-8") + b"\n"
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


def load(kind: str, text: str, **kwargs: object) -> ImportResult:
    return import_csv(kind, csv_file(text), **kwargs)


def table_counts() -> dict[str, int]:
    """Rows in every table an import can write, audit history included."""
    models = [
        Organization,
        Organization.history.model,
        OrganizationLegacyCompetency,
        Person,
        Person.history.model,
        HeldCertification,
        Customer,
        Association,
        Usage,
    ]
    return {model.__name__: model._default_manager.all().count() for model in models}


def errors_of(result: ImportResult) -> list[tuple[int, str, str]]:
    return [(error.line, error.column, error.value) for error in result.errors]


def make_customers() -> dict[str, Customer]:
    """One customer per platform, and a second M365 tenant."""
    return {
        "m365": CustomerFactory(platform="m365", customer_id=M365_A, name="Northwind"),
        "m365_b": CustomerFactory(platform="m365", customer_id=M365_B, name="Tailspin"),
        "dynamics": CustomerFactory(platform="dynamics", customer_id=DYN_A, name="Litware"),
        "azure": CustomerFactory(platform="azure", customer_id=TPID_A, name="Adventure Works"),
    }


@pytest.fixture
def customers(db) -> dict[str, Customer]:
    return make_customers()


# --- The error report ---------------------------------------------------------------------------


def test_row_error_reads_as_line_column_value_reason():
    error = RowError(7, "month", "2024-13", "not a month (YYYY-MM)")

    assert str(error) == 'line 7, column "month": "2024-13" — not a month (YYYY-MM)'


def test_unknown_kind_is_a_value_error(db):
    with pytest.raises(ValueError, match="licences"):
        import_csv("licences", csv_file("a,b\n1,2"))
    with pytest.raises(ValueError, match="licences"):
        import_records("licences", [])


# --- organizations ------------------------------------------------------------------------------

ORGANIZATIONS = """
    partner_id,name,country,renewal_date,legacy_competencies
    3000001,Woodgrove Security,JP,2026-03-31,Cloud Platform:gold;security
    3000002,Proseware,US,,enterprise resource planning (erp):silver
"""


def test_organizations_are_created_with_their_legacy_competencies(db, staff):
    result = load("organizations", ORGANIZATIONS, actor=staff)

    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    woodgrove = Organization.objects.unscoped().get(partner_id="3000001")
    assert (woodgrove.name, woodgrove.slug, woodgrove.country) == (
        "Woodgrove Security",
        "woodgrove-security",
        "JP",
    )
    assert woodgrove.renewal_date == date(2026, 3, 31)
    held = {
        (grade.competency.code, grade.level)
        for grade in OrganizationLegacyCompetency.objects.for_org(woodgrove)
    }
    assert held == {("cloud-platform", "gold"), ("security", "silver")}
    proseware = Organization.objects.unscoped().get(partner_id="3000002")
    assert proseware.renewal_date is None
    assert [g.competency.code for g in OrganizationLegacyCompetency.objects.for_org(proseware)] == [
        "enterprise-resource-planning"
    ]
    assert woodgrove.history.get().history_user == staff
    assert sorted(result.organization_ids) == sorted([woodgrove.pk, proseware.pk])


def test_organizations_loaded_twice_change_nothing(db):
    load("organizations", ORGANIZATIONS)
    before = table_counts()

    result = load("organizations", ORGANIZATIONS)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert table_counts() == before


def test_organization_row_changed_updates_in_place(db):
    load("organizations", ORGANIZATIONS)
    woodgrove = Organization.objects.unscoped().get(partner_id="3000001")

    result = load(
        "organizations",
        """
        partner_id,name,country,renewal_date,legacy_competencies
        3000001,Woodgrove Bank,JP,2026-03-31,cloud-platform:gold
        3000002,Proseware,US,,Enterprise Resource Planning (ERP):silver
        """,
    )

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    woodgrove.refresh_from_db()
    assert woodgrove.name == "Woodgrove Bank"
    assert woodgrove.slug == "woodgrove-security"  # URLs stay put
    held = [g.competency.code for g in OrganizationLegacyCompetency.objects.for_org(woodgrove)]
    assert held == ["cloud-platform"]


def test_organization_file_without_competencies_keeps_them(db):
    load("organizations", ORGANIZATIONS)

    result = load("organizations", "partner_id,name,country\n3000001,Woodgrove Security,JP")

    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert OrganizationLegacyCompetency.objects.unscoped().count() == 3


def test_new_organization_gets_a_free_slug(org):
    result = load("organizations", "partner_id,name,country\n3000003,Contoso,US")

    assert result.ok
    assert Organization.objects.unscoped().get(partner_id="3000003").slug == "contoso-3000003"


def test_bad_organizations_are_all_reported(db):
    result = load(
        "organizations",
        """
        partner_id,name,country,renewal_date,legacy_competencies
        12,Too Short,JP,,
        3000001,Woodgrove,XX,2026-02-30,Cloud Platform:platinum;Quantum
        3000002,Proseware,US,,Security;security:gold
        """,
    )

    assert errors_of(result) == [
        (2, "partner_id", "12"),
        (3, "country", "XX"),
        (3, "renewal_date", "2026-02-30"),
        (3, "legacy_competencies", "Cloud Platform:platinum"),
        (3, "legacy_competencies", "Quantum"),
        (4, "legacy_competencies", "security:gold"),
    ]
    assert [e.reason for e in result.errors][-1] == "listed twice"
    assert Organization.objects.unscoped().count() == 0


# --- people and certifications ------------------------------------------------------------------


def test_people_are_upserted_per_organization(org, other_org):
    text = """
        partner_id,person_id,name,email
        1000001,P-1,Aiko Tanaka,aiko@contoso.example
        1000001,P-2,Ben Ito,
        2000002,P-1,Chen Li,chen@fabrikam.example
    """
    first = load("people", text)
    second = load("people", text)
    third = load("people", text.replace("Ben Ito", "Ben Itō"))

    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert Person.objects.for_org(org).get(person_id="P-2").name == "Ben Itō"
    assert Person.objects.for_org(other_org).get(person_id="P-1").name == "Chen Li"
    assert sorted(first.organization_ids) == sorted([org.pk, other_org.pk])


def test_bad_people_values_are_refused(org):
    result = load(
        "people",
        """
        partner_id,person_id,name,email
        1000001,P-1,Aiko Tanaka,aiko@contoso.example
        1000001,P-2,,not-an-email
        """,
    )

    assert errors_of(result) == [(3, "name", ""), (3, "email", "not-an-email")]
    assert Person.objects.unscoped().count() == 0


def test_unknown_partner_is_reported_with_its_line(org):
    result = load(
        "people",
        """
        partner_id,person_id,name
        1000001,P-1,Aiko Tanaka
        9999999,P-2,Ben Ito
        """,
    )

    assert [str(e) for e in result.errors] == [
        'line 3, column "partner_id": "9999999" — unknown partner '
        "(no organization has this Partner ID)"
    ]
    assert Person.objects.unscoped().count() == 0


def test_certifications_are_upserted(org, staff):
    PersonFactory(organization=org, person_id="P-1")
    text = """
        partner_id,person_id,certification,earned_on,expires_on
        1000001,P-1,AZ-500,2024-01-15,2025-01-15
        1000001,P-1,sc-200,2024-02-01,
    """
    first = load("certifications", text, actor=staff)
    second = load("certifications", text)
    third = load("certifications", text.replace("2025-01-15", "2026-01-15"))

    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    held = HeldCertification.objects.for_org(org).get(certification__code="AZ-500")
    assert held.expires_on == date(2026, 1, 15)
    assert held.history.earliest().history_user == staff
    assert (
        HeldCertification.objects.for_org(org).get(certification__code="SC-200").expires_on is None
    )
    assert first.organization_ids == [org.pk]


def test_bad_certifications_are_all_reported(org):
    PersonFactory(organization=org, person_id="P-1")
    HeldCertificationFactory(person__organization=org, person__person_id="P-9")
    before = table_counts()

    result = load(
        "certifications",
        """
        partner_id,person_id,certification,earned_on,expires_on
        1000001,P-1,AZ-500,2024-01-15,2024-01-15
        1000001,P-1,XX-999,2024-01-15,
        1000001,P-404,AZ-104,2024-01-15,
        1000001,P-1,SC-300,2024-01-15,
        1000001,P-1,sc-300,2024-03-01,
        9999999,P-1,AZ-104,2024/01/15,
    """,
    )

    assert errors_of(result) == [
        (2, "expires_on", "2024-01-15"),
        (3, "certification", "XX-999"),
        (4, "person_id", "P-404"),
        (6, "partner_id, person_id, certification", "1000001, P-1, SC-300"),
        (7, "earned_on", "2024/01/15"),
    ]
    assert result.errors[0].reason == "not after earned_on (2024-01-15)"
    assert result.errors[3].reason == "duplicate of line 5"
    assert table_counts() == before


# --- customers ----------------------------------------------------------------------------------


def test_customers_are_upserted_with_canonical_ids(db):
    text = f"""
        platform,customer_id,name,country,production
        m365,{M365_A.upper()},Northwind,jp,true
        azure,0042424242,Adventure Works,US,
        dynamics,{DYN_A},Litware,,false
    """
    first = load("customers", text)
    second = load("customers", text.replace(DYN_A, DYN_A.upper()))
    third = load("customers", text.replace("Northwind,jp", "Northwind Traders,jp"))

    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    northwind = Customer.objects.get(platform="m365")
    assert (northwind.customer_id, northwind.name, northwind.country) == (
        M365_A,
        "Northwind Traders",
        "JP",
    )
    assert Customer.objects.get(platform="azure").customer_id == TPID_A
    assert Customer.objects.get(platform="azure").production is True  # the default
    assert Customer.objects.get(platform="dynamics").production is False


def test_customer_update_without_production_column_keeps_it(db):
    load("customers", f"platform,customer_id,production\nm365,{M365_A},false")

    result = load("customers", f"platform,customer_id,name\nm365,{M365_A},Northwind")

    assert (result.created, result.updated) == (0, 1)
    assert Customer.objects.get().production is False


def test_bad_customer_ids_are_refused(db):
    result = load(
        "customers",
        f"""
        platform,customer_id,name,country,production
        m365,not-a-guid,Northwind,JP,true
        dynamics,{M365_A[:-1]},Litware,JP,true
        azure,TP-42,Adventure Works,JP,true
        azure,{M365_A},Adventure Works,JP,true
        sharepoint,123,Fourth Coffee,JP,yes
        """,
    )

    assert errors_of(result) == [
        (2, "customer_id", "not-a-guid"),
        (3, "customer_id", M365_A[:-1]),
        (4, "customer_id", "TP-42"),
        (5, "customer_id", M365_A),
        (6, "platform", "sharepoint"),
        (6, "production", "yes"),
    ]
    assert "GUID" in result.errors[0].reason
    assert "TPID" in result.errors[2].reason
    assert Customer.objects.count() == 0


# --- associations -------------------------------------------------------------------------------

ASSOCIATIONS = f"""
    partner_id,platform,customer_id,type,workload,start_month,end_month
    1000001,m365,{M365_A},CPOR,MDE,2023-04,
    1000001,azure,{TPID_A},PAL,,2023-01,2024-06
    2000002,dynamics,{DYN_A},DPOR,d365sales,2022-10,
"""


def test_associations_are_upserted(org, other_org, customers):
    first = load("associations", ASSOCIATIONS)
    second = load("associations", ASSOCIATIONS)
    third = load("associations", ASSOCIATIONS.replace("2024-06", "2024-09"))

    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    pal = Association.objects.for_org(org).get(type="PAL")
    assert (pal.start_month, pal.end_month) == (date(2023, 1, 1), date(2024, 9, 1))
    assert Association.objects.for_org(org).get(type="CPOR").workload == "MDE"
    assert Association.objects.for_org(other_org).get().workload == "D365Sales"
    assert sorted(first.organization_ids) == sorted([org.pk, other_org.pk])


def test_bad_associations_are_all_reported(org, customers):
    before = table_counts()

    result = load(
        "associations",
        f"""
        partner_id,platform,customer_id,type,workload,start_month,end_month
        1000001,m365,{M365_A},CPOR,,2023-04,
        1000001,m365,{M365_B},PAL,,2023-01,
        1000001,azure,{TPID_A},PAL,Teams,2023-01,
        1000001,m365,{M365_A},CPOR,Defender,2023-01,
        1000001,m365,{M365_B},CPOR,,2024-06,2024-01
        1000001,m365,{DYN_A},CPOR,,2024-06,
        9999999,azure,{TPID_A},PAL,,2024-06,
        1000001,m365,{M365_A},CPOR,,2023-05,
        """,
    )

    assert errors_of(result) == [
        (3, "type", "PAL"),
        (4, "workload", "Teams"),
        (5, "workload", "Defender"),
        (6, "end_month", "2024-01"),
        (7, "customer_id", DYN_A),
        (8, "partner_id", "9999999"),
        (
            9,
            "partner_id, platform, customer_id, type, workload",
            f"1000001, m365, {M365_A}, CPOR, ",
        ),
    ]
    assert result.errors[3].reason == "before start_month (2024-06)"
    assert result.errors[6].reason == "duplicate of line 2"
    assert table_counts() == before


# --- usage --------------------------------------------------------------------------------------

USAGE = f"""
    month,platform,customer_id,measure,workload,value
    2024-01,m365,{M365_A},paid_seats,,30
    2024-01,m365,{M365_A},protected_users,mde,12
    2024-01,m365,{M365_A},active_users,Teams,25
    2024-01,azure,{TPID_A},acr_usd,security,1250.50
    2024-01,dynamics,{DYN_A},revenue_usd,D365Sales,99.9
    2024-01,dynamics,{DYN_A},paid_seats,,40
"""


def test_usage_is_upserted(customers):
    first = load("usage", USAGE)
    second = load("usage", USAGE)
    third = load("usage", USAGE.replace("1250.50", "1300"))

    assert (first.created, first.updated, first.unchanged) == (6, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 6)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 5)
    acr = Usage.objects.get(measure="acr_usd")
    assert (acr.customer, acr.workload, acr.month, acr.value) == (
        customers["azure"],
        "security",
        date(2024, 1, 1),
        Decimal("1300.00"),
    )
    assert Usage.objects.get(measure="protected_users").workload == "MDE"
    assert Usage.objects.count() == 6


def test_a_bad_usage_file_reports_every_bad_row_and_writes_nothing(org, customers):
    """The issue's "must show": wrong values of every sort, and the good rows are not written."""
    AssociationFactory(organization=org, customer=customers["m365"])
    UsageFactory(customer=customers["m365"], month=date(2023, 12, 1))
    before = table_counts()

    result = load(
        "usage",
        f"""
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
        2024-02,azure,{TPID_A},acr_usd,Sentinel,3
        2024-02,dynamics,{DYN_A},protected_users,D365Sales,3
        2024-02,m365,{M365_A},active_users,,3
        2024-02,m365,{M365_A},certifications,,1.5
        2024-02,m365,{DYN_A},paid_seats,,3
        """,
    )

    assert [str(error) for error in result.errors] == [
        'line 3, column "month": "2024-13" — not a month (YYYY-MM)',
        'line 4, column "value": "-5" — negative count (counts are 0 or more)',
        'line 5, column "customer_id": "1234-not-a-guid" — '
        "not a tenant GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        'line 6, column "customer_id": "TPID42" — not a TPID (the numeric id of an Azure customer)',
        'line 7, column "value": "10.005" — more than 2 decimal places',
        'line 8, column "measure": "paid_seats" — '
        "paid_seats is reported for m365 or dynamics customers, not azure",
        'line 9, column "workload": "Quantum" — unknown workload (not in the workload catalog)',
        'line 10, column "month, platform, customer_id, measure, workload": '
        f'"2024-01, m365, {M365_A}, paid_seats, " — duplicate of line 2',
        'line 11, column "workload": "AzureDefender" — AzureDefender is a azure workload, not m365',
        'line 12, column "workload": "Sentinel" — '
        "acr_usd needs an Azure solution area such as security, or an Azure service code",
        'line 13, column "measure": "protected_users" — '
        "protected_users is reported for m365 customers, not dynamics",
        'line 14, column "workload": "" — active_users needs a workload '
        "(a product code such as MDE)",
        'line 15, column "measure": "certifications" — '
        "unknown measure (paid_seats, protected_users, active_users, acr_usd, revenue_usd, "
        "capacity)",
        f'line 16, column "customer_id": "{DYN_A}" — '
        "unknown customer (no m365 customer has this id; load it first)",
    ]
    assert table_counts() == before
    assert not result.ok
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "month,platform,customer,measure,workload,value",
            [(1, "customer", "customer"), (1, "customer_id", "")],
        ),
        ("month,platform,customer_id,measure,value,notes", [(1, "notes", "notes")]),
        ("month,platform,customer_id,measure,value,value", [(1, "value", "value")]),
    ],
    ids=["misspelled", "unknown-column", "twice"],
)
def test_a_wrong_header_stops_at_line_1(customers, header, expected):
    result = load("usage", f"{header}\n2024-01,m365,{M365_A},paid_seats,,30")

    assert errors_of(result) == expected
    assert Usage.objects.count() == 0


def test_an_empty_file_has_no_header(db):
    result = import_csv("usage", io.BytesIO(b""))

    assert [str(e) for e in result.errors] == [
        "line 1: no header row (the first line names the columns)"
    ]


def test_missing_required_column_is_named(customers):
    result = load("usage", f"month,platform,customer_id,measure\n2024-01,m365,{M365_A},paid_seats")

    assert [str(e) for e in result.errors] == [
        'line 1, column "value": "" — missing required column'
    ]


def test_a_row_with_the_wrong_number_of_fields_is_reported(customers):
    result = load(
        "usage",
        f"""
        month,platform,customer_id,measure,workload,value
        2024-01,m365,{M365_A},paid_seats,,30,extra
        2024-02,m365,{M365_A},paid_seats,,30
        """,
    )

    assert [str(e) for e in result.errors] == ["line 2: has 7 fields, the header has 6"]
    assert Usage.objects.count() == 0


def test_bom_columns_in_any_order_and_blank_lines(customers):
    data = csv_file(
        f"""
        VALUE, workload ,customer_id,measure,platform,month
        30,,{M365_A},paid_seats,m365,2024-01

        12,MDE,{M365_A},protected_users,m365,2024-01
        ,,,,,
        """,
        bom=True,
    )

    result = import_csv("usage", data)

    assert result.ok, result.errors
    assert result.created == 2
    assert Usage.objects.get(measure="paid_seats").value == Decimal("30")


def test_text_streams_and_one_pass_streams_are_read(customers):
    text = io.StringIO(
        "\ufeffmonth,platform,customer_id,measure,value\n"
        + f"2024-01,m365,{M365_A},paid_seats,30\n"
    )

    class OnePass(io.RawIOBase):
        """A pipe-like stream: no seeking back for the second pass."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    pipe = OnePass(
        f"month,platform,customer_id,measure,value\n2024-02,m365,{M365_A},paid_seats,31\n".encode()
    )

    assert import_csv("usage", text).created == 1
    assert import_csv("usage", pipe).created == 1
    assert Usage.objects.count() == 2


def test_an_uploaded_file_is_read_as_the_upload_page_will_pass_it(customers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("usage.csv", csv_file(USAGE, bom=True).getvalue())

    result = import_csv("usage", upload)

    assert (result.created, result.errors) == (6, [])
    assert not upload.closed


def test_records_may_come_from_a_generator(customers):
    records = (
        {"month": f"2024-0{m}", "platform": "m365", "customer_id": M365_A,
         "measure": "paid_seats", "value": m}
        for m in (1, 2)
    )  # fmt: skip

    assert import_records("usage", records).created == 2
    assert Usage.objects.count() == 2


def test_file_that_is_not_utf8_is_refused(customers):
    data = io.BytesIO(
        b"month,platform,customer_id,measure,workload,value\n"
        + f"2024-01,m365,{M365_A},paid_seats,,30\n".encode()
        + "2024-02,m365,Müller,paid_seats,,30\n".encode("latin-1")
    )

    result = import_csv("usage", data)

    assert not result.ok
    assert "UTF-8" in result.errors[-1].reason
    assert Usage.objects.count() == 0


# --- JSON records -------------------------------------------------------------------------------


def test_records_take_json_values(org, customers):
    result = import_records(
        "usage",
        [
            {"month": "2024-01", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "workload": None, "value": 30},
            {"month": "2024-01", "platform": "azure", "customer_id": 42424242,
             "measure": "acr_usd", "workload": "data-ai", "value": 1250.5},
            {"month": "2024-01", "platform": "m365", "customer_id": M365_A,
             "measure": "active_users", "workload": "Teams", "value": 12.0},
        ],
    )  # fmt: skip
    customers_result = import_records(
        "customers",
        [{"platform": "m365", "customer_id": M365_A, "production": False}],
    )

    assert result.ok, result.errors
    assert result.created == 3
    assert Usage.objects.get(measure="acr_usd").value == Decimal("1250.50")
    assert (customers_result.updated, Customer.objects.get(customer_id=M365_A).production) == (
        1,
        False,
    )


def test_bad_records_name_the_record_index(customers):
    before = table_counts()

    result = import_records(
        "usage",
        [
            {"month": "2024-01", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "value": 30},
            {"month": "2024-13", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "value": True},
            ["not", "an", "object"],
            {"month": "2024-02", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "value": {"n": 1}, "colour": "red"},
            {"month": "2024-03", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "value": 12.345},
            {"platform": "m365", "customer_id": M365_A, "measure": "paid_seats", "value": 1},
        ],
    )  # fmt: skip

    assert errors_of(result) == [
        (2, "month", "2024-13"),
        (2, "value", "true"),
        (3, "", "['not', 'an', 'object']"),
        (4, "value", "{'n': 1}"),
        (4, "colour", "red"),
        (5, "value", "12.345"),
        (6, "month", ""),
    ]
    assert result.errors[-1].reason == "missing column"
    assert table_counts() == before


def test_records_and_csv_share_the_upsert(customers):
    load("usage", USAGE)

    result = import_records(
        "usage",
        [
            {"month": "2024-01", "platform": "m365", "customer_id": M365_A.upper(),
             "measure": "paid_seats", "workload": "", "value": "30"},
        ],
    )  # fmt: skip

    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)


# --- Values no column can hold are row errors, never a traceback --------------------------------

PERSON_NAME_LENGTH = Person._meta.get_field("name").max_length
PERSON_EMAIL_LENGTH = Person._meta.get_field("email").max_length
CUSTOMER_NAME_LENGTH = Customer._meta.get_field("name").max_length
USAGE_VALUE = Usage._meta.get_field("value")
VALUE_DIGITS = USAGE_VALUE.max_digits - USAGE_VALUE.decimal_places


def long_email(length: int) -> str:
    """A well-formed address of exactly `length` characters (labels of at most 63)."""
    local = "a" * 64
    labels = []
    remaining = length - len(local) - 1 - len(".example")
    while remaining > 0:
        label = min(63, remaining if remaining <= 63 else 62)
        labels.append("b" * label)
        remaining -= label + 1
    address = f"{local}@{'.'.join(labels)}.example"
    return address[: length - len(address)] if len(address) > length else address


def test_a_nul_character_in_a_text_cell_is_a_row_error(org):
    data = io.BytesIO(
        b"partner_id,person_id,name,email\n"
        b"1000001,P-1,Aiko Tanaka,aiko@contoso.example\n"
        b"1000001,P-2,Ben\x00Ito,\n"
        b"1000001,P-3,Chen Li,\n"
    )
    before = table_counts()

    result = import_csv("people", data)

    assert [str(e) for e in result.errors] == [
        'line 3, column "name": "Ben\\x00Ito" — '
        "contains a NUL character (0x00), which no text can hold"
    ]
    assert table_counts() == before


def test_a_nul_character_in_a_record_is_a_row_error(org):
    result = import_records(
        "people",
        [
            {"partner_id": "1000001", "person_id": "P-1\x00", "name": "Aiko"},
            {"partner_id": "1000001", "person_id": "P-2", "name": "Ben \ud800"},
        ],
    )

    assert errors_of(result) == [(1, "person_id", "P-1\\x00"), (2, "name", "Ben \\ud800")]
    assert "UTF-8" in result.errors[1].reason
    assert Person.objects.unscoped().count() == 0


def test_text_longer_than_its_model_field_is_refused(org, db):
    at_limit = "N" * PERSON_NAME_LENGTH
    result = load(
        "people",
        f"""
        partner_id,person_id,name
        1000001,P-1,{at_limit}
        1000001,P-2,{at_limit}x
        1000001,{"p" * 65},Ben
        """,
    )
    customers = import_records(
        "customers",
        [{"platform": "m365", "customer_id": M365_A, "name": "C" * (CUSTOMER_NAME_LENGTH + 1)}],
    )

    assert errors_of(result) == [(3, "name", at_limit + "x"), (4, "person_id", "p" * 65)]
    assert result.errors[0].reason == f"longer than {PERSON_NAME_LENGTH} characters"
    assert [e.reason for e in customers.errors] == [
        f"longer than {CUSTOMER_NAME_LENGTH} characters"
    ]
    assert Person.objects.unscoped().count() == Customer.objects.count() == 0


def test_an_email_longer_than_its_column_is_refused(org):
    fits, too_long = long_email(PERSON_EMAIL_LENGTH), long_email(PERSON_EMAIL_LENGTH + 1)
    assert (len(fits), len(too_long)) == (PERSON_EMAIL_LENGTH, PERSON_EMAIL_LENGTH + 1)

    result = load(
        "people",
        f"""
        partner_id,person_id,name,email
        1000001,P-1,Aiko,{fits}
        1000001,P-2,Ben,{too_long}
        """,
    )

    assert errors_of(result) == [(3, "email", too_long)]
    assert result.errors[0].reason == f"longer than {PERSON_EMAIL_LENGTH} characters"
    assert Person.objects.unscoped().count() == 0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9" * VALUE_DIGITS, None),
        ("9" * (VALUE_DIGITS + 1), f"too large (at most {VALUE_DIGITS} digits)"),
        ("9" * 5000, f"too large (at most {VALUE_DIGITS} digits)"),
        ("-" + "9" * 5000, "negative count (counts are 0 or more)"),
    ],
    ids=["fits", "one-digit-more", "5000-digits", "negative-5000-digits"],
)
def test_counts_beyond_the_value_column_are_refused(customers, value, reason):
    result = load(
        "usage",
        f"month,platform,customer_id,measure,value\n2024-01,m365,{M365_A},paid_seats,{value}",
    )

    assert [e.reason for e in result.errors] == ([reason] if reason else [])
    assert Usage.objects.count() == (0 if reason else 1)


def test_amounts_beyond_the_value_column_are_refused(customers):
    largest = "9" * VALUE_DIGITS + "." + "9" * USAGE_VALUE.decimal_places
    result = load(
        "usage",
        f"""
        month,platform,customer_id,measure,workload,value
        2024-01,azure,{TPID_A},acr_usd,security,{largest}
        2024-02,azure,{TPID_A},acr_usd,security,1{largest}
        2024-03,azure,{TPID_A},acr_usd,security,{"1" * 5000}.5
        """,
    )

    assert errors_of(result) == [(3, "value", "1" + largest), (4, "value", "1" * 5000 + ".5")]
    assert Usage.objects.count() == 0


def test_json_numbers_too_large_for_any_column_are_refused(customers):
    result = import_records(
        "usage",
        [
            {"month": "2024-01", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "value": 10**5000},
            {"month": "2024-02", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "value": 1e300},
            {"month": "2024-03", "platform": "m365", "customer_id": M365_A,
             "measure": "paid_seats", "value": float("nan")},
        ],
    )  # fmt: skip

    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (1, "value", "number too large"),
        (2, "value", "number too large"),
        (3, "value", "not a count (a whole number such as 250)"),
    ]
    assert Usage.objects.count() == 0


# --- Bytes that are not UTF-8: the right line, and the other rows still checked -----------------


def people_file(count: int, *, replace: dict[int, bytes]) -> io.BytesIO:
    """A people file of `count` rows (line n holds P-n), some lines replaced by raw bytes."""
    lines = [b"partner_id,person_id,name"]
    lines += [f"1000001,P-{n},Person {n}".encode() for n in range(2, count + 2)]
    for line, raw in replace.items():
        lines[line - 1] = raw
    return io.BytesIO(b"\n".join(lines) + b"\n")


def test_a_bad_byte_deep_in_the_file_is_reported_on_its_line_and_the_rest_is_checked(org):
    """Decoded 8 KiB ahead, a byte of line 5001 was reported on line 4879 and ended the check."""
    data = people_file(
        6000,
        replace={5001: "1000001,P-5001,Müller".encode("latin-1"), 5003: b"1000001,P-5003,"},
    )

    result = import_csv("people", data)

    assert [str(e) for e in result.errors] == [
        'line 5001, column "name": "M\\xfcller" — not UTF-8 text (save the file as CSV UTF-8)',
        'line 5003, column "name": "" — required, may not be blank',
    ]
    assert Person.objects.unscoped().count() == 0


def test_a_bad_byte_in_the_header_stops_at_line_1(org):
    result = import_csv("people", io.BytesIO(b"partner_id,person_id,n\xe4me\n1000001,P-1,A\n"))

    assert [str(e) for e in result.errors] == [
        "line 1: not UTF-8 text (save the file as CSV UTF-8)"
    ]


def test_a_row_is_reported_on_the_line_where_it_starts(org):
    """Physical lines: a quoted cell's line break moves the rows after it down one line."""
    data = io.BytesIO(
        b"partner_id,person_id,name\r\n"
        b'1000001,P-1,"Aiko\r\nTanaka"\r\n'
        b'1000001,P-2,"M\xfcller\nBen"\r\n'
        b"1000001,P-3,\r\n"
    )

    result = import_csv("people", data)

    assert errors_of(result) == [(4, "name", "M\\xfcller\nBen"), (6, "name", "")]


def test_lone_carriage_returns_end_lines(org):
    data = io.BytesIO(b"partner_id,person_id,name\r1000001,P-1,Aiko\r1000001,P-2,\r")

    result = import_csv("people", data)

    assert errors_of(result) == [(3, "name", "")]


# --- Values that make no sense: in the future, or older than any real data ----------------------


@pytest.fixture
def frozen_today():
    """15 March 2026 in the portal's time zone."""
    with time_machine.travel(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False):
        yield date(2026, 3, 15)


def test_usage_after_the_current_month_is_refused(customers, frozen_today):
    result = load(
        "usage",
        f"""
        month,platform,customer_id,measure,value
        2026-03,m365,{M365_A},paid_seats,30
        2026-04,m365,{M365_A},paid_seats,30
        2014-12,m365,{M365_A},paid_seats,30
        0001-01,m365,{M365_A},paid_seats,30
        2015-01,m365,{M365_A},paid_seats,30
        """,
    )

    assert [(e.line, e.value, e.reason) for e in result.errors] == [
        (3, "2026-04", "in the future (the current month is 2026-03)"),
        (4, "2014-12", "before 2015-01 (no telemetry is this old)"),
        (5, "0001-01", "before 2015-01 (no telemetry is this old)"),
    ]
    assert Usage.objects.count() == 0


def test_an_association_may_end_but_not_start_in_the_future(org, customers, frozen_today):
    result = load(
        "associations",
        f"""
        partner_id,platform,customer_id,type,workload,start_month,end_month
        1000001,m365,{M365_A},CPOR,,2026-03,2027-06
        1000001,m365,{M365_B},CPOR,,2026-04,
        1000001,azure,{TPID_A},PAL,,0001-01,
        """,
    )

    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (3, "start_month", "in the future (the current month is 2026-03)"),
        (4, "start_month", "before 2015-01 (no telemetry is this old)"),
    ]
    scheduled = load(
        "associations",
        f"""
        partner_id,platform,customer_id,type,workload,start_month,end_month
        1000001,m365,{M365_A},CPOR,,2026-03,2027-06
        """,
    )
    assert scheduled.ok, scheduled.errors
    assert Association.objects.for_org(org).get().end_month == date(2027, 6, 1)


def test_certifications_earned_in_the_future_or_before_1990_are_refused(org, frozen_today):
    PersonFactory(organization=org, person_id="P-1")

    result = load(
        "certifications",
        """
        partner_id,person_id,certification,earned_on,expires_on
        1000001,P-1,AZ-500,2026-03-15,2027-03-15
        1000001,P-1,AZ-104,2026-03-16,
        1000001,P-1,SC-200,1989-12-31,
        1000001,P-1,SC-300,0001-01-01,
        1000001,P-1,AZ-204,2024-01-01,2100-01-01
        """,
    )

    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (3, "earned_on", "in the future (today is 2026-03-15)"),
        (4, "earned_on", "before 1990-01-01 (no real date is this old)"),
        (5, "earned_on", "before 1990-01-01 (no real date is this old)"),
        (6, "expires_on", "too far in the future (after 2099)"),
    ]
    assert HeldCertification.objects.unscoped().count() == 0


def test_a_renewal_date_before_2015_is_refused(db):
    result = load(
        "organizations", "partner_id,name,country,renewal_date\n3000001,Woodgrove,JP,0001-01-01"
    )

    assert [e.reason for e in result.errors] == ["before 2015-01-01 (no real date is this old)"]
