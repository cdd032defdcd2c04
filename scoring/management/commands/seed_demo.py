"""`manage.py seed_demo` — demo organizations, people, telemetry and today's scores (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.demo import seed_demo_portal
from portal.models import Organization
from scoring.demo import seed_demo_telemetry
from scoring.models import ScoreSnapshot
from scoring.services import scores_backfill_month_ends, scores_recompute


class Command(BaseCommand):
    help = (
        "Create demo partner organizations, people, certifications, logins and customer "
        "telemetry, then compute the scores of the last 24 month-ends and today's (idempotent)."
    )

    def handle(self, *args: object, **options: object) -> None:
        logins = seed_demo_portal()
        organizations = list(
            Organization.objects.unscoped()
            .filter(slug__in=logins.organization_slugs)
            .order_by("pk")
        )
        seed_demo_telemetry(organizations=organizations)
        today = timezone.localdate()
        ids = [o.pk for o in organizations]
        # The history page's months: the scores each past month-end would have had.
        scores_backfill_month_ends(organization_ids=ids, today=today)
        scores_recompute(organization_ids=ids, as_of=today)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Organizations: {', '.join(logins.organization_slugs)}")
        self.stdout.write(
            f"  Partner admin (two organizations): {logins.admin_email} / {logins.password}"
        )
        self.stdout.write(
            f"  Program staff (admin site):       {logins.staff_email} / {logins.password}"
        )
        self.stdout.write(f"  Scores as of {today.isoformat()}:")
        for organization in organizations:
            self.stdout.write(f"    {organization.name}: {self._summary(organization, today)}")

    @staticmethod
    def _summary(organization: Organization, as_of: object) -> str:
        snapshots = (
            ScoreSnapshot.objects.for_org(organization)
            .filter(as_of=as_of)
            .select_related("designation", "rule_set")
            .order_by("designation__position", "-rule_set__version")
        )
        parts, seen = [], set()
        for snapshot in snapshots:
            if snapshot.designation_id in seen:
                continue
            seen.add(snapshot.designation_id)
            name = snapshot.designation.name.removesuffix(" Solutions Partner")
            mark = " (qualified)" if snapshot.qualified else ""
            parts.append(f"{name} {snapshot.total:.1f}{mark}")
        return " · ".join(parts) or "no scores"
