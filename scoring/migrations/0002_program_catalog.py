"""The program catalog as shipped: designations, rule sets (version 1), certifications,
legacy competencies, specializations, workloads and key dates.

Sources: shared/spec/program.md (Security in full, the seed's point table) and
shared/spec/other-designations.md (default parameters of the other five). Staff edit all of it
in the admin afterwards; a rules change is a new rule-set version.
"""

from datetime import date
from decimal import Decimal

from django.db import migrations

RULES_EFFECTIVE_FROM = date(2022, 3, 16)  # progress visible to partners from the announcement

CERTIFICATIONS = [
    # code, English name, level
    ("MS-500", "Microsoft 365 Certified: Security Administrator Associate", "intermediate"),
    ("AZ-500", "Microsoft Certified: Azure Security Engineer Associate", "intermediate"),
    ("SC-200", "Microsoft Certified: Security Operations Analyst Associate", "intermediate"),
    ("SC-300", "Microsoft Certified: Identity and Access Administrator Associate", "intermediate"),
    ("SC-400", "Microsoft Certified: Information Protection Administrator Associate", "intermediate"),
    ("AZ-104", "Microsoft Certified: Azure Administrator Associate", "intermediate"),
    ("AZ-305", "Microsoft Certified: Azure Solutions Architect Expert", "advanced"),
    ("DP-203", "Microsoft Certified: Azure Data Engineer Associate", "intermediate"),
    ("DP-100", "Microsoft Certified: Azure Data Scientist Associate", "intermediate"),
    ("AI-102", "Microsoft Certified: Azure AI Engineer Associate", "intermediate"),
    ("DP-300", "Microsoft Certified: Azure Database Administrator Associate", "intermediate"),
    ("AZ-204", "Microsoft Certified: Azure Developer Associate", "intermediate"),
    ("AZ-400", "Microsoft Certified: DevOps Engineer Expert", "advanced"),
    ("MS-700", "Microsoft 365 Certified: Teams Administrator Associate", "intermediate"),
    ("MD-102", "Microsoft 365 Certified: Endpoint Administrator Associate", "intermediate"),
    ("MS-203", "Microsoft 365 Certified: Messaging Administrator Associate", "intermediate"),
    ("MS-102", "Microsoft 365 Certified: Administrator Expert", "advanced"),
    ("PL-200", "Microsoft Certified: Power Platform Functional Consultant Associate", "intermediate"),
    ("MB-210", "Microsoft Certified: Dynamics 365 Sales Functional Consultant Associate", "intermediate"),
    ("MB-220", "Microsoft Certified: Dynamics 365 Customer Insights (Journeys) Functional Consultant Associate", "intermediate"),
    ("MB-230", "Microsoft Certified: Dynamics 365 Customer Service Functional Consultant Associate", "intermediate"),
    ("MB-240", "Microsoft Certified: Dynamics 365 Field Service Functional Consultant Associate", "intermediate"),
    ("MB-310", "Microsoft Certified: Dynamics 365 Finance Functional Consultant Associate", "intermediate"),
    ("MB-330", "Microsoft Certified: Dynamics 365 Supply Chain Management Functional Consultant Associate", "intermediate"),
    ("MB-800", "Microsoft Certified: Dynamics 365 Business Central Functional Consultant Associate", "intermediate"),
    ("PL-400", "Microsoft Certified: Power Platform Developer Associate", "intermediate"),
    ("PL-600", "Microsoft Certified: Power Platform Solution Architect Expert", "advanced"),
    ("MB-700", "Microsoft Certified: Dynamics 365: Finance and Operations Apps Solution Architect Expert", "advanced"),
]

