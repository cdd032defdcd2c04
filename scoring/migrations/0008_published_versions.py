"""The published versions of the rules (program.md §9): 2023 (2023-06-13), 2023-12 (2023-12-01)
and 2026 (2026-05-08) for the six designations, with the certifications, workloads, Azure
services and rate card they need; and the 2022 seed marked with its source.

Facts and sources: shared/spec/published-rules.md (tables 0.2, §1-§4). The 2022 Security rules
are untouched; the other five 2022 rule sets keep their defaults (other-designations.md), their
metrics marked `default` (the published 2022 rule is unknown). Staff copy and edit any of it in
the admin as a new version.
"""

from datetime import date
from decimal import Decimal

from django.db import migrations

V2023 = ("Microsoft Learn, Solutions Partner designation pages", date(2023, 6, 13))
V2026 = ("Microsoft Learn, Solutions Partner designation pages (checked 2026-05-08)", date(2026, 5, 8))
PAGES = {
    "modern-work": "https://learn.microsoft.com/en-us/partner-center/solutions-partner-modern-work",
    "business-applications": "https://learn.microsoft.com/en-us/partner-center/membership/solutions-partner-business",
    "security": "https://learn.microsoft.com/en-us/partner-center/solutions-partner-security",
    "infrastructure-azure": "https://learn.microsoft.com/en-us/partner-center/membership/solutions-partner-azure",
    "data-ai-azure": "https://learn.microsoft.com/en-us/partner-center/membership/solutions-partner-azure",
    "digital-app-innovation-azure": "https://learn.microsoft.com/en-us/partner-center/membership/solutions-partner-azure",
}

CERTIFICATIONS = [
    # code, English name, level (the codes of published-rules.md; certifications whose exam
    # code the record does not give cannot be stored: the catalog keys on exam codes)
    ("MS-900", "Microsoft 365 Certified: Fundamentals", "intermediate"),
    ("MS-600", "Microsoft 365 Certified: Teams Application Developer Associate", "intermediate"),
    ("MS-721", "Microsoft 365 Certified: Collaboration Communications Systems Engineer Associate", "intermediate"),
    ("AB-900", "Microsoft Certified: Copilot and Agent Administration Fundamentals", "intermediate"),
    ("MB-340", "Microsoft Certified: Dynamics 365 Commerce Functional Consultant Associate", "intermediate"),
    ("MB-500", "Microsoft Certified: Dynamics 365: Finance and Operations Apps Developer Associate", "intermediate"),
    ("MB-320", "Microsoft Certified: Dynamics 365 Supply Chain Management, Manufacturing Functional Consultant Associate", "intermediate"),
    ("PL-100", "Microsoft Certified: Power Platform App Maker Associate", "intermediate"),
    ("PL-300", "Microsoft Certified: Power BI Data Analyst Associate", "intermediate"),
    ("MB-260", "Microsoft Certified: Customer Data Platform Specialty", "intermediate"),
    ("DP-500", "Microsoft Certified: Azure Enterprise Data Analyst Associate", "intermediate"),
    ("PL-500", "Microsoft Certified: Power Automate RPA Developer Associate", "intermediate"),
    ("MB-280", "Microsoft Certified: Dynamics 365 Customer Experience Analyst Associate", "intermediate"),
    ("MB-335", "Microsoft Certified: Dynamics 365 Supply Chain Management Functional Consultant Expert", "advanced"),
    ("MB-600", "Microsoft Certified: Dynamics 365 + Power Platform Solution Architect Expert", "advanced"),
    ("MB-820", "Microsoft Certified: Dynamics 365 Business Central Developer Associate", "advanced"),
    ("AB-100", "Microsoft Certified: Agentic AI Business Solutions Architect", "advanced"),
    ("AZ-700", "Microsoft Certified: Azure Network Engineer Associate", "intermediate"),
    ("AZ-800", "Microsoft Certified: Windows Server Hybrid Administrator Associate", "intermediate"),
    ("AZ-801", "Microsoft Certified: Windows Server Hybrid Administrator Associate (AZ-801)", "intermediate"),
    ("AZ-600", "Microsoft Certified: Azure Stack Hub Operator Associate", "intermediate"),
    ("AZ-140", "Microsoft Certified: Azure Virtual Desktop Specialty", "advanced"),
    ("AZ-120", "Microsoft Certified: Azure for SAP Workloads Specialty", "advanced"),
    ("AZ-220", "Microsoft Certified: Azure IoT Developer Specialty", "advanced"),
    ("GH-100", "GitHub Administration", "advanced"),
    ("GH-200", "GitHub Actions", "advanced"),
    ("GH-300", "GitHub Copilot", "advanced"),
    ("GH-500", "GitHub Advanced Security", "advanced"),
    ("DP-420", "Microsoft Certified: Azure Cosmos DB Developer Specialty", "intermediate"),
    ("DP-600", "Microsoft Certified: Fabric Analytics Engineer Associate", "intermediate"),
    ("DP-700", "Microsoft Certified: Fabric Data Engineer Associate", "intermediate"),
    ("SC-100", "Microsoft Certified: Cybersecurity Architect Expert", "intermediate"),
    ("SC-401", "Microsoft Certified: Information Security Administrator Associate", "intermediate"),
]

