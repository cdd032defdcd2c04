"""The columns of each kind of data-formats.md: required, optional, and the natural key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindSpec:
    """The columns of one kind.

    Required columns must be in the header (or be keys of every record) and hold a value.
    Optional columns may be left out or blank; a blank value has the meaning data-formats.md
    gives it. When an optional column listed in `kept_when_absent` is left out altogether, an
    update keeps what is stored (a file without `production` does not flip test tenants), while
    the others (workload, end_month, expires_on) mean their blank value.
    """

    kind: str
    key: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    kept_when_absent: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SPECS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            kind="organizations",
            key=("partner_id",),
            required=("partner_id", "name", "country"),
            optional=("renewal_date", "legacy_competencies"),
            kept_when_absent=("renewal_date", "legacy_competencies"),
        ),
        KindSpec(
            kind="people",
            key=("partner_id", "person_id"),
            required=("partner_id", "person_id", "name"),
            optional=("email",),
            kept_when_absent=("email",),
        ),
        KindSpec(
            kind="certifications",
            key=("partner_id", "person_id", "certification"),
            required=("partner_id", "person_id", "certification", "earned_on"),
            optional=("expires_on",),
        ),
        KindSpec(
            kind="customers",
            key=("platform", "customer_id"),
            required=("platform", "customer_id"),
            optional=("name", "country", "production", "segment"),
            kept_when_absent=("name", "country", "production", "segment"),
        ),
        KindSpec(
            kind="associations",
            key=("partner_id", "platform", "customer_id", "type", "workload"),
            required=("partner_id", "platform", "customer_id", "type", "start_month"),
            optional=("workload", "end_month"),
        ),
        KindSpec(
            kind="usage",
            key=("month", "platform", "customer_id", "measure", "workload"),
            required=("month", "platform", "customer_id", "measure", "value"),
            optional=("workload",),
        ),
    )
}

KINDS: tuple[str, ...] = tuple(SPECS)