LEGACY_COMPETENCIES = [
    # code, English, Japanese, designations it migrates to
    ("cloud-platform", "Cloud Platform", "クラウド プラットフォーム", ["infrastructure-azure"]),
    ("datacenter", "Datacenter", "データセンター", ["infrastructure-azure"]),
    ("app-integration", "App Integration", "アプリケーション統合", ["data-ai-azure", "digital-app-innovation-azure"]),
    ("data-analytics", "Data Analytics", "データ分析", ["data-ai-azure"]),
    ("data-platform", "Data Platform", "データ プラットフォーム", ["data-ai-azure"]),
    ("application-development", "Application Development", "アプリケーション開発", ["digital-app-innovation-azure"]),
    ("devops", "DevOps", "DevOps", ["digital-app-innovation-azure"]),
    ("cloud-productivity", "Cloud Productivity", "クラウド生産性", ["modern-work"]),
    ("collaboration-and-content", "Collaboration and Content", "コラボレーションとコンテンツ", ["modern-work"]),
    ("communications", "Communications", "コミュニケーション", ["modern-work"]),
    ("messaging", "Messaging", "メッセージング", ["modern-work"]),
    ("small-and-midmarket-cloud-solutions", "Small and Midmarket Cloud Solutions", "中小企業向けクラウド ソリューション", ["modern-work"]),
    ("windows-and-devices", "Windows and Devices", "Windows とデバイス", ["modern-work"]),
    ("enterprise-mobility-management", "Enterprise Mobility Management", "エンタープライズ モビリティ管理", ["security"]),
    ("security", "Security", "セキュリティ", ["security"]),
    ("cloud-business-applications", "Cloud Business Applications", "クラウド ビジネス アプリケーション", ["business-applications"]),
    ("enterprise-resource-planning", "Enterprise Resource Planning (ERP)", "エンタープライズ リソース プランニング (ERP)", ["business-applications"]),
    ("project-and-portfolio-management", "Project and Portfolio Management", "プロジェクトとポートフォリオ管理", ["business-applications"]),
]

DESIGNATIONS = [
    # code, English name, position
    ("business-applications", "Business Applications", 1),
    ("modern-work", "Modern Work", 2),
    ("security", "Security", 3),
    ("infrastructure-azure", "Infrastructure (Azure)", 4),
    ("data-ai-azure", "Data & AI (Azure)", 5),
    ("digital-app-innovation-azure", "Digital & App Innovation (Azure)", 6),
]

SPECIALIZATIONS = {
    "data-ai-azure": ["AI and Machine Learning", "Data Warehouse Migration", "Windows Server and SQL Server Migration"],
    "digital-app-innovation-azure": ["DevOps with GitHub", "Hybrid Operations and Management with Azure Arc", "Modernization of Web Applications"],
    "infrastructure-azure": ["Linux and Open Source Databases Migration", "Azure VMware Solution", "SAP on Azure"],
    "business-applications": ["Low Code Application Development", "Small and Midsize Business Management", "Intelligent Automation"],
    "modern-work": ["Adoption and Change Management", "Teamwork Deployment", "Modernize Endpoint"],
    "security": ["Cloud Security", "Identity and Access Management", "Information Protection and Governance"],
}

SECURITY_M365 = ["AADP", "MDO", "MDE", "MDI", "MIP", "Intune", "IAM"]
SECURITY_AZURE = ["Sentinel", "AzureDefender", "NetworkSecurity"]
MODERN_WORK = ["Teams", "Exchange", "SharePoint", "OneDrive", "Intune", "Windows"]
BUSINESS_APPS = ["D365Sales", "D365CustomerService", "D365FieldService", "D365Finance",
                 "D365SupplyChain", "D365BusinessCentral", "PowerApps", "PowerAutomate"]

