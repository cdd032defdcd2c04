"""Writes and checks of versioned rule sets: copy as a new version, validate, lock, status.

A rules change never rewrites history: a rule set that scores have been computed with is locked,
and staff change the rules by copying it as a new version with a later effective date. A rule
set in force must stay valid, so a save that would leave it invalid is refused; a future draft
may be saved invalid, with a warning. The admin asks these functions and only shows the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models, transaction
from django.db.models import Case, Exists, Max, OuterRef, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.audit import audit_as
from portal.exceptions import ApplicationError
from portal.models import User
from scoring import engine
from scoring.models import (
    AssociationType,
    CertificationGroup,
    Designation,
    MetricRule,
    MetricSource,
    RuleSet,
    ScoreSnapshot,
)
from scoring.selectors import rule_set_superseded_on, rule_set_to_engine


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("draft")
    IN_FORCE = "in_force", gettext_lazy("in force")
    SUPERSEDED = "superseded", gettext_lazy("superseded")


def _rule_set_with_rules(rule_set: RuleSet) -> RuleSet:
    """The rule set as stored, with its metrics, sources and groups in one round of queries."""
    return (
        RuleSet.objects.select_related("designation")
        .prefetch_related(
            models.Prefetch(
                "metrics",
                queryset=MetricRule.objects.order_by("id").prefetch_related(
                    models.Prefetch(
                        "sources",
                        queryset=MetricSource.objects.order_by("id").prefetch_related("workloads"),
                    ),
                    models.Prefetch(
                        "certification_groups",
                        queryset=CertificationGroup.objects.order_by("id").prefetch_related(
                            "certifications"
                        ),
                    ),
                ),
            )
        )
        .get(pk=rule_set.pk)
    )


def rule_set_has_snapshots() -> Exists:
    """For a rule-set queryset: whether any score was computed with the rule set (locked)."""
    # Snapshots of every organization lock a rule set: a deliberate cross-tenant read.
    return Exists(ScoreSnapshot.objects.unscoped().filter(rule_set=OuterRef("pk")))


def rule_set_is_locked(*, rule_set: RuleSet) -> bool:
    """A rule set is locked (read-only, with its metrics) once any score was computed with it."""
    # Snapshots of every organization count: a deliberate cross-tenant read.
    return ScoreSnapshot.objects.unscoped().filter(rule_set=rule_set).exists()


def rule_set_unlocked_list() -> QuerySet[RuleSet]:
    """The rule sets metrics may be added to: those no score was computed with."""
    return RuleSet.objects.alias(has_snapshots=rule_set_has_snapshots()).filter(has_snapshots=False)


def metric_rule_may_be_deleted_alone(*, metric: MetricRule, on: date | None = None) -> bool:
    """A metric of a rule set that has taken effect is removed only on the rule set's own page,
    which validates the result; a draft's metric may go on its own."""
    return metric.rule_set.effective_from > (on or timezone.localdate())


def rule_set_with_status(queryset: QuerySet[RuleSet], *, on: date) -> QuerySet[RuleSet]:
    """Annotate `status` (a RuleSetStatus value) on the day and `has_snapshots` (locked)."""
    return queryset.annotate(
        status=Case(
            When(effective_from__gt=on, then=Value(RuleSetStatus.DRAFT.value)),
            When(rule_set_superseded_on(day=on), then=Value(RuleSetStatus.SUPERSEDED.value)),
            default=Value(RuleSetStatus.IN_FORCE.value),
            output_field=models.CharField(),
        ),
        has_snapshots=rule_set_has_snapshots(),
    )


def rule_set_status(*, rule_set: RuleSet, on: date | None = None) -> RuleSetStatus:
    """Draft before its effective date; then in force until a later version takes effect."""
    day = on or timezone.localdate()
    annotated = rule_set_with_status(RuleSet.objects.filter(pk=rule_set.pk), on=day)
    return RuleSetStatus(annotated.values_list("status", flat=True).get())  # type: ignore[misc]  # annotated by rule_set_with_status


def rule_set_latest_effective_from(*, designation_id: int) -> date | None:
    """The effective date of the designation's latest version."""
    return RuleSet.objects.filter(designation_id=designation_id).aggregate(
        effective_from=Max("effective_from")
    )["effective_from"]


def rule_set_proposed_effective_from(*, designation_id: int, today: date | None = None) -> date:
    """A new version's suggested start: the day after the latest version's, and no earlier than
    tomorrow, so that the copy starts as a draft staff can edit before it comes into force."""
    tomorrow = (today or timezone.localdate()) + timedelta(days=1)
    latest = rule_set_latest_effective_from(designation_id=designation_id)
    return tomorrow if latest is None else max(latest + timedelta(days=1), tomorrow)


