"""Demo telemetry for the quick start: customers, associations and 24 months of usage.

For the demo organizations of `portal.demo.seed_demo_portal`, relative to today so the demo
always looks current, tuned to tell three stories on the Security and Data & AI dashboards:

- 株式会社さくらクラウド (JP) qualifies for Security: six certified individuals, new customers,
  deployments that crossed the thresholds this year and steady usage growth;
- Contoso Security Partners (US) is close on Security (in the 60s, short of certified
  individuals) and qualifies for Modern Work;
- Fabrikam Data & AI GmbH (DE) leads in Data & AI from its Azure data customers.

Under the rules in force today (the 2026 version, program.md §9) the same data tells two more:
Sakura qualifies for Security on a track (the best of Enterprise and SMB counts), and Fabrikam is
blocked in Data & AI only by the skilling gate — full performance and customer success (its data
customers consume five distinct Azure services), three people holding a scoring certification,
but one AZ-305 holder and no current AZ-104 holder where two of each unlock the metric.

Idempotent and deterministic: customer IDs derive from the organization and a customer key
(uuid5), values from a `random.Random` seeded per organization, and rows are upserted by their
natural keys, writing only what is missing or different — a second run changes nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from portal.models import Organization
from scoring.measures import WINDOW_MONTHS, add_months, current_month
from scoring.models import Association, AssociationType, Customer, Measure, Platform, Usage

NOW = WINDOW_MONTHS - 1  # index of the current month in a series; 0 is 23 months earlier
DEMO_NAMESPACE = uuid.UUID("5b0f3c1e-7d2a-4d8e-9a61-2f4c8e9b1d70")

Series = list[Decimal | None]  # one value per window month, oldest first; None: no row


@dataclass
class DemoCustomer:
    """One customer of one demo organization, with its association and monthly usage."""

    key: str
    platform: str
    name: str
    association: str
    start: int  # window index of the association's first month (negative: before the window)
    end: int | None = None  # window index of its last month, None while it lasts
    usage: dict[tuple[str, str], Series] = field(default_factory=dict)


class _Builder:
    """Series for one organization, shaped by hand and roughened by a seeded generator."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)
        self.customers: list[DemoCustomer] = []

    def noisy(self, value: float, spread: float = 0.03) -> float:
        return value * (1 + self.rng.uniform(-spread, spread))

    def path(
        self,
        begin: float,
        end: float,
        *,
        start: int = 0,
        rise_from: int | None = None,
        spread: float = 0.03,
        cents: bool = False,
    ) -> Series:
        """`begin` until `rise_from` (default: `start`), then a straight line to `end` now."""
        rise_from = start if rise_from is None else max(rise_from, start)
        values: Series = []
        for idx in range(WINDOW_MONTHS):
            if idx < start:
                values.append(None)
                continue
            if idx <= rise_from or rise_from == NOW:
                base = begin
            else:
                base = begin + (end - begin) * (idx - rise_from) / (NOW - rise_from)
            amount = self.noisy(base, spread) if base else 0.0
            values.append(Decimal(f"{amount:.2f}") if cents else Decimal(round(amount)))
        return values

    def share(self, seats: Series, fraction: Series | float, spread: float = 0.02) -> Series:
        """Users as a share of the tenant's paid seats, month by month."""
        out: Series = []
        for idx, seat_count in enumerate(seats):
            part = fraction if isinstance(fraction, float) else fraction[idx]
            if seat_count is None or part is None:
                out.append(None)
                continue
            out.append(Decimal(round(float(seat_count) * self.noisy(float(part), spread))))
        return out

    def fractions(self, begin: float, end: float, *, rise_from: int) -> Series:
        return [
            Decimal(str(begin))
            if idx <= rise_from
            else Decimal(str(begin + (end - begin) * (idx - rise_from) / (NOW - rise_from)))
            for idx in range(WINDOW_MONTHS)
        ]

    def add(self, customer: DemoCustomer) -> DemoCustomer:
        self.customers.append(customer)
        return customer

    def m365_tenant(
        self,
        key: str,
        name: str,
        seats: Series,
        *,
        start: int = -12,
        end: int | None = None,
        security: dict[str, Series | float] | None = None,
        teams: Series | float | None = None,
    ) -> DemoCustomer:
        usage: dict[tuple[str, str], Series] = {(Measure.PAID_SEATS, ""): seats}
        for workload, fraction in (security or {}).items():
            usage[(Measure.PROTECTED_USERS, workload)] = self.share(seats, fraction)
        if teams is not None:
            usage[(Measure.ACTIVE_USERS, "Teams")] = self.share(seats, teams)
            usage[(Measure.ACTIVE_USERS, "Exchange")] = self.share(seats, 0.9)
        return self.add(
            DemoCustomer(key, Platform.M365, name, AssociationType.CPOR, start, end, usage)
        )

    def azure_customer(
        self, key: str, name: str, acr_by_area: dict[str, Series], *, start: int = -12
    ) -> DemoCustomer:
        usage: dict[tuple[str, str], Series] = {
            (Measure.ACR_USD, area): series for area, series in acr_by_area.items()
        }
        return self.add(
            DemoCustomer(key, Platform.AZURE, name, AssociationType.PAL, start, None, usage)
        )

    def dynamics_tenant(
        self, key: str, name: str, seats: Series, revenue: Series, *, start: int = -12
    ) -> DemoCustomer:
        usage: dict[tuple[str, str], Series] = {
            (Measure.PAID_SEATS, ""): seats,
            (Measure.REVENUE_USD, "D365Sales"): revenue,
        }
        return self.add(
            DemoCustomer(key, Platform.DYNAMICS, name, AssociationType.DPOR, start, None, usage)
        )