WORKLOADS = [
    # code, English name, platform, kind, designations
    ("AADP", "Azure Active Directory Premium", "m365", "product", ["security"]),
    ("MDO", "Microsoft Defender for Office 365", "m365", "product", ["security"]),
    ("MDE", "Microsoft Defender for Endpoint", "m365", "product", ["security"]),
    ("MDI", "Microsoft Defender for Identity", "m365", "product", ["security"]),
    ("MIP", "Microsoft Information Protection", "m365", "product", ["security"]),
    ("Intune", "Microsoft Intune", "m365", "product", ["security", "modern-work"]),
    ("IAM", "Identity and Access Management", "m365", "product", ["security"]),
    ("Sentinel", "Microsoft Sentinel", "azure", "product", ["security"]),
    ("AzureDefender", "Azure Defender", "azure", "product", ["security"]),
    ("NetworkSecurity", "Azure Network Security", "azure", "product", ["security"]),
    ("Teams", "Microsoft Teams", "m365", "product", ["modern-work"]),
    ("Exchange", "Exchange Online", "m365", "product", ["modern-work"]),
    ("SharePoint", "SharePoint Online", "m365", "product", ["modern-work"]),
    ("OneDrive", "OneDrive for Business", "m365", "product", ["modern-work"]),
    ("Windows", "Windows", "m365", "product", ["modern-work"]),
    ("D365Sales", "Dynamics 365 Sales", "dynamics", "product", ["business-applications"]),
    ("D365CustomerService", "Dynamics 365 Customer Service", "dynamics", "product", ["business-applications"]),
    ("D365FieldService", "Dynamics 365 Field Service", "dynamics", "product", ["business-applications"]),
    ("D365Finance", "Dynamics 365 Finance", "dynamics", "product", ["business-applications"]),
    ("D365SupplyChain", "Dynamics 365 Supply Chain Management", "dynamics", "product", ["business-applications"]),
    ("D365BusinessCentral", "Dynamics 365 Business Central", "dynamics", "product", ["business-applications"]),
    ("PowerApps", "Power Apps", "dynamics", "product", ["business-applications"]),
    ("PowerAutomate", "Power Automate", "dynamics", "product", ["business-applications"]),
    ("security", "Security (Azure solution area)", "azure", "area", ["security"]),
    ("infrastructure", "Infrastructure (Azure solution area)", "azure", "area", ["infrastructure-azure"]),
    ("data-ai", "Data & AI (Azure solution area)", "azure", "area", ["data-ai-azure"]),
    ("digital-app-innovation", "Digital & App Innovation (Azure solution area)", "azure", "area", ["digital-app-innovation-azure"]),
]

PROGRAM_DATES = [
    ("program-announced", "Program announced; progress visible to partners", "プログラム発表、進捗状況の確認が可能に", date(2022, 3, 16)),
    ("legacy-competency-last-day", "Last day to attain legacy Silver/Gold competencies", "旧コンピテンシー (シルバー/ゴールド) 取得の最終日", date(2022, 9, 30)),
    ("general-availability", "General availability: designations can be attained", "一般提供開始: ソリューションパートナー認定の取得が可能に", date(2022, 10, 3)),
]


def source(platform, attributions, measure, label, unit, *, workloads=(), seats=None,
           threshold=None, target=None, production_only=False):
    return {
        "platform": platform, "attributions": attributions, "measure": measure, "label": label,
        "unit": unit, "workloads": list(workloads), "seat_threshold": seats,
        "usage_threshold": None if threshold is None else Decimal(str(threshold)),
        "target": None if target is None else Decimal(str(target)),
        "production_only": production_only,
    }


def metric(code, max_points, target, scaling, unit_label, sources=(), groups=()):
    return {
        "code": code, "max_points": Decimal(max_points),
        "target": None if target is None else Decimal(str(target)),
        "scaling": scaling, "unit_label": unit_label, "sources": list(sources), "groups": list(groups),
    }


def azure_rules(area, label, nca_max, int_max, adv_max, growth_max, dep_max, intermediate, advanced):
    return [
        metric("net_customer_adds", nca_max, 10, "per_unit", "net customer adds", [
            source("azure", ["PAL"], "acr_usd", "net customer adds", "count", workloads=[area], threshold=1000),
        ]),
        metric("intermediate_certifications", int_max, 2, "per_unit", "individuals", groups=intermediate),
        metric("advanced_certifications", adv_max, 2, "per_unit", "individuals", groups=advanced),
        metric("usage_growth", growth_max, 10000, "proportional", f"{label} ACR growth", [
            source("azure", ["PAL"], "acr_usd", f"{label} ACR growth", "usd", workloads=[area]),
        ]),
        metric("deployments", dep_max, 3, "per_unit", "deployments", [
            source("azure", ["PAL"], "acr_usd", "deployments", "count", workloads=[area], threshold=10000),
        ]),
    ]


