"""`manage.py seed_demo` with telemetry: realistic, idempotent, and telling the intended stories."""

import re
from datetime import date

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from portal.demo import seed_demo_portal
from portal.models import Organization
from scoring.demo import seed_demo_telemetry
from scoring.measures import add_months, current_month
from scoring.models import Association, Customer, ScoreSnapshot, Usage
from scoring.selectors import score_export_rows
from scoring.services import scores_recompute

pytestmark = pytest.mark.django_db
# The three stories of 2022 (the seed's rules, the published versions removed); the 2026
# stories at the end run with every shipped version, the 2026 one in force today.
RULES_2022 = pytest.mark.usefixtures("rules_2022_only")

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _row_counts() -> dict[str, int]:
    """Rows of every scoring model (audit trails included)."""
    return {
        model._meta.label: (
            model.objects.unscoped() if hasattr(model.objects, "unscoped") else model.objects
        ).count()
        for model in apps.get_app_config("scoring").get_models()
    }


def _scores() -> dict[tuple[str, str, date], tuple[float, bool, list]]:
    return {
        (s.organization.slug, s.designation.code, s.as_of): (s.total, s.qualified, s.metrics)
        for s in ScoreSnapshot.objects.unscoped().select_related("organization", "designation")
    }


def _snapshot(slug: str, code: str) -> ScoreSnapshot:
    return ScoreSnapshot.objects.unscoped().get(
        organization__slug=slug, designation__code=code, as_of=timezone.localdate()
    )


@pytest.fixture
def demo():
    seed_demo_portal()
    organizations = list(Organization.objects.unscoped().order_by("pk"))
    seed_demo_telemetry(organizations=organizations)
    scores_recompute(organization_ids=[o.pk for o in organizations], as_of=timezone.localdate())
    return organizations


@RULES_2022
def test_seed_demo_twice_changes_nothing(capsys):
    call_command("seed_demo")
    counts, scores = _row_counts(), _scores()
    usage = sorted(
        Usage.objects.values_list("customer_id", "measure", "workload", "month", "value")
    )
    output = capsys.readouterr().out

    call_command("seed_demo")

    assert _row_counts() == counts
    assert _scores() == scores
    assert (
        sorted(Usage.objects.values_list("customer_id", "measure", "workload", "month", "value"))
        == usage
    )
    assert counts["scoring.Usage"] > 3000 and counts["scoring.Customer"] > 60
    # The logins, then one line of scores per organization.
    assert "admin@demo.example / demo-password-123" in output
    lines = {line.split(":")[0].strip(): line for line in output.splitlines() if ": " in line}
    assert (
        "Security" in lines["株式会社さくらクラウド"]
        and "(qualified)" in lines["株式会社さくらクラウド"]
    )
    assert re.search(r"Data & AI \(Azure\) \d+\.\d \(qualified\)", lines["Fabrikam Data & AI GmbH"])


@RULES_2022
def test_the_japanese_partner_qualifies_for_security(demo):
    security = _snapshot("sakura-cloud", "security")
    assert security.qualified
    assert security.total >= 70
    assert all(metric["points"] >= 1 for metric in security.metrics)
    assert security.total < 100  # something left to show on the dashboard


@RULES_2022
def test_the_us_partner_is_close_on_security(demo):
    security = _snapshot("contoso-security", "security")
    assert 60 <= security.total < 70
    assert not security.qualified
    skilling = next(m for m in security.metrics if m["code"] == "intermediate_certifications")
    assert skilling["value"] == 2  # the individuals are what it misses most


@RULES_2022
def test_the_german_partner_leads_in_data_and_ai(demo):
    data_ai = {o.slug: _snapshot(o.slug, "data-ai-azure") for o in demo}
    fabrikam = data_ai.pop("fabrikam-data")
    assert fabrikam.qualified
    assert all(fabrikam.total > other.total for other in data_ai.values())
    own = ScoreSnapshot.objects.for_org(fabrikam.organization).filter(as_of=fabrikam.as_of)
    assert max(own, key=lambda s: s.total).designation.code == "data-ai-azure"


@RULES_2022
def test_customers_and_usage_look_real(demo):
    for customer in Customer.objects.all():
        if customer.platform == "azure":
            assert customer.customer_id.isdigit() and len(customer.customer_id) == 8
        else:
            assert GUID.fullmatch(customer.customer_id)
    assert set(Customer.objects.values_list("platform", flat=True)) == {"m365", "azure", "dynamics"}
    assert set(Association.objects.unscoped().values_list("type", flat=True)) == {
        "CPOR",
        "PAL",
        "DPOR",
    }
    now = current_month(timezone.localdate())
    months = sorted(set(Usage.objects.values_list("month", flat=True)))
    assert months[-1] == now
    assert months[0] == add_months(now, -23)
    assert len(months) == 24


@RULES_2022
@pytest.mark.parametrize("day", [date(2025, 1, 31), date(2026, 3, 1), date(2027, 8, 17)])
def test_the_stories_hold_on_any_day(day):
    with time_machine.travel(day, tick=False):
        seed_demo_portal()
        organizations = list(Organization.objects.unscoped())
        seed_demo_telemetry(organizations=organizations)
        scores_recompute(organization_ids=[o.pk for o in organizations], as_of=day)
        assert _snapshot("sakura-cloud", "security").qualified
        assert 60 <= _snapshot("contoso-security", "security").total < 70
        assert _snapshot("fabrikam-data", "data-ai-azure").qualified


def _export_row(organization: Organization, code: str) -> dict:
    rows = score_export_rows(organization_ids=[organization.pk], as_of=timezone.localdate())
    return next(row for row in rows if row["designation"] == code)


def test_under_the_2026_rules_the_japanese_partner_qualifies_on_a_track(demo):
    sakura = next(o for o in demo if o.slug == "sakura-cloud")
    row = _export_row(sakura, "security")

    assert row["rule_version"] == "2026"
    assert row["qualified"]
    assert row["track"] in {"enterprise", "smb"}
    assert all(metric["points"] >= 1 for metric in row["metrics"])


def test_under_the_2026_rules_fabrikam_is_blocked_only_by_a_skilling_gate(demo):
    fabrikam = next(o for o in demo if o.slug == "fabrikam-data")
    row = _export_row(fabrikam, "data-ai-azure")

    assert row["rule_version"] == "2026"
    assert not row["qualified"]
    metrics = {metric["code"]: metric for metric in row["metrics"]}
    skilling = metrics.pop("intermediate_certifications")
    assert all(metric["points"] >= 1 for metric in metrics.values())
    assert metrics["deployments"]["points"] == metrics["deployments"]["max_points"]  # 5 services
    # The gate, nothing else: the scoring step has its people, worth 4 points each once unlocked,
    # and with them the partner would qualify.
    assert skilling["points"] == 0
    assert skilling["gap"].endswith("unlock this metric")
    assert "AZ-305" in skilling["gap"] and "AZ-104" in skilling["gap"]
    assert skilling["value"] == 3
    assert row["total"] + 4 * skilling["value"] >= 70
