import pytest
from django.apps import apps
from django.db import models

from portal.models import Person
from portal.tenancy import TenantManager, TenantModel, TenantScopeError
from tests.factories import PersonFactory


def _tenant_models():
    for model in apps.get_models():
        if model.__module__.startswith(("django.", "allauth.", "simple_history.")):
            continue
        if model._meta.app_label not in {"portal", "scoring", "benefits"}:
            continue
        # Audit rows (django-simple-history) are read only through an instance's history.
        if model.__name__.startswith("Historical"):
            continue
        if any(
            isinstance(f, models.ForeignKey) and f.related_model.__name__ == "Organization"
            for f in model._meta.get_fields()
            if f.concrete
        ):
            yield model


def test_every_model_with_an_organization_uses_the_tenant_base():
    offenders = [
        m.__name__
        for m in _tenant_models()
        if not issubclass(m, TenantModel) or not isinstance(m._default_manager, TenantManager)
    ]
    assert offenders == []
    assert len(list(_tenant_models())) >= 5


def test_every_tenant_unique_constraint_starts_with_organization():
    for model in _tenant_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                first = (
                    constraint.fields[0] if constraint.fields else str(constraint.expressions[0])
                )
                assert "organization" in first, (model.__name__, constraint.name)


@pytest.mark.django_db
def test_for_org_scopes_and_fails_closed(org, other_org):
    mine = PersonFactory(organization=org)
    PersonFactory(organization=other_org)
    assert list(Person.objects.for_org(org)) == [mine]
    with pytest.raises(TenantScopeError):
        Person.objects.for_org(None)
    with pytest.raises(TenantScopeError):
        Person.objects.for_org("contoso")
    assert Person.objects.unscoped().count() == 2
