"""Scores as the visitor reads them: engine and selector results turned into display text.

No database access here: the selectors hand over loaded snapshots, designations and plain rows
(the certification groups), and these functions only format them. Gaps are rendered from each
metric's `gap_parts` with translatable templates, so they read in the visitor's language; the
labels are rule-set data, translated when shipped (`scoring.labels`) and shown in English
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from scoring.labels import GAP_LABEL_CONTEXT
from scoring.models import (
    Category,
    CertificationGroup,
    Designation,
    MetricCode,
    RuleSet,
    ScoreSnapshot,
)
from scoring.selectors import CertificationGroupRows, ScoreBoard, current_codes

TENTH = Decimal("0.1")


# --- numbers and gaps ------------------------------------------------------------------------


def points_text(value: float, *, threshold: Decimal | None = None) -> str:
    """One decimal, half up — but never up to a threshold the value misses (69.96 reads 69.9)."""
    exact = Decimal(str(value))
    shown = exact.quantize(TENTH, rounding=ROUND_HALF_UP)
    if threshold is not None and exact < threshold <= shown:
        shown = exact.quantize(TENTH, rounding=ROUND_FLOOR)
    return f"{shown:.1f}"


def total_text(value: float, *, qualifying_total: Decimal) -> str:
    """A designation's total: below the qualifying line it is rounded down to a tenth, so that
    it and the points still missing (rounded up) add up to the line exactly as shown (66.25 reads
    66.2 with 3.8 more, not 66.3 with 3.8 = 70.1); at or above the line, half up."""
    exact = Decimal(str(value))
    if exact < qualifying_total:
        return f"{exact.quantize(TENTH, rounding=ROUND_FLOOR):.1f}"
    return points_text(value)


def points_missing_text(value: float) -> str:
    """Points still missing, rounded up to a tenth (a gap must never look smaller); '' for none."""
    if value <= 0:
        return ""
    return f"{Decimal(str(value)).quantize(TENTH, rounding=ROUND_CEILING):.1f}"


def max_points_text(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def amount_text(amount: float, unit: str) -> str:
    """Rounded up to a whole number (a gap must never look smaller), thousands separators."""
    # Stored amounts are floats of exact fractions: drop float noise before rounding up.
    whole = math.ceil(round(float(amount), 6))
    return f"${whole:,}" if unit == "usd" else f"{whole:,}"


def _gap_label(label: str) -> str:
    """A gap part's label in the reader's language: its "gap label" translation when it has one
    (the engine's "people"), else its plain one (program labels, staff's own in English)."""
    if not label:
        return ""
    in_context = pgettext(GAP_LABEL_CONTEXT, label)
    return in_context if in_context != label else _(label)


def gap_part_text(part: Mapping[str, Any]) -> str:
    """One way of closing a gap, localized: "4 more deployments", "+$8,300 ACR growth", "25,000
    more consumption value growth baseline", "2 more people holding AZ-104"."""
    label = _gap_label(part.get("label", ""))
    amount = amount_text(part["amount"], part.get("unit", "count"))
    if part.get("unit", "count") == "count" and amount == "1" and part.get("label_one"):
        label = _gap_label(part["label_one"])
    if part.get("baseline"):
        label = _("%(label)s baseline") % {"label": label}
    if part.get("unit", "count") == "count":
        text = _("%(amount)s more %(label)s") % {"amount": amount, "label": label}
    elif part.get("unit") == "percent":
        text = _("+%(amount)s %% %(label)s") % {"amount": amount, "label": label}
    else:
        text = _("+%(amount)s %(label)s") % {"amount": amount, "label": label}
    certifications = requirement_text(part.get("certifications") or ())
    if certifications:
        text = _("%(gap)s holding %(certifications)s") % {
            "gap": text,
            "certifications": certifications,
        }
    return text


def gap_text(metric: Mapping[str, Any], requirement: str = "") -> str:
    """What is missing for full points, localized; '' when the metric has full points."""
    parts = metric.get("gap_parts")
    if parts is None:  # a snapshot written before gap parts existed: its English text
        return str(metric.get("gap", ""))
    if not parts:
        return ""
    if metric.get("unlocks"):
        # Gated skilling: every missing gate is needed ("2 more people holding AZ-104 …").
        text = gap_part_text(parts[0])
        for part in parts[1:]:
            text = _("%(first)s and %(second)s") % {"first": text, "second": gap_part_text(part)}
        return _("%(gap)s unlock this metric") % {"gap": text}
    if metric.get("stepped"):
        requirement = ""  # each step's part names its own certifications
    text = gap_part_text(parts[0])
    for part in parts[1:]:
        text = _("%(first)s or %(second)s") % {"first": text, "second": gap_part_text(part)}
    if requirement:
        text = _("%(gap)s holding %(certifications)s") % {
            "gap": text,
            "certifications": requirement,
        }
    return text