@transaction.atomic
def rule_set_new_version(
    *, rule_set: RuleSet, effective_from: date, actor: User | None = None
) -> RuleSet:
    """Copy a rule set with all its rules as the designation's next version, in force from a
    date later than every existing version's."""
    # Serialise concurrent copies for one designation so two cannot take the same version.
    Designation.objects.select_for_update().get(pk=rule_set.designation_id)
    latest = RuleSet.objects.filter(designation_id=rule_set.designation_id).aggregate(
        version=Max("version"), effective_from=Max("effective_from")
    )
    if effective_from <= latest["effective_from"]:
        raise ApplicationError(
            _(
                "The new version must take effect after %(latest)s, the effective date of the "
                "designation's latest version; got %(date)s."
            )
            % {"latest": latest["effective_from"].isoformat(), "date": effective_from.isoformat()},
            extra={"field": "effective_from"},
        )

    source = _rule_set_with_rules(rule_set)
    reason = f"copied from v{source.version}"
    copy = RuleSet(
        designation_id=source.designation_id,
        version=latest["version"] + 1,
        effective_from=effective_from,
        qualifying_total=source.qualifying_total,
        min_metric_points=source.min_metric_points,
        notes=source.notes,
    )
    audit_as(copy, actor=actor, reason=reason)
    copy.save()
    for metric in source.metrics.all():
        metric_copy = MetricRule(
            rule_set=copy,
            code=metric.code,
            max_points=metric.max_points,
            target=metric.target,
            scaling=metric.scaling,
            unit_label=metric.unit_label,
        )
        audit_as(metric_copy, actor=actor, reason=reason)
        metric_copy.save()
        for metric_source in metric.sources.all():
            source_copy = MetricSource(
                metric=metric_copy,
                platform=metric_source.platform,
                attributions=list(metric_source.attributions),
                measure=metric_source.measure,
                seat_threshold=metric_source.seat_threshold,
                usage_threshold=metric_source.usage_threshold,
                target=metric_source.target,
                production_only=metric_source.production_only,
                label=metric_source.label,
                unit=metric_source.unit,
            )
            audit_as(source_copy, actor=actor, reason=reason)
            source_copy.save()
            source_copy.workloads.set(metric_source.workloads.all())
        for group in metric.certification_groups.all():
            group_copy = CertificationGroup(metric=metric_copy, mode=group.mode)
            audit_as(group_copy, actor=actor, reason=reason)
            group_copy.save()
            group_copy.certifications.set(group.certifications.all())
    return copy


def _stored_problems(rule_set: RuleSet) -> list[str]:
    """What the engine cannot see: attributions, empty certification groups, mixed metrics."""
    problems: list[str] = []
    known_attributions = set(AssociationType.values)
    for metric in rule_set.metrics.all():
        groups = list(metric.certification_groups.all())
        sources = list(metric.sources.all())
        for group in groups:
            if not group.certifications.all():
                problems.append(
                    _("metric %(metric)r: a certification group (%(mode)s) has no certifications")
                    % {"metric": metric.code, "mode": group.get_mode_display()}
                )
        if groups and sources:
            # With groups the metric counts people; its data sources would be silently ignored.
            problems.append(
                _("metric %(metric)r: has both certification groups and data sources; use one")
                % {"metric": metric.code}
            )
        for source in sources:
            attributions = source.attributions
            if (
                not isinstance(attributions, list)
                or not attributions
                or not set(attributions) <= known_attributions
            ):
                problems.append(
                    _(
                        "metric %(metric)r source %(platform)r: attributions must be a non-empty "
                        "list of %(known)s, got %(value)s"
                    )
                    % {
                        "metric": metric.code,
                        "platform": source.platform,
                        "known": sorted(known_attributions),
                        "value": attributions,
                    }
                )
    return problems


def rule_set_validate(*, rule_set: RuleSet) -> None:
    """A stored rule set can score only when its points sum to the maximum, every target is
    positive and every metric has a source; raise ApplicationError listing every problem."""
    stored = _rule_set_with_rules(rule_set)
    problems = _stored_problems(stored)
    try:
        engine.validate_rule_set(rule_set_to_engine(rule_set=stored))
    except ValueError as error:  # engine.RuleSetError, or a number the engine refuses
        text = str(error)
        # The engine names the rule set itself; the message below already does.
        prefix = f"rule set {stored.designation.code!r} v{stored.version}: "
        if text.startswith(prefix):
            problems.extend(text.removeprefix(prefix).split("; "))
        else:
            problems.append(text)
    if problems:
        raise ApplicationError(
            _("Rule set %(rule_set)s is not valid: %(problems)s.")
            % {"rule_set": str(stored), "problems": "; ".join(problems)},
            extra={"problems": problems},
        )


@dataclass(frozen=True)
class RuleSetSaveCheck:
    """Whether a saved rule set may stay as it is, and what to tell the person who saved it."""

    accepted: bool
    problems: tuple[str, ...] = ()
    message: str = ""


def rule_set_check_save(*, rule_set: RuleSet, on: date | None = None) -> RuleSetSaveCheck:
    """A rule set in force (effective on or before the day) must be valid: an invalid one is
    refused; an invalid future draft is accepted with a warning naming the problems."""
    try:
        rule_set_validate(rule_set=rule_set)
    except ApplicationError as error:
        problems = tuple(error.extra.get("problems") or [error.message])
        listed = "; ".join(problems)
        if rule_set.effective_from <= (on or timezone.localdate()):
            message = _(
                "Not saved: %(rule_set)s is in force and scores cannot be computed with "
                "invalid rules: %(problems)s. Fix the problems, or give the rule set a "
                "future effective date to keep it as a draft."
            ) % {"rule_set": rule_set, "problems": listed}
            return RuleSetSaveCheck(accepted=False, problems=problems, message=message)
        message = _(
            "Saved as a draft, but it must be valid before it comes into force on "
            "%(date)s: %(problems)s."
        ) % {"date": rule_set.effective_from.isoformat(), "problems": listed}
        return RuleSetSaveCheck(accepted=True, problems=problems, message=message)
    return RuleSetSaveCheck(accepted=True)
