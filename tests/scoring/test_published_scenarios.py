"""Per published version, one scenario per designation through the whole path: the CSV files
imported with the import entry point (`import_csv`, what `manage.py import_data` and the staff
upload use), `manage.py recompute_scores --as-of`, `manage.py export_scores --format json`.

Each scenario is one small set of files (an organization, its people and certifications, its
customers with their segment, associations and 24+ months of usage, dated relative to the as-of
date), scored as of a day in force of each version (program.md §9): 2022 on 2023-03-31, 2023 on
2023-10-31, 2023-12 on 2024-06-30, 2026 on 2026-11-30. The expected totals are worked out by
hand from the published rules (published-rules.md §0.2, §3 and §4; the 2022 defaults of
other-designations.md for the five designations the seed does not specify), metric by metric in
each table's comments. Runs on SQLite and, with DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.management import call_command

from scoring.imports import import_csv
from scoring.measures import add_months, current_month

pytestmark = pytest.mark.django_db

VERSION_DAYS = {
    "2022": date(2023, 3, 31),
    "2023": date(2023, 10, 31),
    "2023-12": date(2024, 6, 30),
    "2026": date(2026, 11, 30),
}
# The version in force on each day for the Azure designations (no 2023-12 change for them).
AZURE_RELEASES = {"2022": "2022", "2023": "2023", "2023-12": "2023", "2026": "2026"}
PARTNER = "7000001"


@dataclass
class Files:
    """The CSV texts of one scenario, built row by row."""

    people: list[str] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    associations: list[str] = field(default_factory=list)
    usage: list[str] = field(default_factory=list)

    def person(self, person_id: str, *codes: str) -> None:
        self.people.append(f"{PARTNER},{person_id},Person {person_id},{person_id}@example.com")
        for code in codes:
            self.certifications.append(f"{PARTNER},{person_id},{code},2022-01-01,")

    def customer(self, platform: str, customer_id: str, segment: str, kind: str, start: str):
        self.customers.append(f"{platform},{customer_id},Customer {customer_id},{segment}")
        self.associations.append(f"{PARTNER},{platform},{customer_id},{kind},,{start},")

    def figure(self, month: str, platform: str, customer_id: str, measure: str, workload: str,
               value: object) -> None:  # fmt: skip
        self.usage.append(f"{month},{platform},{customer_id},{measure},{workload},{value}")


HEADERS = {
    "organizations": "partner_id,name,country",
    "people": "partner_id,person_id,name,email",
    "certifications": "partner_id,person_id,certification,earned_on,expires_on",
    "customers": "platform,customer_id,name,segment",
    "associations": "partner_id,platform,customer_id,type,workload,start_month,end_month",
    "usage": "month,platform,customer_id,measure,workload,value",
}


def _month(as_of: date, back: int) -> str:
    return add_months(current_month(as_of), -back).strftime("%Y-%m")


def _import(files: Files) -> None:
    texts = {
        "organizations": [f"{PARTNER},Scenario Partner GmbH,DE"],
        "people": files.people,
        "certifications": files.certifications,
        "customers": files.customers,
        "associations": files.associations,
        "usage": files.usage,
    }
    for kind, rows in texts.items():
        if not rows:
            continue
        data = "\n".join([HEADERS[kind], *rows]).encode() + b"\n"
        result = import_csv(kind, io.BytesIO(data))
        assert result.ok, (kind, result.errors[:5])


def _export(designation: str, as_of: date) -> dict:
    call_command("recompute_scores", as_of=as_of.isoformat(), partner_id=PARTNER)
    out = io.StringIO()
    call_command("export_scores", as_of=as_of.isoformat(), partner_id=PARTNER, format="json",
                 stdout=out)  # fmt: skip
    rows = {row["designation"]: row for row in json.loads(out.getvalue())}
    return rows[designation]


# --- Azure (Infrastructure, Data & AI, Digital & App Innovation) -------------------------------
#
# Telemetry, the same shape for the three (each in its own solution area and services), all PAL:
# - five established customers E1..E5, associated 30 months back: $300 a month until 12 months
#   ago, $20,000 a month for the last 12 months. E1..E4 consume the designation's own workloads
#   (two distinct services, a service that does not count as distinct or the area code, and the
#   area code); E5 one distinct service of another area.
# - twelve new customers N1..N12, associated 2 months back, $5,000 a month in the area code.
#
# Performance and customer success, per version:
# - 2022 (defaults): net customer adds 10 customers averaging ≥ $1,000 a month over the trailing
#   12 months (program.md §3.1, the Azure reading) − those a year earlier → 16 → 30; usage growth
#   +$10,000 → 4 × 19,700 = 78,800 → 20; deployments 3 customers crossing $10,000 → E1..E4 → 10.
# - 2023 and 2026 (common to the three, every Azure service): net customer adds 3 → 17 now
#   (≥ $1,000, or ≥ $500 SMB 2026, in one of the last two months) − 0 a year ago → 30; usage
#   growth +20 % → 160,000 vs 1,500 → 20; deployments 2 points per distinct service with ACR in
#   the trailing 12 months, virtual machines excluded → 3 services → 6.

AZURE_TELEMETRY = {
    "infrastructure-azure": (
        "infrastructure",
        ["storage", "virtual-network", "virtual-machines", "infrastructure",
         "azure-kubernetes-service"],
    ),
    "data-ai-azure": (
        "data-ai",
        ["azure-sql-database", "azure-cosmos-db", "data-ai", "data-ai", "app-service"],
    ),
    "digital-app-innovation-azure": (
        "digital-app-innovation",
        ["app-service", "azure-functions", "digital-app-innovation", "digital-app-innovation",
         "storage"],
    ),
}  # fmt: skip


def _azure_files(designation: str, as_of: date, segment: str) -> Files:
    area, established = AZURE_TELEMETRY[designation]
    files = Files()
    for n, workload in enumerate(established, start=1):
        tpid = f"{81000000 + n}"
        files.customer("azure", tpid, segment, "PAL", _month(as_of, 30))
        for back in range(24):
            value = 20000 if back < 12 else 300
            files.figure(_month(as_of, back), "azure", tpid, "acr_usd", workload, value)
    for n in range(1, 13):
        tpid = f"{82000000 + n}"
        files.customer("azure", tpid, segment, "PAL", _month(as_of, 2))
        for back in range(3):
            files.figure(_month(as_of, back), "azure", tpid, "acr_usd", area, 5000)
    return files


# Skilling, per designation (people: the certifications each holds), and the expected result
# per version: (total, qualified, track).
AZURE_SCENARIOS = {
    "infrastructure-azure": (
        # 2022: AZ-104 holders 2 of 2 → 20; AZ-305 holders 1 of 2 → 10.
        # 2023: 2 × AZ-104 unlock, AZ-700 holders 2 × 4 → 8; 1 × AZ-305 of 2: advanced 0.
        # 2026: every customer SMB (≥ 80 %) → SMB: the gates give 4 each (1 × AZ-104, 1 × AZ-305),
        #   AZ-700 2 × 4 and AZ-140 1 × 4 → 12 and 8.
        "smb",
        {"A1": ["AZ-104"], "A2": ["AZ-104", "AZ-700"], "A3": ["AZ-700"], "A4": ["AZ-305"],
         "A5": ["AZ-140"]},
        {
            "2022": (30 + 20 + 10 + 20 + 10, True, ""),
            "2023": (30 + 8 + 0 + 20 + 6, False, ""),
            "2023-12": (30 + 8 + 0 + 20 + 6, False, ""),
            "2026": (30 + 12 + 8 + 20 + 6, True, "smb"),
        },
    ),
    "data-ai-azure": (
        # 2022: intermediate AI-102/DP-100/DP-203/DP-300 holders B4, B5 of 2 → 20; advanced
        #   AZ-305 + a data certification: nobody → 0 (not qualified).
        # 2023: 2 × AZ-305 and 2 × AZ-104 unlock; B4, B5, B6 (PL-300), B9 (DP-420) × 4 → 16.
        # 2026: Enterprise (no SMB customer); DP-203 no longer counts: B5, B6, B7 (DP-600),
        #   B8 (DP-700), B9 × 4 → 20.
        "enterprise",
        {"B1": ["AZ-305"], "B2": ["AZ-305", "AZ-104"], "B3": ["AZ-104"], "B4": ["DP-203"],
         "B5": ["DP-300", "DP-203"], "B6": ["PL-300"], "B7": ["DP-600"], "B8": ["DP-700"],
         "B9": ["DP-420"]},
        {
            "2022": (30 + 20 + 0 + 20 + 10, False, ""),
            "2023": (30 + 16 + 20 + 6, True, ""),
            "2023-12": (30 + 16 + 20 + 6, True, ""),
            "2026": (30 + 20 + 20 + 6, True, "enterprise"),
        },
    ),
    "digital-app-innovation-azure": (
        # 2022: AZ-204 holders 1 of 2 → 10; AZ-305/AZ-400 holders 2 of 2 → 20.
        # 2023: 2 × AZ-104 unlock, AZ-204/PL-400 holders C1, C3 → 8; 2 × AZ-305 unlock,
        #   AZ-400 holder C5 → 4 (GH-300 does not count yet).
        # 2026: Enterprise (corporate customers); advanced C5 and C6 (GH-300) → 8.
        "corporate",
        {"C1": ["AZ-104", "AZ-204"], "C2": ["AZ-104"], "C3": ["PL-400"], "C4": ["AZ-305"],
         "C5": ["AZ-305", "AZ-400"], "C6": ["GH-300"]},
        {
            "2022": (30 + 10 + 20 + 20 + 10, True, ""),
            "2023": (30 + 8 + 4 + 20 + 6, False, ""),
            "2023-12": (30 + 8 + 4 + 20 + 6, False, ""),
            "2026": (30 + 8 + 8 + 20 + 6, True, "enterprise"),
        },
    ),
}  # fmt: skip


@pytest.mark.parametrize("version", list(VERSION_DAYS))
@pytest.mark.parametrize("designation", list(AZURE_SCENARIOS))
def test_azure_scenario_through_import_recompute_export(designation, version):
    segment, people, expected = AZURE_SCENARIOS[designation]
    as_of = VERSION_DAYS[version]
    files = _azure_files(designation, as_of, segment)
    for person_id, codes in people.items():
        files.person(person_id, *codes)
    _import(files)

    row = _export(designation, as_of)

    total, qualified, track = expected[version]
    assert row["rule_version"] == AZURE_RELEASES[version]
    assert (Fraction(row["total"]).limit_denominator(100), row["qualified"], row["track"]) == (
        total,
        qualified,
        track,
    ), row["metrics"]
    assert Decimal(str(row["total"])) == sum(Decimal(str(m["points"])) for m in row["metrics"])


# --- Security and Modern Work (Microsoft 365 tenants, CPOR) -------------------------------------
#
# Telemetry: tenants T1..Tn associated (CPOR) 30 months back with no paid seat until 6 months ago,
# then `seats` paid seats a month (the tenant's and, per workload, the workload's) and `users`
# users of the workload.


def _m365_files(as_of: date, tenants: int, seats: int, measure: str, workload: str,
                users: int) -> Files:  # fmt: skip
    files = Files()
    for n in range(1, tenants + 1):
        tenant = f"00000000-0000-4000-8000-{n:012d}"
        files.customer("m365", tenant, "", "CPOR", _month(as_of, 30))
        for back in range(6):
            month = _month(as_of, back)
            files.figure(month, "m365", tenant, "paid_seats", "", seats)
            files.figure(month, "m365", tenant, "paid_seats", workload, seats)
            files.figure(month, "m365", tenant, measure, workload, users)
    return files


M365_SCENARIOS = {
    "security": (
        # Five tenants from 0 to 400 paid seats (and 400 MDE seats) this year, 300 protected users.
        (5, 400, "protected_users", "MDE", 300),
        # Six people with AZ-500 + MS-500 + SC-300, two of them with SC-200 as well.
        {f"S{n}": ["AZ-500", "MS-500", "SC-300", *(["SC-200"] if n <= 2 else [])]
         for n in range(1, 7)},
        # Net customer adds: 5 tenants (2022: 0 → ≥ 25 seats; 2023: ≥ 25 seats now − a year
        #   ago; 2026 Enterprise: a workload > 300 seats) × 2 → 10, no Azure customer.
        # Skilling: 2022 the combination, 2023 the steps (1 × AZ-500, 1 × MS-500/SC-200 unlock),
        #   2023-12 (2 × each unlock; SC-300 still scores), 2026 Enterprise (2 × AZ-500, 2 × SC-200
        #   unlock): 6 people → 40.
        # Usage growth: +1,500 protected users: 2022 1,500 / 2,500 × 20 = 12; from 2023 1 point
        #   per 125 users → 12.
        # Deployments: 5 tenants ≥ 25 (2026: > 300) seats with ≥ 15 % protected → 5 × 20/6.
        # 2026: the best track is Enterprise (SMB has no net customer add: 400 seats is out of
        #   its 5–300 band).
        {
            "2022": (Fraction(10 + 40 + 12) + Fraction(100, 6), True, "", "2022"),
            "2023": (Fraction(10 + 40 + 12) + Fraction(100, 6), True, "", "2023"),
            "2023-12": (Fraction(10 + 40 + 12) + Fraction(100, 6), True, "", "2023-12"),
            "2026": (Fraction(10 + 40 + 12) + Fraction(100, 6), True, "enterprise", "2026"),
        },
    ),
    "modern-work": (
        # Ten tenants from 0 to 100 paid seats (and 100 Teams seats) this year, 45 Teams users.
        (10, 100, "active_users", "Teams", 45),
        # MS-700 and MD-102 (intermediate), MS-102 (advanced).
        {"W1": ["MS-700"], "W2": ["MD-102"], "W3": ["MS-102"]},
        # 2022: net adds 10 (0 → ≥ 25 seats) of 10 → 20; intermediate 2 of 2 → 10; advanced 1 of
        #   1 → 15; usage growth +450 users of 2,500 → 5.4; deployments 10 tenants ≥ 15 % active
        #   of 6 → 25.
        # 2023 and 2026, the best track is SMB (11–300 seats): net adds 10 of 10 → 20;
        #   intermediate 2 of 2 → 10; advanced 1 of 1 → 15; usage growth CPOR +450 of 500 → 27;
        #   deployments 10 tenants ≥ 40 % active × 5, at most 25.
        {
            "2022": (Fraction(20 + 10 + 15 + 25) + Fraction(54, 10), True, "", "2022"),
            "2023": (Fraction(20 + 10 + 15 + 27 + 25), True, "smb", "2023"),
            "2023-12": (Fraction(20 + 10 + 15 + 27 + 25), True, "smb", "2023"),
            "2026": (Fraction(20 + 10 + 15 + 27 + 25), True, "smb", "2026"),
        },
    ),
}  # fmt: skip


@pytest.mark.parametrize("version", list(VERSION_DAYS))
@pytest.mark.parametrize("designation", list(M365_SCENARIOS))
def test_m365_scenario_through_import_recompute_export(designation, version):
    telemetry, people, expected = M365_SCENARIOS[designation]
    as_of = VERSION_DAYS[version]
    files = _m365_files(as_of, *telemetry)
    for person_id, codes in people.items():
        files.person(person_id, *codes)
    _import(files)

    row = _export(designation, as_of)

    total, qualified, track, release = expected[version]
    assert row["rule_version"] == release
    assert (row["qualified"], row["track"]) == (qualified, track), row["metrics"]
    assert row["total"] == pytest.approx(float(total), abs=0.01), row["metrics"]


# --- Business Applications (Dynamics tenants, DPOR) ---------------------------------------------
#
# Three tenants associated 30 months back (back = months before the current month):
# - D1: 50 paid seats throughout; D365 Sales revenue $1,000 a month until 12 months ago, $6,000
#   since; 130 Sales users (MCV 130 × 200 = 26,000) until 12 months ago, 120 since (24,000);
# - D2: from 5 months back, 30 paid seats, D365 Finance revenue $500, 30 Power Apps users (6,000);
# - D3: from 5 months back, 20 paid seats, Business Central revenue $400, 12,500 Customer Insights
#   profiles of capacity (12,500 × 0.2 = 2,500).
# People: MB-210, PL-200, PL-100, MB-800 (intermediate), PL-600 (advanced).
#
# 2022 (defaults): net adds D2, D3 (0 → ≥ 10 seats) × 3 → 6; intermediate MB-210, PL-200,
#   MB-800 of 4 × 5 → 15; advanced PL-600 → 15; revenue growth 5,000 + 500 + 400 = 5,900 of
#   50,000 × 30 → 3.54; deployments D2, D3 (≤ 10 → > 10 seats) × 5 → 10.
# 2023 (SMB: no workload over $5,000 both now and a year ago): net workloads ≥ $250 now 3 − a
#   year ago 1 → 2 × 3 = 6; intermediate 4 people × 4 → 16; advanced 1 × 7.5; MCV 32,500 vs
#   26,000 (≥ 25,000 baseline) +25 % → 25; deployments (workloads ≥ 5,000 MCV) now 2 − a year
#   ago 1 → 4.
# 2023-12: PL-100 no longer counts → intermediate 12.
# 2026: MB-210 no longer counts either → intermediate 8.
BA_EXPECTED = {
    "2022": (6 + 15 + 15 + 3.54 + 10, False, "", "2022"),
    "2023": (6 + 16 + 7.5 + 25 + 4, False, "smb", "2023"),
    "2023-12": (6 + 12 + 7.5 + 25 + 4, False, "smb", "2023-12"),
    "2026": (6 + 8 + 7.5 + 25 + 4, False, "smb", "2026"),
}


def _dynamics_files(as_of: date) -> Files:
    files = Files()
    tenants = {n: f"11111111-0000-4000-8000-{n:012d}" for n in (1, 2, 3)}
    for tenant in tenants.values():
        files.customer("dynamics", tenant, "", "DPOR", _month(as_of, 30))
    for back in range(24):
        month = _month(as_of, back)
        files.figure(month, "dynamics", tenants[1], "paid_seats", "", 50)
        files.figure(month, "dynamics", tenants[1], "revenue_usd", "D365Sales",
                     6000 if back < 12 else 1000)  # fmt: skip
        files.figure(month, "dynamics", tenants[1], "active_users", "D365Sales",
                     120 if back < 12 else 130)  # fmt: skip
        if back <= 5:
            files.figure(month, "dynamics", tenants[2], "paid_seats", "", 30)
            files.figure(month, "dynamics", tenants[2], "revenue_usd", "D365Finance", 500)
            files.figure(month, "dynamics", tenants[2], "active_users", "PowerApps", 30)
            files.figure(month, "dynamics", tenants[3], "paid_seats", "", 20)
            files.figure(month, "dynamics", tenants[3], "revenue_usd", "D365BusinessCentral", 400)
            files.figure(month, "dynamics", tenants[3], "capacity", "D365CustomerInsights", 12500)
    for person_id, code in (("P1", "MB-210"), ("P2", "PL-200"), ("P3", "PL-100"),
                            ("P4", "MB-800"), ("P5", "PL-600")):  # fmt: skip
        files.person(person_id, code)
    return files


@pytest.mark.parametrize("version", list(VERSION_DAYS))
def test_business_applications_scenario_through_import_recompute_export(version):
    as_of = VERSION_DAYS[version]
    _import(_dynamics_files(as_of))

    row = _export("business-applications", as_of)

    total, qualified, track, release = BA_EXPECTED[version]
    assert row["rule_version"] == release
    assert (row["qualified"], row["track"]) == (qualified, track), row["metrics"]
    assert row["total"] == pytest.approx(total, abs=0.01), row["metrics"]