WORKLOADS = [
    # code, English name, platform, kind, designations
    ("ProPlus", "Microsoft 365 Apps", "m365", "product", ["modern-work"]),
    ("TeamsMeetings", "Teams Meetings", "m365", "product", ["modern-work"]),
    ("TeamsPhone", "Teams Phone", "m365", "product", ["modern-work"]),
    ("TeamsPhoneCalling", "Teams Phone calling", "m365", "product", ["modern-work"]),
    ("TeamsPlatform", "Teams Platform", "m365", "product", ["modern-work"]),
    ("Yammer", "Yammer / Viva Engage", "m365", "product", ["modern-work"]),
    ("VivaInsights", "Viva Insights", "m365", "product", ["modern-work"]),
    ("VivaTopics", "Viva Topics", "m365", "product", ["modern-work"]),
    ("VivaLearning", "Viva Learning", "m365", "product", ["modern-work"]),
    ("VivaConnections", "Viva Connections", "m365", "product", ["modern-work"]),
    ("VivaGoals", "Viva Goals", "m365", "product", ["modern-work"]),
    ("M365Copilot", "Microsoft 365 Copilot", "m365", "product", ["modern-work"]),
    ("EntraIDP1", "Microsoft Entra ID P1", "m365", "product", ["modern-work", "security"]),
    ("Windows365", "Windows 365", "m365", "product", ["modern-work"]),
    ("TeamsPremium", "Teams Premium", "m365", "product", ["modern-work"]),
    ("TeamsRooms", "Teams Rooms (monthly active devices)", "m365", "product", ["modern-work"]),
    ("D365CustomerInsights", "Dynamics 365 Customer Insights", "dynamics", "product", ["business-applications"]),
    ("D365ProjectOperations", "Dynamics 365 Project Operations", "dynamics", "product", ["business-applications"]),
    ("D365CoreHR", "Dynamics 365 Human Resources (Core HR)", "dynamics", "product", ["business-applications"]),
    ("D365Commerce", "Dynamics 365 Commerce (Retail)", "dynamics", "product", ["business-applications"]),
    ("D365Guides", "Dynamics 365 Guides", "dynamics", "product", ["business-applications"]),
    ("D365RemoteAssist", "Dynamics 365 Remote Assist", "dynamics", "product", ["business-applications"]),
    ("D365ContactCenter", "Dynamics 365 Contact Center", "dynamics", "product", ["business-applications"]),
    ("TalentAttract", "Dynamics 365 Talent: Attract", "dynamics", "product", ["business-applications"]),
    ("TalentOnboard", "Dynamics 365 Talent: Onboard", "dynamics", "product", ["business-applications"]),
    ("PowerBI", "Power BI", "dynamics", "product", ["business-applications"]),
    ("PowerPages", "Power Pages (Portals)", "dynamics", "product", ["business-applications"]),
    ("CopilotStudio", "Copilot Studio", "dynamics", "product", ["business-applications"]),
]

