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
    CertificationLifetime,
    CertificationStep,
    Designation,
    Measure,
    MetricRule,
    MetricSource,
    RateCardEntry,
    RuleSet,
    ScoreSnapshot,
    Track,
    TrackMode,
    Workload,
)
from scoring.selectors import rule_set_prefetch, rule_set_superseded_on, rule_set_to_engine


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("draft")
    IN_FORCE = "in_force", gettext_lazy("in force")
    SUPERSEDED = "superseded", gettext_lazy("superseded")


def _rule_set_with_rules(rule_set: RuleSet) -> RuleSet:
    """The rule set as stored, with every part of its rules in one round of queries."""
    return rule_set_prefetch(RuleSet.objects.all()).get(pk=rule_set.pk)


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
    # A copy is a new version of its own: the published release it followed is no longer
    # what it says once staff edit it, so the source fields start blank.
    copy = RuleSet(
        designation_id=source.designation_id,
        version=latest["version"] + 1,
        effective_from=effective_from,
        qualifying_total=source.qualifying_total,
        min_metric_points=source.min_metric_points,
        notes=source.notes,
        track_mode=source.track_mode,
    )

    def saved(instance: models.Model) -> models.Model:
        audit_as(instance, actor=actor, reason=reason)
        instance.save()
        return instance

    saved(copy)
    tracks: dict[int, Track] = {}
    for track in source.tracks.all():
        tracks[track.pk] = track_copy = Track(
            rule_set=copy,
            **_fields(track, Track, exclude=("rule_set",)),
        )
        saved(track_copy)
        track_copy.classify_workloads.set(track.classify_workloads.all())
    for metric in source.metrics.all():
        metric_copy = MetricRule(
            rule_set=copy,
            track=tracks.get(metric.track_id) if metric.track_id else None,
            **_fields(metric, MetricRule, exclude=("rule_set", "track")),
        )
        saved(metric_copy)
        for metric_source in metric.sources.all():
            source_copy = MetricSource(
                metric=metric_copy, **_fields(metric_source, MetricSource, exclude=("metric",))
            )
            source_copy.attributions = list(metric_source.attributions)
            saved(source_copy)
            source_copy.workloads.set(metric_source.workloads.all())
        steps: dict[int, CertificationStep] = {}
        for step in metric.steps.all():
            steps[step.pk] = step_copy = CertificationStep(
                metric=metric_copy, **_fields(step, CertificationStep, exclude=("metric",))
            )
            saved(step_copy)
        for group in metric.certification_groups.all():
            group_copy = CertificationGroup(
                metric=metric_copy,
                mode=group.mode,
                step=steps.get(group.step_id) if group.step_id else None,
            )
            saved(group_copy)
            group_copy.certifications.set(group.certifications.all())
    for lifetime in source.lifetimes.all():
        saved(
            CertificationLifetime(
                rule_set=copy,
                certification_id=lifetime.certification_id,
                counts_until=lifetime.counts_until,
            )
        )
    for entry in source.rates.all():
        saved(
            RateCardEntry(
                rule_set=copy, workload_id=entry.workload_id, measure=entry.measure, rate=entry.rate
            )
        )
    return copy


