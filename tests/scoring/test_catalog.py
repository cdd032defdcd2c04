"""The program catalog shipped with the migrations equals the source document.

Expected values are written out here from shared/spec/program.md and other-designations.md,
not read from the migration, so that a wrong edit of the shipped data fails a test.
"""

from datetime import date
from decimal import Decimal

import pytest

from portal.models import Certification, LegacyCompetency
from scoring.models import Designation, ProgramDate, RuleSet, Specialization, Workload

pytestmark = pytest.mark.django_db

# program.md §2: Performance, Skilling intermediate, Skilling advanced, usage growth, deployments
SEED_POINTS = {
    "business-applications": (15, 20, 15, 30, 20),
    "modern-work": (20, 10, 15, 30, 25),
    "security": (20, 40, None, 20, 20),
    "infrastructure-azure": (30, 20, 20, 20, 10),
    "data-ai-azure": (30, 20, 20, 20, 10),
    "digital-app-innovation-azure": (30, 20, 20, 20, 10),
}
METRICS = (
    "net_customer_adds",
    "intermediate_certifications",
    "advanced_certifications",
    "usage_growth",
    "deployments",
)


@pytest.mark.parametrize(("code", "points"), SEED_POINTS.items())
def test_rule_sets_carry_the_seed_point_table(code, points):
    rule_set = RuleSet.objects.get(designation__code=code, version=1)
    shipped = {m.code: m.max_points for m in rule_set.metrics.all()}
    expected = {
        metric: Decimal(p) for metric, p in zip(METRICS, points, strict=True) if p is not None
    }
    assert shipped == expected
    assert sum(shipped.values()) == 100
    assert rule_set.qualifying_total == 70
    assert rule_set.min_metric_points == 1


def test_six_designations_with_english_and_japanese_names():
    names = dict(Designation.objects.values_list("code", "name_ja"))
    assert set(names) == set(SEED_POINTS)
    assert names["security"] == "Security ソリューションパートナー"
    assert names["data-ai-azure"] == "Data & AI (Azure) ソリューションパートナー"


def test_security_rule_parameters_are_the_seeds():
    rule_set = RuleSet.objects.get(designation__code="security", version=1)
    metrics = {m.code: m for m in rule_set.metrics.all()}
    nca = {s.platform: s for s in metrics["net_customer_adds"].sources.all()}
    assert (nca["m365"].seat_threshold, nca["m365"].attributions) == (25, ["CPOR"])
    assert (nca["azure"].usage_threshold, nca["azure"].attributions) == (100, ["PAL"])
    assert metrics["net_customer_adds"].target == 10
    groups = [
        (g.mode, sorted(c.code for c in g.certifications.all()))
        for g in metrics["intermediate_certifications"].certification_groups.all()
    ]
    assert groups == [("all", ["AZ-500", "MS-500"]), ("any", ["SC-200", "SC-300", "SC-400"])]
    assert metrics["intermediate_certifications"].target == 6
    growth = {s.platform: s.target for s in metrics["usage_growth"].sources.all()}
    assert growth == {"m365": 2500, "azure": 25000}
    deployments = {s.platform: s for s in metrics["deployments"].sources.all()}
    assert deployments["m365"].usage_threshold == Decimal("0.15")
    assert deployments["m365"].seat_threshold == 25
    assert deployments["azure"].usage_threshold == 12000
    assert all(s.production_only for s in deployments.values())
    assert metrics["deployments"].target == 6
    security_products = {"AADP", "MDO", "MDE", "MDI", "MIP", "Intune", "IAM"}
    assert {w.code for w in deployments["m365"].workloads.all()} == security_products