AZURE = ["infrastructure-azure", "data-ai-azure", "digital-app-innovation-azure"]
SERVICES = [
    # code, English name, solution areas, counts as a distinct service
    ("virtual-machines", "Virtual Machines", ["infrastructure"], False),
    ("virtual-machines-licenses", "Virtual Machines Licenses", ["infrastructure"], False),
    ("azure-kubernetes-service", "Azure Kubernetes Service", ["digital-app-innovation"], True),
    ("app-service", "Azure App Service", ["digital-app-innovation"], True),
    ("azure-functions", "Azure Functions", ["digital-app-innovation"], True),
    ("storage", "Storage", ["infrastructure"], True),
    ("virtual-network", "Virtual Network", ["infrastructure"], True),
    ("key-vault", "Key Vault", ["security"], True),
    ("azure-sql-database", "Azure SQL Database", ["data-ai"], True),
    ("azure-cosmos-db", "Azure Cosmos DB", ["data-ai"], True),
    ("azure-machine-learning", "Azure Machine Learning", ["data-ai"], True),
    ("azure-openai", "Azure OpenAI Service", ["data-ai"], True),
    ("microsoft-fabric", "Microsoft Fabric", ["data-ai"], True),
]
AREAS = ["infrastructure", "data-ai", "digital-app-innovation", "security"]

MW_2023 = ["Intune", "Exchange", "ProPlus", "SharePoint", "Teams", "TeamsMeetings", "TeamsPhone",
           "TeamsPhoneCalling", "TeamsPlatform", "Yammer", "VivaInsights", "VivaTopics",
           "VivaLearning", "VivaConnections"]
MW_2026 = ["Exchange", "Intune", "M365Copilot", "ProPlus", "EntraIDP1", "SharePoint", "Teams",
           "TeamsPlatform", "TeamsMeetings", "TeamsPhone", "TeamsPhoneCalling", "TeamsRooms",
           "VivaConnections", "Yammer", "VivaGoals", "VivaInsights", "VivaLearning", "VivaTopics",
           "Windows365"]

# Business Applications rate card (MCV per MAU, or per profile for Customer Insights).
RATES_2023 = [
    ("D365BusinessCentral", "active_users", 1000), ("D365CoreHR", "active_users", 1000),
    ("D365Sales", "active_users", 200), ("D365CustomerService", "active_users", 200),
    ("D365FieldService", "active_users", 200), ("D365CustomerInsights", "capacity", "0.2"),
    ("D365Finance", "active_users", 100), ("D365ProjectOperations", "active_users", 100),
    ("D365Guides", "active_users", 1000), ("PowerApps", "active_users", 200),
    ("PowerAutomate", "active_users", 200), ("PowerBI", "active_users", 200),
    ("D365RemoteAssist", "active_users", 1000), ("D365Commerce", "active_users", 100),
    ("TalentAttract", "active_users", 1000), ("TalentOnboard", "active_users", 1000),
]
RATES_2026 = RATES_2023 + [("D365ContactCenter", "active_users", 200), ("PowerPages", "active_users", 100)]
BA_NCA = ["D365BusinessCentral", "D365Sales", "D365CustomerService", "D365FieldService",
          "D365Finance", "D365SupplyChain", "D365ProjectOperations", "D365CustomerInsights",
          "D365Commerce", "PowerApps", "PowerAutomate", "PowerBI", "PowerPages"]

