"""The benefit catalog and program terms as shipped; staff edit all of it in the admin.

Sources (shared/spec): program.md §5, §7 and §8; published-rules.md §0.3, §5, §6, §9 and §10.
- Security and the Security specializations: the seed's table exactly (program.md §7).
- Common to every designation [S] FAQ22, TPD23: go-to-market services, 50 TP&D advisory hours,
  unlimited technical pre-sales, support incidents (number not published), co-sell eligibility,
  marketplace benefits, the customer-facing badge.
- The other five designations: the public record holds no product quantities (the benefits
  guide PDF is not in any stored text), so their packages hold the common benefits and say that
  the product list awaits staff. No quantity is invented.
- Legacy benefits: only TP&D hours are published (gold 50, silver 20) [S] TPD23.
- Action Pack: the 2023 contents [S] MAPS23, TPD23 (on-premises software: quantities not given).
- Fees [S] FAQ22 (US$4,730) and [S2] DOS-A (US$4,875, page updated 2026-04-09); legacy and
  Action Pack prices not published; both retired 2025-01-22 [S2] DOS-B.
- Qualification window [S] REN22 (until 2023-09-18) and ANN23-09 / MS24-PCS (from 2023-09-19).
- Specializations: the seed's 18 from GA; the 2023 list [S] SPEC23, INFRA-DB23, ANN23-07, the
  parent of the new Azure ones inferred from their subject; new ones without a published date
  are available from 2023-06-13, the date of the V2023 pages (decision).
"""

from datetime import date
from decimal import Decimal

from django.db import migrations

GA = date(2022, 10, 3)
V2023 = date(2023, 6, 13)

