"""Staff screens of the benefits app: the catalog (products, versioned packages), program terms
(fees, window rules, specialization caps and availability), and every organization's terms,
status history, awards, renewal choices and benefit use. Each screen keeps the audit trail
(django-simple-history).

A package version in force is never edited in place: "Copy as a new version" starts the next
version, so what was granted under the old one stays as it was.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from benefits.models import (
    AnnualFee,
    BenefitActivation,
    BenefitAssignment,
    BenefitPackage,
    BenefitProduct,
    DesignationStatusChange,
    DesignationTerm,
    Notification,
    NotificationPreference,
    PackageItem,
    QualificationWindowRule,
    RenewalChoice,
    SpecializationArea,
    SpecializationAvailability,
    SpecializationAward,
)
from benefits.selectors import specialization_award_refusal
from benefits.services import specialization_award
from portal.exceptions import ApplicationError


@admin.register(BenefitProduct)
class BenefitProductAdmin(SimpleHistoryAdmin):
    list_display = [
        "code",
        "name",
        "unit",
        "stacking",
        "use",
        "activated_on_tenant",
        "reassign_after_days",
        "position",
    ]
    list_filter = ["unit", "stacking", "use", "activated_on_tenant"]
    search_fields = ["code", "name", "name_ja"]
    list_editable = ["position"]


class PackageItemInline(admin.TabularInline):
    model = PackageItem
    extra = 0
    autocomplete_fields = ["product"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _package_editable(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _package_editable(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _package_editable(obj) and super().has_delete_permission(request, obj)


def _package_editable(package: BenefitPackage | None) -> bool:
    """A version not yet in force can change; one in force is copied into a new version."""
    return package is None or package.effective_from > timezone.localdate()


@admin.register(BenefitPackage)
class BenefitPackageAdmin(SimpleHistoryAdmin):
    list_display = [
        "code",
        "name",
        "grantor",
        "designation",
        "specialization",
        "effective_from",
        "quantities_published",
    ]
    list_filter = ["grantor", "quantities_published", "designation"]
    search_fields = ["code", "name", "name_ja", "catalog_note"]
    inlines = [PackageItemInline]
    list_select_related = ["designation", "specialization"]
    actions = ["copy_as_new_version"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and not _package_editable(obj):
            return ["code", "grantor", "designation", "specialization", "effective_from"]
        return []

    @admin.action(description=_("Copy as a new version (in force from tomorrow)"))
    def copy_as_new_version(self, request: HttpRequest, queryset: QuerySet[BenefitPackage]) -> None:
        starts = timezone.localdate() + timedelta(days=1)
        with transaction.atomic():
            for package in queryset:
                items = list(package.items.all())
                package.pk = None
                package.effective_from = starts
                package.save()
                for item in items:
                    item.pk = None
                    item.package = package
                    item.save()
        self.message_user(request, _("New versions start on %(date)s.") % {"date": starts})


@admin.register(PackageItem)
class PackageItemAdmin(SimpleHistoryAdmin):
    list_display = ["package", "product", "quantity", "detail"]
    list_select_related = ["package", "product"]
    list_filter = ["package__grantor"]
    search_fields = ["package__code", "product__code"]


@admin.register(AnnualFee)
class AnnualFeeAdmin(SimpleHistoryAdmin):
    list_display = ["offer", "effective_from", "amount", "currency", "available", "source"]
    list_filter = ["offer", "available"]


@admin.register(QualificationWindowRule)
class QualificationWindowRuleAdmin(SimpleHistoryAdmin):
    list_display = [
        "effective_from",
        "kind",
        "days_before_anniversary",
        "previous_months",
        "renewal_window_days",
        "source",
    ]


@admin.register(SpecializationArea)
class SpecializationAreaAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "cap"]
    filter_horizontal = ["designations"]


@admin.register(SpecializationAvailability)
class SpecializationAvailabilityAdmin(SimpleHistoryAdmin):
    list_display = ["specialization", "available_from", "available_until", "source"]
    list_select_related = ["specialization"]
    list_filter = ["specialization__designation"]


@admin.register(DesignationTerm)
class DesignationTermAdmin(SimpleHistoryAdmin):
    list_display = [
        "organization",
        "designation",
        "kind",
        "starts_on",
        "ends_on",
        "fee_amount",
        "created_by",
    ]
    list_filter = ["designation", "kind"]
    search_fields = ["organization__name", "organization__partner_id"]
    readonly_fields = ["created_by", "created_at", "renewal_choice"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DesignationTerm]:
        # Staff see every organization's terms: a deliberate cross-tenant read.
        return DesignationTerm.objects.unscoped().select_related("organization", "designation")


@admin.register(DesignationStatusChange)
class DesignationStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["organization", "designation", "status", "changed_on", "actor", "reason"]
    list_filter = ["status", "designation"]
    search_fields = ["organization__name", "organization__partner_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DesignationStatusChange]:
        # Staff review every organization's history: a deliberate cross-tenant read.
        return DesignationStatusChange.objects.unscoped().select_related(
            "organization", "designation", "actor"
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history is never rewritten


class SpecializationAwardForm(forms.ModelForm):
    class Meta:
        model = SpecializationAward
        fields = ["organization", "specialization", "awarded_on", "ends_on", "evidence_note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and all(
            data.get(key) for key in ("organization", "specialization", "awarded_on")
        ):
            refusal = specialization_award_refusal(
                organization=data["organization"],
                specialization=data["specialization"],
                awarded_on=data["awarded_on"],
            )
            if refusal:
                raise ValidationError(refusal)
        return data


@admin.register(SpecializationAward)
class SpecializationAwardAdmin(SimpleHistoryAdmin):
    """Awards go through the service, which refuses one without the parent designation held or
    beyond the area's cap."""

    form = SpecializationAwardForm
    list_display = ["organization", "specialization", "awarded_on", "ends_on", "awarded_by"]
    list_filter = ["specialization__designation"]
    search_fields = ["organization__name", "organization__partner_id"]
    autocomplete_fields = ["organization"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpecializationAward]:
        # Staff see every organization's awards: a deliberate cross-tenant read.
        return SpecializationAward.objects.unscoped().select_related(
            "organization", "specialization"
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None:
            return ["organization", "specialization", "awarded_on", "awarded_by"]
        return ["awarded_by"]

    def save_model(
        self, request: HttpRequest, obj: SpecializationAward, form: Any, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            created = specialization_award(
                organization=obj.organization,
                specialization_code=obj.specialization.code,
                awarded_on=obj.awarded_on,
                ends_on=obj.ends_on,
                evidence_note=obj.evidence_note,
                actor=request.user,  # type: ignore[arg-type]  # the admin requires a signed-in user
            )
        except (ApplicationError, PermissionDenied) as error:
            # The form checked the same rules; only a concurrent award gets here.
            messages.error(request, str(error))
            return
        obj.pk = created.pk


@admin.register(RenewalChoice)
class RenewalChoiceAdmin(SimpleHistoryAdmin):
    """Staff see every organization's choice; admins make it on the renewal page."""

    list_display = [
        "organization",
        "anniversary",
        "option",
        "fee_amount",
        "fee_currency",
        "chosen_by",
        "chosen_at",
    ]
    list_filter = ["option"]
    search_fields = ["organization__name", "organization__partner_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RenewalChoice]:
        # Staff review every organization's choice: a deliberate cross-tenant read.
        return RenewalChoice.objects.unscoped().select_related("organization", "chosen_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BenefitAssignment)
class BenefitAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["organization", "product", "person", "assigned_on", "unassigned_on"]
    list_filter = ["product"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BenefitAssignment]:
        # Staff support every organization: a deliberate cross-tenant read.
        return BenefitAssignment.objects.unscoped().select_related(
            "organization", "product", "person"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # admins assign on the benefit-use page, within the grant


@admin.register(BenefitActivation)
class BenefitActivationAdmin(SimpleHistoryAdmin):
    list_display = ["organization", "product", "tenant", "activated_on"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BenefitActivation]:
        # Staff support every organization: a deliberate cross-tenant read.
        return BenefitActivation.objects.unscoped().select_related("organization", "product")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["organization", "user", "kind", "event_key", "created_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["organization__name", "user__email", "event_key"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        # Staff support every organization: a deliberate cross-tenant read.
        return Notification.objects.unscoped().select_related("organization", "user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(SimpleHistoryAdmin):
    list_display = ["organization", "user", "kind", "email"]
    list_filter = ["kind", "email"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[NotificationPreference]:
        # Staff support every organization: a deliberate cross-tenant read.
        return NotificationPreference.objects.unscoped().select_related("organization", "user")
