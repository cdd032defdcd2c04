"""The staff console's organization list, export and organization page."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from portal.models import Organization
from scoring.models import Designation, RuleSet, ScoreSnapshot
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.scoring.console.helpers import snapshot

pytestmark = pytest.mark.django_db

CONSOLE = "/staff/"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def security():
    return Designation.objects.get(code="security")


@pytest.fixture
def data_ai():
    return Designation.objects.get(code="data-ai-azure")


@pytest.fixture
def partners(security, data_ai):
    """Given four partners: qualified, near the line (65), a metric at 0 (80 without one
    metric), and low (20); Data & AI scored only for the first."""
    qualified = OrganizationFactory(name="Alpine Qualified", partner_id="5000001", country="JP")
    near = OrganizationFactory(name="Birch Near", partner_id="5000002", country="US")
    zero = OrganizationFactory(name="Cedar Zero", partner_id="5000003", country="US")
    low = OrganizationFactory(name="Dogwood Low", partner_id="5000004", country="DE")
    snapshot(qualified, security, (20, 20, 20, 15))
    snapshot(near, security, (20, 15, 15, 15))
    snapshot(zero, security, (25, 25, 30, 0))
    snapshot(low, security, (5, 5, 5, 5))
    snapshot(qualified, data_ai, (10, 10, 10, 10))
    return {"qualified": qualified, "near": near, "zero": zero, "low": low}


def listed(response) -> list[str]:
    """The Partner IDs of the list's rows, in order."""
    body = response.content.decode()
    return [part.split('"', 1)[0] for part in body.split('data-partner-id="')[1:]]


# --- who may open it ----------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(CONSOLE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("flags", [{"is_staff": False}, {"is_staff": True, "is_active": False}])
def test_anyone_but_active_staff_gets_404(client, org, flags):
    user = UserFactory(**flags)
    MembershipFactory(organization=org, user=user, role="admin")
    client.force_login(user)
    for url in (
        CONSOLE,
        reverse("staff_organization_export"),
        reverse("staff_statistics"),
        reverse("staff_organization", args=[org.partner_id]),
    ):
        # An inactive user is signed out by Django itself; either way no console page.
        assert client.get(url).status_code in (302, 404), url
        assert client.get(url).status_code != 200


def test_non_staff_members_get_404(client, org, member):
    client.force_login(member)
    assert client.get(CONSOLE).status_code == 404
    assert (
        client.post(reverse("staff_organization_recompute", args=[org.partner_id])).status_code
        == 404
    )


def test_staff_with_no_organization_land_on_the_console(staff_client):
    response = staff_client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == CONSOLE
    assert response.status_code == 200


# --- the list -----------------------------------------------------------------------------


def test_every_organization_with_its_score_and_badge(staff_client, partners):
    response = staff_client.get(CONSOLE)
    assert response.status_code == 200
    assert listed(response) == ["5000001", "5000002", "5000003", "5000004"]
    body = response.content.decode()
    row = body[body.index('data-partner-id="5000001"') :]
    row = row[: row.index("</tr>")]
    assert "75.0" in row and "Qualified" in row
    near = body[body.index('data-partner-id="5000002"') :]
    assert "65.0" in near[: near.index("</tr>")] and "Near" in near[: near.index("</tr>")]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"designation": "security", "status": "qualified"}, ["5000001"]),
        ({"designation": "security", "status": "not_qualified"}, ["5000002", "5000003", "5000004"]),
        ({"designation": "security", "status": "near"}, ["5000002"]),
        ({"designation": "security", "status": "zero_metric"}, ["5000003"]),
        ({"designation": "data-ai-azure", "status": "not_qualified"}, ["5000001"]),
        ({"status": "qualified"}, ["5000001"]),  # any designation
        ({"country": "us"}, ["5000002", "5000003"]),
        ({"q": "cedar"}, ["5000003"]),
        ({"q": "500000"}, ["5000001", "5000002", "5000003", "5000004"]),
        (
            {"designation": "security", "sort": "score"},
            ["5000003", "5000001", "5000002", "5000004"],
        ),
        (
            {"designation": "security", "sort": "-score"},
            ["5000004", "5000002", "5000001", "5000003"],
        ),
        ({"sort": "-name"}, ["5000004", "5000003", "5000002", "5000001"]),
        ({"sort": "country"}, ["5000004", "5000001", "5000002", "5000003"]),
        ({"status": "nonsense", "sort": "nonsense"}, ["5000001", "5000002", "5000003", "5000004"]),
    ],
)
def test_filters_search_and_sorting(staff_client, partners, params, expected):
    assert listed(staff_client.get(CONSOLE, params)) == expected


def test_the_current_score_is_the_latest_snapshot(staff_client, partners, security):
    # An older, higher score and a newer, lower one: the newer counts.
    near = partners["near"]
    snapshot(near, security, (25, 25, 25, 25), as_of=date(2024, 3, 31))
    response = staff_client.get(CONSOLE, {"designation": "security", "status": "near"})
    assert listed(response) == ["5000002"]
    # A later rule-set version scoring the same date wins over the earlier version.
    later = RuleSet.objects.create(
        designation=security, version=99, effective_from=date(2024, 6, 1)
    )
    snapshot(near, security, (25, 25, 25, 25), rule_set=later)
    assert listed(staff_client.get(CONSOLE, {"designation": "security", "status": "near"})) == []
    assert listed(
        staff_client.get(CONSOLE, {"designation": "security", "status": "qualified"})
    ) == [
        "5000001",
        "5000002",
    ]