PRODUCTS = [
    # code, English, Japanese, unit, stacking, use, on tenant, reassign after days
    ("azure-production-credits", "Azure Production Credits", "Azure 本番環境用クレジット", "usd_credit_year", "sum", "credit", False, None),
    ("azure-dev-test-credits", "Azure Dev/Test Credits", "Azure 開発/テスト用クレジット", "usd_credit_year", "sum", "credit", False, None),
    ("azure-monthly-credit", "Azure monthly credit", "Azure 月額クレジット", "usd_credit_month", "sum", "credit", False, None),
    ("visual-studio-enterprise", "Visual Studio Enterprise subscription", "Visual Studio Enterprise サブスクリプション", "licenses", "sum", "seat", False, 90),
    ("visual-studio-professional", "Visual Studio Professional subscription", "Visual Studio Professional サブスクリプション", "licenses", "sum", "seat", False, 90),
    ("d365-operations-sandbox", "D365 Operations Application Partner Sandbox", "D365 Operations Application Partner Sandbox", "sandbox", "max", "none", True, None),
    ("d365-sales-field-customer-service-sandbox", "D365 Sales, Field Service and Customer Service Partner Sandbox", "D365 Sales, Field Service and Customer Service Partner Sandbox", "sandbox", "max", "none", True, None),
    ("d365-customer-engagement", "Dynamics 365 Customer Engagement", "Dynamics 365 Customer Engagement", "users", "sum", "seat", True, None),
    ("viva", "Microsoft Viva", "Microsoft Viva", "users", "sum", "seat", True, None),
    ("m365-e5", "Microsoft 365 E5", "Microsoft 365 E5", "users", "sum", "seat", True, None),
    ("m365-business-premium", "Microsoft 365 Business Premium", "Microsoft 365 Business Premium", "users", "sum", "seat", True, None),
    ("m365-edu-a5", "Microsoft 365 EDU A5", "Microsoft 365 EDU A5", "users", "sum", "seat", True, None),
    ("office-365-e3", "Office 365 E3", "Office 365 E3", "users", "sum", "seat", True, None),
    ("intune", "Microsoft Intune", "Microsoft Intune", "users", "sum", "seat", True, None),
    ("enterprise-mobility-security", "Enterprise Mobility + Security", "Enterprise Mobility + Security", "users", "sum", "seat", True, None),
    ("windows-365-enterprise", "Windows 365 Enterprise", "Windows 365 Enterprise", "users", "sum", "seat", True, None),
    ("project-online-plan-5", "Microsoft Project Online (plan 5)", "Microsoft Project Online (プラン 5)", "users", "sum", "seat", True, None),
    ("visio-online-plan-2", "Visio Online (plan 2)", "Visio Online (プラン 2)", "users", "sum", "seat", True, None),
    ("windows-iot", "Windows IoT", "Windows IoT", "on_premises_licenses", "sum", "none", False, None),
    ("windows-server-standard-2022", "Windows Server Standard 2022", "Windows Server Standard 2022", "on_premises_licenses", "sum", "none", False, None),
    ("windows-server-datacenter-2022", "Windows Server 2022 Datacenter", "Windows Server 2022 Datacenter", "on_premises_licenses", "sum", "none", False, None),
    ("sql-server", "SQL Server", "SQL Server", "on_premises_licenses", "sum", "none", False, None),
    ("system-center-standard", "System Center Standard", "System Center Standard", "on_premises_licenses", "sum", "none", False, None),
    ("client-access-licenses", "Client access licenses (choice of CALs)", "クライアント アクセス ライセンス (CAL を選択)", "on_premises_licenses", "max", "none", False, None),
    ("on-premises-servers-cals", "On-premises servers and CALs", "オンプレミス サーバーと CAL", "on_premises_licenses", "max", "none", False, None),
    ("tpd-advisory-hours", "Technical presales and deployment (TP&D) advisory hours", "技術的なプリセールスおよびデプロイ (TP&D) アドバイザリー時間", "hours", "max", "none", False, None),
    ("technical-presales", "Technical presales assistance", "技術的なプリセールス支援", "included", "max", "none", False, None),
    ("support-incidents", "Technical support incidents", "テクニカル サポート インシデント", "incidents", "max", "none", False, None),
    ("go-to-market-services", "Go-to-market services", "Go-to-market サービス", "included", "max", "none", False, None),
    ("co-sell-eligibility", "Co-sell eligibility", "共同販売 (Co-sell) の資格", "included", "max", "none", False, None),
    ("marketplace-benefits", "Marketplace listing benefits", "マーケットプレースの特典", "included", "max", "none", False, None),
    ("customer-facing-badge", "Customer-facing badge", "顧客向けバッジ", "included", "max", "none", False, None),
]

COMMON = [
    # product, quantity, detail (en), detail (ja)
    ("go-to-market-services", None, "", ""),
    ("tpd-advisory-hours", 50, "", ""),
    ("technical-presales", None, "unlimited", "無制限"),
    ("support-incidents", None, "number not published", "件数は未公開"),
    ("co-sell-eligibility", None, "", ""),
    ("marketplace-benefits", None, "", ""),
    ("customer-facing-badge", None, "", ""),
]

SECURITY = [
    ("azure-production-credits", 6000, "bulk", "一括"),
    ("azure-dev-test-credits", 12000, "bulk", "一括"),
    ("visual-studio-enterprise", 25, "no monthly Azure credit", "月額 Azure クレジットなし"),
    ("d365-operations-sandbox", 1, "", ""),
    ("d365-sales-field-customer-service-sandbox", 1, "", ""),
    ("viva", 50, "", ""),
    ("m365-e5", 100, "", ""),
    ("m365-business-premium", 12, "", ""),
    ("m365-edu-a5", 25, "", ""),
    ("windows-365-enterprise", 5, "premium", "Premium"),
    ("project-online-plan-5", 20, "", ""),
    ("visio-online-plan-2", 5, "", ""),
    ("windows-iot", 2, "", ""),
    ("windows-server-standard-2022", 100, "", ""),
    ("windows-server-datacenter-2022", 32, "", ""),
    ("sql-server", 16, "", ""),
    ("system-center-standard", 100, "", ""),
    ("client-access-licenses", None, "choice of CALs", "CAL を選択"),
]