MW_INTERMEDIATE_2023 = ["MS-900", "MS-600", "MS-700", "MS-203", "SC-300", "MS-721", "MD-102"]
MW_INTERMEDIATE_2026 = ["MS-900", "MS-700", "SC-300", "MS-721", "MD-102", "AB-900"]
BA_INTERMEDIATE_2023 = ["MB-310", "MB-340", "MB-500", "MB-330", "MB-320", "MB-230", "MB-210",
                        "MB-240", "MB-800", "MB-220", "PL-100", "PL-300", "PL-200", "PL-400",
                        "MB-260", "DP-500", "PL-500"]
BA_INTERMEDIATE_2026 = ["MB-310", "MB-500", "MB-330", "MB-230", "MB-240", "MB-800", "PL-300",
                        "PL-200", "PL-400", "PL-500", "MB-280"]
BA_ADVANCED_2023 = ["MB-335", "MB-700", "MB-600", "PL-600"]
BA_ADVANCED_2026 = ["MB-335", "MB-700", "PL-600", "MB-820", "AB-100"]
SKILLING_2023 = {
    "infrastructure-azure": (["AZ-700", "AZ-600", "AZ-800", "AZ-801"], ["AZ-140", "AZ-120"]),
    "digital-app-innovation-azure": (["AZ-204", "PL-400"], ["AZ-220", "AZ-400", "PL-600"]),
    "data-ai-azure": (["DP-300", "AI-102", "DP-100", "DP-203", "PL-300", "MB-260", "DP-420"], None),
}
SKILLING_2026 = {
    "infrastructure-azure": (["AZ-700", "AZ-800", "AZ-801"], ["AZ-140", "AZ-120"]),
    "digital-app-innovation-azure": (["AZ-204", "PL-400"], ["AZ-400", "PL-600", "GH-100", "GH-200", "GH-300", "GH-500"]),
    "data-ai-azure": (["DP-300", "AI-102", "DP-100", "PL-300", "DP-420", "DP-600", "DP-700"], None),
}


def src(platform, attributions, measure, label, unit="count", *, workloads=(), **fields):
    return {"platform": platform, "attributions": attributions, "measure": measure,
            "label": label, "unit": unit, "workloads": list(workloads), **fields}


def metric(code, max_points, target, scaling, unit_label, sources=(), groups=(), steps=(),
           track=None):
    return {"code": code, "max_points": Decimal(str(max_points)),
            "target": None if target is None else Decimal(str(target)), "scaling": scaling,
            "unit_label": unit_label, "sources": list(sources), "groups": list(groups),
            "steps": list(steps), "track": track}


def step(position, certs, *, people=1, scoring=False, each=None, cap=None, mode="any"):
    return {"position": position, "certs": certs, "people": people, "scoring": scoring,
            "each": None if each is None else Decimal(str(each)),
            "cap": None if cap is None else Decimal(str(cap)), "mode": mode}


def azure_common(version, track=None, nca_threshold=1000):
    attributions = ["CSP", "DPOR", "PAL"]
    nca = metric("net_customer_adds", 30, 3, "per_unit", "net customer adds", [
        src("azure", attributions, "acr_usd", "net customer adds", workloads=AREAS,
            computation="qualifying_net", count_unit="tenant_total",
            usage_threshold=Decimal(nca_threshold), lookback_months=2)], track=track)
    shared = [
        metric("usage_growth", 20, 20, "per_unit", "Azure consumption growth", [
            src("azure", attributions, "acr_usd", "Azure consumption growth", "usd",
                workloads=AREAS, computation="percent_growth", min_baseline=Decimal(1000))]),
        metric("deployments", 10, 5, "per_unit", "distinct Azure services", [
            src("azure", attributions, "acr_usd", "distinct Azure services", workloads=AREAS,
                computation="distinct_services")]),
    ]
    return nca, shared


