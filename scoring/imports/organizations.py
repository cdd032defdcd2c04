"""The `organizations` kind: partner organizations and the legacy competencies they held."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.utils.text import slugify

from portal.audit import audit_as
from portal.models import LegacyCompetency, Organization, OrganizationLegacyCompetency
from scoring.imports.base import Counts, KindImporter, RowReader
from scoring.imports.fields import (
    EARLIEST_PROGRAM_DATE,
    date_parser,
    model_text,
    parse_country,
    parse_partner_id,
)
from scoring.imports.specs import SPECS

LEVELS = tuple(OrganizationLegacyCompetency.Level.values)
ORGANIZATION_NAME = model_text(Organization, "name")
RENEWAL_DATE = date_parser(EARLIEST_PROGRAM_DATE)


@dataclass(slots=True)
class OrganizationRow:
    partner_id: str
    name: str
    country: str
    renewal_given: bool
    renewal_date: date | None
    # competency id → level; None when the row leaves the column out (keep what is held)
    competencies: dict[int, str] | None


class OrganizationImporter(KindImporter[OrganizationRow]):
    """Organizations are created or updated by Partner ID; the slug of a new one is derived."""

    spec = SPECS["organizations"]

    def __init__(self, *, actor: object = None) -> None:
        super().__init__(actor=actor)
        self._organization_ids: set[int] = set()

    @cached_property
    def _competency_ids(self) -> dict[str, int]:
        """Catalog names and codes, lower-cased, → competency id (the catalog has 18 rows)."""
        ids: dict[str, int] = {}
        for pk, code, name in LegacyCompetency.objects.values_list("id", "code", "name"):
            ids[code.lower()] = pk
            ids[name.lower()] = pk
        return ids

    def parse(self, row: RowReader) -> OrganizationRow | None:
        partner_id = row.required("partner_id", parse_partner_id)
        name = row.required("name", ORGANIZATION_NAME)
        country = row.required("country", parse_country)
        renewal_date = row.optional("renewal_date", RENEWAL_DATE, blank=None)
        competencies = self._parse_competencies(row) if row.given("legacy_competencies") else None
        if not row.ok:
            return None
        return OrganizationRow(
            partner_id=partner_id,  # type: ignore[arg-type]  # row.ok: parsed
            name=name,  # type: ignore[arg-type]
            country=country,  # type: ignore[arg-type]
            renewal_given=row.given("renewal_date"),
            renewal_date=renewal_date,
            competencies=competencies,
        )

    def _parse_competencies(self, row: RowReader) -> dict[int, str]:
        """`;`-separated catalog names or codes, each optionally suffixed `:gold` / `:silver`."""
        held: dict[int, str] = {}
        for part in row.raw("legacy_competencies").split(";"):
            item = part.strip()
            if not item:
                continue
            name, level = item, OrganizationLegacyCompetency.Level.SILVER.value
            head, colon, tail = item.rpartition(":")
            if colon:
                if tail.strip().lower() not in LEVELS:
                    row.fail("legacy_competencies", item, "unknown level (gold or silver)")
                    continue
                name, level = head.strip(), tail.strip().lower()
            competency_id = self._competency_ids.get(name.lower())
            if competency_id is None:
                reason = "unknown legacy competency (a catalog name such as Cloud Platform)"
                row.fail("legacy_competencies", item, reason)
            elif competency_id in held:
                row.fail("legacy_competencies", item, "listed twice")
            else:
                held[competency_id] = level
        return held

    def natural_key(self, row: OrganizationRow) -> Hashable:
        return row.partner_id

    def shown_key(self, row: OrganizationRow) -> str:
        return row.partner_id

    def write(self, rows: list[OrganizationRow]) -> Counts:
        stored = {
            organization.partner_id: organization
            for organization in Organization.objects.unscoped().filter(
                partner_id__in=[row.partner_id for row in rows]
            )
        }
        slugs = self._new_slugs([row for row in rows if row.partner_id not in stored])
        upserted = self.upsert(
            Organization,
            rows,
            stored=stored,
            key=self.natural_key,
            values=lambda row: {"name": row.name, "country": row.country}
            | ({"renewal_date": row.renewal_date} if row.renewal_given else {}),
            creation=lambda row: {"partner_id": row.partner_id, "slug": slugs[row.partner_id]},
            fields=["name", "country", "renewal_date"],
        )
        new, changed = upserted.new, upserted.changed
        ids = {organization.partner_id: organization.pk for organization in stored.values()}
        ids.update({organization.partner_id: organization.pk for organization in new})
        self._organization_ids.update(ids.values())
        regraded = self._write_competencies(rows, ids)
        # A new organization's competencies are part of its creation, not an update.
        updated = ({organization.pk for organization in changed} | regraded) - {
            organization.pk for organization in new
        }
        return Counts(
            created=len(new),
            updated=len(updated),
            unchanged=len(rows) - len(new) - len(updated),
        )

    def _new_slugs(self, rows: list[OrganizationRow]) -> dict[str, str]:
        """A URL slug per new organization: its name, else name + Partner ID, else the ID."""
        candidates = {
            row.partner_id: [
                base := slugify(row.name)[:80] or f"partner-{row.partner_id}",
                f"{base[: 79 - len(row.partner_id)]}-{row.partner_id}",
                f"partner-{row.partner_id}",
            ]
            for row in rows
        }
        taken = set(
            Organization.objects.unscoped()
            .filter(slug__in=[slug for slugs in candidates.values() for slug in slugs])
            .values_list("slug", flat=True)
        )
        chosen: dict[str, str] = {}
        for partner_id, slugs in candidates.items():
            slug = next((s for s in slugs if s not in taken), slugs[-1])
            taken.add(slug)
            chosen[partner_id] = slug
        return chosen

    def _write_competencies(self, rows: list[OrganizationRow], ids: dict[str, int]) -> set[int]:
        """Make each listed organization hold exactly the competencies of its row."""
        wanted = {
            ids[row.partner_id]: row.competencies for row in rows if row.competencies is not None
        }
        if not wanted:
            return set()
        stored = {
            (grade.organization_id, grade.competency_id): grade
            # Cross-tenant by design: the file grades many organizations.
            for grade in OrganizationLegacyCompetency.objects.unscoped().filter(
                organization_id__in=list(wanted)
            )
        }
        upserted = self.upsert(
            OrganizationLegacyCompetency,
            (
                (organization_id, competency_id, level)
                for organization_id, levels in wanted.items()
                for competency_id, level in levels.items()
            ),
            stored=stored,
            key=lambda grade: grade[:2],
            values=lambda grade: {"level": grade[2]},
            creation=lambda grade: {"organization_id": grade[0], "competency_id": grade[1]},
            fields=["level"],
        )
        removed = [
            grade
            for (organization_id, competency_id), grade in stored.items()
            if competency_id not in wanted[organization_id]
        ]
        for grade in removed:
            # One by one so the audit history records who removed it; removals are rare.
            audit_as(grade, actor=self.history_user).delete()
        return {grade.organization_id for grade in [*upserted.new, *upserted.changed, *removed]}

    def affected_organization_ids(self) -> set[int]:
        return self._organization_ids