def _zero_after(series: Series, last: int) -> Series:
    """A tenant that left: its figures drop to 0 after the month `last`."""
    return [
        value if idx <= last or value is None else Decimal(0) for idx, value in enumerate(series)
    ]


def _sakura(b: _Builder) -> None:
    """Qualifies for Security: 8 net adds, 6 individuals, ~¾ of the growth, 5 deployments."""
    established = [
        ("hokkaido-logistics", "北海道ロジスティクス株式会社", 420),
        ("kansai-medical", "医療法人 関西メディカル", 260),
        ("tokai-manufacturing", "東海精密工業株式会社", 880),
        ("kyushu-retail", "九州リテールホールディングス", 350),
        ("shonan-university", "学校法人 湘南学園", 610),
        ("nagoya-finance", "名古屋ファイナンス株式会社", 190),
        ("sendai-energy", "仙台エナジー株式会社", 140),
        ("osaka-foods", "大阪フーズ株式会社", 300),
        ("yokohama-port", "横浜ポートサービス株式会社", 95),
        ("kobe-design", "株式会社神戸デザイン", 60),
        ("chiba-construction", "千葉建設株式会社", 230),
        ("kyoto-tourism", "京都観光開発株式会社", 75),
    ]
    for key, name, size in established:
        seats = b.path(size, size * 1.06, spread=0.01)
        b.m365_tenant(
            key,
            name,
            seats,
            security={
                "AADP": b.fractions(0.7, 0.84, rise_from=11),
                "MDO": b.fractions(0.5, 0.58, rise_from=11),
            },
            teams=0.85,
        )
    # Deployments: Defender for Endpoint rolled out this year, from 5% to 35–45% of seats.
    for key, name, size, rise_from, reach in [
        ("hiroshima-auto", "広島オートパーツ株式会社", 240, 13, 0.42),
        ("niigata-rice", "新潟ライスファーム株式会社", 160, 15, 0.36),
        ("okayama-clinic", "医療法人 岡山クリニック", 120, 17, 0.40),
    ]:
        seats = b.path(size, size * 1.05, spread=0.01)
        b.m365_tenant(
            key,
            name,
            seats,
            security={"AADP": 0.7, "MDE": b.fractions(0.05, reach, rise_from=rise_from)},
            teams=0.8,
        )
    # Seven new customers this year, each from zero to 30+ seats, with security from day one.
    for offset, (key, name, size) in enumerate(
        [
            ("shizuoka-tea", "静岡ティー株式会社", 45),
            ("kanazawa-crafts", "金沢クラフト株式会社", 32),
            ("matsuyama-ship", "松山造船株式会社", 120),
            ("naha-resort", "那覇リゾート株式会社", 70),
            ("kumamoto-agri", "熊本アグリテック株式会社", 38),
            ("akita-wood", "秋田ウッドワークス株式会社", 55),
            ("gifu-tools", "岐阜ツールズ株式会社", 40),
        ]
    ):
        start = 13 + offset
        seats = b.path(size * 0.8, size, start=start, spread=0.01)
        b.m365_tenant(key, name, seats, start=start, security={"AADP": 0.6})
    # One customer left: ≥ 25 seats, then none.
    seats = _zero_after(b.path(85, 85, spread=0.01), 16)
    b.m365_tenant("sapporo-media", "札幌メディア株式会社", seats, end=17, security={"AADP": 0.5})

    # Azure security: steady customers, two that crossed $12,000 a year, two new ones.
    for key, name, monthly in [
        ("tpid-tokai-manufacturing", "東海精密工業株式会社", 720),
        ("tpid-nagoya-finance", "名古屋ファイナンス株式会社", 540),
        ("tpid-osaka-foods", "大阪フーズ株式会社", 410),
    ]:
        b.azure_customer(
            key,
            name,
            {
                "security": b.path(monthly, monthly * 1.1, cents=True),
                "infrastructure": b.path(monthly * 6, monthly * 6.5, cents=True),
            },
        )
    for key, name, begin, end, rise_from in [
        ("tpid-kansai-medical", "医療法人 関西メディカル", 380, 2900, 11),
        ("tpid-hiroshima-auto", "広島オートパーツ株式会社", 300, 2600, 12),
    ]:
        b.azure_customer(
            key, name, {"security": b.path(begin, end, rise_from=rise_from, cents=True)}
        )
    for key, name, start, monthly in [
        ("tpid-matsuyama-ship", "松山造船株式会社", 14, 260),
        ("tpid-naha-resort", "那覇リゾート株式会社", 16, 310),
    ]:
        b.azure_customer(
            key,
            name,
            {"security": b.path(monthly * 0.6, monthly * 1.6, start=start, cents=True)},
            start=start,
        )
    # Dynamics 365: two long-standing tenants.
    for key, name, size, revenue in [
        ("d365-kyushu-retail", "九州リテールホールディングス", 40, 3200),
        ("d365-hokkaido-logistics", "北海道ロジスティクス株式会社", 24, 1900),
    ]:
        b.dynamics_tenant(
            key,
            name,
            b.path(size, size * 1.1, spread=0.01),
            b.path(revenue, revenue * 1.15, cents=True),
        )


