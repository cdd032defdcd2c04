"""The `customers` and `associations` kinds: customer tenants and who is attributed to them."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date

from scoring.imports.base import (
    Counts,
    CustomerLookup,
    KindImporter,
    OrganizationLookup,
    RowReader,
    WorkloadCatalogMixin,
    chunked,
    organizations_of_customers,
    resolve_customers,
    resolve_organizations,
)
from scoring.imports.fields import (
    FieldError,
    import_today,
    model_text,
    parse_bool,
    parse_country,
    parse_customer_id,
    parse_month,
    parse_partner_id,
    parse_platform,
)
from scoring.imports.result import RowError
from scoring.imports.specs import SPECS
from scoring.models import Association, AssociationType, Customer, CustomerSegment, Platform

# Which attribution applies to which platform's customers (program.md §3).
# The published versions add CSP everywhere, DPOR for Microsoft 365 (Modern Work) and Azure,
# and PAL for Power Platform (Business Applications) — published-rules.md §1–§3.
ASSOCIATION_PLATFORMS: dict[str, tuple[str, ...]] = {
    AssociationType.PAL.value: (Platform.AZURE.value, Platform.DYNAMICS.value),
    AssociationType.CPOR.value: (Platform.M365.value, Platform.DYNAMICS.value),
    AssociationType.DPOR.value: (
        Platform.M365.value,
        Platform.AZURE.value,
        Platform.DYNAMICS.value,
    ),
    AssociationType.CSP.value: (Platform.M365.value, Platform.AZURE.value, Platform.DYNAMICS.value),
}

CUSTOMER_NAME = model_text(Customer, "name")


def read_customer_id(row: RowReader, platform: str | None) -> str | None:
    """The customer id in the form its platform uses (no format check when the platform is bad)."""
    if platform is None:
        return row.required("customer_id", str)
    return row.required("customer_id", lambda raw: parse_customer_id(raw, platform=platform))


@dataclass(slots=True)
class CustomerRow:
    platform: str
    customer_id: str
    # None: the row leaves the column out (keep what is stored; a new customer gets the default)
    name: str | None
    country: str | None
    production: bool | None
    segment: str | None


def parse_segment(raw: str) -> str:
    value = raw.strip().lower()
    if value not in CustomerSegment.values:
        raise FieldError(f"unknown segment ({', '.join(CustomerSegment.values)})")
    return value


class CustomerImporter(KindImporter[CustomerRow]):
    """Customers are created or updated by (platform, customer id)."""

    spec = SPECS["customers"]

    def __init__(self, *, actor: object = None) -> None:
        super().__init__(actor=actor)
        self._customer_pks: set[int] = set()

    def parse(self, row: RowReader) -> CustomerRow | None:
        platform = row.required("platform", parse_platform)
        customer_id = read_customer_id(row, platform)
        name = row.optional("name", CUSTOMER_NAME, blank="") if row.given("name") else None
        country = row.optional("country", parse_country, blank="") if row.given("country") else None
        production = (
            row.optional("production", parse_bool, blank=True) if row.given("production") else None
        )
        segment = row.optional("segment", parse_segment, blank="") if row.given("segment") else None
        if not row.ok:
            return None
        return CustomerRow(platform, customer_id, name, country, production, segment)  # type: ignore[arg-type]  # row.ok: parsed

    def natural_key(self, row: CustomerRow) -> Hashable:
        return (row.platform, row.customer_id)

    def shown_key(self, row: CustomerRow) -> str:
        return f"{row.platform}, {row.customer_id}"

    def write(self, rows: list[CustomerRow]) -> Counts:
        stored: dict[tuple[str, str], Customer] = {}
        for platform in {row.platform for row in rows}:
            ids = [row.customer_id for row in rows if row.platform == platform]
            for chunk in chunked(ids):
                for customer in Customer.objects.filter(platform=platform, customer_id__in=chunk):
                    stored[(platform, customer.customer_id)] = customer
        upserted = self.upsert(
            Customer,
            rows,
            stored=stored,
            key=self.natural_key,
            values=lambda row: {
                name: value
                for name, value in (
                    ("name", row.name),
                    ("country", row.country),
                    ("production", row.production),
                    ("segment", row.segment),
                )
                if value is not None
            },
            creation=lambda row: {"platform": row.platform, "customer_id": row.customer_id},
            fields=["name", "country", "production", "segment"],
            audited=False,  # customers are telemetry, not audited
        )
        self._customer_pks.update(customer.pk for customer in stored.values())
        return upserted.counts(len(rows))

    def affected_organization_ids(self) -> set[int]:
        # A customer just created has no association yet: only the known ones matter.
        return organizations_of_customers(self._customer_pks)


@dataclass(slots=True)
class AssociationRow:
    partner_id: str
    platform: str
    customer_id: str
    type: str
    workload: str
    start_month: date
    end_month: date | None
    organization_id: int = 0
    customer_pk: int = 0


class AssociationImporter(WorkloadCatalogMixin, KindImporter[AssociationRow]):
    """Associations by (organization, customer, type, workload); both ends must exist."""

    spec = SPECS["associations"]

    def __init__(self, *, actor: object = None) -> None:
        super().__init__(actor=actor)
        self._organizations = OrganizationLookup()
        self._customers = CustomerLookup()
        self._organization_ids: set[int] = set()
        self._this_month = import_today().replace(day=1)

    def _parse_type(self, raw: str) -> str:
        kind = raw.upper()
        if kind not in ASSOCIATION_PLATFORMS:
            raise FieldError("unknown association type (CPOR, PAL, DPOR or CSP)")
        return kind

    def parse(self, row: RowReader) -> AssociationRow | None:
        partner_id = row.required("partner_id", parse_partner_id)
        platform = row.required("platform", parse_platform)
        customer_id = read_customer_id(row, platform)
        association_type = row.required("type", self._parse_type)
        workload = row.optional("workload", self._parse_workload, blank=None)
        start_month = row.required("start_month", parse_month)
        end_month = row.optional("end_month", parse_month, blank=None)
        if platform and association_type:
            allowed = ASSOCIATION_PLATFORMS[association_type]
            if platform not in allowed:
                platforms = " or ".join(allowed)
                reason = f"{association_type} is for {platforms} customers, not {platform}"
                row.fail("type", row.raw("type"), reason)
        if platform and workload and workload.platform != platform:
            reason = f"{workload.code} is a {workload.platform} workload, not {platform}"
            row.fail("workload", row.raw("workload"), reason)
        # A start after the current month is a typo; a future end is a scheduled one and stays.
        if start_month and start_month > self._this_month:
            reason = f"in the future (the current month is {self._this_month:%Y-%m})"
            row.fail("start_month", row.raw("start_month"), reason)
        if start_month and end_month and end_month < start_month:
            reason = f"before start_month ({start_month:%Y-%m})"
            row.fail("end_month", row.raw("end_month"), reason)
        if not row.ok:
            return None
        return AssociationRow(
            partner_id=partner_id,  # type: ignore[arg-type]  # row.ok: parsed
            platform=platform,  # type: ignore[arg-type]
            customer_id=customer_id,  # type: ignore[arg-type]
            type=association_type,  # type: ignore[arg-type]
            workload=workload.code if workload else "",
            start_month=start_month,  # type: ignore[arg-type]
            end_month=end_month,
        )

    def resolve(
        self, rows: list[tuple[int, AssociationRow]], errors: list[RowError]
    ) -> list[tuple[int, AssociationRow]]:
        rows = resolve_organizations(self._organizations, rows, errors)
        return resolve_customers(self._customers, rows, errors)

    def natural_key(self, row: AssociationRow) -> Hashable:
        return (row.organization_id, row.customer_pk, row.type, row.workload)

    def shown_key(self, row: AssociationRow) -> str:
        return f"{row.partner_id}, {row.platform}, {row.customer_id}, {row.type}, {row.workload}"

    def write(self, rows: list[AssociationRow]) -> Counts:
        stored = {
            (a.organization_id, a.customer_id, a.type, a.workload): a
            # Cross-tenant by design: one file attributes customers to many organizations.
            for a in Association.objects.unscoped().filter(
                organization_id__in={row.organization_id for row in rows},
                customer_id__in={row.customer_pk for row in rows},
            )
        }
        # In bulk, with history: associations are few per organization and partners see them.
        upserted = self.upsert(
            Association,
            rows,
            stored=stored,
            key=self.natural_key,
            values=lambda row: {"start_month": row.start_month, "end_month": row.end_month},
            creation=lambda row: {
                "organization_id": row.organization_id,
                "customer_id": row.customer_pk,
                "type": row.type,
                "workload": row.workload,
            },
            fields=["start_month", "end_month"],
        )
        self._organization_ids.update(row.organization_id for row in rows)
        return upserted.counts(len(rows))

    def affected_organization_ids(self) -> set[int]:
        return self._organization_ids