SECURITY_SPECIALIZATION = [
    ("azure-production-credits", 9000, "bulk", "一括"),
    ("azure-dev-test-credits", 24000, "bulk", "一括"),
    ("visual-studio-enterprise", 10, "no monthly Azure credit", "月額 Azure クレジットなし"),
    ("m365-e5", 50, "", ""),
]

ACTION_PACK = [
    ("azure-monthly-credit", 100, "", ""),
    ("visual-studio-professional", 3, "", ""),
    ("office-365-e3", 5, "", ""),
    ("d365-customer-engagement", 5, "", ""),
    ("intune", 5, "", ""),
    ("enterprise-mobility-security", 5, "", ""),
    ("on-premises-servers-cals", None, "quantities not published", "数量は未公開"),
    ("tpd-advisory-hours", 5, "", ""),
]

AWAITS_STAFF = (
    "The published record gives no product quantities for this package: it holds the benefits "
    "common to every designation, and its product list awaits staff.",
    "公開された記録には、このパッケージの製品数量がありません。すべての認定に共通の特典のみを含み、"
    "製品一覧はスタッフによる入力待ちです。",
)
SPECIALIZATION_AWAITS_STAFF = (
    "The published record gives no incremental benefits for this specialization: its product "
    "list awaits staff.",
    "公開された記録には、この Specialization の追加特典がありません。製品一覧はスタッフによる入力待ちです。",
)
LEGACY_AWAITS_STAFF = (
    "Only the TP&D advisory hours of legacy benefits are published; the rest of the product "
    "list awaits staff.",
    "旧コンピテンシーの特典で公開されているのは TP&D アドバイザリー時間のみです。その他の製品一覧はスタッフによる入力待ちです。",
)

FEES = [
    # offer, effective from, amount, offered, source
    ("solutions_partner", GA, Decimal("4730"), True, "[S] FAQ22 (2022–2023; local prices vary)"),
    ("solutions_partner", date(2026, 4, 9), Decimal("4875"), True, "[S2] DOS-A (page updated 2026-04-09)"),
    ("legacy_gold", GA, None, True, "[S] FAQ22: aligned to the legacy gold fee (amount not published)"),
    ("legacy_silver", GA, None, True, "[S] FAQ22: aligned to the legacy silver fee (amount not published)"),
    ("action_pack", GA, None, True, "price not found in the stored record"),
    ("legacy_gold", date(2025, 1, 22), None, False, "[S2] DOS-B: retired 2025-01-22"),
    ("legacy_silver", date(2025, 1, 22), None, False, "[S2] DOS-B: retired 2025-01-22"),
    ("action_pack", date(2025, 1, 22), None, False, "[S2] DOS-B: retired 2025-01-22"),
]

WINDOW_RULES = [
    (GA, "days_before_anniversary", 30, None, 30, "[S] REN22"),
    (date(2023, 9, 19), "rolling_months", None, 5, 30, "[S] ANN23-09, MS23-PCS, MS24-PCS"),
]

AREAS = [
    # code, English, Japanese, cap, designations, source
    ("security", "Security", "セキュリティ", 3, ["security"], "program.md §5 (seed); [S2] DOS-C"),
    ("modern-work", "Modern Work", "Modern Work", 3, ["modern-work"], "[S2] DOS-C"),
    ("business-applications", "Business Applications", "Business Applications", 3, ["business-applications"], "[S2] DOS-C"),
    ("azure", "Azure", "Azure", 5, ["infrastructure-azure", "data-ai-azure", "digital-app-innovation-azure"], "[S] INFRA-DB23"),
]

