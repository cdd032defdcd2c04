"""Pages of the scoring app: an organization's Partner Capability Score dashboard.

The dashboard reads stored snapshots only; the one write is the admins' "Recompute now", which
runs the same synchronous recompute as `manage.py recompute_scores` for this organization.
Gaps are rendered from each metric's `gap_parts` with translatable templates, so they read in
the visitor's language; the labels are rule-set data, translated when shipped
(`scoring.labels`) and shown in English otherwise.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import messages
from django.db.models import Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.access import org_admin_required, org_member_required
from portal.models import Membership, Organization
from scoring.measures import current_month
from scoring.models import (
    Category,
    CertificationGroup,
    Designation,
    MetricCode,
    ScoreSnapshot,
)
from scoring.selectors import snapshot_list
from scoring.services import scores_recompute

ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
TENTH = Decimal("0.1")


# --- numbers and gaps, as the visitor reads them ---------------------------------------------


def points_text(value: float, *, threshold: Decimal | None = None) -> str:
    """One decimal, half up — but never up to a threshold the value misses (69.96 reads 69.9)."""
    exact = Decimal(str(value))
    shown = exact.quantize(TENTH, rounding=ROUND_HALF_UP)
    if threshold is not None and exact < threshold <= shown:
        shown = exact.quantize(TENTH, rounding=ROUND_FLOOR)
    return f"{shown:.1f}"


def max_points_text(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def amount_text(amount: float, unit: str) -> str:
    """Rounded up to a whole number (a gap must never look smaller), thousands separators."""
    # Stored amounts are floats of exact fractions: drop float noise before rounding up.
    whole = math.ceil(round(float(amount), 6))
    return f"${whole:,}" if unit == "usd" else f"{whole:,}"


def gap_part_text(part: dict[str, Any]) -> str:
    label = _(part["label"]) if part.get("label") else ""
    amount = amount_text(part["amount"], part.get("unit", "count"))
    if part.get("unit", "count") == "count":
        if amount == "1" and part.get("label_one"):
            label = _(part["label_one"])
        return _("%(amount)s more %(label)s") % {"amount": amount, "label": label}
    return _("+%(amount)s %(label)s") % {"amount": amount, "label": label}


def gap_text(metric: dict[str, Any], requirement: str = "") -> str:
    """What is missing for full points, localized; '' when the metric has full points."""
    parts = metric.get("gap_parts")
    if parts is None:  # a snapshot written before gap parts existed: its English text
        return str(metric.get("gap", ""))
    if not parts:
        return ""
    text = gap_part_text(parts[0])
    for part in parts[1:]:
        text = _("%(first)s or %(second)s") % {"first": text, "second": gap_part_text(part)}
    if requirement:
        text = _("%(gap)s holding %(certifications)s") % {
            "gap": text,
            "certifications": requirement,
        }
    return text


def certification_requirements(*, rule_set_ids: set[int]) -> dict[tuple[int, str], str]:
    """(rule set, metric code) → "MS-500 + AZ-500 + one of SC-200/SC-300/SC-400", localized."""
    if not rule_set_ids:
        return {}
    through = CertificationGroup.certifications.through
    rows = (
        through.objects.filter(certificationgroup__metric__rule_set_id__in=rule_set_ids)
        .order_by("certificationgroup_id")
        .values_list(
            "certificationgroup__metric__rule_set_id",
            "certificationgroup__metric__code",
            "certificationgroup_id",
            "certificationgroup__mode",
            "certification__code",
        )
    )
    groups: dict[tuple[int, str], dict[int, tuple[str, list[str]]]] = defaultdict(dict)
    for rule_set_id, metric_code, group_id, mode, code in rows:
        groups[(rule_set_id, metric_code)].setdefault(group_id, (mode, []))[1].append(code)
    requirements = {}
    for key, by_group in groups.items():
        texts = []
        for mode, unordered in by_group.values():
            codes = sorted(unordered)  # as the engine orders them, whatever the DB collation
            if mode == CertificationGroup.Mode.ANY and len(codes) > 1:
                texts.append(_("one of %(certifications)s") % {"certifications": "/".join(codes)})
            else:
                texts.append(" + ".join(codes))
        requirements[key] = " + ".join(texts)
    return requirements


# --- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    code: str
    category: str
    name: str
    points: str
    max_points: str
    percent: str
    meets_minimum: bool
    gap: str


@dataclass(frozen=True)
class DesignationScore:
    designation: Designation
    snapshot: ScoreSnapshot | None
    total: str = ""
    max_total: str = ""
    percent: str = "0"
    qualifying_total: str = ""
    qualifying_percent: str = "70"
    points_to_qualify: str = ""
    metrics: tuple[MetricRow, ...] = ()

    @property
    def qualified(self) -> bool:
        return bool(self.snapshot and self.snapshot.qualified)


def _percent(part: float, whole: float) -> str:
    if whole <= 0:
        return "0"
    return f"{max(0.0, min(100.0, 100 * part / whole)):.2f}"


def _category_label(code: str) -> str:
    return str(Category(code).label) if code in Category.values else code


def _metric_label(code: str) -> str:
    return str(MetricCode(code).label) if code in MetricCode.values else code


def designation_score(
    designation: Designation,
    snapshot: ScoreSnapshot | None,
    requirements: dict[tuple[int, str], str],
) -> DesignationScore:
    if snapshot is None:
        return DesignationScore(designation=designation, snapshot=None)
    rule_set = snapshot.rule_set
    rows = []
    for metric in snapshot.metrics:
        requirement = requirements.get((rule_set.pk, metric["code"]), "")
        rows.append(
            MetricRow(
                code=metric["code"],
                category=_category_label(metric.get("category", "")),
                name=_metric_label(metric["code"]),
                points=points_text(metric["points"], threshold=rule_set.min_metric_points),
                max_points=max_points_text(metric["max_points"]),
                percent=_percent(metric["points"], metric["max_points"]),
                meets_minimum=bool(metric.get("meets_minimum")),
                gap=gap_text(metric, requirement),
            )
        )
    max_total = sum(float(m["max_points"]) for m in snapshot.metrics) or 100.0
    to_qualify = max(0.0, float(rule_set.qualifying_total) - snapshot.total)
    return DesignationScore(
        designation=designation,
        snapshot=snapshot,
        total=points_text(snapshot.total, threshold=rule_set.qualifying_total),
        max_total=max_points_text(max_total),
        percent=_percent(snapshot.total, max_total),
        qualifying_total=max_points_text(float(rule_set.qualifying_total)),
        qualifying_percent=_percent(float(rule_set.qualifying_total), max_total),
        points_to_qualify=(
            f"{Decimal(str(to_qualify)).quantize(TENTH, rounding=ROUND_CEILING):.1f}"
            if to_qualify
            else ""
        ),
        metrics=tuple(rows),
    )


def _latest_version_per_designation(snapshots: list[ScoreSnapshot]) -> dict[int, ScoreSnapshot]:
    """Several rule-set versions scored on one date: the latest version wins (as the export)."""
    chosen: dict[int, ScoreSnapshot] = {}
    for snapshot in snapshots:
        current = chosen.get(snapshot.designation_id)
        if current is None or snapshot.rule_set.version > current.rule_set.version:
            chosen[snapshot.designation_id] = snapshot
    return chosen


def snapshot_dates(*, organization: Organization) -> list[date]:
    """The dates the organization has scores for, newest first."""
    return list(
        ScoreSnapshot.objects.for_org(organization)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .distinct()
    )


def score_summary(*, organization: Organization) -> list[DesignationScore]:
    """The latest date's score per designation, by position, in one query (organization home)."""
    latest = ScoreSnapshot.objects.for_org(organization).order_by("-as_of").values("as_of")[:1]
    snapshots = list(
        ScoreSnapshot.objects.for_org(organization)
        .filter(as_of=Subquery(latest))
        .select_related("designation", "rule_set")
        .order_by("designation__position", "designation__code")
    )
    chosen = _latest_version_per_designation(snapshots)
    return [
        designation_score(snapshot.designation, snapshot, {})
        for snapshot in snapshots
        if chosen[snapshot.designation_id] is snapshot
    ]


