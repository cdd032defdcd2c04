"""Designation status: in progress → qualified → enrolled → renewal due → renewed or lapsed."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from benefits.models import DesignationStatus, DesignationStatusChange, DesignationTerm
from benefits.selectors import holdings_on
from benefits.services import designation_enrol, designation_statuses_record
from portal.exceptions import ApplicationError
from tests.benefits.conftest import daily, snapshot

pytestmark = pytest.mark.django_db


def status(org, code, on):
    return holdings_on(organization=org, on=on).holding(code).status


def test_window_change_of_2023_09_19(org):
    # Given Security met the rules on one day only, 2023-03-01 (no enrolment)
    org.renewal_date = None
    org.save()
    snapshot(org, "security", date(2023, 3, 1))
    snapshot(org, "security", date(2023, 9, 1), qualified=False)
    # Then until 2023-09-18 a first attainment counts any day since GA
    assert status(org, "security", date(2023, 9, 18)) == DesignationStatus.QUALIFIED
    # and from 2023-09-19 only the current month and the five previous full months count
    assert status(org, "security", date(2023, 9, 19)) == DesignationStatus.IN_PROGRESS
    assert status(org, "modern-work", date(2023, 9, 18)) == DesignationStatus.IN_PROGRESS


def test_rolling_window_moves_at_the_start_of_each_month(org):
    snapshot(org, "security", date(2023, 5, 10))
    holding = holdings_on(organization=org, on=date(2023, 10, 15)).holding("security")
    assert holding.window == (date(2023, 5, 1), date(2023, 10, 15))
    assert holding.status == DesignationStatus.QUALIFIED
    assert status(org, "security", date(2023, 10, 31)) == DesignationStatus.QUALIFIED
    assert status(org, "security", date(2023, 11, 1)) == DesignationStatus.IN_PROGRESS


def test_the_latest_rule_set_version_of_a_day_decides(org):
    from scoring.models import RuleSet

    security = RuleSet.objects.get(designation__code="security", version=1)
    RuleSet.objects.create(
        designation=security.designation, version=2, effective_from=date(2024, 1, 1)
    )
    snapshot(org, "security", date(2024, 3, 1), qualified=True, version=1)
    snapshot(org, "security", date(2024, 3, 1), qualified=False, version=2)
    assert status(org, "security", date(2024, 3, 5)) == DesignationStatus.IN_PROGRESS


def test_enrolment_refused_without_qualifying(org, admin_member):
    snapshot(org, "security", date(2024, 3, 1), qualified=False)
    with pytest.raises(ApplicationError, match="did not meet the requirements"):
        designation_enrol(
            organization=org, designation_code="security", actor=admin_member, on=date(2024, 3, 5)
        )


def test_only_an_admin_enrols(org, member):
    snapshot(org, "security", date(2024, 3, 1))
    with pytest.raises(PermissionDenied):
        designation_enrol(
            organization=org, designation_code="security", actor=member, on=date(2024, 3, 5)
        )


def test_enrolment_records_the_fee_and_sets_the_anniversary(org, security_enrolled, admin_member):
    term = security_enrolled
    assert (term.starts_on, term.ends_on) == (date(2024, 3, 15), date(2025, 3, 15))
    assert term.fee_amount == 4730 and term.fee_currency == "USD"
    assert org.renewal_date == date(2025, 3, 15)
    change = DesignationStatusChange.objects.for_org(org).get(status="enrolled")
    assert change.actor == admin_member and change.changed_on == date(2024, 3, 15)
    assert "annual fee" in change.reason
    assert org.history.first().history_user == admin_member


def test_a_score_drop_after_enrolment_keeps_the_designation(org, security_enrolled):
    # Given the score falls below the threshold every day after enrolment
    daily(org, "security", date(2024, 3, 16), date(2024, 4, 30), qualified=False)
    # Then the designation is held until the anniversary whatever the score
    assert status(org, "security", date(2024, 4, 30)) == DesignationStatus.ENROLLED
    assert status(org, "security", date(2025, 3, 15)) == DesignationStatus.ENROLLED


def test_later_designations_share_the_first_anniversary_at_no_charge(
    org, security_enrolled, admin_member
):
    snapshot(org, "modern-work", date(2024, 9, 1))
    term = designation_enrol(
        organization=org, designation_code="modern-work", actor=admin_member, on=date(2024, 9, 2)
    )
    assert (term.starts_on, term.ends_on) == (date(2024, 9, 2), date(2025, 3, 15))
    assert term.fee_amount == 0
    org.refresh_from_db()
    assert org.renewal_date == date(2025, 3, 15)
    held = holdings_on(organization=org, on=date(2024, 9, 2)).held
    assert {h.designation.code for h in held} == {"security", "modern-work"}


def test_renewal_due_in_the_window_then_lapsed(org, security_enrolled):
    assert status(org, "security", date(2025, 3, 16)) == DesignationStatus.RENEWAL_DUE
    assert status(org, "security", date(2025, 4, 14)) == DesignationStatus.RENEWAL_DUE
    assert status(org, "security", date(2025, 4, 15)) == DesignationStatus.LAPSED
    assert not holdings_on(organization=org, on=date(2025, 4, 15)).held


def test_enrolment_in_the_transition_keeps_the_existing_anniversary(org, admin_member):
    from tests.factories import LegacyCompetencyHeldFactory

    LegacyCompetencyHeldFactory(organization=org)
    org.renewal_date = date(2023, 6, 30)
    org.save()
    snapshot(org, "security", date(2022, 11, 1))
    term = designation_enrol(
        organization=org, designation_code="security", actor=admin_member, on=date(2022, 11, 2)
    )
    assert term.ends_on == date(2023, 6, 30)
    org.refresh_from_db()
    assert org.renewal_date == date(2023, 6, 30)


def test_status_history_is_recorded_once_per_change(org, security_enrolled):
    with time_machine.travel(date(2025, 3, 20)):
        first = designation_statuses_record(organization=org, on=date(2025, 3, 20))
        again = designation_statuses_record(organization=org, on=date(2025, 3, 20))
    assert [c.status for c in first] == [DesignationStatus.RENEWAL_DUE]
    assert again == []
    lapsed = designation_statuses_record(organization=org, on=date(2025, 4, 20))
    assert [c.status for c in lapsed] == [DesignationStatus.LAPSED]
    assert "not renewed" in lapsed[0].reason
    assert DesignationTerm.objects.for_org(org).count() == 1
