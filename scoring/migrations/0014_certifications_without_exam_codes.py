"""The 2026 certifications the Azure pages name without an exam code (published-rules.md §3.3).

Digital & App Innovation (intermediate, the scoring step after the AZ-104 gate) adds Azure AI
Cloud Developer Associate and GitHub Certified: Agentic AI Developer; Data & AI (intermediate,
after the AZ-104 and AZ-305 gates) adds SQL AI Developer Associate, Azure AI Apps and Agents
Developer Associate, Machine Learning Operations Engineer Associate and Azure Databricks Data
Engineer Associate. They enter the catalog under credential codes (portal 0006) and the scoring
step of both tracks of the 2026 versions.
"""

from django.db import migrations

CREDENTIALS = {
    "digital-app-innovation-azure": [
        ("AZURE-AI-CLOUD-DEVELOPER", "Microsoft Certified: Azure AI Cloud Developer Associate"),
        ("GITHUB-AGENTIC-AI-DEVELOPER", "GitHub Certified: Agentic AI Developer"),
    ],
    "data-ai-azure": [
        ("SQL-AI-DEVELOPER", "Microsoft Certified: SQL AI Developer Associate"),
        (
            "AZURE-AI-APPS-AGENTS-DEVELOPER",
            "Microsoft Certified: Azure AI Apps and Agents Developer Associate",
        ),
        ("MLOPS-ENGINEER", "Microsoft Certified: Machine Learning Operations Engineer Associate"),
        (
            "AZURE-DATABRICKS-DATA-ENGINEER",
            "Microsoft Certified: Azure Databricks Data Engineer Associate",
        ),
    ],
}


def add(apps, schema_editor):
    Certification = apps.get_model("portal", "Certification")
    Designation = apps.get_model("scoring", "Designation")
    CertificationGroup = apps.get_model("scoring", "CertificationGroup")
    for code, credentials in CREDENTIALS.items():
        designation = Designation.objects.filter(code=code).first()
        if designation is None:
            continue
        made = []
        for credential, name in credentials:
            certification, _ = Certification.objects.get_or_create(
                code=credential,
                defaults={"name": name, "name_ja": name, "level": "intermediate"},
            )
            made.append(certification)
        designation.certifications.add(*made)
        groups = CertificationGroup.objects.filter(
            metric__rule_set__designation=designation,
            metric__rule_set__release="2026",
            metric__code="intermediate_certifications",
            step__scoring=True,
        )
        for group in groups:
            group.certifications.add(*made)


def remove(apps, schema_editor):
    Certification = apps.get_model("portal", "Certification")
    codes = [credential for credentials in CREDENTIALS.values() for credential, _ in credentials]
    Certification.objects.filter(code__in=codes, holders__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0006_certification_credential_codes"),
        ("scoring", "0013_security_2026_deployment_bands"),
    ]

    operations = [migrations.RunPython(add, remove)]
