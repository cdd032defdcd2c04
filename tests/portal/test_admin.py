"""Staff screens: every portal model has a changelist, a change form and its audit trail."""

import pytest
from django.urls import reverse

from portal.models import (
    Certification,
    HeldCertification,
    Invitation,
    LegacyCompetency,
    Membership,
    Organization,
    Person,
)
from tests.factories import (
    HeldCertificationFactory,
    InvitationFactory,
    LegacyCompetencyHeldFactory,
    MembershipFactory,
)

MODELS = [Organization, Membership, Invitation, Person, Certification, HeldCertification]


@pytest.fixture
def populated(org, admin_member):
    for _ in range(10):
        HeldCertificationFactory(person__organization=org)
        MembershipFactory(organization=org)
        InvitationFactory(organization=org, invited_by=admin_member)
    LegacyCompetencyHeldFactory(organization=org)
    return org


def _one(model):
    manager = model.objects
    return (manager.unscoped() if hasattr(manager, "unscoped") else manager.all()).first()


@pytest.mark.django_db
@pytest.mark.parametrize("model", [*MODELS, LegacyCompetency], ids=lambda m: m.__name__)
def test_changelist_and_change_form(client, staff, populated, model, django_assert_max_num_queries):
    client.force_login(staff)
    opts = model._meta
    with django_assert_max_num_queries(15):
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    response = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[_one(model).pk])
    )
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_history_shows_who_changed_what(client, staff, populated, model):
    client.force_login(staff)
    opts = model._meta
    response = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[_one(model).pk])
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_an_admin_edit_is_attributed_to_the_staff_user(client, staff, org):
    client.force_login(staff)
    url = reverse("admin:portal_organization_change", args=[org.pk])
    response = client.get(url)
    form = response.context["adminform"].form
    data = {
        name: (value if value is not None else "")
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(name="Contoso Security KK", renewal_date="2027-04-01")
    # Inline management forms, empty.
    for formset in response.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    record = org.history.first()
    assert record.name == "Contoso Security KK"
    assert record.history_user == staff


@pytest.mark.django_db
def test_partners_cannot_open_the_admin(client, admin_member):
    client.force_login(admin_member)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
