"""The drill-down behind a metric: the rows it lists as counting add up to the measure the
engine scored, for every metric of Security under the 2022 rules and the 2026 rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from portal.models import HeldCertification, Organization
from scoring import engine
from scoring.drilldown import metric_drilldown
from scoring.models import ScoreSnapshot
from tests.scoring.test_published_scenarios import PARTNER, VERSION_DAYS, Files, _import, _month

pytestmark = pytest.mark.django_db


def security_files(as_of: date, *, extra_tenants: int = 0) -> Files:
    """Adds, a loss, near misses and people for Security on M365 and Azure."""
    files = Files()

    def tenant(n: int) -> str:
        return f"00000000-0000-4000-8000-{n:012d}"

    # T1..T5: 0 → 400 paid seats (and MDE seats) 6 months ago, 300 protected users.
    for n in range(1, 6 + extra_tenants):
        files.customer("m365", tenant(n), "", "CPOR", _month(as_of, 30))
        for back in range(6):
            month = _month(as_of, back)
            files.figure(month, "m365", tenant(n), "paid_seats", "", 400)
            files.figure(month, "m365", tenant(n), "paid_seats", "MDE", 400)
            files.figure(month, "m365", tenant(n), "protected_users", "MDE", 300)
    # T100: 30 seats until 3 months ago, then none (a loss).
    files.customer("m365", tenant(100), "", "CPOR", _month(as_of, 30))
    for back in range(3, 20):
        files.figure(_month(as_of, back), "m365", tenant(100), "paid_seats", "", 30)
    # T101: 0 → 10 seats last month (almost an add under the 2022 rules: 15 more seats).
    files.customer("m365", tenant(101), "", "CPOR", _month(as_of, 30))
    files.figure(_month(as_of, 0), "m365", tenant(101), "paid_seats", "", 10)
    files.figure(_month(as_of, 0), "m365", tenant(101), "paid_seats", "MDE", 10)
    # T102: 0 → 400 seats, only 20 protected users (almost a deployment).
    files.customer("m365", tenant(102), "", "CPOR", _month(as_of, 30))
    for back in range(4):
        month = _month(as_of, back)
        files.figure(month, "m365", tenant(102), "paid_seats", "", 400)
        files.figure(month, "m365", tenant(102), "paid_seats", "MDE", 400)
        files.figure(month, "m365", tenant(102), "protected_users", "MDE", 20)
    # Azure: A1 $300 a month until a year ago, $20,000 since; A2 $40 a month (almost an add).
    files.customer("azure", "81000001", "", "PAL", _month(as_of, 30))
    files.customer("azure", "81000002", "", "PAL", _month(as_of, 30))
    for back in range(24):
        month = _month(as_of, back)
        files.figure(month, "azure", "81000001", "acr_usd", "security",
                     20000 if back < 12 else 300)  # fmt: skip
        files.figure(month, "azure", "81000002", "acr_usd", "key-vault", 40)
    # People: S1..S6 count; S7 lacks an SC- exam (2022), S8 holds only SC-200.
    for n in range(1, 7):
        files.person(f"S{n}", "AZ-500", "MS-500", "SC-300", *(["SC-200"] if n <= 2 else []))
    files.person("S7", "AZ-500", "MS-500")
    files.person("S8", "SC-200")
    return files


def scored_security(as_of: date) -> ScoreSnapshot:
    call_command("recompute_scores", as_of=as_of.isoformat(), partner_id=PARTNER)
    organization = Organization.objects.unscoped().get(partner_id=PARTNER)
    return ScoreSnapshot.objects.for_org(organization).get(
        designation__code="security", as_of=as_of
    )


def stored(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("version", ["2022", "2026"])
def test_the_rows_counting_add_up_to_the_measure_scored_for_every_metric(version):
    as_of = VERSION_DAYS[version]
    _import(security_files(as_of))
    snapshot = scored_security(as_of)

    checked = _assert_rows_add_up(snapshot)
    assert checked >= 5
    # Not zero rows adding up to zero: six adds (and, in 2022, the loss of T100) are listed.
    adds = metric_drilldown(snapshot=snapshot, metric_code="net_customer_adds")
    assert adds is not None
    m365 = next(s for s in adds.sources if s.source.key == "m365")
    assert len(m365.counting) == (7 if version == "2022" else 6)
    assert m365.value == (5 if version == "2022" else 6)


def _assert_rows_add_up(snapshot: ScoreSnapshot) -> int:
    checked = 0
    for metric in snapshot.metrics:
        drill = metric_drilldown(snapshot=snapshot, metric_code=metric["code"])
        assert drill is not None and not drill.stale
        assert drill.sources or drill.requirements, metric["code"]
        for source in drill.sources:
            key = source.source.key
            assert source.value == stored(metric["sources"][key]), (metric["code"], key)
            if source.baseline is not None:
                base = metric["sources"][key + engine.BASELINE_SUFFIX]
                assert source.baseline == stored(base), (metric["code"], key)
            checked += 1
        for requirement in drill.requirements:
            key = requirement.requirement.key
            assert requirement.value == metric["sources"][key], (metric["code"], key)
            checked += 1
    return checked


def _published_files(designation: str, as_of: date) -> Files:
    """The published scenarios' telemetry and people (tests/scoring/test_published_scenarios)."""
    from tests.scoring import test_published_scenarios as published

    if designation in published.AZURE_SCENARIOS:
        segment, people, _expected = published.AZURE_SCENARIOS[designation]
        files = published._azure_files(designation, as_of, segment)
    elif designation in published.M365_SCENARIOS:
        telemetry, people, _expected = published.M365_SCENARIOS[designation]
        files = published._m365_files(as_of, *telemetry)
    else:
        return published._dynamics_files(as_of)
    for person_id, codes in people.items():
        files.person(person_id, *codes)
    return files