def _contoso(b: _Builder) -> None:
    """Security in the 60s (2 of 6 individuals, 4 deployments); qualifies for Modern Work."""
    established = [
        ("northwind-traders", "Northwind Traders", 540),
        ("adventure-works", "Adventure Works Cycles", 820),
        ("wide-world-importers", "Wide World Importers", 310),
        ("tailspin-toys", "Tailspin Toys", 150),
        ("woodgrove-bank", "Woodgrove Bank", 1250),
        ("litware", "Litware, Inc.", 95),
        ("proseware", "Proseware, Inc.", 210),
        ("lucerne-publishing", "Lucerne Publishing", 130),
        ("alpine-ski-house", "Alpine Ski House", 70),
        ("blue-yonder-airlines", "Blue Yonder Airlines", 980),
        ("coho-winery", "Coho Winery", 45),
        ("fourth-coffee", "Fourth Coffee", 260),
    ]
    for key, name, size in established:
        seats = b.path(size, size * 1.08, spread=0.01)
        b.m365_tenant(
            key,
            name,
            seats,
            security={"AADP": b.fractions(0.6, 0.78, rise_from=11), "MDO": 0.5},
            teams=b.fractions(0.7, 0.86, rise_from=11),
        )
    # Deployments: two Defender roll-outs, three Teams roll-outs.
    for key, name, size, rise_from, reach in [
        ("margies-travel", "Margie's Travel", 300, 14, 0.45),
        ("graphic-design-institute", "Graphic Design Institute", 180, 16, 0.38),
    ]:
        seats = b.path(size, size * 1.04, spread=0.01)
        b.m365_tenant(
            key,
            name,
            seats,
            security={"MDE": b.fractions(0.04, reach, rise_from=rise_from)},
            teams=0.8,
        )
    for key, name, size, rise_from in [
        ("school-of-fine-art", "School of Fine Art", 220, 12),
        ("trey-research", "Trey Research", 140, 15),
        ("consolidated-messenger", "Consolidated Messenger", 90, 17),
    ]:
        seats = b.path(size, size * 1.05, spread=0.01)
        b.m365_tenant(
            key,
            name,
            seats,
            security={"AADP": 0.6},
            teams=b.fractions(0.08, 0.7, rise_from=rise_from),
        )
    # Nine new customers this year, one lost.
    for offset, (key, name, size) in enumerate(
        [
            ("fabrikam-residences", "Fabrikam Residences", 60),
            ("city-power-light", "City Power & Light", 150),
            ("humongous-insurance", "Humongous Insurance", 240),
            ("relecloud", "Relecloud", 48),
            ("bellows-college", "Bellows College", 130),
            ("vanarsdel", "VanArsdel, Ltd.", 36),
            ("nod-publishers", "Nod Publishers", 52),
            ("southridge-video", "Southridge Video", 75),
            ("contoso-pharmaceuticals", "Contoso Pharmaceuticals", 310),
        ]
    ):
        start = 12 + offset + (offset > 4)
        seats = b.path(size * 0.7, size, start=start, spread=0.01)
        b.m365_tenant(key, name, seats, start=start, security={"AADP": 0.65, "MDO": 0.6}, teams=0.8)
    seats = _zero_after(b.path(110, 110, spread=0.01), 18)
    b.m365_tenant("wingtip-toys", "Wingtip Toys", seats, end=19, security={"AADP": 0.5})

    for key, name, monthly in [
        ("tpid-woodgrove-bank", "Woodgrove Bank", 960),
        ("tpid-blue-yonder-airlines", "Blue Yonder Airlines", 640),
    ]:
        b.azure_customer(key, name, {"security": b.path(monthly, monthly * 1.25, cents=True)})
    for key, name, begin, end, rise_from in [
        ("tpid-adventure-works", "Adventure Works Cycles", 420, 3400, 11),
        ("tpid-northwind-traders", "Northwind Traders", 260, 3000, 12),
    ]:
        b.azure_customer(
            key, name, {"security": b.path(begin, end, rise_from=rise_from, cents=True)}
        )
    for key, name, start, monthly in [
        ("tpid-humongous-insurance", "Humongous Insurance", 15, 380),
        ("tpid-relecloud", "Relecloud", 17, 290),
    ]:
        b.azure_customer(
            key,
            name,
            {"security": b.path(monthly * 0.7, monthly * 1.4, start=start, cents=True)},
            start=start,
        )
    for key, name, size, revenue, start in [
        ("d365-northwind-traders", "Northwind Traders", 35, 4800, -12),
        ("d365-proseware", "Proseware, Inc.", 18, 2100, -12),
        ("d365-city-power-light", "City Power & Light", 22, 2600, 16),
    ]:
        b.dynamics_tenant(
            key,
            name,
            b.path(size, size * 1.1, start=max(start, 0), spread=0.01),
            b.path(revenue * 0.8, revenue, start=max(start, 0), cents=True),
            start=start,
        )