def azure_skilling(code, version, track=None, smb=False):
    intermediate, advanced = (SKILLING_2023 if version == "2023" else SKILLING_2026)[code]
    people, each = (1, 4) if smb else (2, None)
    cap = 4 if smb else None
    if code == "data-ai-azure":
        gates = ([step(1, ["AZ-305"], people=people, each=each, cap=cap),
                  step(2, ["AZ-104"], people=people, each=each, cap=cap)] if version == "2023"
                 else [step(1, ["AZ-104"], people=people, each=each, cap=cap),
                       step(2, ["AZ-305"], people=people, each=each, cap=cap)])
        return [metric("intermediate_certifications", 40, 10, "per_unit", "individuals",
                       steps=[*gates, step(3, intermediate, scoring=True, each=4)], track=track)]
    return [
        metric("intermediate_certifications", 20, 5, "per_unit", "individuals", track=track,
               steps=[step(1, ["AZ-104"], people=people, each=each, cap=cap),
                      step(2, intermediate, scoring=True, each=4)]),
        metric("advanced_certifications", 20, 5, "per_unit", "individuals", track=track,
               steps=[step(1, ["AZ-305"], people=people, each=each, cap=cap),
                      step(2, advanced, scoring=True, each=4)]),
    ]


def azure(code, version):
    if version == "2023":
        nca, shared = azure_common(version)
        return {"metrics": [nca, *azure_skilling(code, version), *shared]}
    enterprise_nca, shared = azure_common(version, "enterprise")
    smb_nca, _ = azure_common(version, "smb", nca_threshold=500)
    return {
        "track_mode": "classified",
        "tracks": [("smb", "SMB", "中小企業 (SMB)", {"classify_rule": "segment_share",
                    "classify_segment": "smb", "classify_share": Decimal("0.8")}),
                   ("enterprise", "Enterprise", "エンタープライズ", {})],
        "metrics": [enterprise_nca, smb_nca, *shared,
                    *azure_skilling(code, version, "enterprise"),
                    *azure_skilling(code, version, "smb", smb=True)],
    }


def modern_work(version):
    workloads = MW_2023 if version == "2023" else MW_2026
    intermediate = MW_INTERMEDIATE_2023 if version == "2023" else MW_INTERMEDIATE_2026
    metrics = []
    for track, other, band, nca_target, nca_points, people, advanced_people, growth, deploy in (
        ("enterprise", "DPOR", {"seat_threshold": 301}, 5, 20, 4, 2, (1000, 4000), (5, 10)),
        ("smb", "CSP", {"seat_threshold": 11, "seat_max": 300}, 10, 20, 2, 1, (500, 2000), (5, 10)),
    ):
        attributions = ["CPOR", other]
        metrics += [
            metric("net_customer_adds", nca_points, nca_target, "per_unit", "net customer adds", [
                src("m365", attributions, "paid_seats", "net customer adds", workloads=workloads,
                    computation="qualifying_net", count_unit="tenant_any", **band)], track=track),
            metric("intermediate_certifications", 10, people, "per_unit", "individuals",
                   groups=[("any", intermediate)], track=track),
            metric("advanced_certifications", 15, advanced_people, "per_unit", "individuals",
                   groups=[("any", ["MS-102"])], track=track),
            metric("usage_growth", 30, None, "proportional", "MAU growth", [
                src("m365", [option], "active_users", f"{option} MAU growth", "users",
                    workloads=workloads, target=Decimal(target), option=option, **band)
                for option, target in zip(attributions, growth)], track=track),
            metric("deployments", 25, None, "per_unit", "deployments", [
                src("m365", [option], "active_users", f"{option} deployments",
                    workloads=workloads, target=Decimal(target), option=option,
                    computation="active_ratio_net", usage_threshold=Decimal("0.4"), **band)
                for option, target in zip(attributions, deploy)], track=track),
        ]
    return {"track_mode": "best", "tracks": [("enterprise", "Enterprise", "エンタープライズ", {}),
                                             ("smb", "SMB", "中小企業 (SMB)", {})],
            "metrics": metrics}


