"""The organization-scoped base class cannot be bypassed by its subclasses."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from portal.api.base import GlobalViewSet, OrganizationViewSet
from portal.models import Person
from tests.factories import PersonFactory


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "initial", "dispatch"])
@pytest.mark.parametrize("base", [OrganizationViewSet, GlobalViewSet])
def test_a_subclass_overriding_the_scoping_is_refused_when_defined(base, method):
    with pytest.raises(TypeError, match=method):
        type("Sneaky", (base,), {method: lambda self, *a, **k: None})


def test_a_subclass_of_a_subclass_is_checked_too():
    class People(OrganizationViewSet):
        pass

    with pytest.raises(TypeError, match="get_queryset"):
        type("Sneakier", (People,), {"get_queryset": lambda self: None})


@pytest.mark.django_db
def test_rows_of_another_organization_from_the_hook_are_filtered_out(org, other_org):
    mine = PersonFactory(organization=org)
    PersonFactory(organization=other_org)

    class Careless(OrganizationViewSet):
        model = Person

        def scoped_queryset(self, organization):
            # A hook that forgot the organization: the base filters to it all the same.
            return Person.objects.unscoped().all()

    view = Careless()
    view.request = APIRequestFactory().get("/")
    view.organization = org
    assert list(view.get_queryset()) == [mine]


@pytest.mark.django_db
def test_a_global_endpoint_cannot_serve_tenant_rows(org):
    class Wrong(GlobalViewSet):
        model = Person

        def scoped_queryset(self):
            return Person.objects.for_org(org)

    view = Wrong()
    view.request = APIRequestFactory().get("/")
    with pytest.raises(TypeError):
        view.get_queryset()
