"""Reads behind the scoring API: an organization's customers, associations and scores, and the
program catalog. (scoring.selectors holds the reads the pages share.)"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from portal.models import Organization
from scoring.models import (
    Association,
    CertificationGroup,
    Customer,
    Designation,
    MetricRule,
    MetricSource,
    OrganizationBulkJob,
    RuleSet,
    ScoreSnapshot,
    TelemetryBulkJob,
    Workload,
)
from scoring.selectors import snapshot_latest_date, snapshot_list


def customer_list(*, organization: Organization) -> QuerySet[Customer]:
    """The customers the organization is associated with (any type, any time), with those
    associations (the organization's only)."""
    associations = Association.objects.for_org(organization)
    return (
        Customer.objects.filter(pk__in=associations.values("customer_id"))
        .prefetch_related(
            Prefetch("associations", queryset=associations.order_by("type", "workload"))
        )
        .order_by("pk")
    )


def association_list(*, organization: Organization) -> QuerySet[Association]:
    """The organization's associations with their customers."""
    return Association.objects.for_org(organization).select_related("customer")


def association_active_q(*, on: date) -> Q:
    return Q(start_month__lte=on) & (Q(end_month__isnull=True) | Q(end_month__gte=on))


def score_current(*, organization: Organization) -> list[ScoreSnapshot]:
    """The organization's latest scores: one snapshot per designation on the latest as-of
    date, the latest rule-set version when a date has several."""
    latest = snapshot_latest_date(organization=organization)
    if latest is None:
        return []
    snapshots = snapshot_list(organization=organization, as_of=latest).order_by(
        "designation__position", "designation_id", "-rule_set__version"
    )
    current: dict[int, ScoreSnapshot] = {}
    for snapshot in snapshots:
        current.setdefault(snapshot.designation_id, snapshot)
    return list(current.values())


# The stored columns the current-scores read serves (`score_current_rows`).
SCORE_ROW_FIELDS = (
    "designation_id",
    "designation__code",
    "designation__name",
    "as_of",
    "rule_set__version",
    "total",
    "qualified",
    "rule_set__qualifying_total",
    "rule_set__min_metric_points",
    "computed_at",
    "metrics",
)


def score_current_rows(*, organization: Organization, as_of: date | None) -> list[dict[str, Any]]:
    """`score_current` as plain rows in one query, given the latest as-of date (the ETag's
    `score_stamp` has it): what the API's score read serializes, without model instances."""
    if as_of is None:
        return []
    rows = (
        ScoreSnapshot.objects.for_org(organization)
        .filter(as_of=as_of)
        .order_by("designation__position", "designation_id", "-rule_set__version")
        .values(*SCORE_ROW_FIELDS)
    )
    current: dict[int, dict[str, Any]] = {}
    for row in rows:
        current.setdefault(row["designation_id"], row)
    return list(current.values())


def score_history(*, organization: Organization) -> QuerySet[ScoreSnapshot]:
    """Every snapshot of the organization, newest first."""
    return snapshot_list(organization=organization)


@dataclass(frozen=True)
class ScoreStamp:
    """What changes whenever a snapshot of the organization is written: the ETag's input, and
    the latest as-of date."""

    etag: str
    latest: date | None


def score_stamp(*, organization: Organization) -> ScoreStamp:
    stamp = ScoreSnapshot.objects.for_org(organization).aggregate(
        count=Count("pk"), latest=Max("as_of"), computed=Max("computed_at"), last=Max("pk")
    )
    text = (
        f"{organization.pk}:{stamp['count']}:{stamp['latest']}:{stamp['computed']}:{stamp['last']}"
    )
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    return ScoreStamp(etag=etag, latest=stamp["latest"])


def score_etag(*, organization: Organization) -> str:
    """A validator of the organization's scores: changes whenever a snapshot is written."""
    return score_stamp(organization=organization).etag


def designation_list() -> QuerySet[Designation]:
    return Designation.objects.prefetch_related("certifications", "workloads").order_by(
        "position", "code"
    )


def rule_set_list() -> QuerySet[RuleSet]:
    """Every rule-set version with its metrics, sources and certification groups."""
    return (
        RuleSet.objects.select_related("designation")
        .prefetch_related(
            Prefetch(
                "metrics",
                queryset=MetricRule.objects.order_by("id").prefetch_related(
                    Prefetch(
                        "sources",
                        queryset=MetricSource.objects.order_by("id").prefetch_related("workloads"),
                    ),
                    Prefetch(
                        "certification_groups",
                        queryset=CertificationGroup.objects.order_by("id").prefetch_related(
                            "certifications"
                        ),
                    ),
                ),
            )
        )
        .order_by("pk")
    )


def workload_list() -> QuerySet[Workload]:
    return Workload.objects.prefetch_related("designations").order_by("pk")


def organization_bulk_job_list(
    *, organization: Organization, caller: str
) -> QuerySet[OrganizationBulkJob]:
    """The organization's bulk upload jobs that this caller (a key's identity) sent."""
    return (
        OrganizationBulkJob.objects.for_org(organization)
        .filter(caller=caller)
        .select_related("organization")
    )


def telemetry_bulk_job_list(*, caller: str) -> QuerySet[TelemetryBulkJob]:
    """The telemetry bulk upload jobs that this caller (a platform key's identity) sent."""
    return TelemetryBulkJob.objects.filter(caller=caller)