def business_applications(version):
    intermediate = BA_INTERMEDIATE_2026 if version == "2026" else [
        c for c in BA_INTERMEDIATE_2023 if not (version == "2023-12" and c == "PL-100")]
    advanced = BA_ADVANCED_2026 if version == "2026" else BA_ADVANCED_2023
    rated = [w for w, _, _ in (RATES_2026 if version == "2026" else RATES_2023)]
    attributions = ["CPOR", "CSP", "DPOR", "PAL"]
    metrics = []
    for track, nca_threshold, people, advanced_people, baseline, deployment in (
        ("enterprise", Decimal("1500.01"), 20, 7, 50000, 10000),
        ("smb", Decimal(250), 5, 2, 25000, 5000),
    ):
        metrics += [
            metric("net_customer_adds", 15, 5, "per_unit", "workloads per tenant", [
                src("dynamics", ["CPOR", "CSP", "DPOR"], "revenue_usd", "workloads per tenant",
                    workloads=BA_NCA, computation="qualifying_net", count_unit="workload",
                    usage_threshold=nca_threshold)], track=track),
            metric("intermediate_certifications", 20, people, "per_unit", "individuals",
                   groups=[("any", intermediate)], track=track),
            metric("advanced_certifications", 15, advanced_people, "per_unit", "individuals",
                   groups=[("any", advanced)], track=track),
            metric("usage_growth", 30, 30, "per_unit", "consumption value growth", [
                src("dynamics", attributions, "consumption_value", "consumption value growth",
                    workloads=rated, computation="percent_growth", min_baseline=Decimal(baseline))],
                track=track),
            metric("deployments", 20, 5, "per_unit", "deployments", [
                src("dynamics", attributions, "consumption_value", "deployments",
                    workloads=rated, computation="qualifying_net", count_unit="workload",
                    usage_threshold=Decimal(deployment))], track=track),
        ]
    return {"track_mode": "classified",
            "tracks": [("enterprise", "Enterprise", "エンタープライズ",
                        {"classify_rule": "workload_revenue", "classify_count": 5,
                         "classify_threshold": Decimal(5000), "workloads": BA_NCA}),
                       ("smb", "SMB", "中小企業 (SMB)", {})],
            "rates": RATES_2026 if version == "2026" else RATES_2023,
            "lifetimes": [("MB-230", date(2024, 6, 30))] if version != "2026" else [],
            "metrics": metrics}


SECURITY_M365 = ["AADP", "MDO", "MDE", "MDI", "MIP", "Intune", "IAM"]
SECURITY_AZURE = ["security"]


