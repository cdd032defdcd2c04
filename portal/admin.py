"""Staff screens for the tenancy app. Every screen shows the audit trail (django-simple-history):
who changed what, and when."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal.models import (
    Certification,
    HeldCertification,
    Invitation,
    LegacyCompetency,
    Membership,
    Organization,
    OrganizationLegacyCompetency,
    Person,
    User,
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
