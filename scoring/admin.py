"""Staff screens for the program data, telemetry and scores.

Rule sets are versioned: one that scores were computed with is locked (read-only here, with its
metrics, sources and certification groups), and staff change the rules by copying it as a new
version with a later effective date. The rules themselves (lock, status, which save is refused,
the proposed date of a new version) are `scoring.rulesets`'; this module only applies its
answers to the Django admin. Changes to associations queue their organizations' recompute
through the audit history (`scoring.signals`), like every other door.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal.exceptions import ApplicationError
from scoring.models import (
    Association,
    CertificationGroup,
    CertificationLifetime,
    CertificationStep,
    Customer,
    Designation,
    MetricRule,
    MetricSource,
    ProgramDate,
    RateCardEntry,
    RecomputeRun,
    RuleSet,
    ScoreSnapshot,
    Specialization,
    Track,
    TrackFreeze,
    Usage,
    Workload,
)
from scoring.rulesets import (
    RuleSetStatus,
    metric_rule_may_be_deleted_alone,
    rule_set_check_save,
    rule_set_is_locked,
    rule_set_latest_effective_from,
    rule_set_new_version,
    rule_set_proposed_effective_from,
    rule_set_unlocked_list,
    rule_set_with_status,
)

# Set on the request when a save was rolled back, so the form is shown again with the reason.
_REJECTION_ATTRIBUTE = "_scoring_rule_set_rejection"


class _RuleSetRejected(Exception):
    """Raised inside the admin's save transaction to roll back a save that broke a rule set."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_locked(rule_set: RuleSet) -> bool:
    """Locked state, read once per object (the admin asks for permissions many times a page)."""
    if not hasattr(rule_set, "has_snapshots"):
        rule_set.has_snapshots = rule_set_is_locked(rule_set=rule_set)  # type: ignore[attr-defined]  # cached on the instance
    return bool(rule_set.has_snapshots)  # type: ignore[attr-defined]  # set just above


class RuleSetGuardMixin:
    """Shared by the rule-set and metric screens: locked rules are read-only; a save that leaves
    a rule set in force invalid is rolled back and the form is shown again with the problems."""

    def rule_set_of(self, obj: Any) -> RuleSet | None:
        raise NotImplementedError

    def is_locked(self, obj: Any) -> bool:
        rule_set = self.rule_set_of(obj) if obj is not None else None
        return rule_set is not None and rule_set.pk is not None and _is_locked(rule_set)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.is_locked(obj):
            return False
        return super().has_change_permission(request, obj)  # type: ignore[misc]  # mixin

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.is_locked(obj):
            return False
        return super().has_delete_permission(request, obj)  # type: ignore[misc]  # mixin

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        # Reverting from the history page would bypass the lock and the validation below.
        return True

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)  # type: ignore[misc]  # mixin

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]  # mixin
        except _RuleSetRejected as rejection:
            # The save ran in the admin's transaction and was rolled back; render the submitted
            # form again, this time refusing it with the problems.
            setattr(request, _REJECTION_ATTRIBUTE, rejection.message)
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]  # mixin

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]  # mixin
        rejection = getattr(request, _REJECTION_ATTRIBUTE, None)
        if rejection is None:
            return form_class
        reason = str(rejection)

        class RejectedForm(form_class):  # type: ignore[misc, valid-type]  # dynamic form class
            def clean(self) -> dict[str, Any]:
                super().clean()
                raise ValidationError(reason)

        return RejectedForm

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]  # mixin
        rule_set = self.rule_set_of(form.instance)
        if rule_set is None:
            return
        check = rule_set_check_save(rule_set=rule_set)
        if not check.accepted:
            raise _RuleSetRejected(check.message)
        if check.message:
            self.message_user(request, check.message, messages.WARNING)  # type: ignore[attr-defined]  # mixin on ModelAdmin


class SpecializationInline(admin.TabularInline):
    model = Specialization
    extra = 0
    fields = ["code", "name", "name_ja"]


