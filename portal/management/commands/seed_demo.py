from django.core.management.base import BaseCommand

from portal.demo import seed_demo_portal


class Command(BaseCommand):
    help = "Create demo partner organizations, people, certifications and logins (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        logins = seed_demo_portal()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Organizations: {', '.join(logins.organization_slugs)}")
        self.stdout.write(
            f"  Partner admin (two organizations): {logins.admin_email} / {logins.password}"
        )
        self.stdout.write(
            f"  Program staff (admin site):       {logins.staff_email} / {logins.password}"
        )