def _fabrikam(b: _Builder) -> None:
    """Leads in Data & AI: steady data platforms and eight new ones since last year."""
    # The established data platforms report their consumption by Azure service (data-formats.md,
    # additions): five distinct services, the 2023/2026 deployments metric; one by area only.
    for key, name, monthly, service in [
        ("tpid-contoso-pharma-de", "Contoso Pharma Deutschland", 3800, "azure-sql-database"),
        ("tpid-wingtip-energie", "Wingtip Energie AG", 2600, "azure-cosmos-db"),
        ("tpid-tailspin-logistik", "Tailspin Logistik GmbH", 1900, "microsoft-fabric"),
        ("tpid-litware-versicherung", "Litware Versicherung AG", 4400, "azure-openai"),
        ("tpid-proseware-automotive", "Proseware Automotive GmbH", 2200, "azure-machine-learning"),
        ("tpid-lucerne-medien", "Lucerne Medien GmbH", 1500, "data-ai"),
    ]:
        b.azure_customer(
            key,
            name,
            {
                service: b.path(monthly, monthly * 1.3, cents=True),
                "infrastructure": b.path(monthly * 0.4, monthly * 0.45, cents=True),
            },
        )
    for offset, (key, name, monthly) in enumerate(
        [
            ("tpid-adatum-bank", "A. Datum Bank AG", 2400),
            ("tpid-northwind-handel", "Northwind Handel GmbH", 1800),
            ("tpid-alpine-reisen", "Alpine Reisen GmbH", 2100),
            ("tpid-coho-weingut", "Coho Weingut KG", 1600),
            ("tpid-fourth-kaffee", "Fourth Kaffee GmbH", 2900),
            ("tpid-trey-forschung", "Trey Forschung e.V.", 2000),
            ("tpid-blue-yonder-fracht", "Blue Yonder Fracht GmbH", 3300),
            ("tpid-woodgrove-finanz", "Woodgrove Finanz AG", 2500),
        ]
    ):
        start = 12 + offset // 2
        b.azure_customer(
            key,
            name,
            {"data-ai": b.path(monthly * 0.5, monthly * 1.2, start=start, cents=True)},
            start=start,
        )
    for key, name, size in [
        ("rhein-consulting", "Rhein Consulting GmbH", 85),
        ("hamburg-hafen", "Hamburger Hafendienste GmbH", 140),
    ]:
        b.m365_tenant(key, name, b.path(size, size, spread=0.01), security={"AADP": 0.5}, teams=0.8)


PLANS: dict[str, Callable[[_Builder], None]] = {
    "6120031": _sakura,
    "4410087": _contoso,
    "5530912": _fabrikam,
}