def security(version):
    m365, azure_ = (["CPOR"], ["PAL"]) if version != "2026" else (["CPOR", "CSP"], ["PAL", "CSP"])
    deployments = metric("deployments", 20, 6, "per_unit", "deployments", [
        src("m365", m365, "protected_users", "M365 deployments", workloads=SECURITY_M365,
            seat_threshold=25, usage_threshold=Decimal("0.15"), production_only=True),
        src("azure", azure_, "acr_usd", "Azure deployments", workloads=SECURITY_AZURE,
            usage_threshold=Decimal(12000), production_only=True)])

    def growth(users, dollars, track=None):
        return metric("usage_growth", 20, None, "proportional", "usage growth", [
            src("m365", m365, "protected_users", "MPU growth", "users", workloads=SECURITY_M365,
                target=Decimal(users * 20), unit_size=Decimal(users)),
            src("azure", azure_, "acr_usd", "Security ACR growth", "usd", workloads=SECURITY_AZURE,
                target=Decimal(dollars * 20), unit_size=Decimal(dollars))], track=track)

    if version != "2026":
        people = 1 if version == "2023" else 2
        scoring = ["SC-100", "SC-200", "SC-300", "SC-400"] if version == "2023" else ["SC-100", "SC-300", "SC-400"]
        return {
            "lifetimes": [("MS-500", date(2024, 6, 30))],
            "metrics": [
                metric("net_customer_adds", 20, 10, "per_unit", "net customer adds", [
                    src("m365", m365, "paid_seats", "M365 net customer adds", seat_threshold=25),
                    src("azure", azure_, "acr_usd", "Azure net customer adds",
                        workloads=SECURITY_AZURE, usage_threshold=Decimal(100))]),
                metric("intermediate_certifications", 40, 6, "per_unit", "individuals", steps=[
                    step(1, ["AZ-500"], people=people), step(2, ["SC-200", "MS-500"], people=people),
                    step(3, scoring, scoring=True)]),
                growth(125, 1250), deployments]}
    metrics = [deployments]
    for track, people, each, cap, per_person, nca_target, band, users, dollars in (
        ("enterprise", 2, None, None, None, 10, {"seat_threshold": 301}, 125, 1250),
        ("smb", 1, 4, 4, 8, 5, {"seat_threshold": 5, "seat_max": 300}, 50, 750),
    ):
        metrics += [
            metric("net_customer_adds", 20, nca_target, "per_unit", "net customer adds", [
                src("m365", m365, "paid_seats", "M365 net customer adds", workloads=SECURITY_M365,
                    computation="qualifying_net", count_unit="tenant_any", **band),
                src("azure", azure_, "acr_usd", "Azure net customer adds", workloads=SECURITY_AZURE,
                    usage_threshold=Decimal(50))], track=track),
            metric("intermediate_certifications", 40, 6, "per_unit", "individuals", track=track,
                   steps=[step(1, ["AZ-500"], people=people, each=each, cap=cap),
                          step(2, ["SC-200"], people=people, each=each, cap=cap),
                          step(3, ["SC-100", "SC-300", "SC-400", "SC-401"], scoring=True,
                               each=per_person)]),
            growth(users, dollars, track),
        ]
    return {"track_mode": "best",
            "tracks": [("enterprise", "Enterprise", "エンタープライズ", {}),
                       ("smb", "SMB", "中小企業 (SMB)", {})],
            "lifetimes": [("SC-400", date(2026, 5, 31))], "metrics": metrics}


def versions():
    for code in AZURE:
        yield code, "2023", date(2023, 6, 13), V2023, azure(code, "2023")
        yield code, "2026", date(2026, 5, 8), V2026, azure(code, "2026")
    yield "modern-work", "2023", date(2023, 6, 13), V2023, modern_work("2023")
    yield "modern-work", "2026", date(2026, 5, 8), V2026, modern_work("2026")
    for version, start, source in (("2023", date(2023, 6, 13), V2023),
                                   ("2023-12", date(2023, 12, 1), V2023),
                                   ("2026", date(2026, 5, 8), V2026)):
        yield "business-applications", version, start, source, business_applications(version)
        yield "security", version, start, source, security(version)


