"""Staff screens for the tenancy app. Every screen shows the audit trail (django-simple-history):
who changed what, and when."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal.models import (
    Certification,
    HeldCertification,
    Invitation,
    LegacyCompetency,
    Membership,
    Organization,
    OrganizationAPIKey,
    OrganizationLegacyCompetency,
    Person,
    PlatformAPIKey,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)


class UserCreationAdminForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users sign in with their e-mail address; there is no username."""

    add_form = UserCreationAdminForm
    form = UserChangeAdminForm

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class OrganizationLegacyCompetencyInline(admin.TabularInline):
    model = OrganizationLegacyCompetency
    extra = 0
    autocomplete_fields = ["competency"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "partner_id", "slug", "country", "renewal_date", "created_at"]
    list_filter = ["country", "renewal_date"]
    search_fields = ["name", "partner_id", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    inlines = [OrganizationLegacyCompetencyInline, MembershipInline]
    date_hierarchy = "renewal_date"


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__email", "organization__name", "organization__partner_id"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]
    readonly_fields = ["created_at"]


@admin.register(Invitation)
class InvitationAdmin(SimpleHistoryAdmin):
    list_display = [
        "email",
        "organization",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "status",
    ]
    list_filter = ["role", "organization"]
    search_fields = ["email", "organization__name", "organization__partner_id"]
    list_select_related = ["organization", "invited_by"]
    autocomplete_fields = ["organization", "invited_by", "accepted_by"]
    readonly_fields = [
        "token",
        "created_at",
        "accepted_at",
        "accepted_by",
        "signed_up_at",
        "signed_up_by",
    ]

    @admin.display(description=_("status"))
    def status(self, invitation: Invitation) -> str:
        if invitation.accepted_at:
            return str(_("accepted"))
        if invitation.revoked_at:
            return str(_("revoked"))
        return str(_("open")) if invitation.is_open else str(_("expired"))


class HeldCertificationInline(admin.TabularInline):
    model = HeldCertification
    extra = 0
    autocomplete_fields = ["certification"]
    fields = ["certification", "earned_on", "expires_on"]


@admin.register(Person)
class PersonAdmin(SimpleHistoryAdmin):
    list_display = ["name", "person_id", "organization", "email", "active"]
    list_filter = ["active", "organization"]
    search_fields = ["name", "person_id", "email", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    inlines = [HeldCertificationInline]

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]  # Django admin hook
        # A held certification belongs to its person's organization.
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, HeldCertification):
                instance.organization = form.instance.organization
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


@admin.register(Certification)
class CertificationAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "name_ja", "level", "active"]
    list_filter = ["level", "active", "designations"]
    search_fields = ["code", "name", "name_ja"]


@admin.register(LegacyCompetency)
class LegacyCompetencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_ja"]
    search_fields = ["code", "name", "name_ja"]


@admin.register(HeldCertification)
class HeldCertificationAdmin(SimpleHistoryAdmin):
    list_display = ["person", "certification", "organization", "earned_on", "expires_on"]
    list_filter = ["certification__level", "certification", "organization"]
    search_fields = [
        "person__name",
        "person__person_id",
        "certification__code",
        "organization__name",
    ]
    list_select_related = ["person", "certification", "organization"]
    autocomplete_fields = ["person", "certification", "organization"]
    date_hierarchy = "earned_on"


# --- API keys (portal.api_keys): platform keys are created here, shown once ------------------


@admin.action(description=_("Revoke the selected keys"))
def revoke_keys(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    from portal.api_keys import keys_revoke

    revoked = keys_revoke(keys=list(queryset), actor=request.user)
    modeladmin.message_user(request, _("%(count)d keys revoked.") % {"count": revoked})


@admin.register(PlatformAPIKey)
class PlatformAPIKeyAdmin(SimpleHistoryAdmin):
    """Telemetry pipelines' keys: created by staff, the key shown once on the next page."""

    list_display = ["name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    actions = [revoke_keys]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        from portal.api_keys import platform_key_create

        issued = platform_key_create(actor=request.user, name=obj.name)  # type: ignore[arg-type]  # staff
        # The admin goes on with `obj` (log entry, redirect): make it the row just created.
        for field in PlatformAPIKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued.record, field.attname))
        obj._state.adding = False
        request._issued_api_key = issued.key  # type: ignore[attr-defined]  # for response_add

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        key = getattr(request, "_issued_api_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Platform API key created"),
            "api_key": obj,
            "key": key,
        }
        response = TemplateResponse(request, "admin/portal/platformapikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(OrganizationAPIKey)
class OrganizationAPIKeyAdmin(SimpleHistoryAdmin):
    """Organizations' own keys: their admins create them; staff can see and revoke them."""

    list_display = ["name", "organization", "scope", "prefix", "created_at", "last_used_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["organization"]
    search_fields = ["name", "prefix", "organization__name", "organization__partner_id"]
    actions = [revoke_keys]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WebhookEndpointAdminForm(forms.ModelForm):
    """The same rules as the organization's page: HTTPS, known events."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["organization", "url", "description", "events", "active", "disabled_at"]

    def clean_url(self) -> str:
        from portal.webhooks import validated_url

        return _application_checked(validated_url, self.cleaned_data["url"])

    def clean_events(self) -> list[str]:
        from portal.webhooks import validated_events

        return _application_checked(validated_events, self.cleaned_data["events"] or [])


def _application_checked(check: Any, value: Any) -> Any:
    from django.core.exceptions import ValidationError

    from portal.exceptions import ApplicationError

    try:
        return check(value)
    except ApplicationError as error:
        raise ValidationError(error.message) from error


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SimpleHistoryAdmin):
    """Staff can register endpoints for any organization; the secret is never shown here."""

    form = WebhookEndpointAdminForm

    list_display = ["url", "organization", "active", "consecutive_failures", "disabled_at"]
    list_filter = ["active"]
    list_select_related = ["organization"]
    search_fields = ["url", "organization__name", "organization__partner_id"]
    fields = ["organization", "url", "description", "events", "active", "disabled_at"]
    autocomplete_fields = ["organization"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log, read-only."""

    list_display = ["event", "endpoint", "status", "response_code", "attempts", "created_at"]
    list_filter = ["status", "event"]
    list_select_related = ["endpoint"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
