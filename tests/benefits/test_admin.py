"""Staff screens of the benefits app: every changelist and change form opens; awards go
through the service's rules; versions in force are copied, not edited."""

from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from benefits import models
from benefits.models import BenefitPackage, SpecializationAward
from scoring.models import Specialization

pytestmark = pytest.mark.django_db

MODELS = [m for m in admin.site._registry if m._meta.app_label == "benefits"]


def test_every_benefits_model_has_an_admin():
    concrete = [
        m
        for m in vars(models).values()
        if isinstance(m, type)
        and hasattr(m, "_meta")
        and m._meta.app_label == "benefits"
        and not m._meta.abstract
        and not m.__name__.startswith("Historical")
        and m is not models.BenefitAllowance
    ]
    assert set(concrete) <= set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_opens(client, staff, model, django_assert_max_num_queries):
    client.force_login(staff)
    opts = model._meta
    with django_assert_max_num_queries(15):
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200


def test_package_change_form_and_copy(client, staff):
    client.force_login(staff)
    package = BenefitPackage.objects.get(code="designation-security")
    response = client.get(reverse("admin:benefits_benefitpackage_change", args=[package.pk]))
    assert response.status_code == 200
    response = client.post(
        reverse("admin:benefits_benefitpackage_changelist"),
        {"action": "copy_as_new_version", "_selected_action": [package.pk]},
    )
    assert response.status_code == 302
    newer = BenefitPackage.objects.filter(code=package.code).order_by("-effective_from").first()
    assert newer.effective_from > timezone.localdate()
    assert newer.items.count() == package.items.count()


def test_award_refused_in_the_admin_without_the_parent_designation(client, staff, org):
    client.force_login(staff)
    specialization = Specialization.objects.filter(designation__code="security").first()
    response = client.post(
        reverse("admin:benefits_specializationaward_add"),
        {
            "organization": org.pk,
            "specialization": specialization.pk,
            "awarded_on": date(2024, 4, 1).isoformat(),
            "evidence_note": "references",
        },
    )
    assert response.status_code == 200
    assert "needs the designation" in response.content.decode()
    assert not SpecializationAward.objects.for_org(org).exists()


def test_award_in_the_admin(client, staff, org, security_enrolled):
    client.force_login(staff)
    specialization = Specialization.objects.filter(designation__code="security").first()
    response = client.post(
        reverse("admin:benefits_specializationaward_add"),
        {
            "organization": org.pk,
            "specialization": specialization.pk,
            "awarded_on": date(2024, 4, 1).isoformat(),
            "evidence_note": "references",
        },
    )
    assert response.status_code == 302
    award = SpecializationAward.objects.for_org(org).get()
    assert award.awarded_by == staff
    assert award.history.first().history_user == staff
