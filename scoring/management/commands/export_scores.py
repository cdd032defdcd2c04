"""`manage.py export_scores [--as-of YYYY-MM-DD] [--org PARTNER_ID] --format json|csv`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandParser

from portal.csvsafe import SafeDictWriter
from scoring.management.commands.recompute_scores import organizations_for, parse_as_of
from scoring.selectors import score_export_rows

CSV_COLUMNS = [
    "partner_id",
    "designation",
    "as_of",
    "total",
    "qualified",
    "metric",
    "points",
    "max_points",
    "value",
    "target",
    "gap",
    # Added with the published versions, after the existing columns: the counting track and
    # the release the rules follow ("2023-12"; "v3" for a staff version).
    "track",
    "rule_version",
]


class Command(BaseCommand):
    help = (
        "Export score snapshots as JSON (one object per designation) or CSV (one row per metric)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="Date of the scores (default: today).")
        parser.add_argument("--org", dest="partner_id", help="Only this Partner ID.")
        parser.add_argument("--format", dest="format", choices=["json", "csv"], default="json")

    def handle(self, *args: object, **options: str | None) -> None:
        as_of = parse_as_of(options["as_of"])
        ids = organizations_for(options["partner_id"])
        rows = score_export_rows(organization_ids=ids, as_of=as_of)
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        # Codes and names are text a spreadsheet could take for a formula: written neutralized.
        writer = SafeDictWriter(self.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            for metric in row["metrics"]:
                writer.writerow(
                    {
                        "partner_id": row["partner_id"],
                        "designation": row["designation"],
                        "as_of": row["as_of"],
                        "total": row["total"],
                        "qualified": "true" if row["qualified"] else "false",
                        "track": row["track"],
                        "rule_version": row["rule_version"],
                        "metric": metric["code"],
                        "points": metric["points"],
                        "max_points": metric["max_points"],
                        "value": metric["value"],
                        "target": metric["target"],
                        "gap": metric["gap"],
                    }
                )
