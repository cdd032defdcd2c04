"""What benefits adds to the staff console through scoring.console.hooks: the designation
status column, the renewal-within-N-days filter and the enrolled / due / lapsed counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.models import DesignationTerm
from benefits.selectors import window_rule_in_force
from scoring.models import Designation
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def term(organization, code, starts_on, ends_on):
    return DesignationTerm.objects.create(
        organization=organization,
        designation=Designation.objects.get(code=code),
        kind=DesignationTerm.Kind.ENROLMENT,
        starts_on=starts_on,
        ends_on=ends_on,
    )


@pytest.fixture
def holders():
    """Given: enrolled (anniversary in 20 days), due to renew (ended yesterday), lapsed (ended
    past the renewal window), and never enrolled (renewal date in 10 days)."""
    today = timezone.localdate()
    grace = window_rule_in_force(on=today).renewal_window_days
    enrolled = OrganizationFactory(name="A Enrolled", partner_id="6100001", renewal_date=None)
    due = OrganizationFactory(name="B Due", partner_id="6100002", renewal_date=None)
    lapsed = OrganizationFactory(name="C Lapsed", partner_id="6100003", renewal_date=None)
    never = OrganizationFactory(
        name="D Never", partner_id="6100004", renewal_date=today + timedelta(days=10)
    )
    term(enrolled, "security", today - timedelta(days=345), today + timedelta(days=20))
    term(enrolled, "modern-work", today - timedelta(days=100), today + timedelta(days=265))
    term(due, "security", today - timedelta(days=366), today - timedelta(days=1))
    term(lapsed, "security", today - timedelta(days=800), today - timedelta(days=grace + 5))
    return {"enrolled": enrolled, "due": due, "lapsed": lapsed, "never": never}


def rows(body: str) -> dict[str, str]:
    found = {}
    for part in body.split('data-partner-id="')[1:]:
        partner_id, rest = part.split('"', 1)
        found[partner_id] = rest[: rest.index("</tr>")]
    return found


def test_the_list_shows_each_organizations_designation_status(client, staff, holders):
    client.force_login(staff)
    body = client.get(reverse("staff_console")).content.decode()
    assert "Designation status" in body
    listed = rows(body)
    assert "Enrolled 2" in listed["6100001"]
    assert "Enrolled (renewal due) 1" in listed["6100002"]
    assert "Lapsed 1" in listed["6100003"]
    assert "Enrolled" not in listed["6100004"] and "Lapsed" not in listed["6100004"]


@pytest.mark.parametrize(
    ("days", "expected"),
    [("30", {"6100001", "6100004"}), ("15", {"6100004"}), ("5", set())],
)
def test_renewal_within_n_days(client, staff, holders, days, expected):
    client.force_login(staff)
    body = client.get(reverse("staff_console"), {"renewal_within": days}).content.decode()
    assert set(rows(body)) == expected


def test_a_bad_number_of_days_is_ignored_with_a_message(client, staff, holders):
    client.force_login(staff)
    body = client.get(reverse("staff_console"), {"renewal_within": "soon"}).content.decode()
    assert set(rows(body)) == {"6100001", "6100002", "6100003", "6100004"}
    assert "is not a value for" in body


def test_the_statistics_count_enrolled_due_and_lapsed(client, staff, holders):
    client.force_login(staff)
    body = client.get(reverse("staff_statistics")).content.decode()
    for label in ("Enrolled", "Renewal due", "Lapsed"):
        assert f'class="num">{label}</th>' in body
    security = body[body.index('data-designation="security"') :]
    security = security[: security.index("</tr>")]
    cells = [cell.split("<", 1)[0] for cell in security.split('<td class="num">')[1:]]
    assert cells == ["1", "1", "1"]
    modern = body[body.index('data-designation="modern-work"') :]
    modern = modern[: modern.index("</tr>")]
    assert [c.split("<", 1)[0] for c in modern.split('<td class="num">')[1:]] == ["1", "0", "0"]


def test_the_list_with_2000_enrolled_organizations_keeps_its_query_ceiling(
    client, staff, django_assert_max_num_queries
):
    from portal.models import Organization

    today = timezone.localdate()
    designations = list(Designation.objects.all())
    organizations = Organization.objects.bulk_create(
        Organization(partner_id=f"{6200000 + n}", name=f"T {n:04d}", slug=f"t-{n}", country="US")
        for n in range(2000)
    )
    DesignationTerm.objects.bulk_create(
        DesignationTerm(
            organization=organization,
            designation=designation,
            kind=DesignationTerm.Kind.ENROLMENT,
            starts_on=today - timedelta(days=n % 400),
            ends_on=today - timedelta(days=n % 400) + timedelta(days=365),
        )
        for n, organization in enumerate(organizations)
        for designation in designations[:3]
    )
    client.force_login(staff)
    # As the scoring list (tests/scoring/console) with benefits' column: terms, window rules.
    with django_assert_max_num_queries(11):
        response = client.get(reverse("staff_console"), {"renewal_within": "30", "sort": "-name"})
    assert response.status_code == 200
    assert "Enrolled 3" in response.content.decode()
    with django_assert_max_num_queries(11):
        assert client.get(reverse("staff_statistics")).status_code == 200


def test_the_organization_page_shows_holdings_and_the_award_action(client, staff, holders):
    client.force_login(staff)
    enrolled = holders["enrolled"]
    body = client.get(reverse("staff_organization", args=[enrolled.partner_id])).content.decode()
    panel = body[body.index('data-testid="console-benefits"') :]
    security = panel[panel.index('data-designation="security"') :]
    assert "Enrolled" in security[: security.index("</li>")]
    award = reverse("admin:benefits_specializationaward_add") + f"?organization={enrolled.pk}"
    assert award in panel
    # The admin's form opens with the organization filled in.
    form = client.get(award).content.decode()
    assert f'value="{enrolled.pk}" selected' in form