LEGACY = {
    "Cloud Platform": {"infrastructure-azure"},
    "Datacenter": {"infrastructure-azure"},
    "App Integration": {"data-ai-azure", "digital-app-innovation-azure"},
    "Data Analytics": {"data-ai-azure"},
    "Data Platform": {"data-ai-azure"},
    "Application Development": {"digital-app-innovation-azure"},
    "DevOps": {"digital-app-innovation-azure"},
    "Cloud Productivity": {"modern-work"},
    "Collaboration and Content": {"modern-work"},
    "Communications": {"modern-work"},
    "Messaging": {"modern-work"},
    "Small and Midmarket Cloud Solutions": {"modern-work"},
    "Windows and Devices": {"modern-work"},
    "Enterprise Mobility Management": {"security"},
    "Security": {"security"},
    "Cloud Business Applications": {"business-applications"},
    "Enterprise Resource Planning (ERP)": {"business-applications"},
    "Project and Portfolio Management": {"business-applications"},
}


def test_eighteen_legacy_competencies_and_their_mapping():
    shipped = {
        competency.name: {d.code for d in competency.designations.all()}
        for competency in LegacyCompetency.objects.prefetch_related("designations")
    }
    assert shipped == LEGACY


SEED_SPECIALIZATIONS = {  # program.md §5; the 2023 list comes, effective-dated, with benefits/0002
    "data-ai-azure": {
        "AI and Machine Learning",
        "Data Warehouse Migration",
        "Windows Server and SQL Server Migration",
    },
    "digital-app-innovation-azure": {
        "DevOps with GitHub",
        "Hybrid Operations and Management with Azure Arc",
        "Modernization of Web Applications",
    },
    "infrastructure-azure": {
        "Linux and Open Source Databases Migration",
        "Azure VMware Solution",
        "SAP on Azure",
    },
    "business-applications": {
        "Low Code Application Development",
        "Small and Midsize Business Management",
        "Intelligent Automation",
    },
    "modern-work": {"Adoption and Change Management", "Teamwork Deployment", "Modernize Endpoint"},
    "security": {
        "Cloud Security",
        "Identity and Access Management",
        "Information Protection and Governance",
    },
}


def test_three_specializations_per_designation():
    for code, names in SEED_SPECIALIZATIONS.items():
        shipped = set(
            Specialization.objects.filter(designation__code=code).values_list("name", flat=True)
        )
        assert names <= shipped, code
    assert Specialization.objects.filter(
        designation__code="security", name="Identity and Access Management"
    ).exists()


def test_certification_catalog_covers_every_code_in_the_spec():
    codes = {
        "MS-500", "AZ-500", "SC-200", "SC-300", "SC-400", "AZ-104", "AZ-305", "DP-203", "DP-100",
        "AI-102", "DP-300", "AZ-204", "AZ-400", "MS-700", "MD-102", "MS-203", "MS-102", "PL-200",
        "MB-210", "MB-220", "MB-230", "MB-240", "MB-310", "MB-330", "MB-800", "PL-400", "PL-600",
        "MB-700",
    }  # fmt: skip
    levels = dict(Certification.objects.values_list("code", "level"))
    assert codes <= set(levels)
    # The seed's certifications keep their levels (the published versions add more, 0008).
    assert {c for c, level in levels.items() if level == "advanced" and c in codes} == {
        "AZ-305", "AZ-400", "MS-102", "PL-600", "MB-700",
    }  # fmt: skip
    assert set(
        Certification.objects.get(code="SC-400").designations.values_list("code", flat=True)
    ) >= {"security", "modern-work"}


def test_workload_catalog_has_the_security_products_and_areas():
    workloads = dict(Workload.objects.values_list("code", "platform"))
    for code in ("AADP", "MDO", "MDE", "MDI", "MIP", "Intune", "IAM"):
        assert workloads[code] == "m365"
    for code in ("Sentinel", "AzureDefender", "NetworkSecurity"):
        assert workloads[code] == "azure"
    for area in ("security", "infrastructure", "data-ai", "digital-app-innovation"):
        assert workloads[area] == "azure"


def test_key_program_dates():
    assert dict(ProgramDate.objects.values_list("code", "date")) == {
        "program-announced": date(2022, 3, 16),
        "legacy-competency-last-day": date(2022, 9, 30),
        "general-availability": date(2022, 10, 3),
    }