@pytest.mark.parametrize("version", ["2022", "2026"])
@pytest.mark.parametrize(
    "designation",
    ["business-applications", "modern-work", "infrastructure-azure", "data-ai-azure",
     "digital-app-innovation-azure"],
)  # fmt: skip
def test_every_designations_rows_add_up_in_the_published_scenarios(designation, version):
    """Every computation of the published rules (qualifying units, percentage growth, distinct
    services, active ratios, crossings): the drill-down's rows sum to the stored measure."""
    as_of = VERSION_DAYS[version]
    _import(_published_files(designation, as_of))
    call_command("recompute_scores", as_of=as_of.isoformat(), partner_id=PARTNER)
    organization = Organization.objects.unscoped().get(partner_id=PARTNER)
    snapshot = ScoreSnapshot.objects.for_org(organization).get(
        designation__code=designation, as_of=as_of
    )
    assert _assert_rows_add_up(snapshot) >= 4
    assert snapshot.total > 0


def test_each_person_counting_shows_the_certification_that_expires_first():
    as_of = VERSION_DAYS["2022"]
    _import(security_files(as_of))
    organization = Organization.objects.unscoped().get(partner_id=PARTNER)
    held = HeldCertification.objects.for_org(organization).filter(person__person_id="S1")
    held.filter(certification__code="SC-300").update(expires_on=date(2024, 1, 31))
    held.filter(certification__code="AZ-500").update(expires_on=date(2023, 9, 30))
    held.filter(certification__code="SC-200").update(expires_on=date(2023, 3, 31))  # expired
    snapshot = scored_security(as_of)

    drill = metric_drilldown(snapshot=snapshot, metric_code="intermediate_certifications")
    assert drill is not None
    (people,) = drill.requirements
    s1 = next(p for p in people.people if p.person_id == "S1")
    assert s1.codes == ("AZ-500", "MS-500", "SC-300")  # SC-200 expired on the as-of date
    assert s1.expires_first == ("AZ-500", date(2023, 9, 30))
    assert next(p for p in people.people if p.person_id == "S3").expires_first is None


def test_security_2026_smb_deployments_list_only_the_tracks_band(org):
    """The SMB track's deployments count tenants of 5-300 licences and Azure customers in the
    $750-$12,000 band now: the drill-down lists those, not the larger ones the engine leaves
    to the Enterprise track."""
    from scoring.services import scores_recompute
    from tests.scoring.telemetry import associate, customer, monthly, usage

    as_of = date(2026, 11, 30)
    for seats in (200, 250, 500):  # two in the SMB band, one over it
        tenant = customer("m365")
        associate(org, tenant, "CPOR")
        usage(tenant, "paid_seats", monthly("2025-01", "2026-11", seats))
        usage(tenant, "protected_users", {"2025-11": 0, "2026-10": seats}, workload="MDE")
        usage(tenant, "paid_seats", monthly("2025-01", "2026-11", seats), workload="MDE")
    for monthly_acr in (500, 2500):  # $6,000 a year: SMB; $30,000: over the band
        tpid = customer("azure")
        associate(org, tpid, "PAL")
        usage(tpid, "acr_usd", monthly("2025-12", "2026-11", monthly_acr), workload="security")
    scores_recompute(organization_ids=[org.pk], as_of=as_of)
    snapshot = ScoreSnapshot.objects.for_org(org).get(designation__code="security", as_of=as_of)
    assert snapshot.track == "smb"

    _assert_rows_add_up(snapshot)
    drill = metric_drilldown(snapshot=snapshot, metric_code="deployments")
    assert drill is not None
    assert {s.source.key: len(s.counting) for s in drill.sources} == {"m365": 2, "azure": 1}
    # Over the band's top is not "almost": more seats or revenue would not make it count.
    assert all(a.missing > 0 for s in drill.sources for a in s.almost)