def _fields(instance: models.Model, model: type[models.Model], *, exclude: tuple[str, ...]) -> dict:
    """The concrete fields a copy takes over (not the key, not the parents in `exclude`)."""
    return {
        field.attname: getattr(instance, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in exclude
    }


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
    problems.extend(_published_part_problems(rule_set))
    return problems


def _published_part_problems(rule_set: RuleSet) -> list[str]:
    """The parts of the published versions the engine cannot see: steps and their groups,
    certifications that can never count, tracks and their classification rules, the
    computations' parameters and the rate card."""
    problems: list[str] = []
    used: set[str] = set()
    tracks = {track.pk: track for track in rule_set.tracks.all()}
    lifetimes = {lifetime.certification.code for lifetime in rule_set.lifetimes.all()}
    rated = {entry.workload.code for entry in rule_set.rates.all()}
    for metric in rule_set.metrics.all():
        name = metric.code if metric.track is None else f"{metric.track.code}/{metric.code}"
        if metric.track_id is not None and metric.track_id not in tracks:
            problems.append(
                _("metric %(metric)r: its track belongs to another rule set") % {"metric": name}
            )
        steps = {step.pk: step for step in metric.steps.all()}
        groups = list(metric.certification_groups.all())
        for group in groups:
            codes = [c.code for c in group.certifications.all()]
            used.update(codes)
            if steps and group.step_id not in steps:
                problems.append(
                    _("metric %(metric)r: a certification group belongs to no step of the metric")
                    % {"metric": name}
                )
            for certification in group.certifications.all():
                if not certification.active and certification.code not in lifetimes:
                    problems.append(
                        _(
                            "metric %(metric)r: %(code)s is retired in the catalog and has no "
                            "counts-until date in this rule set, so it can never count"
                        )
                        % {"metric": name, "code": certification.code}
                    )
        for step in steps.values():
            if not any(group.step_id == step.pk for group in groups):
                problems.append(
                    _("metric %(metric)r: step %(position)s names no certification")
                    % {"metric": name, "position": step.position}
                )
        for source in metric.sources.all():
            problems.extend(_source_problems(name, source, rated))
    for code in sorted(lifetimes - used):
        problems.append(
            _("a counts-until date names %(code)s, which no metric of the rule set counts")
            % {"code": code}
        )
    if rule_set.track_mode == TrackMode.CLASSIFIED:
        for track in tracks.values():
            problems.extend(_classification_problems(track))
    return problems


def _source_problems(name: str, source: MetricSource, rated: set[str]) -> list[str]:
    computation = MetricSource.Computation
    where = {"metric": name, "platform": source.platform}
    problems: list[str] = []
    if source.measure == Measure.CONSUMPTION_VALUE:
        missing = sorted(w.code for w in source.workloads.all() if w.code not in rated)
        if missing:
            problems.append(
                _(
                    "metric %(metric)r source %(platform)r: the rate card has no rate for "
                    "%(workloads)s"
                )
                % {**where, "workloads": ", ".join(missing)}
            )
    if source.computation == computation.QUALIFYING_NET:
        if not source.count_unit:
            problems.append(
                _("metric %(metric)r source %(platform)r: say what counts (tenant or workload)")
                % where
            )
        if source.usage_threshold is None and source.seat_threshold is None:
            problems.append(
                _("metric %(metric)r source %(platform)r: qualifying units need a threshold")
                % where
            )
    if source.computation == computation.DISTINCT_SERVICES and not any(
        w.kind in (Workload.Kind.AREA, Workload.Kind.SERVICE) for w in source.workloads.all()
    ):
        problems.append(
            _("metric %(metric)r source %(platform)r: distinct services need Azure workloads")
            % where
        )
    if source.computation == computation.ACTIVE_RATIO_NET and source.usage_threshold is None:
        problems.append(
            _("metric %(metric)r source %(platform)r: an active-seat ratio needs a threshold")
            % where
        )
    if source.seat_max is not None and (source.seat_threshold or 0) > source.seat_max:
        problems.append(
            _("metric %(metric)r source %(platform)r: the seat band ends below its start") % where
        )
    return problems


def _classification_problems(track: Track) -> list[str]:
    where = {"track": track.code}
    if track.classify_rule == Track.Rule.WORKLOAD_REVENUE and (
        track.classify_count is None or track.classify_threshold is None
    ):
        return [
            _("track %(track)r: a workload-revenue rule needs a number of workloads and a revenue")
            % where
        ]
    if track.classify_rule == Track.Rule.SEGMENT_SHARE and (
        not track.classify_segment or track.classify_share is None
    ):
        return [_("track %(track)r: a segment-share rule needs a segment and a share") % where]
    return []


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