def requirement_text(groups: Iterable[tuple[str, Iterable[str]]]) -> str:
    """Certification groups as "MS-500 + AZ-500 + one of SC-200/SC-300/SC-400", localized.

    A certification past its counts-until date is left out (`selectors.current_codes`).
    """
    texts = []
    for mode, unordered in groups:
        # As the engine orders them, whatever the DB collation.
        codes = current_codes(unordered)
        if not codes:
            continue
        if mode == CertificationGroup.Mode.ANY and len(codes) > 1:
            texts.append(_("one of %(certifications)s") % {"certifications": "/".join(codes)})
        else:
            texts.append(" + ".join(codes))
    return " + ".join(texts)


def requirement_texts(groups: CertificationGroupRows) -> dict[tuple[int, str], str]:
    """(rule set, metric code) → the metric's certification requirement text."""
    return {key: requirement_text(metric_groups) for key, metric_groups in groups.items()}


def percent_text(part: float, whole: float) -> str:
    """A share of a bar, clamped to 0–100, as a CSS width."""
    if whole <= 0:
        return "0"
    return f"{max(0.0, min(100.0, 100 * part / whole)):.2f}"


def category_label(code: str) -> str:
    return str(Category(code).label) if code in Category.values else code


def metric_label(code: str) -> str:
    return str(MetricCode(code).label) if code in MetricCode.values else code


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
    rule_version: str = ""  # "Rules as published on 2023-06-13"
    track: str = ""  # the counting track's name
    other_tracks: tuple[str, ...] = ()  # "SMB: 62.5 points"

    @property
    def qualified(self) -> bool:
        return bool(self.snapshot and self.snapshot.qualified)


def rule_version_text(rule_set: RuleSet) -> str:
    """Which rules scored: the published page's date, else the version."""
    if rule_set.published_on:
        return _("Rules as published on %(date)s") % {"date": rule_set.published_on.isoformat()}
    return _("Rules version %(version)s") % {"version": rule_set.version_label}


def metric_row(
    metric: Mapping[str, Any], *, min_metric_points: Decimal, requirement: str
) -> MetricRow:
    """One metric of a stored breakdown."""
    return MetricRow(
        code=metric["code"],
        category=category_label(metric.get("category", "")),
        name=metric_label(metric["code"]),
        points=points_text(metric["points"], threshold=min_metric_points),
        max_points=max_points_text(metric["max_points"]),
        percent=percent_text(metric["points"], metric["max_points"]),
        meets_minimum=bool(metric.get("meets_minimum")),
        gap=gap_text(metric, requirement),
    )


def designation_score(
    designation: Designation,
    snapshot: ScoreSnapshot | None,
    requirements: Mapping[tuple[int, str], str],
) -> DesignationScore:
    """A designation's card: its snapshot's total, qualification and metrics as text."""
    if snapshot is None:
        return DesignationScore(designation=designation, snapshot=None)
    rule_set = snapshot.rule_set
    rows = tuple(
        metric_row(
            metric,
            min_metric_points=rule_set.min_metric_points,
            # The counting track's own groups, else the metric's shared by every track.
            requirement=requirements.get(
                (rule_set.pk, f"{snapshot.track}/{metric['code']}"),
                requirements.get((rule_set.pk, metric["code"]), ""),
            ),
        )
        for metric in snapshot.metrics
    )
    max_total = sum(float(m["max_points"]) for m in snapshot.metrics) or 100.0
    return DesignationScore(
        designation=designation,
        snapshot=snapshot,
        total=total_text(snapshot.total, qualifying_total=rule_set.qualifying_total),
        max_total=max_points_text(max_total),
        percent=percent_text(snapshot.total, max_total),
        qualifying_total=max_points_text(float(rule_set.qualifying_total)),
        qualifying_percent=percent_text(float(rule_set.qualifying_total), max_total),
        points_to_qualify=points_missing_text(float(rule_set.qualifying_total) - snapshot.total),
        metrics=rows,
        rule_version=rule_version_text(rule_set),
        track=next(
            (_(t["label"]) for t in snapshot.tracks or () if t["code"] == snapshot.track), ""
        ),
        other_tracks=tuple(
            _("%(track)s: %(points)s points")
            % {"track": _(t["label"]), "points": points_text(t["total"])}
            for t in snapshot.tracks or ()
            if t["code"] != snapshot.track
        ),
    )


def score_cards(board: ScoreBoard) -> list[DesignationScore]:
    """Every designation's card on the board's date, by position; empty without scores."""
    if board.as_of is None:
        return []
    requirements = requirement_texts(board.certification_groups)
    return [
        designation_score(designation, board.snapshots.get(designation.pk), requirements)
        for designation in board.designations
    ]


def score_summary(snapshots: Sequence[ScoreSnapshot]) -> list[DesignationScore]:
    """The organization home's rows: a total and a badge per scored designation."""
    return [designation_score(snapshot.designation, snapshot, {}) for snapshot in snapshots]