# The 2023 list: (designation, name, available from, available until or None, source)
LATER_SPECIALIZATIONS = [
    ("data-ai-azure", "Analytics", V2023, "[S] SPEC23"),
    ("digital-app-innovation-azure", "Build and Modernize AI Apps", V2023, "[S] SPEC23"),
    ("infrastructure-azure", "Hybrid Cloud Infrastructure with Azure Stack HCI", V2023, "[S] SPEC23"),
    ("infrastructure-azure", "Infra and Database Migration", date(2023, 1, 9), "[S] INFRA-DB23"),
    ("digital-app-innovation-azure", "Kubernetes", V2023, "[S] SPEC23"),
    ("infrastructure-azure", "Azure Virtual Desktop", V2023, "[S] SPEC23"),
    ("digital-app-innovation-azure", "Migrate Enterprise Applications", date(2023, 7, 11), "[S] ANN23-07"),
    ("infrastructure-azure", "Networking Services", V2023, "[S] SPEC23"),
    ("business-applications", "Business Intelligence", V2023, "[S] SPEC23"),
    ("business-applications", "Finance", V2023, "[S] SPEC23"),
    ("business-applications", "Sales", V2023, "[S] SPEC23"),
    ("business-applications", "Service", V2023, "[S] SPEC23"),
    ("business-applications", "Supply Chain", V2023, "[S] SPEC23"),
    ("modern-work", "Calling for Teams", V2023, "[S] SPEC23"),
    ("modern-work", "Custom Solutions for Teams", V2023, "[S] SPEC23"),
    ("modern-work", "Meetings and Meeting Rooms for Teams", V2023, "[S] SPEC23"),
    ("security", "Threat Protection", V2023, "[S] SPEC23"),
]
# Seed specializations the published record replaces (last day available).
REPLACED = {
    "Windows Server and SQL Server Migration": (date(2023, 1, 8), "[S] INFRA-DB23"),
    "Linux and Open Source Databases Migration": (date(2023, 1, 8), "[S] INFRA-DB23"),
    "Modernization of Web Applications": (date(2023, 7, 10), "[S] ANN23-07 (renamed)"),
}


def _slug(name):
    return name.lower().replace(" and ", "-").replace(" with ", "-").replace(" ", "-")