def test_pagination_keeps_the_filters(staff_client, security):
    OrganizationFactory.create_batch(55, country="FR")
    OrganizationFactory(country="IT")
    first = staff_client.get(CONSOLE, {"country": "FR"})
    assert len(listed(first)) == 50
    assert "country=FR&amp;page=2" in first.content.decode()
    second = staff_client.get(CONSOLE, {"country": "FR", "page": 2})
    assert len(listed(second)) == 5


def test_one_page_of_2000_organizations_in_a_constant_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    """Given 2,000 organizations, each scored in six designations on two dates."""
    designations = list(Designation.objects.all())
    first_version = {
        d.pk: RuleSet.objects.filter(designation=d).order_by("version").first()
        for d in designations
    }
    organizations = Organization.objects.bulk_create(
        Organization(
            partner_id=f"{7000000 + n}", name=f"Bulk {n:04d}", slug=f"bulk-{n}", country="US"
        )
        for n in range(2000)
    )
    rows = []
    for n, organization in enumerate(organizations):
        for designation in designations:
            for as_of in (date(2024, 5, 31), date(2024, 6, 30)):
                points = (n % 30, 20, 20, 10)
                rows.append(
                    snapshot(
                        organization,
                        designation,
                        points,
                        as_of=as_of,
                        rule_set=first_version[designation.pk],
                        save=False,
                    )
                )
    ScoreSnapshot.objects.bulk_create(rows, batch_size=2000)
    # session, user, count, page of organizations, their snapshots, designations, countries,
    # tracks, the switcher; benefits' status column (terms, window rules)
    for params in (
        {},
        {"designation": "security", "status": "near", "sort": "score"},
        {"status": "zero_metric"},
        {"page": 3},
    ):
        with django_assert_max_num_queries(11):
            response = staff_client.get(CONSOLE, params)
        assert response.status_code == 200
        assert len(listed(response)) == 50
    near = staff_client.get(CONSOLE, {"designation": "security", "status": "near"})
    # n % 30 in 10..19 gives 60..69.
    expected = sum(1 for n in range(2000) if 10 <= n % 30 <= 19)
    assert f"{expected} organizations" in near.content.decode()


# --- export -------------------------------------------------------------------------------


def test_the_export_is_the_filtered_list_and_formula_safe(staff_client, partners, security):
    partners["near"].name = '=HYPERLINK("http://x")'
    partners["near"].save()
    response = staff_client.get(
        reverse("staff_organization_export"), {"designation": "security", "status": "not_qualified"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, data = rows[0], rows[1:]
    assert header[:4] == ["Partner ID", "Name", "Country", "As of"]
    assert [row[0] for row in data] == ["5000002", "5000003", "5000004"]
    near = data[0]
    assert near[1] == '\'=HYPERLINK("http://x")'
    security_column = header.index(f"{security.display_name} score")
    assert near[security_column] == "65.0"
    assert near[security_column + 1] == "no"


# --- the organization page ----------------------------------------------------------------


def test_the_organization_page_shows_what_the_partner_sees(staff_client, partners):
    organization = partners["near"]
    response = staff_client.get(reverse("staff_organization", args=[organization.partner_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="card score-card') == Designation.objects.count()
    assert "65.0" in body
    assert reverse("admin:portal_organization_change", args=[organization.pk]) in body
    assert 'data-testid="staff-recompute"' in body


def test_an_unknown_partner_id_is_404(staff_client):
    assert staff_client.get(reverse("staff_organization", args=["999999999"])).status_code == 404


def test_staff_recompute_now(staff_client, org):
    response = staff_client.post(reverse("staff_organization_recompute", args=[org.partner_id]))
    assert response.status_code == 302
    assert ScoreSnapshot.objects.for_org(org).count() == Designation.objects.count()
    assert (
        staff_client.get(reverse("staff_organization_recompute", args=[org.partner_id])).status_code
        == 405
    )


def test_the_organization_page_query_ceiling(staff_client, partners, django_assert_max_num_queries):
    organization = partners["qualified"]
    # Scores, people, competencies, members (about 12) and benefits' panel (holdings: its terms,
    # window rules, GA date, qualified days, awards); none grows with the data.
    with django_assert_max_num_queries(18):
        response = staff_client.get(reverse("staff_organization", args=[organization.partner_id]))
    assert response.status_code == 200


def test_the_track_filter(staff_client, partners, security):
    from scoring.models import Track

    rule_set = RuleSet.objects.filter(designation=security).order_by("version").first()
    Track.objects.create(rule_set=rule_set, code="smb", name="SMB", name_ja="SMB")
    ScoreSnapshot.objects.unscoped().filter(organization=partners["near"]).update(track="smb")
    response = staff_client.get(CONSOLE, {"designation": "security", "track": "smb"})
    assert listed(response) == ["5000002"]
    assert '<option value="smb"' in response.content.decode()
    assert listed(staff_client.get(CONSOLE, {"track": "enterprise"})) == []