RULE_SETS = {
    "security": [
        metric("net_customer_adds", 20, 10, "per_unit", "net customer adds", [
            source("m365", ["CPOR"], "paid_seats", "M365 net customer adds", "count", seats=25),
            source("azure", ["PAL"], "acr_usd", "Azure net customer adds", "count", workloads=["security"], threshold=100),
        ]),
        metric("intermediate_certifications", 40, 6, "per_unit", "individuals",
               groups=[("all", ["MS-500", "AZ-500"]), ("any", ["SC-200", "SC-300", "SC-400"])]),
        metric("usage_growth", 20, None, "proportional", "usage growth", [
            source("m365", ["CPOR"], "protected_users", "MPU growth", "users", workloads=SECURITY_M365, target=2500),
            source("azure", ["PAL"], "acr_usd", "Security ACR growth", "usd", workloads=["security"], target=25000),
        ]),
        metric("deployments", 20, 6, "per_unit", "deployments", [
            source("m365", ["CPOR"], "protected_users", "M365 deployments", "count", workloads=SECURITY_M365,
                   seats=25, threshold="0.15", production_only=True),
            source("azure", ["PAL"], "acr_usd", "Azure deployments", "count", workloads=["security"],
                   threshold=12000, production_only=True),
        ]),
    ],
    "infrastructure-azure": azure_rules(
        "infrastructure", "Infrastructure", 30, 20, 20, 20, 10,
        [("all", ["AZ-104"])], [("all", ["AZ-305"])]),
    "data-ai-azure": azure_rules(
        "data-ai", "Data & AI", 30, 20, 20, 20, 10,
        [("any", ["DP-203", "DP-100", "AI-102", "DP-300"])],
        [("all", ["AZ-305"]), ("any", ["DP-203", "DP-100", "AI-102"])]),
    "digital-app-innovation-azure": azure_rules(
        "digital-app-innovation", "Digital & App Innovation", 30, 20, 20, 20, 10,
        [("all", ["AZ-204"])], [("any", ["AZ-400", "AZ-305"])]),
    "modern-work": [
        metric("net_customer_adds", 20, 10, "per_unit", "net customer adds", [
            source("m365", ["CPOR"], "paid_seats", "net customer adds", "count", seats=25),
        ]),
        metric("intermediate_certifications", 10, 2, "per_unit", "individuals",
               groups=[("any", ["MS-700", "MD-102", "MS-203", "SC-400"])]),
        metric("advanced_certifications", 15, 1, "per_unit", "individuals", groups=[("all", ["MS-102"])]),
        metric("usage_growth", 30, 2500, "proportional", "MAU growth", [
            source("m365", ["CPOR"], "active_users", "MAU growth", "users", workloads=MODERN_WORK),
        ]),
        metric("deployments", 25, 6, "per_unit", "deployments", [
            source("m365", ["CPOR"], "active_users", "deployments", "count", workloads=MODERN_WORK,
                   seats=25, threshold="0.15", production_only=True),
        ]),
    ],
    "business-applications": [
        metric("net_customer_adds", 15, 5, "per_unit", "net customer adds", [
            source("dynamics", ["CPOR", "DPOR"], "paid_seats", "net customer adds", "count", seats=10),
        ]),
        metric("intermediate_certifications", 20, 4, "per_unit", "individuals",
               groups=[("any", ["PL-200", "MB-210", "MB-220", "MB-230", "MB-240", "MB-310", "MB-330", "MB-800", "PL-400"])]),
        metric("advanced_certifications", 15, 1, "per_unit", "individuals", groups=[("any", ["PL-600", "MB-700"])]),
        metric("usage_growth", 30, 50000, "proportional", "Dynamics 365 / Power Platform revenue growth", [
            source("dynamics", ["CPOR", "DPOR"], "revenue_usd", "Dynamics 365 / Power Platform revenue growth", "usd",
                   workloads=BUSINESS_APPS),
        ]),
        metric("deployments", 20, 4, "per_unit", "deployments", [
            source("dynamics", ["CPOR", "DPOR"], "paid_seats", "deployments", "count", threshold=10,
                   production_only=True),
        ]),
    ],
}


