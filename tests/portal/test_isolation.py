"""A member of one organization gets 404 on every page of another, GET or POST.

The URLs are enumerated from the URLconf, so a page added under `orgs/<slug>/` is covered
without touching this file.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.models import Membership
from tests.factories import (
    HeldCertificationFactory,
    InvitationFactory,
    MembershipFactory,
    PersonFactory,
)

ORG_PREFIX = "orgs/<slug:slug>/"


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and entry.name:
            yield route, entry.name


def organization_url_names() -> list[str]:
    return sorted(
        {name for route, name in _walk(get_resolver().url_patterns) if route.startswith(ORG_PREFIX)}
    )


def _kwargs_for(name: str, organization, slug: str) -> dict:
    """Fill each URL parameter with a real object of `organization`, so only the org is wrong."""
    pattern = next(route for route, n in _walk(get_resolver().url_patterns) if n == name)
    kwargs = {"slug": slug}
    if "<int:membership_id>" in pattern:
        kwargs["membership_id"] = Membership.objects.for_org(organization).first().pk
    if "<int:invitation_id>" in pattern:
        kwargs["invitation_id"] = InvitationFactory(organization=organization).pk
    if "<int:person_pk>" in pattern:
        held = HeldCertificationFactory(person=PersonFactory(organization=organization))
        kwargs["person_pk"] = held.person_id
        kwargs["held_pk"] = held.pk
    if "designation_code>" in pattern:
        kwargs["designation_code"] = "security"
    if "<str:metric_code>" in pattern:
        # A drill-down needs the organization's scores: compute them (no telemetry, all zero).
        from django.utils import timezone

        from scoring.services import scores_recompute

        scores_recompute(organization_ids=[organization.pk], as_of=timezone.localdate())
        kwargs["metric_code"] = "deployments"
    for part in pattern.split("<")[1:]:
        converter, _, rest = part.partition(":")
        param = rest.split(">", 1)[0]
        kwargs.setdefault(param, 1 if converter == "int" else "x")
    return {key: value for key, value in kwargs.items() if f":{key}>" in pattern}


def test_the_walk_finds_the_organization_pages():
    names = organization_url_names()
    assert {"org_home", "org_members", "org_member_invite", "org_member_role"} <= set(names)


@pytest.mark.django_db
@pytest.mark.parametrize("name", organization_url_names())
def test_member_of_another_org_gets_404(client, org, admin_member, other_member, name):
    MembershipFactory(organization=org, role="member")
    url = reverse(name, kwargs=_kwargs_for(name, org, org.slug))
    before = sorted(Membership.objects.unscoped().values_list("pk", "role"))

    client.force_login(other_member)
    assert client.get(url).status_code == 404
    assert client.post(url, {"role": "admin", "email": "x@example.com"}).status_code == 404
    assert sorted(Membership.objects.unscoped().values_list("pk", "role")) == before

    # The same URL is real for a member of the organization (so the 404 above is the tenant check).
    client.force_login(admin_member)
    assert client.get(url).status_code in {200, 405}


@pytest.mark.django_db
@pytest.mark.parametrize("name", organization_url_names())
def test_unknown_slug_gets_404(client, org, admin_member, name):
    url = reverse(name, kwargs=_kwargs_for(name, org, "no-such-organization"))
    client.force_login(admin_member)
    assert client.get(url).status_code == 404
    assert client.post(url, {"role": "admin"}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", organization_url_names())
def test_signed_out_visitor_is_sent_to_sign_in(client, org, admin_member, name):
    url = reverse(name, kwargs=_kwargs_for(name, org, org.slug))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_staff_without_membership_gets_404_too(client, org, staff):
    client.force_login(staff)
    assert client.get(reverse("org_home", args=[org.slug])).status_code == 404


@pytest.mark.django_db
def test_404_page_does_not_reveal_the_organization(client, org, other_member):
    client.force_login(other_member)
    response = client.get(reverse("org_home", args=[org.slug]))
    assert org.name not in response.content.decode()
    assert org.partner_id not in response.content.decode()