def load(apps, schema_editor):
    Certification = apps.get_model("portal", "Certification")
    Designation = apps.get_model("scoring", "Designation")
    Workload = apps.get_model("scoring", "Workload")
    RuleSet = apps.get_model("scoring", "RuleSet")
    MetricRule = apps.get_model("scoring", "MetricRule")
    MetricSource = apps.get_model("scoring", "MetricSource")
    CertificationGroup = apps.get_model("scoring", "CertificationGroup")
    CertificationStep = apps.get_model("scoring", "CertificationStep")
    CertificationLifetime = apps.get_model("scoring", "CertificationLifetime")
    RateCardEntry = apps.get_model("scoring", "RateCardEntry")
    Track = apps.get_model("scoring", "Track")

    for code, name, level in CERTIFICATIONS:
        Certification.objects.get_or_create(code=code, defaults={"name": name, "name_ja": name, "level": level})
    certifications = {c.code: c for c in Certification.objects.all()}
    designations = {d.code: d for d in Designation.objects.all()}
    for code, name, platform, kind, counts_for in WORKLOADS:
        workload, _ = Workload.objects.get_or_create(
            code=code, defaults={"name": name, "name_ja": name, "platform": platform, "kind": kind})
        workload.designations.add(*[designations[d] for d in counts_for])
    for code, name, areas, distinct in SERVICES:
        service, _ = Workload.objects.get_or_create(
            code=code, defaults={"name": name, "name_ja": name, "platform": "azure",
                                 "kind": "service", "distinct_service": distinct})
        service.areas.set(Workload.objects.filter(code__in=areas))
        service.designations.set([designations[d] for d in AZURE])
    workloads = {w.code: w for w in Workload.objects.all()}

    # The seed: its source; the other five's metrics are our defaults (2022 rules unknown).
    for rule_set in RuleSet.objects.filter(version=1):
        rule_set.release = "2022"
        if rule_set.designation.code == "security":
            rule_set.source_title = "Solutions Partner program overview (seed, Japanese)"
            rule_set.published_on = date(2022, 6, 2)
        else:
            rule_set.source_title = "Portal defaults (other-designations.md); 2022 rules unknown"
            MetricRule.objects.filter(rule_set=rule_set).update(provenance="default")
        rule_set.save()

    for code, release, start, (title, published), spec in versions():
        designation = designations[code]
        latest = RuleSet.objects.filter(designation=designation).order_by("-version").first()
        rule_set = RuleSet.objects.create(
            designation=designation, version=latest.version + 1, effective_from=start,
            qualifying_total=Decimal(70), min_metric_points=Decimal(1), release=release,
            source_title=title, source_url=PAGES[code], published_on=published,
            track_mode=spec.get("track_mode", "single"),
            notes=f"Rules as published on {published.isoformat()} (published-rules.md).")
        tracks = {}
        for position, (track_code, name, name_ja, rule) in enumerate(spec.get("tracks", [])):
            rule = dict(rule)
            classify = rule.pop("workloads", [])
            tracks[track_code] = Track.objects.create(
                rule_set=rule_set, code=track_code, name=name, name_ja=name_ja,
                position=position, **rule)
            tracks[track_code].classify_workloads.set([workloads[w] for w in classify])
        for workload, measure, rate in spec.get("rates", []):
            RateCardEntry.objects.create(rule_set=rule_set, workload=workloads[workload],
                                         measure=measure, rate=Decimal(str(rate)))
        for cert, until in spec.get("lifetimes", []):
            CertificationLifetime.objects.create(rule_set=rule_set, certification=certifications[cert],
                                                 counts_until=until)
        for m in spec["metrics"]:
            rule = MetricRule.objects.create(
                rule_set=rule_set, code=m["code"], max_points=m["max_points"], target=m["target"],
                scaling=m["scaling"], unit_label=m["unit_label"],
                track=tracks[m["track"]] if m["track"] else None)
            for s in m["sources"]:
                fields = {k: v for k, v in s.items() if k != "workloads"}
                created = MetricSource.objects.create(metric=rule, **fields)
                created.workloads.set([workloads[w] for w in s["workloads"]])
            for mode, codes in m["groups"]:
                group = CertificationGroup.objects.create(metric=rule, mode=mode)
                group.certifications.set([certifications[c] for c in codes])
                designation.certifications.add(*[certifications[c] for c in codes])
            for st in m["steps"]:
                created = CertificationStep.objects.create(
                    metric=rule, position=st["position"], scoring=st["scoring"],
                    min_people=st["people"], points_each=st["each"], points_cap=st["cap"])
                group = CertificationGroup.objects.create(metric=rule, mode=st["mode"], step=created)
                group.certifications.set([certifications[c] for c in st["certs"]])
                designation.certifications.add(*[certifications[c] for c in st["certs"]])


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_invitation_signup"),
        ("scoring", "0007_published_rule_parts"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