def _customer_id(organization: Organization, customer: DemoCustomer) -> str:
    """A tenant GUID, or a numeric TPID for Azure, stable for this organization and key."""
    stable = uuid.uuid5(DEMO_NAMESPACE, f"{organization.partner_id}:{customer.key}")
    if customer.platform == Platform.AZURE:
        return str(10_000_000 + stable.int % 90_000_000)
    return str(stable)


def demo_customers(*, organization: Organization) -> list[DemoCustomer]:
    """The demo plan of one organization (none for an organization the demo does not know)."""
    plan = PLANS.get(organization.partner_id)
    if plan is None:
        return []
    builder = _Builder(f"seed-demo-telemetry:{organization.partner_id}")
    plan(builder)
    return builder.customers


def _upsert_customers(organization: Organization, plan: list[DemoCustomer]) -> dict[str, Customer]:
    wanted = {(c.platform, _customer_id(organization, c)): c for c in plan}
    ids = [customer_id for _, customer_id in wanted]
    existing = {
        (c.platform, c.customer_id): c for c in Customer.objects.filter(customer_id__in=ids)
    }
    new, changed = [], []
    for natural_key, spec in wanted.items():
        row = existing.get(natural_key)
        if row is None:
            new.append(
                Customer(
                    platform=spec.platform,
                    customer_id=natural_key[1],
                    name=spec.name,
                    country=organization.country,
                    production=True,
                )
            )
        elif (row.name, row.country) != (spec.name, organization.country):
            row.name, row.country = spec.name, organization.country
            changed.append(row)
    Customer.objects.bulk_create(new)
    if changed:
        Customer.objects.bulk_update(changed, ["name", "country"])
    rows = {(c.platform, c.customer_id): c for c in Customer.objects.filter(customer_id__in=ids)}
    return {spec.key: rows[natural_key] for natural_key, spec in wanted.items()}


def _upsert_associations(
    organization: Organization,
    plan: list[DemoCustomer],
    customers: dict[str, Customer],
    months: list[date],
) -> None:
    def month_at(idx: int) -> date:
        return add_months(months[0], idx)

    existing = {
        (a.customer_id, a.type, a.workload): a
        for a in Association.objects.for_org(organization).filter(
            customer__in=list(customers.values())
        )
    }
    for spec in plan:
        customer = customers[spec.key]
        start = month_at(spec.start)
        end = None if spec.end is None else month_at(spec.end)
        row = existing.get((customer.pk, spec.association, ""))
        if row is None:
            Association.objects.create(
                organization=organization,
                customer=customer,
                type=spec.association,
                workload="",
                start_month=start,
                end_month=end,
            )
        elif (row.start_month, row.end_month) != (start, end):
            row.start_month, row.end_month = start, end
            row.save(update_fields=["start_month", "end_month"])


def _upsert_usage(
    plan: list[DemoCustomer], customers: dict[str, Customer], months: list[date]
) -> None:
    wanted: dict[tuple[int, str, str, date], Decimal] = {}
    for spec in plan:
        customer = customers[spec.key]
        for (measure, workload), series in spec.usage.items():
            for idx, value in enumerate(series):
                if value is not None:
                    wanted[(customer.pk, measure, workload, months[idx])] = value
    existing = {
        (u.customer_id, u.measure, u.workload, u.month): u
        for u in Usage.objects.filter(
            customer__in=list(customers.values()), month__gte=months[0], month__lte=months[-1]
        )
    }
    new, changed = [], []
    for (customer_id, measure, workload, month), value in wanted.items():
        row = existing.get((customer_id, measure, workload, month))
        if row is None:
            new.append(
                Usage(
                    customer_id=customer_id,
                    measure=measure,
                    workload=workload,
                    month=month,
                    value=value,
                )
            )
        elif row.value != value:
            row.value = value
            changed.append(row)
    Usage.objects.bulk_create(new, batch_size=1000)
    if changed:
        Usage.objects.bulk_update(changed, ["value"], batch_size=1000)


@transaction.atomic
def seed_demo_telemetry(
    *, organizations: Iterable[Organization], today: date | None = None
) -> None:
    """Give the demo organizations customers, associations and 24 months of usage to today."""
    today = today or timezone.localdate()
    now = current_month(today)
    months = [add_months(now, idx - NOW) for idx in range(WINDOW_MONTHS)]
    for organization in organizations:
        plan = demo_customers(organization=organization)
        if not plan:
            continue
        customers = _upsert_customers(organization, plan)
        _upsert_associations(organization, plan, customers, months)
        _upsert_usage(plan, customers, months)
