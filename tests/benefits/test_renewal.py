"""The renewal choice: in the window after the anniversary, one option, locked after."""

from datetime import date

import pytest

from benefits.models import DesignationStatus, DesignationTerm, RenewalChoice, RenewalOption
from benefits.selectors import entitlements_on, holdings_on, renewal_offers, renewal_window_on
from benefits.services import designation_enrol, renewal_choose
from portal.exceptions import ApplicationError
from tests.benefits.conftest import snapshot
from tests.factories import LegacyCompetencyHeldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled_2023(org, admin_member):
    """Security enrolled on 2023-03-15 (anniversary 2024-03-15), no legacy competencies."""
    org.renewal_date = None
    org.save()
    snapshot(org, "security", date(2023, 3, 10))
    designation_enrol(
        organization=org, designation_code="security", actor=admin_member, on=date(2023, 3, 15)
    )
    org.refresh_from_db()
    return org


def offers(org, on):
    window = renewal_window_on(organization=org, on=on)
    return {offer.option: offer for offer in renewal_offers(organization=org, window=window, on=on)}


def test_the_window_is_the_30_days_after_the_anniversary(enrolled_2023):
    assert renewal_window_on(organization=enrolled_2023, on=date(2024, 3, 15)) is None
    window = renewal_window_on(organization=enrolled_2023, on=date(2024, 3, 16))
    assert (window.opens_on, window.closes_on) == (date(2024, 3, 16), date(2024, 4, 14))
    assert renewal_window_on(organization=enrolled_2023, on=date(2024, 4, 15)) is None


def test_choose_solutions_partner_renews_qualified_designations(enrolled_2023, admin_member):
    org = enrolled_2023
    snapshot(org, "security", date(2024, 1, 10))  # in the renewal month + 5 previous months
    choice = renewal_choose(
        organization=org,
        option=RenewalOption.SOLUTIONS_PARTNER,
        actor=admin_member,
        on=date(2024, 3, 20),
    )
    assert (choice.fee_amount, choice.fee_currency, choice.chosen_by) == (4730, "USD", admin_member)
    term = DesignationTerm.objects.for_org(org).get(kind="renewal")
    assert (term.starts_on, term.ends_on) == (date(2024, 3, 16), date(2025, 3, 15))
    org.refresh_from_db()
    assert org.renewal_date == date(2025, 3, 15)
    holding = holdings_on(organization=org, on=date(2024, 6, 1)).holding("security")
    assert holding.status == DesignationStatus.RENEWED
    assert entitlements_on(organization=org, on=date(2024, 6, 1)).quantity("m365-e5") == 100


def test_solutions_partner_needs_a_designation_qualified_in_the_window(enrolled_2023, admin_member):
    snapshot(enrolled_2023, "security", date(2023, 9, 1))  # before 2023-10-01: outside
    assert not offers(enrolled_2023, date(2024, 3, 20))[RenewalOption.SOLUTIONS_PARTNER].available
    with pytest.raises(ApplicationError, match="No designation qualified"):
        renewal_choose(
            organization=enrolled_2023,
            option=RenewalOption.SOLUTIONS_PARTNER,
            actor=admin_member,
            on=date(2024, 3, 20),
        )


