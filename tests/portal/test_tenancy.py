"""Tenancy is fail-closed: `Model.objects` refuses every read that does not name an organization
(or say `unscoped()`), while Django's own machinery, which starts from scoped rows, keeps working
through the plain default manager."""

from datetime import date

import pytest
from django.apps import apps
from django.contrib import admin
from django.core import checks
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.test.utils import isolate_apps
from django.urls import reverse

from portal.models import (
    HeldCertification,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    OrganizationLegacyCompetency,
    Person,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.tenancy import TenantManager, TenantModel, TenantScopeError, UnscopedTenantManager
from scoring.models import (
    Association,
    Customer,
    OrganizationBulkJob,
    RuleSet,
    ScoreRecomputeRequest,
    ScoreSnapshot,
    TrackFreeze,
)
from tests.benefits.tenancy_rows import benefits_rows
from tests.factories import (
    HeldCertificationFactory,
    InvitationFactory,
    LegacyCompetencyHeldFactory,
    MembershipFactory,
    PersonFactory,
)


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


TENANT_MODELS = sorted(
    (m for m in apps.get_models() if issubclass(m, TenantModel)), key=lambda m: m.__name__
)


def test_every_model_with_an_organization_uses_the_tenant_base():
    offenders = [m.__name__ for m in _tenant_models() if not issubclass(m, TenantModel)]
    assert offenders == []
    assert len(TENANT_MODELS) >= 7


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_default_manager_is_unscoped_and_objects_is_strict(model):
    assert model._meta.default_manager_name == "unscoped_objects"
    assert isinstance(model._default_manager, UnscopedTenantManager)
    assert isinstance(model.objects, TenantManager)
    assert [e for e in model.check() if e.id.startswith("portal.")] == []


@isolate_apps("portal")
def test_the_check_refuses_a_tenant_model_whose_meta_drops_the_default_manager():
    class Forgetful(TenantModel):
        class Meta:  # does not extend TenantModel.Meta
            app_label = "portal"

    class Faithful(TenantModel):
        class Meta(TenantModel.Meta):
            app_label = "portal"

    assert [(type(e), e.id) for e in Forgetful.check() if e.id.startswith("portal.")] == [
        (checks.Error, "portal.E001")
    ]
    assert [e.id for e in Faithful.check() if e.id.startswith("portal.")] == []


def test_every_tenant_unique_constraint_starts_with_organization():
    for model in _tenant_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                first = (
                    constraint.fields[0] if constraint.fields else str(constraint.expressions[0])
                )
                assert "organization" in first, (model.__name__, constraint.name)


# Each query a caller might build on `Model.objects` without naming the organization.
UNSCOPED_QUERIES = {
    "filter": lambda m: m.objects.filter(pk=1),
    "exclude": lambda m: m.objects.exclude(pk=1),
    "get": lambda m: m.objects.get(pk=1),
    "count": lambda m: m.objects.count(),
    "exists": lambda m: m.objects.exists(),
    "all": lambda m: m.objects.all(),
    "aggregate": lambda m: m.objects.aggregate(n=Count("pk")),
    "annotate": lambda m: m.objects.annotate(n=Count("pk")),
    "values": lambda m: m.objects.values("pk"),
    "values_list": lambda m: m.objects.values_list("pk", flat=True),
    "update": lambda m: m.objects.update(organization_id=1),
    "delete": lambda m: m.objects.all().delete(),
    "iterator": lambda m: list(m.objects.iterator()),
    "first": lambda m: m.objects.first(),
    "order_by": lambda m: m.objects.order_by("pk"),
    "select_related": lambda m: m.objects.select_related("organization"),
    "in_bulk": lambda m: m.objects.in_bulk([1]),
    "using": lambda m: m.objects.using("default"),
    # Never evaluated by itself: only the outer query would run it.
    "Exists-subquery": lambda m: Organization.objects.filter(
        Exists(m.objects.filter(organization=OuterRef("pk")))
    ),
    "get_or_create without organization": lambda m: m.objects.get_or_create(pk=1),
    "update_or_create without organization": lambda m: m.objects.update_or_create(pk=1),
}


@pytest.mark.django_db
@pytest.mark.parametrize("query", UNSCOPED_QUERIES.values(), ids=UNSCOPED_QUERIES.keys())
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_an_unscoped_query_on_objects_raises_at_once(model, query):
    with pytest.raises(TenantScopeError):
        query(model)


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_for_org_refuses_none_and_unsaved_and_for_org_id_refuses_none(model):
    with pytest.raises(TenantScopeError):
        model.objects.for_org(None)
    with pytest.raises(TenantScopeError):
        model.objects.for_org(Organization(name="Unsaved", slug="unsaved", partner_id="9999"))
    with pytest.raises(TenantScopeError):
        model.objects.for_org("contoso")
    with pytest.raises(TenantScopeError):
        model.objects.for_org_id(None)
    with pytest.raises(TenantScopeError):
        model.objects.for_org_id("1")
    with pytest.raises(TenantScopeError):
        model.objects.unscoped().for_org(None)


def _one_of_each(organization: Organization) -> dict[type, models.Model]:
    """A row of every tenant model for the organization."""
    held = HeldCertificationFactory(person__organization=organization)
    rule_set = RuleSet.objects.get(designation__code="security", version=1)
    customer, _ = Customer.objects.get_or_create(platform="m365", customer_id="tenant-tenancy")
    rows = {
        Person: held.person,
        HeldCertification: held,
        Membership: MembershipFactory(organization=organization),
        Invitation: InvitationFactory(organization=organization),
        OrganizationLegacyCompetency: LegacyCompetencyHeldFactory(organization=organization),
        Association: Association.objects.create(
            organization=organization, customer=customer, type="CPOR", start_month=date(2024, 1, 1)
        ),
        ScoreSnapshot: ScoreSnapshot.objects.create(
            organization=organization,
            designation=rule_set.designation,
            rule_set=rule_set,
            as_of=date(2024, 6, 30),
            total=10.0,
            qualified=False,
        ),
        TrackFreeze: TrackFreeze.objects.create(
            organization=organization,
            designation=rule_set.designation,
            track="smb",
            starts_on=date(2024, 6, 1),
            ends_on=date(2025, 6, 1),
        ),
        OrganizationAPIKey: OrganizationAPIKey.objects.create(
            organization=organization,
            name="HR sync",
            prefix=f"t{organization.pk}",
            hashed_secret="x",
        ),
        ScoreRecomputeRequest: ScoreRecomputeRequest.objects.create(
            organization=organization, as_of=date(2024, 6, 30), requested_by="test"
        ),
        OrganizationBulkJob: OrganizationBulkJob.objects.create(
            organization=organization,
            caller="platform-key:1",
            kind="associations",
            media_type="application/json",
            rows=1,
        ),
    }
    endpoint = WebhookEndpoint.objects.create(
        organization=organization, url="https://example.com/hook", events=["import.finished"]
    )
    rows[WebhookEndpoint] = endpoint
    rows[WebhookDelivery] = WebhookDelivery.objects.create(
        organization=organization,
        endpoint=endpoint,
        event="import.finished",
        event_id="e",
        payload={},
    )
    rows.update(benefits_rows(organization, person=held.person))
    assert set(rows) == set(TENANT_MODELS), "a new tenant model needs a row here"
    return rows


@pytest.mark.django_db
def test_for_org_returns_only_that_organizations_rows_and_unscoped_returns_all(org, other_org):
    mine = _one_of_each(org)
    theirs = _one_of_each(other_org)
    for model in TENANT_MODELS:
        assert list(model.objects.for_org(org)) == [mine[model]], model.__name__
        assert list(model.objects.for_org_id(other_org.pk)) == [theirs[model]], model.__name__
        assert set(model.objects.unscoped()) == {mine[model], theirs[model]}, model.__name__


@pytest.mark.django_db
def test_writes_that_carry_the_organization_work(org, other_org):
    created = Person.objects.create(organization=org, person_id="P-1", name="Ada")
    Person.objects.bulk_create([Person(organization=org, person_id="P-2", name="Grace")])
    person, made = Person.objects.get_or_create(
        organization=org, person_id="P-1", defaults={"name": "ignored"}
    )
    assert (person, made) == (created, False)
    # Scoped by the organization passed: the same person_id elsewhere is another row.
    elsewhere, made = Person.objects.get_or_create(
        organization_id=other_org.pk, person_id="P-1", defaults={"name": "Alan"}
    )
    assert made and elsewhere.organization == other_org
    Person.objects.update_or_create(organization=org, person_id="P-2", defaults={"name": "G"})
    created.name = "Ada L."
    created.save()
    Person.objects.bulk_update([created], ["name"])
    created.refresh_from_db()
    assert sorted(Person.objects.for_org(org).values_list("name", flat=True)) == ["Ada L.", "G"]
    assert created.history.count() == 2  # django-simple-history still records saves


@pytest.mark.django_db
def test_related_access_from_a_scoped_parent_works(org, other_org):
    held = HeldCertificationFactory(person__organization=org)
    HeldCertificationFactory(person__organization=other_org)
    person = Person.objects.for_org(org).get()
    assert list(person.certifications.all()) == [held]
    assert person.certifications.count() == 1
    fetched = HeldCertification.objects.for_org(org).get()
    assert fetched.person == person  # forward access through the base manager
    people = list(
        Person.objects.for_org(org).prefetch_related(
            "certifications", Prefetch("certifications", to_attr="held")
        )
    )
    assert [list(p.certifications.all()) for p in people] == [[held]]
    assert people[0].held == [held]


@pytest.mark.django_db
def test_deleting_an_organization_cascades_to_its_rows(org, other_org):
    _one_of_each(org)
    theirs = _one_of_each(other_org)
    Organization.objects.unscoped().filter(pk=org.pk).delete()
    for model in TENANT_MODELS:
        assert list(model.objects.unscoped()) == [theirs[model]], model.__name__


@pytest.mark.django_db
def test_an_organizations_scoped_row_can_be_deleted_through_its_queryset(org, other_org):
    PersonFactory(organization=org)
    HeldCertificationFactory(person__organization=org)
    kept = PersonFactory(organization=other_org)
    Person.objects.for_org(org).delete()  # collector cascades to held certifications
    assert list(Person.objects.unscoped()) == [kept]
    assert not HeldCertification.objects.for_org(org).exists()


TENANT_ADMINS = [m for m in TENANT_MODELS if m in admin.site._registry]


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_ADMINS, ids=lambda m: m.__name__)
def test_the_admin_changelist_and_change_page_of_a_tenant_model_load(client, staff, org, model):
    row = _one_of_each(org)[model]
    client.force_login(staff)
    info = (model._meta.app_label, model._meta.model_name)
    assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    page = client.get(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
    assert page.status_code == 200
    history = client.get(reverse("admin:{}_{}_history".format(*info), args=[row.pk]))
    assert history.status_code == 200


@pytest.mark.django_db
def test_a_model_form_validates_tenant_uniqueness_through_the_default_manager(org):
    from django import forms

    PersonFactory(organization=org, person_id="P-1")

    class PersonForm(forms.ModelForm):
        class Meta:
            model = Person
            fields = ["organization", "person_id", "name"]

    form = PersonForm(data={"organization": org.pk, "person_id": "P-1", "name": "Twin"})
    assert not form.is_valid()
    assert "__all__" in form.errors  # uniq_person_id, checked with the unscoped manager
