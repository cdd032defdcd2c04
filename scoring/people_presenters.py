"""The people pages' display text: what a person counts toward, certification status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from portal.models import HeldCertification, Person
from scoring.people_selectors import EXPIRY_WARNING_DAYS, Contribution
from scoring.presenters import metric_label


def contribution_text(contribution: Contribution) -> str:
    """ "Security · Advanced Certifications · step 2"."""
    metric_code = contribution.metric_code.rsplit("/", 1)[-1]
    parts = [contribution.designation.display_name, metric_label(metric_code)]
    if contribution.step_key.startswith("step"):
        parts.append(_("step %(number)s") % {"number": contribution.step_key[4:]})
    return " · ".join(parts)


@dataclass(frozen=True)
class HeldRow:
    held: HeldCertification
    status: str
    status_kind: str  # ok / warn / expired
    expiring_soon: bool


def held_row(held: HeldCertification, *, today: date) -> HeldRow:
    if not held.is_active_on(today):
        if held.earned_on > today:
            return HeldRow(held, _("Not yet valid"), "warn", False)
        return HeldRow(held, _("Expired"), "expired", False)
    soon = held.expires_on is not None and held.expires_on <= today + timedelta(
        days=EXPIRY_WARNING_DAYS
    )
    if soon:
        return HeldRow(held, _("Expires within 90 days"), "warn", True)
    return HeldRow(held, _("Active"), "ok", False)


@dataclass(frozen=True)
class PersonRow:
    person: Person
    certifications: tuple[HeldRow, ...]
    counts_toward: tuple[str, ...]
    first_expiry: date | None  # the earliest expiry among their active certifications


def person_row(person: Person, contributions: list[Contribution], *, today: date) -> PersonRow:
    rows = tuple(held_row(h, today=today) for h in person.certifications.all())
    expiries = [
        r.held.expires_on
        for r in rows
        if r.held.expires_on is not None and r.status_kind != "expired"
    ]
    return PersonRow(
        person=person,
        certifications=rows,
        # A metric counted per track (Enterprise, SMB) has the same requirement in each: once.
        counts_toward=tuple(dict.fromkeys(contribution_text(c) for c in contributions)),
        first_expiry=min(expiries) if expiries else None,
    )
