"""Versioned rule sets: copy as a new version, validation, locking, and what is in force when."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from portal.exceptions import ApplicationError
from scoring.models import MetricRule, MetricSource, RuleSet, ScoreSnapshot, Workload
from scoring.rulesets import (
    RuleSetStatus,
    metric_rule_may_be_deleted_alone,
    rule_set_check_save,
    rule_set_is_locked,
    rule_set_new_version,
    rule_set_proposed_effective_from,
    rule_set_status,
    rule_set_unlocked_list,
    rule_set_validate,
)
from scoring.selectors import (
    rule_set_in_force_list,
    rule_sets_in_force,
    score_board,
    score_export_rows,
    score_summary_snapshots,
)

pytestmark = pytest.mark.usefixtures("rules_2022_only")

SHIPPED_FROM = date(2022, 3, 16)


@pytest.fixture
def security_v1(db):
    return RuleSet.objects.get(designation__code="security", version=1)


def _shape(rule_set: RuleSet) -> tuple:
    """Everything a rule set says, without database ids, to compare copies and originals."""
    rule_set.refresh_from_db()
    return (
        rule_set.designation_id,
        rule_set.qualifying_total,
        rule_set.min_metric_points,
        rule_set.notes,
        tuple(
            (
                metric.code,
                metric.max_points,
                metric.target,
                metric.scaling,
                metric.unit_label,
                tuple(
                    (
                        source.platform,
                        tuple(source.attributions),
                        source.measure,
                        tuple(sorted(w.code for w in source.workloads.all())),
                        source.seat_threshold,
                        source.usage_threshold,
                        source.target,
                        source.production_only,
                        source.label,
                        source.unit,
                    )
                    for source in metric.sources.order_by("id")
                ),
                tuple(
                    (group.mode, tuple(sorted(c.code for c in group.certifications.all())))
                    for group in metric.certification_groups.order_by("id")
                ),
            )
            for metric in rule_set.metrics.order_by("id")
        ),
    )


def _snapshot(organization, rule_set: RuleSet, as_of: date) -> ScoreSnapshot:
    return ScoreSnapshot.objects.create(
        organization=organization,
        designation=rule_set.designation,
        rule_set=rule_set,
        as_of=as_of,
        total=42.0,
        qualified=False,
        metrics=[],
    )


@pytest.mark.django_db
def test_every_shipped_rule_set_is_valid():
    for rule_set in RuleSet.objects.all():
        rule_set_validate(rule_set=rule_set)


def test_new_version_copies_everything_and_leaves_the_old_untouched(security_v1, staff):
    # Given the shipped Security rules (sources with workloads, certification groups)
    before = _shape(security_v1)
    old_ids = set(MetricRule.objects.filter(rule_set=security_v1).values_list("id", flat=True))

    # When staff copy them as a new version
    copy = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1), actor=staff)

    # Then the copy says exactly the same, as version 2 from the new date, in new rows
    assert (copy.version, copy.effective_from) == (2, date(2025, 1, 1))
    assert _shape(copy) == before
    assert _shape(security_v1) == before
    new_ids = set(copy.metrics.values_list("id", flat=True))
    assert new_ids and not new_ids & old_ids
    assert any(m.certification_groups.exists() for m in copy.metrics.all())
    assert any(s.workloads.exists() for s in MetricSource.objects.filter(metric__rule_set=copy))

    # And the audit trail says who made it and from what
    created = copy.history.get(history_type="+")
    assert created.history_user == staff
    assert created.history_change_reason == "copied from v1"
    assert MetricRule.history.filter(rule_set_id=copy.pk, history_user=staff).count() == 4


def test_editing_the_copy_does_not_touch_the_original(security_v1):
    before = _shape(security_v1)
    copy = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))

    source = MetricSource.objects.filter(metric__rule_set=copy).exclude(workloads=None).first()
    source.workloads.clear()
    source.workloads.add(Workload.objects.get(code="Intune"))
    source.seat_threshold = 999
    source.save()
    copy.metrics.filter(code="deployments").update(max_points=Decimal(10))

    assert _shape(security_v1) == before


@pytest.mark.parametrize(
    "effective_from",
    [SHIPPED_FROM, SHIPPED_FROM - timedelta(days=1), date(2024, 12, 31)],
    ids=["same-day", "earlier", "before-the-latest-version"],
)
def test_new_version_must_take_effect_after_every_existing_version(security_v1, effective_from):
    rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    count = RuleSet.objects.count()

    with pytest.raises(ApplicationError, match="must take effect after 2025-01-01"):
        rule_set_new_version(rule_set=security_v1, effective_from=effective_from)

    assert RuleSet.objects.count() == count


def test_copying_an_older_version_becomes_the_next_version(security_v1):
    rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))

    third = rule_set_new_version(rule_set=security_v1, effective_from=date(2026, 1, 1))

    assert third.version == 3


def test_validation_lists_every_problem(security_v1):
    # Given a rule set whose points no longer sum to 100 and with a non-positive source target
    security_v1.metrics.filter(code="deployments").update(max_points=Decimal(10))
    usage_growth = security_v1.metrics.get(code="usage_growth")
    MetricSource.objects.filter(metric=usage_growth, platform="azure").update(target=Decimal(0))
    group = (
        security_v1.metrics.get(code="intermediate_certifications")
        .certification_groups.order_by("id")
        .first()
    )
    group.certifications.clear()

    # When it is validated, then one error names all three problems
    with pytest.raises(ApplicationError) as raised:
        rule_set_validate(rule_set=security_v1)

    message = raised.value.message
    assert "security v1 (2022-03-16) is not valid" in message
    assert "max_points sum to 90, not max_total 100" in message
    assert "source 'azure': target must be > 0" in message
    assert "has no certifications" in message
    assert len(raised.value.extra["problems"]) == 3


def test_validation_refuses_unknown_attributions(security_v1):
    source = MetricSource.objects.filter(metric__rule_set=security_v1).first()
    source.attributions = ["CPOR", "XYZ"]
    source.save()

    with pytest.raises(ApplicationError, match="attributions must be a non-empty list"):
        rule_set_validate(rule_set=security_v1)


def test_a_rule_set_is_locked_once_a_score_was_computed_with_it(security_v1, org):
    assert not rule_set_is_locked(rule_set=security_v1)

    _snapshot(org, security_v1, date(2024, 6, 30))

    assert rule_set_is_locked(rule_set=security_v1)


def test_a_new_version_is_in_force_only_from_its_effective_date(security_v1, org):
    # Given a score computed under v1, and v2 effective from 2025-01-01
    snapshot = _snapshot(org, security_v1, date(2024, 12, 31))
    copy = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    copy.metrics.filter(code="deployments").update(max_points=Decimal(10))
    copy.metrics.filter(code="usage_growth").update(max_points=Decimal(30))

    def security_on(day: date):
        (in_force,) = [r for r in rule_sets_in_force(as_of=day) if r.designation_code == "security"]
        return in_force

    # Then v1 is in force until the day before, v2 from its effective date on
    assert security_on(date(2024, 12, 31)).model == security_v1
    assert security_on(date(2025, 1, 1)).model == copy
    assert security_on(date(2025, 1, 1)).rules.version == 2
    assert {m.code: m.max_points for m in security_on(date(2025, 1, 1)).rules.metrics}[
        "deployments"
    ] == 10
    assert {m.code: m.max_points for m in security_on(date(2024, 12, 31)).rules.metrics}[
        "deployments"
    ] == 20

    # And the earlier score keeps pointing at the rules it was computed with
    snapshot.refresh_from_db()
    assert snapshot.rule_set == security_v1
    assert rule_set_is_locked(rule_set=security_v1)
    assert not rule_set_is_locked(rule_set=copy)


@pytest.mark.parametrize(
    ("version", "effective_from", "message"),
    [
        (2, SHIPPED_FROM, "a later version must take effect after that date"),
        (2, SHIPPED_FROM - timedelta(days=30), "a later version must take effect after"),
        (1, date(2025, 6, 1), "an earlier version must take effect before that date"),
    ],
    ids=["v2-on-v1's-date", "v2-before-v1", "v1-after-v2"],
)
def test_versions_take_effect_in_version_order(security_v1, version, effective_from, message):
    second = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    edited = second if version == 2 else security_v1
    edited.effective_from = effective_from

    with pytest.raises(ValidationError) as raised:
        edited.full_clean()

    assert message in " ".join(raised.value.message_dict["effective_from"])


def test_a_version_may_move_between_its_neighbours(security_v1):
    second = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    second.effective_from = date(2024, 7, 1)
    second.full_clean()  # between v1 (2022-03-16) and nothing later: fine


# --- status, saves, locks and new versions: the rules the admin only applies ------------------


def _break(rule_set: RuleSet) -> None:
    """Points no longer sum to 100."""
    rule_set.metrics.filter(code="deployments").update(max_points=Decimal(10))


@pytest.mark.parametrize(
    ("v2_from", "day", "v1", "v2"),
    [
        (date(2025, 1, 1), date(2024, 12, 31), "in_force", "draft"),
        (date(2025, 1, 1), date(2025, 1, 1), "superseded", "in_force"),  # effective today
        (date(2025, 1, 1), date(2026, 1, 1), "superseded", "in_force"),
    ],
)
def test_status_follows_the_effective_dates(security_v1, v2_from, day, v1, v2):
    second = rule_set_new_version(rule_set=security_v1, effective_from=v2_from)

    assert rule_set_status(rule_set=security_v1, on=day) == RuleSetStatus(v1)
    assert rule_set_status(rule_set=second, on=day) == RuleSetStatus(v2)


def test_a_valid_save_is_accepted_silently(security_v1):
    assert rule_set_check_save(rule_set=security_v1, on=date(2024, 6, 30)) == (
        rule_set_check_save(rule_set=security_v1)
    )
    check = rule_set_check_save(rule_set=security_v1)
    assert (check.accepted, check.problems, check.message) == (True, (), "")


@pytest.mark.parametrize("days_before_effect", [0, 1], ids=["effective-today", "in-force"])
def test_an_invalid_rule_set_in_force_is_refused(security_v1, days_before_effect):
    second = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    _break(second)

    check = rule_set_check_save(
        rule_set=second, on=date(2025, 1, 1) + timedelta(days=days_before_effect)
    )

    assert not check.accepted
    assert check.problems == ("max_points sum to 90, not max_total 100",)
    assert check.message.startswith("Not saved: security v2 (2025-01-01) is in force")


def test_an_invalid_future_draft_is_accepted_with_a_warning(security_v1):
    second = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    _break(second)

    check = rule_set_check_save(rule_set=second, on=date(2024, 12, 31))

    assert check.accepted
    assert check.problems == ("max_points sum to 90, not max_total 100",)
    assert "before it comes into force on 2025-01-01" in check.message


@pytest.mark.parametrize(
    ("latest", "today", "proposed"),
    [
        (SHIPPED_FROM, date(2024, 6, 30), date(2024, 7, 1)),  # latest long past: tomorrow
        (date(2024, 6, 30), date(2024, 6, 30), date(2024, 7, 1)),  # latest today: tomorrow
        (date(2024, 9, 1), date(2024, 6, 30), date(2024, 9, 2)),  # a future draft: the day after
    ],
)
def test_a_new_version_is_proposed_after_the_latest_and_not_before_tomorrow(
    security_v1, latest, today, proposed
):
    if latest != SHIPPED_FROM:
        rule_set_new_version(rule_set=security_v1, effective_from=latest)

    assert (
        rule_set_proposed_effective_from(designation_id=security_v1.designation_id, today=today)
        == proposed
    )


def test_metrics_may_be_added_only_to_unlocked_rule_sets(security_v1, org):
    second = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    assert {security_v1, second} <= set(rule_set_unlocked_list())

    _snapshot(org, security_v1, date(2024, 6, 30))

    unlocked = set(rule_set_unlocked_list())
    assert second in unlocked and security_v1 not in unlocked


@pytest.mark.parametrize(
    ("day", "deletable"),
    [(date(2024, 12, 31), True), (date(2025, 1, 1), False), (date(2025, 6, 1), False)],
    ids=["draft", "effective-today", "in-force"],
)
def test_a_metric_of_a_rule_set_in_force_is_not_deleted_alone(security_v1, day, deletable):
    second = rule_set_new_version(rule_set=security_v1, effective_from=date(2025, 1, 1))
    metric = second.metrics.get(code="deployments")

    assert metric_rule_may_be_deleted_alone(metric=metric, on=day) is deletable


# --- one definition of the latest version in force ----------------------------------------


def test_every_reader_agrees_on_the_latest_version(security_v1, org, staff):
    # Given v1 (shipped), v2 in force since ten days ago and v3, a draft for next month
    today = timezone.localdate()
    second = rule_set_new_version(rule_set=security_v1, effective_from=today - timedelta(days=10))
    third = rule_set_new_version(rule_set=security_v1, effective_from=today + timedelta(days=30))
    # and yesterday scored under v1 (before v2 was entered) and again under v2
    yesterday = today - timedelta(days=1)
    old = _snapshot(org, security_v1, yesterday)
    new = _snapshot(org, second, yesterday)

    # Then the scoring run, the status, the admin, the dashboard, the home and the export all
    # take v2
    (in_force,) = [r for r in rule_sets_in_force(as_of=today) if r.designation_code == "security"]
    assert in_force.model == second
    assert set(rule_set_in_force_list(on=today).filter(designation=security_v1.designation)) == {
        second
    }
    statuses = {
        rule_set.version: rule_set_status(rule_set=rule_set)
        for rule_set in (security_v1, second, third)
    }
    assert statuses == {
        1: RuleSetStatus.SUPERSEDED,
        2: RuleSetStatus.IN_FORCE,
        3: RuleSetStatus.DRAFT,
    }
    request = RequestFactory().get("/admin/scoring/ruleset/")
    request.user = staff
    model_admin = admin.site._registry[RuleSet]
    shown = {
        rule_set.version: model_admin.status(rule_set)
        for rule_set in model_admin.get_queryset(request).filter(
            designation=security_v1.designation
        )
    }
    assert shown == {1: "superseded", 2: "in force", 3: "draft"}
    board = score_board(organization=org, as_of=yesterday)
    assert board.snapshots[security_v1.designation_id] == new
    assert [s.pk for s in score_summary_snapshots(organization=org)] == [new.pk]
    (exported,) = score_export_rows(organization_ids=[org.pk], as_of=yesterday)
    assert exported["rule_set_version"] == 2
    assert old.pk != new.pk
