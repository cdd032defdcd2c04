"""The `organizations` kind: partner organizations and the legacy competencies they held."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.utils.text import slugify

from portal.models import LegacyCompetency, Organization, OrganizationLegacyCompetency
from scoring.imports.base import Counts, KindImporter, RowReader
from scoring.imports.fields import (
    parse_country,
    parse_date,
    parse_partner_id,
    text_parser,
)
from scoring.imports.specs import SPECS

LEVELS = tuple(OrganizationLegacyCompetency.Level.values)


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
        name = row.required("name", text_parser(200))
        country = row.required("country", parse_country)
        renewal_date = row.optional("renewal_date", parse_date, blank=None)
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
        existing = {
            organization.partner_id: organization
            for organization in Organization.objects.unscoped().filter(
                partner_id__in=[row.partner_id for row in rows]
            )
        }
        slugs = self._new_slugs([row for row in rows if row.partner_id not in existing])
        new: list[Organization] = []
        changed: list[Organization] = []
        for row in rows:
            organization = existing.get(row.partner_id)
            if organization is None:
                new.append(
                    Organization(
                        partner_id=row.partner_id,
                        name=row.name,
                        slug=slugs[row.partner_id],
                        country=row.country,
                        renewal_date=row.renewal_date,
                    )
                )
                continue
            before = (organization.name, organization.country, organization.renewal_date)
            organization.name = row.name
            organization.country = row.country
            if row.renewal_given:
                organization.renewal_date = row.renewal_date
            if before != (organization.name, organization.country, organization.renewal_date):
                changed.append(organization)
        self.save_with_history(Organization, new, changed, ["name", "country", "renewal_date"])
        ids = {organization.partner_id: organization.pk for organization in existing.values()}
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
        held: dict[int, dict[int, OrganizationLegacyCompetency]] = {}
        for grade in OrganizationLegacyCompetency.objects.unscoped().filter(
            organization_id__in=list(wanted)
        ):
            held.setdefault(grade.organization_id, {})[grade.competency_id] = grade
        new: list[OrganizationLegacyCompetency] = []
        changed: list[OrganizationLegacyCompetency] = []
        removed: list[OrganizationLegacyCompetency] = []
        for organization_id, levels in wanted.items():
            current = held.get(organization_id, {})
            for competency_id, level in levels.items():
                grade = current.get(competency_id)
                if grade is None:
                    new.append(
                        OrganizationLegacyCompetency(
                            organization_id=organization_id,
                            competency_id=competency_id,
                            level=level,
                        )
                    )
                elif grade.level != level:
                    grade.level = level
                    changed.append(grade)
            removed.extend(g for c, g in current.items() if c not in levels)
        self.save_with_history(OrganizationLegacyCompetency, new, changed, ["level"])
        user = self.history_user
        for grade in removed:
            # One by one so the audit history records who removed it; removals are rare.
            grade._history_user = user  # type: ignore[attr-defined]  # read by simple-history
            grade.delete()
        return {grade.organization_id for grade in [*new, *changed, *removed]}

    def affected_organization_ids(self) -> set[int]:
        return self._organization_ids