@admin.register(Designation)
class DesignationAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "name_ja", "position"]
    search_fields = ["code", "name", "name_ja"]
    filter_horizontal = ["certifications", "legacy_competencies"]
    inlines = [SpecializationInline]


@admin.register(Specialization)
class SpecializationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "name_ja", "code", "designation"]
    list_filter = ["designation"]
    search_fields = ["code", "name", "name_ja"]
    list_select_related = ["designation"]


@admin.register(Workload)
class WorkloadAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "name_ja", "platform", "kind"]
    list_filter = ["platform", "kind", "designations"]
    search_fields = ["code", "name", "name_ja"]
    filter_horizontal = ["designations"]


@admin.register(ProgramDate)
class ProgramDateAdmin(SimpleHistoryAdmin):
    list_display = ["date", "code", "name", "name_ja"]
    search_fields = ["code", "name", "name_ja"]


class RuleSetPartInline(admin.TabularInline):
    """A part of a rule set edited on its page (tracks, lifetimes, rate card): read-only once
    the rule set is locked."""

    extra = 0

    def _locked(self, obj: RuleSet | None) -> bool:
        return obj is not None and obj.pk is not None and _is_locked(obj)

    def has_add_permission(self, request: HttpRequest, obj: RuleSet | None) -> bool:  # type: ignore[override]  # Django passes the parent
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


class TrackInline(RuleSetPartInline):
    model = Track
    fields = [
        "code",
        "name",
        "name_ja",
        "position",
        "classify_rule",
        "classify_count",
        "classify_threshold",
        "classify_segment",
        "classify_share",
        "classify_workloads",
    ]


class CertificationLifetimeInline(RuleSetPartInline):
    model = CertificationLifetime
    fields = ["certification", "counts_until"]


class RateCardEntryInline(RuleSetPartInline):
    model = RateCardEntry
    fields = ["workload", "measure", "rate"]


class MetricRuleInline(admin.TabularInline):
    model = MetricRule
    extra = 0
    fields = ["code", "track", "max_points", "target", "scaling", "unit_label"]
    # Sources and certification groups are edited on each metric's own page.
    show_change_link = True

    def _locked(self, obj: RuleSet | None) -> bool:
        return obj is not None and obj.pk is not None and _is_locked(obj)

    def has_add_permission(self, request: HttpRequest, obj: RuleSet | None) -> bool:  # type: ignore[override]  # Django passes the parent
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


class NewVersionForm(forms.Form):
    effective_from = forms.DateField(
        label=_("effective from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Must be later than the effective date of the designation's latest version."),
    )


