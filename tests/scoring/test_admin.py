"""Staff screens of the scoring app: every page renders, locked rules are read-only, saves that
would break a rule set in force are refused, and a rule set is copied as a new version."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from portal.models import Organization
from scoring.models import (
    Association,
    Customer,
    MetricRule,
    RecomputeRun,
    RuleSet,
    ScoreSnapshot,
    TrackFreeze,
    Usage,
)

pytestmark = pytest.mark.usefixtures("rules_2022_only")

SCORING_ADMINS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "scoring"),
    key=lambda model: model._meta.model_name,
)


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:scoring_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def security_v1(db):
    return RuleSet.objects.get(designation__code="security", version=1)


@pytest.fixture
def telemetry(org, security_v1):
    """A row in every table the scoring screens show."""
    customer = Customer.objects.create(platform="m365", customer_id="tenant-0001", name="Tailspin")
    Association.objects.create(
        organization=org, customer=customer, type="CPOR", start_month=date(2024, 1, 1)
    )
    Usage.objects.create(
        month=date(2024, 6, 1), customer=customer, measure="paid_seats", value=Decimal(30)
    )
    ScoreSnapshot.objects.create(
        organization=org,
        designation=security_v1.designation,
        rule_set=security_v1,
        as_of=date(2024, 6, 30),
        total=75.5,
        qualified=True,
        metrics=[{"code": "net_customer_adds", "points": 20}],
    )
    RecomputeRun.objects.create(run_date=date(2024, 6, 30), status=RecomputeRun.Status.DONE)
    TrackFreeze.objects.create(
        organization=org,
        designation=security_v1.designation,
        track="smb",
        starts_on=date(2024, 6, 1),
        ends_on=date(2025, 6, 1),
    )


def _snapshot(organization, rule_set: RuleSet) -> None:
    ScoreSnapshot.objects.create(
        organization=organization,
        designation=rule_set.designation,
        rule_set=rule_set,
        as_of=date(2024, 6, 30),
        total=10.0,
        qualified=False,
        metrics=[],
    )


def _rule_set_form(rule_set: RuleSet, metrics: dict[str, dict] | None = None, **fields) -> dict:
    """The POST of the rule set's change page as shown, with some values changed."""
    data = {
        "effective_from": rule_set.effective_from.isoformat(),
        "qualifying_total": str(rule_set.qualifying_total),
        "min_metric_points": str(rule_set.min_metric_points),
        "notes": rule_set.notes,
        "track_mode": rule_set.track_mode,
        "release": rule_set.release,
        "source_title": rule_set.source_title,
        "source_url": rule_set.source_url,
        "published_on": rule_set.published_on.isoformat() if rule_set.published_on else "",
        "_save": "Save",
    }
    data.update(fields)
    rows = list(rule_set.metrics.order_by("id"))
    data.update(
        {
            "metrics-TOTAL_FORMS": str(len(rows)),
            "metrics-INITIAL_FORMS": str(len(rows)),
            "metrics-MIN_NUM_FORMS": "0",
            "metrics-MAX_NUM_FORMS": "1000",
        }
    )
    # The rule set's other parts, none of them in the shipped 2022 rules.
    for prefix in ("tracks", "lifetimes", "rates"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    for index, metric in enumerate(rows):
        row = {
            "id": str(metric.pk),
            "rule_set": str(rule_set.pk),
            "code": metric.code,
            "max_points": str(metric.max_points),
            "target": "" if metric.target is None else str(metric.target),
            "scaling": metric.scaling,
            "unit_label": metric.unit_label,
            "track": "" if metric.track_id is None else str(metric.track_id),
        }
        row.update((metrics or {}).get(metric.code, {}))
        data.update({f"metrics-{index}-{key}": value for key, value in row.items()})
    return data


# Every screen renders ------------------------------------------------------------------------


@pytest.mark.parametrize("model", SCORING_ADMINS, ids=lambda model: model._meta.model_name)
def test_every_scoring_screen_renders_for_staff(staff_client, telemetry, model):
    model_admin = admin.site._registry[model]

    changelist = staff_client.get(_url(model, "changelist"))
    assert changelist.status_code == 200

    obj = model_admin.get_queryset(changelist.wsgi_request).first()
    assert obj is not None, "the fixture should give every screen a row"
    assert staff_client.get(_url(model, "change", obj.pk)).status_code == 200
    assert staff_client.get(_url(model, "history", obj.pk)).status_code == 200

    addable = model_admin.has_add_permission(changelist.wsgi_request)
    assert staff_client.get(_url(model, "add")).status_code == (200 if addable else 403)


@pytest.mark.parametrize("model", SCORING_ADMINS, ids=lambda model: model._meta.model_name)
def test_non_staff_are_sent_to_the_login_page(client, member, model):
    client.force_login(member)

    response = client.get(_url(model, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(_url(RuleSet, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_read_only_screens_offer_no_add_change_or_delete(staff_client, telemetry):
    for model in (Usage, ScoreSnapshot, RecomputeRun):
        obj = model.objects.all().first() if model is not ScoreSnapshot else None
        obj = obj or ScoreSnapshot.objects.unscoped().first()
        page = staff_client.get(_url(model, "change", obj.pk)).content.decode()
        assert 'name="_save"' not in page
        assert staff_client.post(_url(model, "change", obj.pk), {}).status_code == 403
        assert staff_client.get(_url(model, "add")).status_code == 403


# Query ceilings --------------------------------------------------------------------------------


def test_rule_set_changelist_queries_do_not_grow_with_rows(
    staff_client, security_v1, org, django_assert_max_num_queries
):
    url = _url(RuleSet, "changelist")
    staff_client.get(url)  # warm the session and content-type caches
    with django_assert_max_num_queries(7):
        assert staff_client.get(url).status_code == 200

    # Twelve more versions, half of them locked, and no more queries
    from scoring.rulesets import rule_set_new_version

    for year in range(2023, 2035):
        copy = rule_set_new_version(rule_set=security_v1, effective_from=date(year, 1, 1))
        if year % 2:
            _snapshot(org, copy)
    with django_assert_max_num_queries(7):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("security v") >= 13


def test_association_changelist_queries_do_not_grow_with_rows(
    staff_client, org, other_org, django_assert_max_num_queries
):
    url = _url(Association, "changelist")

    def add_associations(start: int, count: int) -> None:
        for number in range(start, start + count):
            customer = Customer.objects.create(platform="m365", customer_id=f"tenant-{number:04}")
            for organization in (org, other_org):
                Association.objects.create(
                    organization=organization,
                    customer=customer,
                    type="CPOR",
                    start_month=date(2024, 1, 1),
                )

    add_associations(0, 2)
    staff_client.get(url)
    with django_assert_max_num_queries(6):
        assert staff_client.get(url).status_code == 200

    add_associations(2, 40)
    with django_assert_max_num_queries(6):
        response = staff_client.get(url)
    assert response.status_code == 200
    # Staff see every organization's associations.
    assert Organization.objects.get(pk=other_org.pk).name in response.content.decode()


# Locked rule sets ------------------------------------------------------------------------------


def test_a_locked_rule_set_is_read_only(staff_client, security_v1, org):
    _snapshot(org, security_v1)
    url = _url(RuleSet, "change", security_v1.pk)

    page = staff_client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert "This rule set is locked" in page
    assert 'name="metrics-0-max_points"' not in page  # the metric inline is read-only too
    assert reverse("admin:scoring_ruleset_new_version", args=[security_v1.pk]) in page

    response = staff_client.post(
        url, _rule_set_form(security_v1, qualifying_total="50", notes="rewritten")
    )
    assert response.status_code == 403
    security_v1.refresh_from_db()
    assert (security_v1.qualifying_total, security_v1.notes) == (Decimal(70), security_v1.notes)
    assert security_v1.notes != "rewritten"


def test_the_metrics_of_a_locked_rule_set_are_read_only(staff_client, security_v1, org):
    _snapshot(org, security_v1)
    metric = security_v1.metrics.get(code="deployments")
    url = _url(MetricRule, "change", metric.pk)

    page = staff_client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert 'name="sources-0-seat_threshold"' not in page

    response = staff_client.post(url, {"max_points": "5", "_save": "Save"})
    assert response.status_code == 403
    assert (
        staff_client.post(_url(MetricRule, "delete", metric.pk), {"post": "yes"}).status_code == 403
    )
    metric.refresh_from_db()
    assert metric.max_points == Decimal(20)


def test_history_cannot_revert_a_locked_rule_set(staff_client, security_v1, org):
    security_v1.save()  # the shipped rows have no history yet; this makes the first record
    _snapshot(org, security_v1)
    first = security_v1.history.earliest()
    url = reverse("admin:scoring_ruleset_simple_history", args=[security_v1.pk, first.pk])

    assert staff_client.get(url).status_code == 200
    assert staff_client.post(url, {"qualifying_total": "10"}).status_code == 403


def test_metrics_cannot_be_added_to_a_locked_rule_set(staff_client, security_v1, org):
    _snapshot(org, security_v1)

    response = staff_client.get(_url(MetricRule, "add"))

    choices = response.context["adminform"].form.fields["rule_set"].queryset
    assert security_v1 not in choices
    assert choices.filter(designation__code="modern-work").exists()


# Validation on save ----------------------------------------------------------------------------


def test_an_invalid_save_of_a_rule_set_in_force_is_refused(staff_client, security_v1):
    # Given the shipped rules, in force and not yet scored
    url = _url(RuleSet, "change", security_v1.pk)

    # When staff lower one metric so the points sum to 90
    response = staff_client.post(
        url, _rule_set_form(security_v1, {"deployments": {"max_points": "10"}}, notes="edited")
    )

    # Then the form comes back with the problem and nothing is saved
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not saved" in page
    assert "max_points sum to 90, not max_total 100" in page
    assert ">\nedited</textarea>" in page  # the submitted form is shown again, not lost
    security_v1.refresh_from_db()
    assert security_v1.notes != "edited"
    assert security_v1.metrics.get(code="deployments").max_points == Decimal(20)


def test_a_valid_save_of_a_rule_set_in_force_goes_through(staff_client, security_v1):
    url = _url(RuleSet, "change", security_v1.pk)

    response = staff_client.post(
        url,
        _rule_set_form(
            security_v1,
            {"deployments": {"max_points": "10"}, "usage_growth": {"max_points": "30"}},
            notes="rebalanced",
        ),
    )

    assert response.status_code == 302
    security_v1.refresh_from_db()
    assert security_v1.notes == "rebalanced"
    assert security_v1.metrics.get(code="usage_growth").max_points == Decimal(30)
    assert security_v1.history.latest().history_user.email == "staff@example.com"


def test_an_invalid_future_draft_is_saved_with_a_warning(staff_client, security_v1):
    from scoring.rulesets import rule_set_new_version

    draft = rule_set_new_version(
        rule_set=security_v1, effective_from=timezone.localdate() + timedelta(days=30)
    )

    response = staff_client.post(
        _url(RuleSet, "change", draft.pk),
        _rule_set_form(draft, {"deployments": {"max_points": "10"}}),
        follow=True,
    )

    assert response.status_code == 200
    assert "Saved as a draft, but it must be valid" in response.content.decode()
    assert draft.metrics.get(code="deployments").max_points == Decimal(10)


def test_an_invalid_metric_save_in_force_is_refused(staff_client, security_v1):
    metric = security_v1.metrics.get(code="deployments")
    url = _url(MetricRule, "change", metric.pk)
    data = {
        "code": metric.code,
        "max_points": "25",
        "target": str(metric.target),
        "scaling": metric.scaling,
        "unit_label": metric.unit_label,
        "provenance": metric.provenance,
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
        "certification_groups-TOTAL_FORMS": "0",
        "certification_groups-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    # The existing sources are left out of the POST: Django keeps rows it was not told about.
    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert "max_points sum to 105" in response.content.decode()
    metric.refresh_from_db()
    assert metric.max_points == Decimal(20)


# Copy as a new version -------------------------------------------------------------------------


def test_staff_copy_a_rule_set_as_a_new_version(staff_client, security_v1, org, staff):
    _snapshot(org, security_v1)
    url = reverse("admin:scoring_ruleset_new_version", args=[security_v1.pk])

    form = staff_client.get(url)
    assert form.status_code == 200
    assert 'name="effective_from"' in form.content.decode()

    response = staff_client.post(url, {"effective_from": "2030-04-01"})

    copy = RuleSet.objects.get(designation=security_v1.designation, version=2)
    assert response.status_code == 302
    assert response["Location"] == _url(RuleSet, "change", copy.pk)
    assert copy.effective_from == date(2030, 4, 1)
    assert copy.metrics.count() == security_v1.metrics.count()
    assert copy.history.earliest().history_user == staff
    # The copy is not locked: its change page can be saved.
    assert 'name="_save"' in staff_client.get(response["Location"]).content.decode()


def test_a_new_version_needs_a_later_effective_date(staff_client, security_v1):
    url = reverse("admin:scoring_ruleset_new_version", args=[security_v1.pk])

    response = staff_client.post(url, {"effective_from": "2022-03-16"})

    assert response.status_code == 200
    assert "must take effect after 2022-03-16" in response.content.decode()
    assert not RuleSet.objects.filter(designation=security_v1.designation, version=2).exists()


def test_the_copy_action_opens_the_new_version_form(staff_client, security_v1):
    response = staff_client.post(
        _url(RuleSet, "changelist"),
        {"action": "copy_as_new_version", "_selected_action": [security_v1.pk]},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:scoring_ruleset_new_version", args=[security_v1.pk]
    )


def test_the_copy_action_wants_exactly_one_rule_set(staff_client, security_v1):
    others = RuleSet.objects.exclude(pk=security_v1.pk).values_list("pk", flat=True)[:1]

    response = staff_client.post(
        _url(RuleSet, "changelist"),
        {"action": "copy_as_new_version", "_selected_action": [security_v1.pk, *others]},
        follow=True,
    )

    assert "Select exactly one rule set" in response.content.decode()
    assert RuleSet.objects.count() == 6