def load_catalog(apps, schema_editor):
    Certification = apps.get_model("portal", "Certification")
    LegacyCompetency = apps.get_model("portal", "LegacyCompetency")
    Designation = apps.get_model("scoring", "Designation")
    Specialization = apps.get_model("scoring", "Specialization")
    Workload = apps.get_model("scoring", "Workload")
    ProgramDate = apps.get_model("scoring", "ProgramDate")
    RuleSet = apps.get_model("scoring", "RuleSet")
    MetricRule = apps.get_model("scoring", "MetricRule")
    MetricSource = apps.get_model("scoring", "MetricSource")
    CertificationGroup = apps.get_model("scoring", "CertificationGroup")

    certifications = {
        code: Certification.objects.create(code=code, name=name, name_ja=name, level=level)
        for code, name, level in CERTIFICATIONS
    }
    designations = {
        code: Designation.objects.create(
            code=code, name=f"{name} Solutions Partner", name_ja=f"{name} ソリューションパートナー",
            position=position,
        )
        for code, name, position in DESIGNATIONS
    }
    for code, name, name_ja, targets in LEGACY_COMPETENCIES:
        competency = LegacyCompetency.objects.create(code=code, name=name, name_ja=name_ja)
        for target in targets:
            designations[target].legacy_competencies.add(competency)
    for designation_code, names in SPECIALIZATIONS.items():
        for name in names:
            slug = name.lower().replace(" and ", "-").replace(" with ", "-").replace(" ", "-")
            Specialization.objects.create(
                code=f"{designation_code}--{slug}"[:80], name=name, name_ja=name,
                designation=designations[designation_code],
            )
    workloads = {}
    for code, name, platform, kind, counts_for in WORKLOADS:
        workloads[code] = Workload.objects.create(
            code=code, name=name, name_ja=name, platform=platform, kind=kind
        )
        workloads[code].designations.set([designations[d] for d in counts_for])
    for code, name, name_ja, day in PROGRAM_DATES:
        ProgramDate.objects.create(code=code, name=name, name_ja=name_ja, date=day)

    for designation_code, metrics in RULE_SETS.items():
        rule_set = RuleSet.objects.create(
            designation=designations[designation_code], version=1,
            effective_from=RULES_EFFECTIVE_FROM, qualifying_total=Decimal(70),
            min_metric_points=Decimal(1),
            notes="As shipped: shared/spec/program.md and other-designations.md.",
        )
        assert sum(m["max_points"] for m in metrics) == 100, designation_code
        for spec in metrics:
            rule = MetricRule.objects.create(
                rule_set=rule_set, code=spec["code"], max_points=spec["max_points"],
                target=spec["target"], scaling=spec["scaling"], unit_label=spec["unit_label"],
            )
            for src in spec["sources"]:
                fields = {key: value for key, value in src.items() if key != "workloads"}
                created = MetricSource.objects.create(metric=rule, **fields)
                created.workloads.set([workloads[c] for c in src["workloads"]])
            for mode, codes in spec["groups"]:
                group = CertificationGroup.objects.create(metric=rule, mode=mode)
                group.certifications.set([certifications[c] for c in codes])
                designations[designation_code].certifications.add(
                    *[certifications[c] for c in codes]
                )


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("scoring", "0001_initial"),
    ]

    operations = [migrations.RunPython(load_catalog, migrations.RunPython.noop)]