def test_the_choice_is_editable_in_the_window_then_locked(enrolled_2023, admin_member):
    org = enrolled_2023
    snapshot(org, "security", date(2024, 1, 10))
    renewal_choose(
        organization=org,
        option=RenewalOption.SOLUTIONS_PARTNER,
        actor=admin_member,
        on=date(2024, 3, 20),
    )
    # When the admin changes the choice to the Action Pack before the window closes
    renewal_choose(
        organization=org, option=RenewalOption.ACTION_PACK, actor=admin_member, on=date(2024, 4, 14)
    )
    # Then one choice is kept, the Action Pack, which renews no designation
    choice = RenewalChoice.objects.for_org(org).get()
    assert choice.option == RenewalOption.ACTION_PACK
    assert choice.history.count() == 2
    assert not DesignationTerm.objects.for_org(org).filter(kind="renewal").exists()
    entitlements = entitlements_on(organization=org, on=date(2024, 5, 1))
    assert entitlements.option == RenewalOption.ACTION_PACK
    assert entitlements.quantity("tpd-advisory-hours") == 5
    # And after the window the choice is locked
    with pytest.raises(ApplicationError, match="locked"):
        renewal_choose(
            organization=org,
            option=RenewalOption.SOLUTIONS_PARTNER,
            actor=admin_member,
            on=date(2024, 4, 15),
        )


def test_legacy_option_only_for_former_competency_holders(enrolled_2023, admin_member):
    org = enrolled_2023
    legacy = offers(org, date(2024, 3, 20))[RenewalOption.LEGACY]
    assert not legacy.available and "2022-09-30" in legacy.reason
    with pytest.raises(ApplicationError, match="2022-09-30"):
        renewal_choose(
            organization=org, option=RenewalOption.LEGACY, actor=admin_member, on=date(2024, 3, 20)
        )
    LegacyCompetencyHeldFactory(organization=org, level="silver")
    legacy = offers(org, date(2024, 3, 20))[RenewalOption.LEGACY]
    assert legacy.available and legacy.fee.amount is None  # legacy fee: not published
    assert {g.product.code: g.quantity for g in legacy.grants} == {"tpd-advisory-hours": 20}
    renewal_choose(
        organization=org, option=RenewalOption.LEGACY, actor=admin_member, on=date(2024, 3, 20)
    )
    assert (
        entitlements_on(organization=org, on=date(2024, 5, 1)).quantity("tpd-advisory-hours") == 20
    )


def test_offers_show_fee_and_exact_benefits(enrolled_2023):
    snapshot(enrolled_2023, "security", date(2024, 1, 10))
    by_option = offers(enrolled_2023, date(2024, 3, 20))
    partner = by_option[RenewalOption.SOLUTIONS_PARTNER]
    assert partner.fee.amount == 4730
    assert [d.code for d in partner.renews] == ["security"]
    grants = {g.product.code: g.quantity for g in partner.grants}
    assert grants["azure-production-credits"] == 6000 and grants["viva"] == 50
    pack = {g.product.code: g.quantity for g in by_option[RenewalOption.ACTION_PACK].grants}
    assert pack["visual-studio-professional"] == 3


def test_action_pack_and_legacy_retired_in_2025(org, admin_member, security_enrolled):
    LegacyCompetencyHeldFactory(organization=org)
    by_option = offers(org, date(2025, 3, 20))
    assert not by_option[RenewalOption.ACTION_PACK].available
    assert not by_option[RenewalOption.LEGACY].available
    assert by_option[RenewalOption.SOLUTIONS_PARTNER].fee.amount == 4730


def test_after_choosing_the_offers_still_show_what_renews(enrolled_2023, admin_member):
    org = enrolled_2023
    snapshot(org, "security", date(2024, 1, 10))
    renewal_choose(
        organization=org,
        option=RenewalOption.SOLUTIONS_PARTNER,
        actor=admin_member,
        on=date(2024, 3, 20),
    )
    partner = offers(org, date(2024, 3, 21))[RenewalOption.SOLUTIONS_PARTNER]
    assert partner.available and [d.code for d in partner.renews] == ["security"]
    assert {g.product.code for g in partner.grants} >= {"azure-production-credits"}
    # Choosing Solutions Partner benefits again (an edit) keeps the one renewal term
    renewal_choose(
        organization=org,
        option=RenewalOption.SOLUTIONS_PARTNER,
        actor=admin_member,
        on=date(2024, 3, 22),
    )
    assert DesignationTerm.objects.for_org(org).filter(kind="renewal").count() == 1
