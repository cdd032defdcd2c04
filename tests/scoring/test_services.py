"""Recompute, snapshots, export and the nightly run ledger, on the real database."""

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.models import Certification, HeldCertification
from portal.selectors import person_list
from scoring import services
from scoring.imports import import_csv
from scoring.measures import _certified_individuals
from scoring.models import Association, RecomputeRun, ScoreSnapshot
from scoring.selectors import CertificationRequirement
from scoring.tasks import scores_recompute_nightly_task
from tests.factories import HeldCertificationFactory, OrganizationFactory, PersonFactory
from tests.scoring.telemetry import associate, customer, monthly, usage
from tests.scoring.test_imports import AssociationFactory

AS_OF = date(2024, 6, 30)

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_2022_only")]


def security_partner(org, *, adds=10, people=6, mpu_growth=2500, deployments=6):
    """Given an organization, build telemetry that earns known Security measures."""
    for _ in range(adds):
        tenant = customer("m365")
        associate(org, tenant, "CPOR")
        usage(tenant, "paid_seats", monthly("2024-01", "2024-06", 40))
    if mpu_growth:
        tenant = customer("m365")
        associate(org, tenant, "CPOR")
        usage(tenant, "paid_seats", monthly("2022-01", "2024-06", 20))  # steady, under 25
        usage(tenant, "protected_users", {"2023-06": 0, "2024-06": mpu_growth}, workload="MDE")
    codes = ["MS-500", "AZ-500", "SC-200"]
    for _ in range(people):
        person = PersonFactory(organization=org)
        for code in codes:
            HeldCertificationFactory(
                person=person, certification=Certification.objects.get(code=code)
            )
    for _ in range(deployments):
        tpid = customer("azure")
        associate(org, tpid, "PAL")
        usage(tpid, "acr_usd", {"2024-03": 12500}, workload="security")


def snapshot(org, code="security"):
    return ScoreSnapshot.objects.for_org(org).get(designation__code=code, as_of=AS_OF)


def points(snap):
    return {m["code"]: m["points"] for m in snap.metrics}


def test_full_security_partner_qualifies_with_100(org):
    security_partner(org)
    written = services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    assert written == 6
    snap = snapshot(org)
    assert points(snap) == {
        "net_customer_adds": 20,
        "intermediate_certifications": 40,
        "usage_growth": 20,
        "deployments": 20,
    }
    assert snap.total == 100
    assert snap.qualified is True
    assert snap.rule_set.version == 1


def test_at_least_70_with_one_metric_at_zero_does_not_qualify(org):
    security_partner(org, deployments=0)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    snap = snapshot(org)
    assert snap.total == 80
    assert snap.qualified is False
    deployments = next(m for m in snap.metrics if m["code"] == "deployments")
    assert deployments["gap"] == "6 more deployments"
    assert deployments["meets_minimum"] is False


@pytest.mark.parametrize(
    ("deployments", "expected"),
    [(1, 20 / 6), (3, 10), (5, 100 / 6), (6, 20), (7, 20)],
)
def test_deployments_earn_20_sixths_each_up_to_20(org, deployments, expected):
    security_partner(org, adds=0, people=0, mpu_growth=0, deployments=deployments)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    assert points(snapshot(org))["deployments"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("mpu_growth", "total", "qualified"),
    [(1750, 70, True), (1749, 69.992, False)],
)
def test_qualification_threshold_at_70(org, mpu_growth, total, qualified):
    # 6 Azure deployments are also 6 Azure adds: with 2 M365 adds, 8 adds = 16 points;
    # 3 people = 20; 6 deployments = 20; +1,750 MPU = 14 → exactly 70.
    security_partner(org, adds=2, people=3, mpu_growth=mpu_growth, deployments=6)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    snap = snapshot(org)
    assert snap.total == pytest.approx(total)
    assert snap.qualified is qualified


def test_recompute_is_idempotent(org, other_org):
    security_partner(org)
    services.scores_recompute(organization_ids=[org.pk, other_org.pk], as_of=AS_OF)
    first = {
        (s.organization_id, s.designation_id): (s.total, s.qualified, s.metrics)
        for s in ScoreSnapshot.objects.unscoped()
    }
    services.scores_recompute(organization_ids=[org.pk, other_org.pk], as_of=AS_OF)
    second = {
        (s.organization_id, s.designation_id): (s.total, s.qualified, s.metrics)
        for s in ScoreSnapshot.objects.unscoped()
    }
    assert first == second
    assert ScoreSnapshot.objects.unscoped().count() == 12


