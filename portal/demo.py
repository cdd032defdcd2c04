"""Demo data for the quick start: three partner organizations, their people and certifications,
a demo admin (member of two organizations, to show the switcher) and a demo staff login.

Idempotent: rows are looked up by their natural keys and only created when missing, so a second
run changes nothing (not even the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from portal.models import (
    Certification,
    HeldCertification,
    LegacyCompetency,
    Membership,
    Organization,
    OrganizationLegacyCompetency,
    Person,
    User,
)

DEMO_PASSWORD = "demo-password-123"
DEMO_ADMIN_EMAIL = "admin@demo.example"
DEMO_STAFF_EMAIL = "staff@demo.example"


@dataclass(frozen=True)
class DemoLogins:
    admin_email: str
    staff_email: str
    password: str
    organization_slugs: list[str] = field(default_factory=list)


# Certification dates are relative to the day the demo is seeded, so the demo looks current:
# (exam code, earned this many months ago, valid for this many months).

ORGANIZATIONS = [
    {
        "partner_id": "6120031",
        "name": "株式会社さくらクラウド",
        "slug": "sakura-cloud",
        "country": "JP",
        "renewal_date": date(2026, 10, 1),
        "legacy": [("security", "gold"), ("enterprise-mobility-management", "silver")],
        "demo_admin": True,
        "people": [
            ("JP-0001", "佐藤 健", "ken.sato@sakura-cloud.example", [
                ("MS-500", 26, 36),
                ("AZ-500", 24, 36),
                ("SC-200", 17, 24),
            ]),
            ("JP-0002", "鈴木 美咲", "misaki.suzuki@sakura-cloud.example", [
                ("MS-500", 25, 36),
                ("AZ-500", 21, 36),
                ("SC-300", 16, 24),
            ]),
            ("JP-0003", "高橋 翔太", "shota.takahashi@sakura-cloud.example", [
                ("MS-500", 31, 36),
                ("AZ-500", 27, 36),
                ("SC-400", 11, 24),
            ]),
            ("JP-0004", "田中 陽子", "yoko.tanaka@sakura-cloud.example", [
                ("MS-500", 22, 36),
                ("AZ-500", 17, 36),
                ("SC-200", 13, 24),
                ("SC-300", 8, 24),
            ]),
            ("JP-0005", "伊藤 大輔", "daisuke.ito@sakura-cloud.example", [
                ("MS-500", 20, 36),
                ("AZ-500", 28, 36),
                ("SC-200", 18, 36),
            ]),
            ("JP-0006", "渡辺 さくら", "sakura.watanabe@sakura-cloud.example", [
                ("MS-500", 15, 36),
                ("AZ-500", 14, 36),
                ("SC-400", 9, 24),
            ]),
            ("JP-0007", "山本 拓也", "takuya.yamamoto@sakura-cloud.example", [
                ("AZ-104", 40, 36),
                ("AZ-305", 16, 24),
            ]),
        ],
    },
    {
        "partner_id": "4410087",
        "name": "Contoso Security Partners",
        "slug": "contoso-security",
        "country": "US",
        "renewal_date": date(2026, 7, 1),
        "legacy": [("security", "silver"), ("cloud-productivity", "gold"), ("messaging", "silver")],
        "demo_admin": True,
        "people": [
            ("US-1001", "Emily Carter", "emily.carter@contoso-security.example", [
                ("MS-500", 29, 36),
                ("AZ-500", 26, 36),
                ("SC-200", 20, 24),
            ]),
            ("US-1002", "James Wilson", "james.wilson@contoso-security.example", [
                ("AZ-500", 34, 24),
                ("SC-300", 25, 36),
            ]),
            ("US-1003", "Priya Natarajan", "priya.natarajan@contoso-security.example", [
                ("MS-500", 16, 36),
                ("AZ-500", 12, 36),
                ("SC-400", 7, 24),
            ]),
            ("US-1004", "Marcus Johnson", "marcus.johnson@contoso-security.example", [
                ("MS-700", 27, 36),
                ("MD-102", 17, 36),
                ("MS-102", 10, 24),
            ]),
        ],
    },
    {
        "partner_id": "5530912",
        "name": "Fabrikam Data & AI GmbH",
        "slug": "fabrikam-data",
        "country": "DE",
        "renewal_date": date(2027, 1, 1),
        "legacy": [("data-analytics", "gold"), ("data-platform", "silver")],
        "demo_admin": False,
        "people": [
            ("DE-2001", "Lena Hoffmann", "lena.hoffmann@fabrikam.example", [
                ("DP-203", 28, 36),
                ("DP-100", 19, 36),
            ]),
            ("DE-2002", "Jonas Becker", "jonas.becker@fabrikam.example", [
                ("AI-102", 15, 24),
                ("AZ-104", 33, 24),
                ("AZ-305", 24, 36),
            ]),
            ("DE-2003", "Mia Schneider", "mia.schneider@fabrikam.example", [
                ("DP-300", 26, 36),
                ("DP-203", 13, 36),
            ]),
            ("DE-2004", "Lukas Weber", "lukas.weber@fabrikam.example", [
                ("AZ-204", 22, 36),
                ("AZ-400", 14, 24),
            ]),
        ],
    },
]  # fmt: skip


def _add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, 28))


def _login_user(*, email: str, staff: bool) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        if staff:
            user = User.objects.create_superuser(email=email, password=DEMO_PASSWORD)
        else:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"primary": True, "verified": True}
    )
    return user


@transaction.atomic
def seed_demo_portal() -> DemoLogins:
    """Create the demo organizations, people, certifications and logins that are missing."""
    admin = _login_user(email=DEMO_ADMIN_EMAIL, staff=False)
    _login_user(email=DEMO_STAFF_EMAIL, staff=True)
    today = timezone.localdate()
    certifications = {c.code: c for c in Certification.objects.all()}
    competencies = {c.code: c for c in LegacyCompetency.objects.all()}
    slugs = []
    for spec in ORGANIZATIONS:
        organization, _ = Organization.objects.get_or_create(
            partner_id=spec["partner_id"],
            defaults={
                "name": spec["name"],
                "slug": spec["slug"],
                "country": spec["country"],
                "renewal_date": spec["renewal_date"],
            },
        )
        slugs.append(organization.slug)
        for code, level in spec["legacy"]:
            OrganizationLegacyCompetency.objects.get_or_create(
                organization=organization,
                competency=competencies[code],
                defaults={"level": level},
            )
        if spec["demo_admin"]:
            Membership.objects.get_or_create(
                organization=organization, user=admin, defaults={"role": Membership.Role.ADMIN}
            )
        for person_id, name, email, held in spec["people"]:
            person, _ = Person.objects.get_or_create(
                organization=organization,
                person_id=person_id,
                defaults={"name": name, "email": email},
            )
            for code, months_ago, valid_months in held:
                earned_on = _add_months(today, -months_ago)
                HeldCertification.objects.get_or_create(
                    organization=organization,
                    person=person,
                    certification=certifications[code],
                    defaults={
                        "earned_on": earned_on,
                        "expires_on": _add_months(earned_on, valid_months),
                    },
                )
    return DemoLogins(
        admin_email=DEMO_ADMIN_EMAIL,
        staff_email=DEMO_STAFF_EMAIL,
        password=DEMO_PASSWORD,
        organization_slugs=slugs,
    )
