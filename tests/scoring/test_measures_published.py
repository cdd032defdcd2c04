"""Measures of the published versions' computations, in the database, as of 2024-06-30.

The current month is 2024-06 and "12 months ago" 2023-06, as in test_measures.py. Each test
stores one source of the kind it checks (rule data built here, not the shipped catalog) and reads
the raw value the engine is given; they run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from scoring import engine
from scoring.measures import compute_measures
from scoring.models import (
    Designation,
    MetricRule,
    MetricSource,
    RateCardEntry,
    RuleSet,
    Track,
    Workload,
)
from scoring.selectors import RuleSetInForce, _rule_set_to_engine, rule_sets_in_force
from tests.scoring.telemetry import associate, customer, monthly, usage

AS_OF = date(2024, 6, 30)

pytestmark = pytest.mark.django_db


def rule_set(code: str = "modern-work", **fields: object) -> RuleSet:
    return RuleSet.objects.create(
        designation=Designation.objects.get(code=code),
        version=99,
        effective_from=date(2024, 1, 1),
        **fields,
    )


def add_source(rules: RuleSet, metric: str, workloads: list[str], **fields: object) -> None:
    rule = MetricRule.objects.create(
        rule_set=rules, code=metric, max_points=10, target=1, scaling="per_unit", unit_label="x"
    )
    source = MetricSource.objects.create(metric=rule, label="x", **fields)
    source.workloads.set(Workload.objects.filter(code__in=workloads))


def measured(org, rules: RuleSet) -> dict:
    """The raw measures of the rule set for the organization (not validated: one source)."""
    converted, sources, requirements, classifications = _rule_set_to_engine(rules, as_of=AS_OF)
    in_force = RuleSetInForce(
        model=rules,
        rules=converted,
        sources=tuple(sources),
        certification_requirements=tuple(requirements),
        classifications=tuple(classifications),
    )
    return compute_measures(organization_ids=[org.pk], as_of=AS_OF, rule_sets=[in_force])[org.pk][
        rules.designation.code
    ]


@pytest.fixture
def services(db) -> dict[str, Workload]:
    area = Workload.objects.get(code="infrastructure")
    made = {}
    for code, distinct in (("aks-t", True), ("key-vault-t", True), ("vm-t", False)):
        made[code] = Workload.objects.create(
            code=code, name=code, platform="azure", kind="service", distinct_service=distinct
        )
        made[code].areas.set([area])
    return made


def test_seat_band_net_tenants_per_workload(org):
    """Modern Work SMB 2023: a tenant counts when one eligible workload has 11-300 paid seats."""
    rules = rule_set()
    add_source(rules, "net_customer_adds", ["Teams", "Exchange"], platform="m365",
               attributions=["CPOR", "CSP"], measure="paid_seats", computation="qualifying_net",
               count_unit="tenant_any", seat_threshold=11, seat_max=300)  # fmt: skip
    new = customer("m365")
    associate(org, new, "CSP")
    usage(new, "paid_seats", monthly("2024-01", "2024-06", 200), workload="Teams")
    usage(new, "paid_seats", monthly("2024-01", "2024-06", 900), workload="Exchange")
    large = customer("m365")  # only above the band
    associate(org, large, "CPOR")
    usage(large, "paid_seats", monthly("2023-01", "2024-06", 400), workload="Teams")
    steady = customer("m365")  # in the band both years: not a net add
    associate(org, steady, "CPOR")
    usage(steady, "paid_seats", monthly("2023-01", "2024-06", 50))
    gone = customer("m365")  # in the band a year ago only: a loss
    associate(org, gone, "CPOR")
    usage(gone, "paid_seats", monthly("2023-01", "2023-12", 50), workload="Exchange")
    dpor = customer("m365")  # not an association type of the track
    associate(org, dpor, "DPOR")
    usage(dpor, "paid_seats", monthly("2024-01", "2024-06", 50), workload="Teams")

    assert measured(org, rules)["net_customer_adds"]["m365"] == 0  # +1 new, -1 gone


def test_tenant_total_in_one_of_the_last_two_months(org, services):
    """Azure 2023: a tenant with ≥ $1,000 ACR (all services) in one of the last two months."""
    rules = rule_set("infrastructure-azure")
    add_source(rules, "net_customer_adds", ["infrastructure"], platform="azure",
               attributions=["CSP", "DPOR", "PAL"], measure="acr_usd",
               computation="qualifying_net", count_unit="tenant_total", usage_threshold=1000,
               lookback_months=2)  # fmt: skip
    split = customer("azure")  # 600 + 500 in May, nothing in June: qualifies now
    associate(org, split, "CSP")
    usage(split, "acr_usd", {"2024-05": 600}, workload="aks-t")
    usage(split, "acr_usd", {"2024-05": 500}, workload="key-vault-t")
    small = customer("azure")
    associate(org, small, "DPOR")
    usage(small, "acr_usd", {"2024-06": 999}, workload="infrastructure")
    old = customer("azure")  # qualified in 2023-05, one of the two months before 2023-06
    associate(org, old, "PAL")
    usage(old, "acr_usd", {"2023-05": 1000, "2024-06": 1500}, workload="vm-t")

    assert measured(org, rules)["net_customer_adds"]["azure"] == 1


def test_each_workload_of_a_tenant_over_a_revenue_counts(org):
    """Business Applications 2023: workloads with more than $1,500 a month, per tenant."""
    rules = rule_set("business-applications")
    add_source(rules, "net_customer_adds", ["D365Sales", "PowerApps"], platform="dynamics",
               attributions=["CPOR", "CSP", "DPOR"], measure="revenue_usd",
               computation="qualifying_net", count_unit="workload",
               usage_threshold=Decimal("1500.01"))  # fmt: skip
    tenant = customer("dynamics")
    associate(org, tenant, "CSP")
    usage(tenant, "revenue_usd", {"2023-06": 2000, "2024-06": 2000}, workload="D365Sales")
    usage(tenant, "revenue_usd", {"2023-06": 100, "2024-06": 1600}, workload="PowerApps")
    other = customer("dynamics")
    associate(org, other, "DPOR")
    usage(other, "revenue_usd", {"2024-06": 1500}, workload="D365Sales")  # not more than 1,500

    assert measured(org, rules)["net_customer_adds"]["dynamics"] == 1


def test_consumption_value_growth_reads_the_rate_card(org):
    """MS23-BA: 10 Business Central MAU × 1,000 + 50,000 Customer Insights profiles × 0.2 =
    20,000 MCV; growth is handed over as the value now and its baseline."""
    rules = rule_set("business-applications")
    for code in ("D365BusinessCentral-t", "CustomerInsights-t"):
        Workload.objects.create(code=code, name=code, platform="dynamics")
    RateCardEntry.objects.create(
        rule_set=rules, workload=Workload.objects.get(code="D365BusinessCentral-t"),
        measure="active_users", rate=1000,
    )  # fmt: skip
    RateCardEntry.objects.create(
        rule_set=rules, workload=Workload.objects.get(code="CustomerInsights-t"),
        measure="capacity", rate=Decimal("0.2"),
    )  # fmt: skip
    add_source(rules, "usage_growth", ["D365BusinessCentral-t", "CustomerInsights-t"],
               platform="dynamics", attributions=["CPOR", "DPOR", "PAL"],
               measure="consumption_value", computation="percent_growth")  # fmt: skip
    one = customer("dynamics")
    associate(org, one, "CPOR")
    usage(one, "active_users", {"2023-06": 8, "2024-06": 10}, workload="D365BusinessCentral-t")
    usage(one, "active_users", {"2024-06": 99999}, workload="CustomerInsights-t")  # not rated
    two = customer("dynamics")
    associate(org, two, "PAL")
    usage(two, "capacity", {"2023-06": 40000, "2024-06": 50000}, workload="CustomerInsights-t")

    values = measured(org, rules)["usage_growth"]

    assert values["dynamics"] == Decimal("20000.00")
    assert values["dynamics" + engine.BASELINE_SUFFIX] == Decimal("16000.00")


def test_distinct_services_over_the_trailing_year(org, services):
    """Azure 2023 deployments: distinct services with ACR > 0 in the last 12 months, no VMs."""
    rules = rule_set("infrastructure-azure")
    add_source(rules, "deployments", ["infrastructure"], platform="azure",
               attributions=["CSP", "DPOR", "PAL"], measure="acr_usd",
               computation="distinct_services")  # fmt: skip
    for month_, service in (("2023-07", "aks-t"), ("2024-06", "aks-t"), ("2024-01", "key-vault-t"),
                            ("2024-06", "vm-t"), ("2023-06", "key-vault-t")):  # fmt: skip
        tpid = customer("azure")
        associate(org, tpid, "PAL")
        usage(tpid, "acr_usd", {month_: 10}, workload=service)

    assert measured(org, rules)["deployments"]["azure"] == 2


def test_active_seat_ratio_net_of_the_claim_month(org):
    """Modern Work 2023 deployments: tenants with 40 % of paid seats active, net of a year ago;
    one already over 40 % when claimed in the last 12 months does not count."""
    rules = rule_set()
    add_source(rules, "deployments", ["Teams", "Exchange"], platform="m365",
               attributions=["CPOR"], measure="active_users", computation="active_ratio_net",
               usage_threshold=Decimal("0.4"))  # fmt: skip
    grown = customer("m365")
    associate(org, grown, "CPOR")
    usage(grown, "paid_seats", monthly("2023-01", "2024-06", 100))
    usage(grown, "active_users", {"2023-06": 10, "2024-06": 25}, workload="Teams")
    usage(grown, "active_users", {"2023-06": 5, "2024-06": 20}, workload="Exchange")
    claimed = customer("m365")
    associate(org, claimed, "CPOR", start="2024-03")
    usage(claimed, "paid_seats", monthly("2023-01", "2024-06", 100))
    usage(claimed, "active_users", monthly("2023-01", "2024-06", 60), workload="Teams")
    per_workload = customer("m365")  # seats of the eligible workloads when reported per workload
    associate(org, per_workload, "CPOR")
    usage(per_workload, "paid_seats", monthly("2023-01", "2024-06", 1000))
    usage(per_workload, "paid_seats", monthly("2023-01", "2024-06", 50), workload="Teams")
    usage(per_workload, "active_users", {"2024-06": 20}, workload="Teams")

    assert measured(org, rules)["deployments"]["m365"] == 2


def test_classification_by_segment_share(org, other_org):
    """Azure 2026: SMB when 80 % or more of the customers are SMB."""
    rules = rule_set("infrastructure-azure", track_mode="classified")
    Track.objects.create(rule_set=rules, code="smb", name="SMB", classify_rule="segment_share",
                         classify_segment="smb", classify_share=Decimal("0.8"))  # fmt: skip
    Track.objects.create(rule_set=rules, code="enterprise", name="Enterprise", position=1)
    for index in range(5):
        tpid = customer("azure")
        tpid.segment = "smb" if index < 4 else "enterprise"
        tpid.save()
        associate(org, tpid, "PAL")
        associate(other_org, tpid, "PAL")
    extra = customer("azure")
    associate(other_org, extra, "CSP")

    assert measured(org, rules)[engine.CLASSIFICATION] == {"smb": 1}
    assert measured(other_org, rules)[engine.CLASSIFICATION] == {"smb": 0}  # 4 of 6


def test_classification_by_workload_revenue(org):
    """Business Applications 2023: Enterprise with ≥ 2 workloads over $5,000 on one tenant, now
    and 12 months ago (the page says 5; 2 keeps the table short)."""
    rules = rule_set("business-applications", track_mode="classified")
    enterprise = Track.objects.create(
        rule_set=rules, code="enterprise", name="Enterprise", classify_rule="workload_revenue",
        classify_count=2, classify_threshold=5000,
    )  # fmt: skip
    enterprise.classify_workloads.set(Workload.objects.filter(platform="dynamics"))
    Track.objects.create(rule_set=rules, code="smb", name="SMB", position=1)
    tenant = customer("dynamics")
    associate(org, tenant, "CPOR")
    usage(tenant, "revenue_usd", {"2023-06": 6000, "2024-06": 6000}, workload="D365Sales")
    usage(tenant, "revenue_usd", {"2023-06": 4000, "2024-06": 9000}, workload="PowerApps")

    assert measured(org, rules)[engine.CLASSIFICATION] == {"enterprise": 0}

    usage(tenant, "revenue_usd", {"2023-06": 7000, "2024-06": 7000}, workload="D365Finance")

    assert measured(org, rules)[engine.CLASSIFICATION] == {"enterprise": 1}


def test_segment_share_counts_the_designations_own_customer_base(org):
    """Azure 2026 classifies on the partner's Azure customers: its Microsoft 365 and Dynamics
    tenants (enterprise or SMB) and an Azure customer associated through a type the
    designation does not count do not move the share."""
    rules = rule_set("infrastructure-azure", track_mode="classified")
    Track.objects.create(rule_set=rules, code="smb", name="SMB", classify_rule="segment_share",
                         classify_segment="smb", classify_share=Decimal("0.8"))  # fmt: skip
    Track.objects.create(rule_set=rules, code="enterprise", name="Enterprise", position=1)
    add_source(rules, "net_customer_adds", ["infrastructure"], platform="azure",
               measure="acr_usd", attributions=["PAL", "CSP"], usage_threshold=1000)  # fmt: skip
    for index in range(5):  # 4 of 5 Azure customers SMB: 80 %
        tpid = customer("azure")
        tpid.segment = "smb" if index < 4 else "enterprise"
        tpid.save()
        associate(org, tpid, "PAL" if index % 2 else "CSP")
    for platform, kind in (("m365", "CPOR"), ("m365", "CSP"), ("dynamics", "DPOR")):
        tenant = customer(platform)
        tenant.segment = "enterprise"
        tenant.save()
        associate(org, tenant, kind)
    by_dpor = customer("azure")  # DPOR: not an attribution of this rule set's sources
    by_dpor.segment = "corporate"
    by_dpor.save()
    associate(org, by_dpor, "DPOR")

    # Counting every platform would give 4 of 9 customers (44 %): Enterprise.
    assert measured(org, rules)[engine.CLASSIFICATION] == {"smb": 1}

    other = customer("azure")
    other.segment = "corporate"
    other.save()
    associate(org, other, "PAL")

    assert measured(org, rules)[engine.CLASSIFICATION] == {"smb": 0}  # 4 of 6


def test_security_2026_deployments_count_in_the_tracks_bands(org):
    """Security 2026 (shipped rules): Enterprise deploys tenants of more than 300 licences and
    Azure customers over $12,000 trailing ACR; SMB tenants of 5-300 licences and Azure
    customers coming into $750-$12,000."""
    as_of = date(2026, 11, 30)
    (security,) = [
        rs for rs in rule_sets_in_force(as_of=as_of) if rs.designation_code == "security"
    ]
    for seats in (200, 500, 3):  # SMB band, Enterprise band, under both
        tenant = customer("m365")
        associate(org, tenant, "CPOR")
        usage(tenant, "paid_seats", monthly("2025-01", "2026-11", seats))
        usage(tenant, "protected_users", {"2025-11": 0, "2026-10": seats}, workload="MDE")
    # $6,000 and $1,800 a year: SMB; $30,000: Enterprise (it passed through the SMB band on its
    # way up, but is over it now); $600: under both.
    for monthly_acr in (500, 150, 2500, 50):
        tpid = customer("azure")
        associate(org, tpid, "PAL")
        usage(tpid, "acr_usd", monthly("2025-12", "2026-11", monthly_acr), workload="security")
    grown = customer("azure")  # in the SMB band a year ago, over it now: Enterprise only
    associate(org, grown, "PAL")
    usage(grown, "acr_usd", monthly("2024-12", "2026-11", 900), workload="security")
    usage(grown, "acr_usd", monthly("2025-12", "2026-11", 1200), workload="key-vault")

    measures = compute_measures(organization_ids=[org.pk], as_of=as_of, rule_sets=[security])[
        org.pk
    ]["security"]

    assert measures["enterprise/deployments"] == {"m365": 1, "azure": 2}
    assert measures["smb/deployments"] == {"m365": 1, "azure": 2}
