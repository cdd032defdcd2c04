"""The `people` and `certifications` kinds: individuals and the certifications they hold."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from portal.models import Certification, HeldCertification, Person
from scoring.imports.base import (
    Counts,
    KindImporter,
    OrganizationLookup,
    RowReader,
    chunked,
    resolve_organizations,
)
from scoring.imports.fields import (
    EARLIEST_CERTIFICATION_DATE,
    FieldError,
    date_parser,
    import_today,
    model_text,
    parse_partner_id,
)
from scoring.imports.result import RowError
from scoring.imports.specs import SPECS

# As long as the columns they are stored in allow.
PERSON_ID = model_text(Person, "person_id")
PERSON_NAME = model_text(Person, "name")
PERSON_EMAIL = model_text(Person, "email")
CERTIFICATION_DATE = date_parser(EARLIEST_CERTIFICATION_DATE)


@dataclass(slots=True)
class PersonRow:
    partner_id: str
    person_id: str
    name: str
    email: str | None  # None: the row leaves the column out (keep what is stored)
    organization_id: int = 0


class PersonImporter(KindImporter[PersonRow]):
    """People are created or updated by (organization, person_id); the organization must exist."""

    spec = SPECS["people"]

    def __init__(self, *, actor: object = None) -> None:
        super().__init__(actor=actor)
        self._organizations = OrganizationLookup()
        self._organization_ids: set[int] = set()

    def parse(self, row: RowReader) -> PersonRow | None:
        partner_id = row.required("partner_id", parse_partner_id)
        person_id = row.required("person_id", PERSON_ID)
        name = row.required("name", PERSON_NAME)
        email = row.optional("email", PERSON_EMAIL, blank="") if row.given("email") else None
        if not row.ok:
            return None
        return PersonRow(partner_id, person_id, name, email)  # type: ignore[arg-type]  # row.ok: parsed

    def resolve(
        self, rows: list[tuple[int, PersonRow]], errors: list[RowError]
    ) -> list[tuple[int, PersonRow]]:
        return resolve_organizations(self._organizations, rows, errors)

    def natural_key(self, row: PersonRow) -> Hashable:
        return (row.organization_id, row.person_id)

    def shown_key(self, row: PersonRow) -> str:
        return f"{row.partner_id}, {row.person_id}"

    def write(self, rows: list[PersonRow]) -> Counts:
        stored = {
            (person.organization_id, person.person_id): person
            # Cross-tenant by design: one file loads people of many organizations.
            for person in Person.objects.unscoped().filter(
                organization_id__in={row.organization_id for row in rows},
                person_id__in={row.person_id for row in rows},
            )
        }
        upserted = self.upsert(
            Person,
            rows,
            stored=stored,
            key=self.natural_key,
            values=lambda row: {"name": row.name}
            | ({} if row.email is None else {"email": row.email}),
            creation=lambda row: {
                "organization_id": row.organization_id,
                "person_id": row.person_id,
            },
            fields=["name", "email"],
        )
        self._organization_ids.update(row.organization_id for row in rows)
        return upserted.counts(len(rows))

    def affected_organization_ids(self) -> set[int]:
        return self._organization_ids


@dataclass(slots=True)
class HeldRow:
    partner_id: str
    person_id: str
    certification_id: int
    earned_on: date
    expires_on: date | None
    organization_id: int = 0
    person_pk: int = 0


class HeldCertificationImporter(KindImporter[HeldRow]):
    """Held certifications, by (organization, person, certification); the person must exist."""

    spec = SPECS["certifications"]

    def __init__(self, *, actor: object = None) -> None:
        super().__init__(actor=actor)
        self._organizations = OrganizationLookup()
        self._people: dict[tuple[int, str], int] = {}
        self._people_missing: set[tuple[int, str]] = set()
        self._organization_ids: set[int] = set()
        self._today = import_today()

    @cached_property
    def _certification_ids(self) -> dict[str, int]:
        """Catalog code → certification id (the catalog is a few dozen rows)."""
        return {code.upper(): pk for pk, code in Certification.objects.values_list("id", "code")}

    def _parse_certification(self, raw: str) -> int:
        certification_id = self._certification_ids.get(raw.upper())
        if certification_id is None:
            raise FieldError("unknown certification (not a catalog code such as AZ-500)")
        return certification_id

    def parse(self, row: RowReader) -> HeldRow | None:
        partner_id = row.required("partner_id", parse_partner_id)
        person_id = row.required("person_id", PERSON_ID)
        certification_id = row.required("certification", self._parse_certification)
        earned_on = row.required("earned_on", CERTIFICATION_DATE)
        expires_on = row.optional("expires_on", CERTIFICATION_DATE, blank=None)
        if earned_on and earned_on > self._today:
            reason = f"in the future (today is {self._today.isoformat()})"
            row.fail("earned_on", row.raw("earned_on"), reason)
        if earned_on and expires_on and expires_on <= earned_on:
            row.fail("expires_on", row.raw("expires_on"), f"not after earned_on ({earned_on})")
        if not row.ok:
            return None
        return HeldRow(partner_id, person_id, certification_id, earned_on, expires_on)  # type: ignore[arg-type]  # row.ok: parsed

    def resolve(
        self, rows: list[tuple[int, HeldRow]], errors: list[RowError]
    ) -> list[tuple[int, HeldRow]]:
        rows = resolve_organizations(self._organizations, rows, errors)
        self._load_people((row.organization_id, row.person_id) for _, row in rows)
        resolved = []
        for line, row in rows:
            person_pk = self._people.get((row.organization_id, row.person_id))
            if person_pk is None:
                reason = f"unknown person (no person with this id in {row.partner_id})"
                errors.append(RowError(line, "person_id", row.person_id, reason))
                continue
            row.person_pk = person_pk
            resolved.append((line, row))
        return resolved

    def _load_people(self, keys: Iterable[tuple[int, str]]) -> None:
        known = self._people.keys() | self._people_missing
        wanted = {key for key in keys if key not in known}
        for chunk in chunked(sorted(wanted)):
            # A superset (any listed organization × any listed person id), narrowed below.
            found = {
                (organization_id, person_id): pk
                for pk, organization_id, person_id in Person.objects.unscoped()
                .filter(
                    organization_id__in={key[0] for key in chunk},
                    person_id__in={key[1] for key in chunk},
                )
                .values_list("id", "organization_id", "person_id")
            }
            for key in chunk:
                if key in found:
                    self._people[key] = found[key]
                else:
                    self._people_missing.add(key)

    def natural_key(self, row: HeldRow) -> Hashable:
        return (row.person_pk, row.certification_id)

    def shown_key(self, row: HeldRow) -> str:
        code = next(c for c, pk in self._certification_ids.items() if pk == row.certification_id)
        return f"{row.partner_id}, {row.person_id}, {code}"

    def write(self, rows: list[HeldRow]) -> Counts:
        stored = {
            (held.person_id, held.certification_id): held
            # Cross-tenant by design: the people were resolved across organizations.
            for held in HeldCertification.objects.unscoped().filter(
                person_id__in={row.person_pk for row in rows}
            )
        }
        upserted = self.upsert(
            HeldCertification,
            rows,
            stored=stored,
            key=self.natural_key,
            values=lambda row: {"earned_on": row.earned_on, "expires_on": row.expires_on},
            creation=lambda row: {
                "organization_id": row.organization_id,
                "person_id": row.person_pk,
                "certification_id": row.certification_id,
            },
            fields=["earned_on", "expires_on"],
        )
        self._organization_ids.update(row.organization_id for row in rows)
        return upserted.counts(len(rows))

    def affected_organization_ids(self) -> set[int]:
        return self._organization_ids
