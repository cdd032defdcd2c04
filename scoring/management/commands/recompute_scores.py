"""`manage.py recompute_scores [--as-of YYYY-MM-DD] [--org PARTNER_ID]` — synchronous."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portal.models import Organization
from scoring.services import scores_recompute


def parse_as_of(value: str | None) -> date:
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of {value!r} is not a date (YYYY-MM-DD).") from exc


def organizations_for(partner_id: str | None) -> list[int]:
    organizations = Organization.objects.unscoped()
    if partner_id:
        organizations = organizations.filter(partner_id=partner_id)
        if not organizations.exists():
            raise CommandError(f"No partner organization with Partner ID {partner_id!r}.")
    return list(organizations.order_by("pk").values_list("pk", flat=True))


class Command(BaseCommand):
    help = "Recompute the Partner Capability Scores of every (or one) organization, synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="Date of the scores (default: today).")
        parser.add_argument("--org", dest="partner_id", help="Only this Partner ID.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Worker processes for the chunks (default: SCORING_WORKERS; PostgreSQL only).",
        )

    def handle(self, *args: object, **options: object) -> None:
        as_of_text, partner_id, workers = (
            options["as_of"],
            options["partner_id"],
            options["workers"],
        )
        as_of = parse_as_of(str(as_of_text) if as_of_text else None)
        ids = organizations_for(str(partner_id) if partner_id else None)
        started = time.perf_counter()
        written = scores_recompute(
            organization_ids=ids, as_of=as_of, workers=workers if isinstance(workers, int) else None
        )
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Recomputed {len(ids)} organization(s) as of {as_of}: "
            f"{written} snapshot(s) in {seconds:.2f} s."
        )