def test_history_is_kept_per_as_of_date(org):
    security_partner(org)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    services.scores_recompute(organization_ids=[org.pk], as_of=date(2025, 6, 30))
    assert ScoreSnapshot.objects.for_org(org).filter(designation__code="security").count() == 2
    later = ScoreSnapshot.objects.for_org(org).get(designation__code="security", as_of="2025-06-30")
    assert later.total < 100  # the adds and the crossing left the trailing window


def test_recompute_of_a_chunk_uses_a_bounded_number_of_queries(org, django_assert_max_num_queries):
    others = [OrganizationFactory() for _ in range(9)]
    for each in [org, *others]:
        security_partner(each, adds=2, people=1, deployments=1)
    ids = [org.pk, *(o.pk for o in others)]
    # rule sets (prefetched) + one statement per distinct source + certifications + upsert
    with django_assert_max_num_queries(40):
        services.scores_recompute(organization_ids=ids, as_of=AS_OF)
    assert ScoreSnapshot.objects.unscoped().count() == 60


def test_export_json_contract(org):
    security_partner(org)
    call_command("recompute_scores", "--as-of", "2024-06-30", stdout=StringIO())
    out = StringIO()
    call_command("export_scores", "--as-of", "2024-06-30", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert [r["designation"] for r in rows] == [
        "business-applications",
        "modern-work",
        "security",
        "infrastructure-azure",
        "data-ai-azure",
        "digital-app-innovation-azure",
    ]
    security = rows[2]
    assert security["partner_id"] == org.partner_id
    assert security["as_of"] == "2024-06-30"
    assert security["total"] == 100 and security["qualified"] is True
    assert {m["code"] for m in security["metrics"]} == {
        "net_customer_adds",
        "intermediate_certifications",
        "usage_growth",
        "deployments",
    }
    assert set(security["metrics"][0]) == {"code", "points", "max_points", "value", "target", "gap"}
    infra = rows[3]
    assert len(infra["metrics"]) == 5 and infra["qualified"] is False


def test_export_csv_one_row_per_metric(org):
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    out = StringIO()
    call_command(
        "export_scores",
        "--as-of",
        "2024-06-30",
        "--org",
        org.partner_id,
        "--format",
        "csv",
        stdout=out,
    )
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("partner_id,designation,as_of,total,qualified,metric")
    assert len(lines) == 1 + 29  # 29 metrics across the six designations


def test_commands_reject_an_unknown_partner_and_a_bad_date(org):
    with pytest.raises(CommandError, match="Partner ID"):
        call_command("recompute_scores", "--org", "999999")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_scores", "--as-of", "2024-13-01")


# --- recompute after commit ------------------------------------------------------------


@pytest.fixture
def fresh_batch():
    """The fixtures' own audited inserts opened a recompute batch in the test transaction."""
    from django.db import connection

    if hasattr(connection, services._PENDING_ATTRIBUTE):
        delattr(connection, services._PENDING_ATTRIBUTE)


def test_edits_in_one_transaction_queue_one_recompute(
    org, other_org, fresh_batch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.scores_recompute_on_commit(organization_ids=[org.pk])
        services.scores_recompute_on_commit(organization_ids=[org.pk, other_org.pk])
    assert len(callbacks) == 1
    assert ScoreSnapshot.objects.unscoped().count() == 12  # ran eagerly on commit


def test_an_audited_edit_queues_its_organizations_recompute(
    org, fresh_batch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        person = PersonFactory(organization=org)
        HeldCertificationFactory(person=person)
    assert len(callbacks) == 1
    assert ScoreSnapshot.objects.for_org(org).count() == 6


# --- every door queues one recompute per transaction, for the organizations it touched ------


@pytest.fixture
def queued():
    """The recompute tasks queued on commit, as (organization ids, ISO date) calls."""
    from scoring.tasks import scores_recompute_task

    with mock.patch.object(scores_recompute_task, "delay") as delay:
        yield delay


@pytest.fixture
def one_commit(django_capture_on_commit_callbacks):
    """Run the block as its own transaction and commit it; yields its on-commit callbacks.

    The test's own setup (audited inserts) opened a recompute batch in the test transaction
    already; the block must start its own, as a fresh request's transaction would.
    """
    from django.db import connection

    @contextmanager
    def commit():
        if hasattr(connection, services._PENDING_ATTRIBUTE):
            delattr(connection, services._PENDING_ATTRIBUTE)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return commit


def queued_once(delay) -> list[int]:
    delay.assert_called_once()
    ids, day = delay.call_args.args
    assert day == timezone.localdate().isoformat()
    return ids


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def _association_form(association, **changes) -> dict:
    data = {
        "customer": association.customer_id,
        "organization": association.organization_id,
        "type": association.type,
        "workload": association.workload,
        "start_month": association.start_month.isoformat(),
        "end_month": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_admin_edit_moving_an_association_queues_both_organizations(
    staff_client, org, other_org, queued, one_commit
):
    association = AssociationFactory(organization=org)
    url = reverse("admin:scoring_association_change", args=[association.pk])

    with one_commit() as callbacks:
        response = staff_client.post(url, _association_form(association, organization=other_org.pk))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(callbacks) == 1
    assert queued_once(queued) == sorted([org.pk, other_org.pk])


def test_admin_bulk_delete_queues_each_organization_once(
    staff_client, org, other_org, queued, one_commit
):
    rows = [AssociationFactory(organization=org) for _ in range(3)]
    rows.append(AssociationFactory(organization=other_org))
    bystander = AssociationFactory(organization=OrganizationFactory())
    url = reverse("admin:scoring_association_changelist")

    with one_commit() as callbacks:
        response = staff_client.post(
            url,
            {
                "action": "delete_selected",
                "_selected_action": [row.pk for row in rows],
                "post": "yes",
            },
        )

    assert response.status_code == 302
    assert set(Association.objects.unscoped().values_list("pk", flat=True)) == {bystander.pk}
    assert len(callbacks) == 1
    assert queued_once(queued) == sorted([org.pk, other_org.pk])


def test_portal_admin_moving_a_person_queues_both_organizations(
    staff_client, org, other_org, queued, one_commit
):
    person = PersonFactory(organization=org)
    url = reverse("admin:portal_person_change", args=[person.pk])
    data = {
        "person_id": person.person_id,
        "name": person.name,
        "email": person.email,
        "active": "on",
        "organization": other_org.pk,
        "certifications-TOTAL_FORMS": "0",
        "certifications-INITIAL_FORMS": "0",
        "certifications-MIN_NUM_FORMS": "0",
        "certifications-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }

    with one_commit() as callbacks:
        response = staff_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(callbacks) == 1
    assert queued_once(queued) == sorted([org.pk, other_org.pk])


def test_service_edits_in_one_transaction_queue_one_recompute(org, other_org, queued, one_commit):
    person = PersonFactory(organization=org)
    with one_commit() as callbacks, transaction.atomic():
        held = HeldCertificationFactory(person=person)
        held.expires_on = date(2030, 1, 1)
        held.save()
        PersonFactory(organization=other_org).delete()
        org.country = "DE"
        org.save()

    assert len(callbacks) == 1
    assert queued_once(queued) == sorted([org.pk, other_org.pk])


def test_an_import_queues_one_recompute_of_its_organizations(org, other_org, queued, one_commit):
    people = "partner_id,person_id,name\n1000001,P-1,Aiko\n1000001,P-2,Ben\n2000002,P-1,Chen\n"

    with one_commit() as callbacks:
        result = import_csv("people", StringIO(people))

    assert result.created == 3, result.errors
    assert len(callbacks) == 1
    assert queued_once(queued) == sorted([org.pk, other_org.pk])


def test_changes_outside_a_partners_rows_queue_nothing(security_v1_rules, queued, one_commit):
    with one_commit() as callbacks:
        security_v1_rules.notes = "reviewed"
        security_v1_rules.save()

    assert callbacks == []
    queued.assert_not_called()


@pytest.fixture
def security_v1_rules(db):
    from scoring.models import RuleSet

    return RuleSet.objects.get(designation__code="security", version=1)


# --- a certification is active on a day: one rule for the people page and the scores ------

DAY = date(2024, 6, 30)


@pytest.mark.parametrize(
    ("earned_on", "expires_on", "active"),
    [
        (DAY, None, True),  # earned today
        (DAY + timedelta(days=1), None, False),  # earned tomorrow
        (date(2023, 1, 1), DAY, False),  # expires today: no longer counts
        (date(2023, 1, 1), DAY - timedelta(days=1), False),  # expired yesterday
        (date(2023, 1, 1), DAY + timedelta(days=1), True),  # expires tomorrow
        (date(2023, 1, 1), None, True),  # no expiry
    ],
    ids=["earned-today", "earned-tomorrow", "expires-today", "expired-yesterday",
         "expires-tomorrow", "no-expiry"],
)  # fmt: skip
def test_the_people_page_and_the_scores_agree_on_active_certifications(
    org, earned_on, expires_on, active
):
    held = HeldCertificationFactory(
        person=PersonFactory(organization=org), earned_on=earned_on, expires_on=expires_on
    )
    requirement = CertificationRequirement(
        metric_code="intermediate_certifications", groups=(("any", frozenset({"AZ-500"})),)
    )

    (person,) = person_list(organization=org, on=DAY)
    (shown,) = person.certifications.all()
    counted = _certified_individuals([org.pk], DAY, [requirement])

    assert held.is_active_on(DAY) is active
    assert shown.is_active is active
    assert (
        HeldCertification.objects.for_org(org).filter(HeldCertification.active_on_q(DAY)).exists()
        is active
    )
    assert sum(counted.values()) == (1 if active else 0)


# --- nightly ledger ------------------------------------------------------------------------


def test_a_second_start_for_the_same_date_does_nothing(org):
    assert services.recompute_run_start(run_date=AS_OF) is not None
    assert services.recompute_run_start(run_date=AS_OF) is None
    assert RecomputeRun.objects.count() == 1


def test_a_failed_run_can_start_again(org):
    run = services.recompute_run_start(run_date=AS_OF)
    services.recompute_run_finish(run_id=run.pk, error="boom")
    again = services.recompute_run_start(run_date=AS_OF)
    assert again is not None and again.status == RecomputeRun.Status.RUNNING


def test_nightly_task_in_process_scores_every_organization_once(org, other_org, settings):
    settings.SCORING_CHUNK_SIZE = 1
    security_partner(org)
    assert scores_recompute_nightly_task("2024-06-30") == 2
    run = RecomputeRun.objects.get(run_date=AS_OF)
    assert (run.status, run.chunks_total, run.chunks_done, run.organizations) == ("done", 2, 2, 2)
    assert snapshot(org).total == 100
    computed = list(ScoreSnapshot.objects.unscoped().values_list("pk", "computed_at"))
    assert scores_recompute_nightly_task("2024-06-30") is None
    assert list(ScoreSnapshot.objects.unscoped().values_list("pk", "computed_at")) == computed


# --- rule-set cache and parallel chunks ---------------------------------------------------


def test_a_rules_change_is_seen_by_the_next_recompute(org):
    from scoring.models import MetricRule

    security_partner(org, adds=0, people=3, mpu_growth=0, deployments=0)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    assert points(snapshot(org))["intermediate_certifications"] == 20
    metric = MetricRule.objects.get(
        rule_set__designation__code="security", code="intermediate_certifications"
    )
    metric.target = 3
    metric.save()  # audited: a new history row changes the rules stamp
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    assert points(snapshot(org))["intermediate_certifications"] == 40


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shipped_catalog")
def test_worker_processes_write_what_serial_chunks_write():
    """`recompute_scores --workers 2` in a fresh process: chunks forked into worker processes."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker processes share committed data on PostgreSQL only")
    orgs = [OrganizationFactory() for _ in range(4)]
    for each in orgs:
        security_partner(each, adds=3, people=2, deployments=2)
    ids = [o.pk for o in orgs]
    assert services.scores_recompute(organization_ids=ids, as_of=AS_OF, workers=1) == 24
    # (creating the organizations also scored them as of today, on commit: compare one date)
    on_date = ScoreSnapshot.objects.unscoped().filter(as_of=AS_OF)
    serial = sorted(on_date.values_list("organization_id", "designation_id", "total", "metrics"))
    on_date.delete()

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "SCORING_CHUNK_SIZE": "1",
    }
    finished = subprocess.run(
        [sys.executable, "manage.py", "recompute_scores", "--as-of", AS_OF.isoformat(),
         "--workers", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert "24 snapshot(s)" in finished.stdout
    parallel = sorted(on_date.values_list("organization_id", "designation_id", "total", "metrics"))
    assert parallel == serial


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shipped_catalog")
def test_no_worker_processes_from_a_process_holding_broker_connections(monkeypatch, settings):
    from portal.celery import app as celery_app

    settings.SCORING_CHUNK_SIZE = 1
    orgs = [OrganizationFactory() for _ in range(2)]
    for each in orgs:
        security_partner(each, adds=3, people=2, deployments=2)
    monkeypatch.setattr(celery_app, "_pool", object())  # as after any task sent to Redis
    monkeypatch.setattr(services, "ProcessPoolExecutor", None)  # would fail if used
    ids = [o.pk for o in orgs]
    assert services.scores_recompute(organization_ids=ids, as_of=AS_OF, workers=2) == 12


def test_one_missing_unit_reads_singular_in_the_stored_gap():
    org = OrganizationFactory()
    # Each Azure deployment here also averages over $1,000 a month: an Azure net customer add.
    security_partner(org, adds=4, people=5, deployments=5)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    gaps = {m["code"]: m["gap"] for m in snapshot(org).metrics}
    assert gaps["net_customer_adds"] == "1 more net customer add"
    assert gaps["deployments"] == "1 more deployment"
    assert gaps["intermediate_certifications"].startswith("1 more individual holding ")