def load_catalog(apps, schema_editor):
    Designation = apps.get_model("scoring", "Designation")
    Specialization = apps.get_model("scoring", "Specialization")
    BenefitProduct = apps.get_model("benefits", "BenefitProduct")
    BenefitPackage = apps.get_model("benefits", "BenefitPackage")
    PackageItem = apps.get_model("benefits", "PackageItem")
    AnnualFee = apps.get_model("benefits", "AnnualFee")
    QualificationWindowRule = apps.get_model("benefits", "QualificationWindowRule")
    SpecializationArea = apps.get_model("benefits", "SpecializationArea")
    SpecializationAvailability = apps.get_model("benefits", "SpecializationAvailability")

    products = {}
    for position, (code, name, name_ja, unit, stacking, use, on_tenant, reassign) in enumerate(
        PRODUCTS, start=1
    ):
        products[code] = BenefitProduct.objects.create(
            code=code, name=name, name_ja=name_ja, unit=unit, stacking=stacking, use=use,
            activated_on_tenant=on_tenant, reassign_after_days=reassign, position=position,
        )

    def package(code, name, name_ja, grantor, items, *, designation=None, specialization=None,
                note=("", ""), complete=True, source="", effective_from=GA):
        created = BenefitPackage.objects.create(
            code=code, name=name, name_ja=name_ja, grantor=grantor, designation=designation,
            specialization=specialization, effective_from=effective_from,
            quantities_published=complete, catalog_note=note[0], catalog_note_ja=note[1],
            source=source,
        )
        for product, quantity, detail, detail_ja in items:
            PackageItem.objects.create(
                package=created, product=products[product],
                quantity=None if quantity is None else Decimal(quantity),
                detail=detail, detail_ja=detail_ja,
            )
        return created

    designations = {d.code: d for d in Designation.objects.all()}
    for code, designation in designations.items():
        if code == "security":
            package(
                "designation-security", "Security solutions partner", "Security ソリューションパートナー",
                "designation", COMMON + SECURITY, designation=designation,
                source="program.md §7 (seed); common benefits [S] FAQ22, TPD23",
            )
        else:
            package(
                f"designation-{code}", f"{designation.name} solutions partner",
                f"{designation.name} ソリューションパートナー", "designation", COMMON,
                designation=designation, note=AWAITS_STAFF, complete=False,
                source="common benefits [S] FAQ22, TPD23",
            )
    package(
        "legacy-gold", "Legacy benefits (gold)", "旧コンピテンシーの特典 (ゴールド)", "legacy_gold",
        [("tpd-advisory-hours", 50, "", "")], note=LEGACY_AWAITS_STAFF, complete=False,
        source="[S] TPD23",
    )
    package(
        "legacy-silver", "Legacy benefits (silver)", "旧コンピテンシーの特典 (シルバー)", "legacy_silver",
        [("tpd-advisory-hours", 20, "", "")], note=LEGACY_AWAITS_STAFF, complete=False,
        source="[S] TPD23",
    )
    package(
        "action-pack", "Microsoft Action Pack", "Microsoft Action Pack", "action_pack", ACTION_PACK,
        note=(
            "Contents as published in 2023; on-premises software quantities not published.",
            "2023 年に公開された内容です。オンプレミス ソフトウェアの数量は未公開です。",
        ),
        source="[S] MAPS23, TPD23",
    )

    seed_specializations = list(Specialization.objects.select_related("designation"))
    for specialization in seed_specializations:
        until, until_source = REPLACED.get(specialization.name, (None, ""))
        SpecializationAvailability.objects.create(
            specialization=specialization, available_from=GA, available_until=until,
            source="program.md §5 (seed)" + (f"; until: {until_source}" if until_source else ""),
        )
    for designation_code, name, available_from, source in LATER_SPECIALIZATIONS:
        specialization = Specialization.objects.create(
            code=f"{designation_code}--{_slug(name)}"[:80], name=name, name_ja=name,
            designation=designations[designation_code],
        )
        SpecializationAvailability.objects.create(
            specialization=specialization, available_from=available_from, source=source
        )
    for specialization in Specialization.objects.select_related("designation"):
        if specialization.designation.code == "security" and specialization in seed_specializations:
            package(
                f"specialization-{specialization.code}"[:100],
                f"{specialization.name} specialization", f"{specialization.name} Specialization",
                "specialization", SECURITY_SPECIALIZATION, specialization=specialization,
                source="program.md §7 (seed): Security specialization (incremental)",
            )
        else:
            package(
                f"specialization-{specialization.code}"[:100],
                f"{specialization.name} specialization", f"{specialization.name} Specialization",
                "specialization", [], specialization=specialization,
                note=SPECIALIZATION_AWAITS_STAFF, complete=False,
                effective_from=max(GA, SpecializationAvailability.objects.get(
                    specialization=specialization).available_from),
            )

    for offer, effective_from, amount, available, source in FEES:
        AnnualFee.objects.create(
            offer=offer, effective_from=effective_from, amount=amount, currency="USD",
            available=available, source=source,
        )
    for effective_from, kind, days, months, renewal_days, source in WINDOW_RULES:
        QualificationWindowRule.objects.create(
            effective_from=effective_from, kind=kind, days_before_anniversary=days,
            previous_months=months, renewal_window_days=renewal_days, source=source,
        )
    for code, name, name_ja, cap, area_designations, source in AREAS:
        area = SpecializationArea.objects.create(
            code=code, name=name, name_ja=name_ja, cap=cap, source=source
        )
        area.designations.set([designations[d] for d in area_designations])


def unload_catalog(apps, schema_editor):
    for model in ["PackageItem", "BenefitPackage", "BenefitProduct", "AnnualFee",
                  "QualificationWindowRule", "SpecializationArea", "SpecializationAvailability"]:
        apps.get_model("benefits", model).objects.all().delete()
    Specialization = apps.get_model("scoring", "Specialization")
    for designation_code, name, _available_from, _source in LATER_SPECIALIZATIONS:
        Specialization.objects.filter(code=f"{designation_code}--{_slug(name)}"[:80]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0001_initial"),
        ("scoring", "0002_program_catalog"),
    ]

    operations = [migrations.RunPython(load_catalog, unload_catalog)]