def score_summary_panel(membership: Membership) -> dict[str, Any]:
    """The organization home's score panel (registered in `ScoringConfig.ready`)."""
    return {"scores": score_summary(organization=membership.organization)}


def _parse_as_of(request: HttpRequest, dates: list[date]) -> date | None:
    """The requested date's scores: the latest on or before it; the latest for a bad value."""
    raw = request.GET.get("as_of", "").strip()
    if not raw or not dates:
        return dates[0] if dates else None
    try:
        if not ISO_DATE_RE.fullmatch(raw):
            raise ValueError(raw)
        wanted = date.fromisoformat(raw)
    except ValueError:
        messages.error(
            request,
            _("“%(value)s” is not a date (YYYY-MM-DD); showing the latest scores.")
            % {"value": raw[:40]},
        )
        return dates[0]
    earlier = [day for day in dates if day <= wanted]
    if not earlier:
        messages.warning(
            request,
            _("There are no scores as of %(date)s or before; showing the latest scores.")
            % {"date": wanted.isoformat()},
        )
        return dates[0]
    if earlier[0] != wanted:
        messages.info(
            request,
            _("No scores were computed on %(date)s; showing the latest before it, %(shown)s.")
            % {"date": wanted.isoformat(), "shown": earlier[0].isoformat()},
        )
    return earlier[0]


@org_member_required
def scores(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Every designation's total, qualification and per-metric points and gaps on one date."""
    organization = membership.organization
    dates = snapshot_dates(organization=organization)
    as_of = _parse_as_of(request, dates)
    designations = list(Designation.objects.order_by("position", "code"))
    cards: list[DesignationScore] = []
    if as_of is not None:
        by_designation = _latest_version_per_designation(
            list(snapshot_list(organization=organization, as_of=as_of))
        )
        requirements = certification_requirements(
            rule_set_ids={snapshot.rule_set_id for snapshot in by_designation.values()}
        )
        cards = [
            designation_score(designation, by_designation.get(designation.pk), requirements)
            for designation in designations
        ]
    qualified_count = sum(1 for card in cards if card.qualified)
    context = {
        "organization": organization,
        "membership": membership,
        "as_of": as_of,
        "current_month": current_month(as_of) if as_of else None,
        "dates": dates,
        "cards": cards,
        "qualified_count": qualified_count,
        "designation_count": len(designations),
        "microsoft_cloud": bool(designations) and qualified_count == len(designations),
        "today": timezone.localdate(),
    }
    return render(request, "scoring/scores.html", context)


@org_member_required
@org_admin_required
@require_POST
def scores_recompute_now(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Admins: recompute this organization's scores as of today, then show them."""
    organization = membership.organization
    today = timezone.localdate()
    scores_recompute(organization_ids=[organization.pk], as_of=today)
    messages.success(request, _("Scores recomputed as of %(date)s.") % {"date": today.isoformat()})
    return redirect("org_scores", slug=organization.slug)