@admin.register(RuleSet)
class RuleSetAdmin(RuleSetGuardMixin, SimpleHistoryAdmin):
    list_display = [
        "__str__",
        "designation",
        "version",
        "effective_from",
        "status",
        "points_total",
        "locked",
    ]
    list_display_links = ["__str__"]
    list_filter = ["designation", "effective_from"]
    list_select_related = ["designation"]
    search_fields = ["designation__code", "designation__name", "notes"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "designation",
                    "version",
                    "effective_from",
                    "qualifying_total",
                    "min_metric_points",
                    "track_mode",
                    "notes",
                    "created_at",
                ]
            },
        ),
        (
            _("Published source"),
            {"fields": ["release", "source_title", "source_url", "published_on"]},
        ),
    ]
    inlines = [TrackInline, MetricRuleInline, CertificationLifetimeInline, RateCardEntryInline]
    actions = ["copy_as_new_version"]
    change_form_template = "admin/scoring/ruleset/change_form.html"

    def rule_set_of(self, obj: RuleSet) -> RuleSet:
        return obj

    def get_queryset(self, request: HttpRequest) -> QuerySet[RuleSet]:
        queryset = rule_set_with_status(super().get_queryset(request), on=timezone.localdate())
        return queryset.annotate(points_sum=Sum("metrics__max_points"))

    def get_readonly_fields(self, request: HttpRequest, obj: RuleSet | None = None) -> list[str]:
        if obj is None:
            return list(self.readonly_fields)
        # A version's identity does not change; a different designation is a different rule set.
        return [*self.readonly_fields, "designation", "version"]

    @admin.display(description=_("status"), ordering="status")
    def status(self, rule_set: RuleSet) -> str:
        return str(RuleSetStatus(rule_set.status).label)  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description=_("points"), ordering="points_sum")
    def points_total(self, rule_set: RuleSet) -> object:
        return getattr(rule_set, "points_sum", None)

    @admin.display(description=_("locked"), boolean=True, ordering="has_snapshots")
    def locked(self, rule_set: RuleSet) -> bool:
        return _is_locked(rule_set)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_add_permission(request):
            context["new_version_url"] = reverse("admin:scoring_ruleset_new_version", args=[obj.pk])
        if obj is not None and request.method == "GET" and _is_locked(obj):
            self.message_user(
                request,
                gettext(
                    "This rule set is locked: scores were computed with it. To change the "
                    "rules, copy it as a new version with a later effective date."
                ),
                messages.INFO,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        new_version = path(
            "<path:object_id>/new-version/",
            self.admin_site.admin_view(self.new_version_view),
            name="scoring_ruleset_new_version",
        )
        # Before the defaults: "<path:object_id>/" would otherwise swallow the URL.
        return [new_version, *super().get_urls()]

    def new_version_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for the effective date, then copy the rule set as the designation's next version."""
        rule_set = self.get_object(request, unquote(object_id))
        if rule_set is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not (self.has_view_permission(request, rule_set) and self.has_add_permission(request)):
            raise PermissionDenied
        latest = rule_set_latest_effective_from(designation_id=rule_set.designation_id)
        proposed = rule_set_proposed_effective_from(designation_id=rule_set.designation_id)
        form = NewVersionForm(request.POST or None, initial={"effective_from": proposed})
        if request.method == "POST" and form.is_valid():
            try:
                created = rule_set_new_version(
                    rule_set=rule_set,
                    effective_from=form.cleaned_data["effective_from"],
                    actor=request.user,  # type: ignore[arg-type]  # admin_view: signed-in staff
                )
            except ApplicationError as error:
                form.add_error("effective_from", error.message)
            else:
                self.log_addition(
                    request, created, gettext("Copied from %(source)s.") % {"source": rule_set}
                )
                self.message_user(
                    request,
                    gettext(
                        "Created %(created)s as a copy of %(source)s. Edit it before it comes "
                        "into force."
                    )
                    % {"created": created, "source": rule_set},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:scoring_ruleset_change", args=[created.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Copy %(rule_set)s as a new version") % {"rule_set": rule_set},
            "opts": self.opts,
            "original": rule_set,
            "form": form,
            "latest_effective_from": latest,
        }
        return TemplateResponse(request, "admin/scoring/ruleset/new_version.html", context)

    @admin.action(description=_("Copy as a new version"))
    def copy_as_new_version(
        self, request: HttpRequest, queryset: QuerySet[RuleSet]
    ) -> HttpResponse | None:
        selected = list(queryset.values_list("pk", flat=True)[:2])
        if len(selected) != 1:
            self.message_user(
                request, gettext("Select exactly one rule set to copy."), messages.WARNING
            )
            return None
        return HttpResponseRedirect(reverse("admin:scoring_ruleset_new_version", args=selected))


class MetricPartInline(admin.StackedInline):
    """A source or certification group: read-only once its rule set is locked."""

    extra = 0

    def _locked(self, obj: MetricRule | None) -> bool:
        return obj is not None and obj.pk is not None and _is_locked(obj.rule_set)

    def has_add_permission(self, request: HttpRequest, obj: MetricRule | None) -> bool:  # type: ignore[override]  # Django passes the parent
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: MetricRule | None = None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: MetricRule | None = None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


class MetricSourceInline(MetricPartInline):
    model = MetricSource
    filter_horizontal = ["workloads"]


