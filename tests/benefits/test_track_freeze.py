"""A classified track is frozen for the enrolment year (Azure 2026, Business Applications).

The shipped Azure 2026 rules classify a partner SMB when 80 % of its Azure customers are SMB
(program.md §9: "one track is assigned by a classification rule and frozen for the enrolment
year"). Enrolling records the track of that day; until the anniversary the measures say that
track holds whatever the customers' segments become; after it the classification is afresh.
"""

from __future__ import annotations

from datetime import date

import pytest

from benefits.services import designation_enrol
from scoring import engine
from scoring.measures import compute_measures
from scoring.models import Customer, Designation, TrackFreeze
from scoring.selectors import rule_sets_in_force
from scoring.whatif import HypotheticalPerson, Scenario, whatif_project
from tests.benefits.conftest import snapshot
from tests.scoring.telemetry import associate, customer

pytestmark = pytest.mark.django_db

AZURE = "infrastructure-azure"
ENROLLED_ON = date(2026, 6, 15)


def in_force(code, as_of):
    return next(rs for rs in rule_sets_in_force(as_of=as_of) if rs.designation_code == code)


def qualified_on(org, code, day):
    """The stored daily score that lets the admin enrol (under the version in force then)."""
    snapshot(org, code, day, version=in_force(code, day).model.version)


def classification(org, as_of, **kwargs) -> dict:
    rule_set = in_force(AZURE, as_of)
    measures = compute_measures(
        organization_ids=[org.pk], as_of=as_of, rule_sets=[rule_set], **kwargs
    )
    return measures[org.pk][AZURE][engine.CLASSIFICATION]


@pytest.fixture
def smb_partner(org):
    """Five Azure customers through PAL, all SMB: the Azure 2026 SMB track's rule holds."""
    made = []
    for _ in range(5):
        tpid = customer("azure")
        tpid.segment = "smb"
        tpid.save()
        associate(org, tpid, "PAL", start="2025-01")
        made.append(tpid)
    return made


def enrol(org, admin_member):
    org.renewal_date = None
    org.save()
    qualified_on(org, AZURE, date(2026, 6, 10))
    return designation_enrol(
        organization=org, designation_code=AZURE, actor=admin_member, on=ENROLLED_ON
    )


def test_enrolling_freezes_the_track_of_the_day_until_the_anniversary(
    org, admin_member, smb_partner
):
    assert classification(org, ENROLLED_ON) == {"smb": 1}

    term = enrol(org, admin_member)

    freeze = TrackFreeze.objects.for_org(org).get()
    assert (freeze.track, freeze.starts_on, freeze.ends_on) == ("smb", ENROLLED_ON, term.ends_on)
    # The customers become enterprise customers: the data no longer classifies the partner SMB.
    Customer.objects.filter(pk__in=[c.pk for c in smb_partner]).update(segment="enterprise")
    assert classification(org, date(2026, 9, 30), track_freezes=False) == {"smb": 0}
    # ... but the enrolment year keeps its track, through the anniversary day,
    assert classification(org, date(2026, 9, 30)) == {"smb": 1}
    assert classification(org, term.ends_on) == {"smb": 1}
    # and after it the partner is classified afresh.
    assert classification(org, date(2027, 7, 1)) == {"smb": 0}


def test_the_default_track_is_frozen_too(org, admin_member, smb_partner):
    Customer.objects.filter(pk__in=[c.pk for c in smb_partner[:2]]).update(segment="enterprise")
    assert classification(org, ENROLLED_ON) == {"smb": 0}  # 3 of 5: enterprise (the default)

    enrol(org, admin_member)

    assert TrackFreeze.objects.for_org(org).get().track == "enterprise"
    Customer.objects.filter(pk__in=[c.pk for c in smb_partner]).update(segment="smb")
    assert classification(org, date(2026, 9, 30)) == {"smb": 0}


def test_a_designation_scored_on_its_best_track_freezes_nothing(org, admin_member):
    qualified_on(org, "security", date(2026, 6, 10))
    designation_enrol(
        organization=org, designation_code="security", actor=admin_member, on=ENROLLED_ON
    )

    assert not TrackFreeze.objects.for_org(org).exists()


def test_a_freeze_is_the_organizations_own(org, other_org, admin_member, smb_partner):
    for tpid in smb_partner:
        associate(other_org, tpid, "PAL", start="2025-01")
    enrol(org, admin_member)
    Customer.objects.update(segment="enterprise")

    assert classification(org, date(2026, 9, 30)) == {"smb": 1}
    assert classification(other_org, date(2026, 9, 30)) == {"smb": 0}


def test_a_what_if_keeps_the_frozen_track(org, smb_partner):
    """The scenario's twin has the organization's frozen tracks: projecting changes the data,
    not the track the partner enrolled on."""
    TrackFreeze.objects.create(
        organization=org,
        designation=Designation.objects.get(code=AZURE),
        track="smb",
        starts_on=ENROLLED_ON,
        ends_on=date(2027, 6, 14),
    )
    Customer.objects.filter(pk__in=[c.pk for c in smb_partner]).update(segment="enterprise")
    as_of = date(2026, 9, 30)
    scenario = Scenario(people=(HypotheticalPerson(certifications=("AZ-104",)),))

    projection = next(
        p
        for p in whatif_project(organization=org, scenario=scenario, as_of=as_of).projections
        if p.rule_set.designation_code == AZURE
    )

    assert projection.current.track == "smb"
    assert projection.projected.track == "smb"
