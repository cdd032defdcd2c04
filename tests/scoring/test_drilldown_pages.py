"""The designation page and a metric's drill-down: what they show, links from every number,
query ceilings an N+1 would break, isolation, Japanese."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from portal.models import Organization, Person
from scoring.models import Certification
from tests.factories import HeldCertificationFactory, MembershipFactory, PersonFactory
from tests.scoring.test_drilldown import scored_security, security_files
from tests.scoring.test_published_scenarios import PARTNER, VERSION_DAYS, _import

pytestmark = pytest.mark.django_db

AS_OF = VERSION_DAYS["2022"]


def designation_url(org, code="security"):
    return reverse("org_designation", args=[org.slug, code])


def drilldown_url(org, metric, code="security"):
    return reverse("org_metric_drilldown", args=[org.slug, code, metric])


@pytest.fixture
def partner(client):
    """The Security scenario's organization (2022 rules), scored, and a member signed in."""
    _import(security_files(AS_OF))
    scored_security(AS_OF)
    organization = Organization.objects.unscoped().get(partner_id=PARTNER)
    client.force_login(MembershipFactory(organization=organization).user)
    return organization


def test_dashboard_cards_link_to_the_designation_page(client, partner):
    body = client.get(reverse("org_scores", args=[partner.slug])).content.decode()
    assert f'href="{designation_url(partner)}" data-testid="designation-link"' in body


def test_designation_page_shows_total_line_metrics_and_links_every_number(client, partner):
    response = client.get(designation_url(partner))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="total">90.0<' in body
    assert "Meets 70 points" in body
    for metric in ("net_customer_adds", "intermediate_certifications", "usage_growth",
                   "deployments"):  # fmt: skip
        url = drilldown_url(partner, metric)
        assert f'href="{url}" data-testid="drilldown-link"' in body  # the metric's name
        assert body.count(f'href="{url}"') >= 3  # its value and its points
    # Each source's figure links to its own rows.
    assert f'href="{drilldown_url(partner, "net_customer_adds")}#source-m365"' in body
    assert f'href="{drilldown_url(partner, "intermediate_certifications")}#people-people"' in body
    # The designation's tabs: the overview and each metric's drill-down, nothing else.
    start = body.index('data-testid="designation-nav"')
    nav = body[start : body.index("</nav>", start)]
    assert nav.count("<a ") == 1 + 4


def test_drilldown_lists_adds_losses_and_the_tenant_that_almost_counts(client, partner):
    body = client.get(drilldown_url(partner, "net_customer_adds")).content.decode()
    assert body.count('data-testid="drilldown-row" data-counts="true"') == 7  # 6 adds, 1 loss
    assert "00000000-0000-4000-8000-000000000100" in body  # the loss
    assert "Lost in January 2023: no paid seats after 30" in body
    assert "Added in October 2022: 400 paid seats after none" in body
    assert "15 more seats in March 2023 make this tenant an add" in body


def test_drilldown_of_skilling_lists_people_and_who_is_one_certification_short(client, partner):
    body = client.get(drilldown_url(partner, "intermediate_certifications")).content.decode()
    assert body.count('data-testid="drilldown-person"') == 6
    assert "Person S7" in body and "One more certification makes this person count" in body


def test_drilldown_of_deployments_names_the_crossing_month_and_the_almost_deployment(
    client, partner
):
    body = client.get(drilldown_url(partner, "deployments")).content.decode()
    assert "Deployed in October 2022: 300 users of 400 paid seats now" in body
    # T102: 20 protected users of 400 seats; above 15 % takes 61.
    assert "41 more users make this tenant a deployment" in body


def _many(organization, count=30):
    """30 more counting tenants (on the scored telemetry) and 30 more people, rescored."""
    certifications = [Certification.objects.get(code=c) for c in ("AZ-500", "MS-500", "SC-200")]
    for _ in range(count):
        person = PersonFactory(organization=organization)
        for certification in certifications:
            HeldCertificationFactory(person=person, certification=certification)


@pytest.fixture
def big_partner(client):
    _import(security_files(AS_OF, extra_tenants=30))
    organization = Organization.objects.unscoped().get(partner_id=PARTNER)
    _many(organization)
    scored_security(AS_OF)
    client.force_login(MembershipFactory(organization=organization).user)
    return organization


def test_query_ceilings_an_n_plus_one_would_break(
    client, big_partner, django_assert_max_num_queries
):
    assert Person.objects.for_org(big_partner).count() >= 38
    urls = [designation_url(big_partner)] + [
        drilldown_url(big_partner, metric)
        for metric in (
            "net_customer_adds",
            "intermediate_certifications",
            "usage_growth",
            "deployments",
        )
    ]
    for url in urls:
        client.get(url)  # the rule sets in force are loaded once per process
    # The designation page reads stored scores; a drill-down runs one statement per source
    # (on PostgreSQL with its planner settings set and put back: 3 queries and a savepoint).
    # 35 tenants and 38 people: a query per row would go far past either ceiling.
    for url, ceiling in zip(urls, [10, 20, 20, 20, 20], strict=True):
        with django_assert_max_num_queries(ceiling):
            response = client.get(url)
        assert response.status_code == 200
    body = client.get(drilldown_url(big_partner, "deployments")).content.decode()
    assert body.count('data-counts="true"') == 35 + 1  # 35 tenants and one Azure customer


def test_another_organizations_member_gets_404(client, partner, other_member):
    client.force_login(other_member)
    assert client.get(designation_url(partner)).status_code == 404
    assert client.get(drilldown_url(partner, "deployments")).status_code == 404


def test_unknown_designation_or_metric_is_404(client, partner):
    assert client.get(designation_url(partner, "no-such")).status_code == 404
    assert client.get(drilldown_url(partner, "no-such")).status_code == 404
    assert client.get(drilldown_url(partner, "deployments", "no-such")).status_code == 404
    # A metric of another designation's rules is not this designation's.
    assert client.get(drilldown_url(partner, "advanced_certifications")).status_code == 404


def test_pages_render_in_japanese(client, partner):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    for url in (designation_url(partner), drilldown_url(partner, "net_customer_adds")):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        assert response.status_code == 200
        body = response.content.decode()
        assert '<html lang="ja">' in body
        assert "Security ソリューションパートナー" in body  # the designation's Japanese name
        assert ">スコア<" in body  # the organization's Scores tab, current
    # The designation page's verdict and the metrics' gaps read in Japanese.
    body = client.get(designation_url(partner), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "認定要件を達成" in body