class CertificationStepInline(MetricPartInline):
    model = CertificationStep
    fields = ["position", "scoring", "min_people", "points_each", "points_cap"]


class CertificationGroupInline(MetricPartInline):
    model = CertificationGroup
    filter_horizontal = ["certifications"]
    fields = ["step", "mode", "certifications"]


@admin.register(MetricRule)
class MetricRuleAdmin(RuleSetGuardMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "code", "max_points", "target", "scaling", "unit_label"]
    list_filter = ["rule_set__designation", "code"]
    list_select_related = ["rule_set__designation"]
    search_fields = ["rule_set__designation__code", "unit_label"]
    inlines = [MetricSourceInline, CertificationStepInline, CertificationGroupInline]

    def rule_set_of(self, obj: MetricRule) -> RuleSet | None:
        return obj.rule_set if obj.rule_set_id else None

    def get_readonly_fields(self, request: HttpRequest, obj: MetricRule | None = None) -> list[str]:
        # Moving a metric to another rule set would change two rule sets at once.
        return ["rule_set"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "rule_set":
            # Metrics can only be added to rule sets no score was computed with.
            kwargs["queryset"] = rule_set_unlocked_list().select_related("designation")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: MetricRule | None = None) -> bool:
        # Removing a metric from a rule set in force would leave it invalid without a check;
        # the rule set's own page removes metrics and validates the result.
        if obj is not None and not metric_rule_may_be_deleted_alone(metric=obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Bulk deletion would skip both the lock and the validation.
        actions.pop("delete_selected", None)
        return actions


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["customer_id", "platform", "name", "country", "production"]
    list_filter = ["platform", "production", "country"]
    search_fields = ["customer_id", "name"]
    show_full_result_count = False


@admin.register(Association)
class AssociationAdmin(SimpleHistoryAdmin):
    list_display = [
        "customer",
        "organization",
        "type",
        "workload",
        "start_month",
        "end_month",
    ]
    list_filter = ["type", "customer__platform"]
    list_select_related = ["organization", "customer"]
    search_fields = [
        "customer__customer_id",
        "customer__name",
        "organization__partner_id",
        "organization__name",
    ]
    autocomplete_fields = ["organization", "customer"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Association]:
        # Staff see every organization's associations: a deliberate cross-tenant read.
        return super().get_queryset(request).unscoped()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by imports and the recompute only; staff look, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Usage)
class UsageAdmin(ReadOnlyAdmin):
    list_display = ["month", "customer", "measure", "workload", "value"]
    list_filter = ["measure", "customer__platform", "month"]
    list_select_related = ["customer"]
    search_fields = ["customer__customer_id", "workload"]
    # Millions of rows: counting them all on every page would be the slowest query here.
    show_full_result_count = False


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["organization", "designation", "as_of", "rule_set", "total", "qualified"]
    list_filter = ["designation", "qualified", "as_of"]
    list_select_related = ["organization", "designation", "rule_set__designation"]
    search_fields = ["organization__partner_id", "organization__name"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScoreSnapshot]:
        # Staff see every organization's scores: a deliberate cross-tenant read.
        return super().get_queryset(request).unscoped()  # type: ignore[attr-defined]  # TenantQuerySet


@admin.register(TrackFreeze)
class TrackFreezeAdmin(ReadOnlyAdmin):
    """Written by enrolment and renewal (benefits), read here: which track a term keeps."""

    list_display = ["organization", "designation", "track", "starts_on", "ends_on"]
    list_filter = ["designation", "track"]
    list_select_related = ["organization", "designation"]
    search_fields = ["organization__partner_id", "organization__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrackFreeze]:
        # Staff see every organization's frozen tracks: a deliberate cross-tenant read.
        return super().get_queryset(request).unscoped()  # type: ignore[attr-defined]  # TenantQuerySet


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    list_display = [
        "run_date",
        "status",
        "chunks_done",
        "chunks_total",
        "organizations",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]
