"""The benefits app's API: what the organization holds and could choose, its entitlements with
their use, the people benefits are assigned to, and the status history. Thin: reads through
`benefits.selectors`, writes through `benefits.services`; the organization and the caller's
rights are resolved by `portal.api.base` (a read-write key or an admin may assign)."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from benefits import selectors, services
from benefits.models import (
    BenefitAssignment,
    BenefitProduct,
    DesignationStatus,
    DesignationStatusChange,
    DesignationTerm,
    RenewalOption,
)
from portal.api.base import OrganizationViewSet
from portal.api.errors import ErrorResponseSerializer
from portal.api.idempotency import idempotent_response
from portal.api.pagination import ApiCursorPagination
from portal.exceptions import ApplicationError
from portal.models import Organization, Person

# --- shared shapes ------------------------------------------------------------------------------


def _quantity_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=True, **kwargs
    )


class GrantSerializer(serializers.Serializer):
    """A product granted (or that would be), combined over the packages granting it."""

    product = serializers.CharField(source="product.code", help_text=gettext_lazy("Its code."))
    name = serializers.CharField(source="product.display_name")
    unit = serializers.ChoiceField(source="product.unit", choices=BenefitProduct.Unit.choices)
    use = serializers.ChoiceField(
        source="product.use",
        choices=BenefitProduct.Use.choices,
        help_text=gettext_lazy(
            "`seat`: assigned per person; `credit`: assigned to one user; `none`: nothing to "
            "assign."
        ),
    )
    quantity = _quantity_field(
        help_text=gettext_lazy("In `unit`; null: included, quantity not published.")
    )
    details = serializers.ListField(child=serializers.CharField())
    sources = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("The packages granting it.")
    )


class TermSerializer(serializers.ModelSerializer):
    class Meta:
        model = DesignationTerm
        fields = ["kind", "starts_on", "ends_on"]


class WindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class HoldingSerializer(serializers.Serializer):
    designation = serializers.CharField(source="holding.designation.code")
    name = serializers.CharField(source="holding.designation.display_name")
    status = serializers.ChoiceField(source="holding.status", choices=DesignationStatus.choices)
    held = serializers.BooleanField(source="holding.held")
    can_enrol = serializers.BooleanField(
        help_text=gettext_lazy("Qualified in its window and not held: an admin can enrol it.")
    )
    term = TermSerializer(source="holding.term", allow_null=True)
    qualification_window = WindowSerializer()
    qualified_in_window = serializers.BooleanField(source="holding.qualified_in_window")
    package = serializers.CharField(
        allow_null=True,
        help_text=gettext_lazy(
            "The benefit package: the one granted (held) or the one enrolling would grant."
        ),
    )
    benefits = GrantSerializer(
        many=True,
        help_text=gettext_lazy(
            "Held: what its package grants. Not held: what enrolling it would add to the "
            "organization's current grants."
        ),
    )


class SpecializationHeldSerializer(serializers.Serializer):
    specialization = serializers.CharField(source="specialization.code")
    awarded_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)


class FeeSerializer(serializers.Serializer):
    amount = _quantity_field(help_text=gettext_lazy("null: not published."))
    currency = serializers.CharField()


class RenewalOfferSerializer(serializers.Serializer):
    option = serializers.ChoiceField(choices=RenewalOption.choices)
    available = serializers.BooleanField()
    reason = serializers.CharField(help_text=gettext_lazy("Why it is not available ('' if it is)."))
    fee = FeeSerializer(allow_null=True)
    renews = serializers.SerializerMethodField(
        help_text=gettext_lazy("The designations the option renews (codes).")
    )
    benefits = GrantSerializer(source="grants", many=True)

    def get_renews(self, offer: Any) -> list[str]:
        return [designation.code for designation in offer.renews]


class RenewalSerializer(serializers.Serializer):
    anniversary = serializers.DateField()
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()
    chosen = serializers.ChoiceField(choices=RenewalOption.choices, allow_null=True)
    offers = RenewalOfferSerializer(many=True)


class BenefitsSerializer(serializers.Serializer):
    on = serializers.DateField()
    option = serializers.ChoiceField(
        choices=RenewalOption.choices,
        allow_null=True,
        help_text=gettext_lazy("What the benefit year grants; null: nothing held."),
    )
    transition = serializers.BooleanField(
        help_text=gettext_lazy("Legacy benefits kept until the first anniversary after GA.")
    )
    year_ends_on = serializers.DateField(allow_null=True)
    anniversary = serializers.DateField(allow_null=True)
    microsoft_cloud = serializers.BooleanField(help_text=gettext_lazy("All six designations held."))
    packages = serializers.ListField(child=serializers.CharField())
    benefits = GrantSerializer(
        many=True, help_text=gettext_lazy("Everything granted, combined over the packages.")
    )
    designations = HoldingSerializer(many=True)
    specializations = SpecializationHeldSerializer(many=True)
    renewal = RenewalSerializer(
        allow_null=True,
        help_text=gettext_lazy("The renewal window `on` falls in and its options, or null."),
    )


class OnSerializer(serializers.Serializer):
    on = serializers.DateField(required=False)


ON_PARAMETER = OpenApiParameter(
    "on",
    OpenApiTypes.DATE,
    OpenApiParameter.QUERY,
    description=gettext_lazy("The date to answer for (default today)."),
)
BAD_ON = OpenApiResponse(ErrorResponseSerializer, description=gettext_lazy("`on` is not a date."))

GRANT_EXAMPLE = {
    "product": "visual-studio-enterprise",
    "name": "Visual Studio Enterprise subscriptions",
    "unit": "licenses",
    "use": "seat",
    "quantity": 25,
    "details": [],
    "sources": ["Solutions Partner for Security"],
}


def _on(request: Request) -> date:
    serializer = OnSerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    on: date = serializer.validated_data.get("on") or timezone.localdate()
    return on


# --- what the organization holds and can choose --------------------------------------------------


class BenefitsApi(OrganizationViewSet):
    """The organization's designations, benefit packages and renewal options on a date."""

    model = DesignationTerm
    serializer_class = BenefitsSerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet[DesignationTerm]:
        return DesignationTerm.objects.for_org(organization)

    @extend_schema(
        operation_id="benefits_retrieve",
        summary=gettext_lazy("Designations held and benefits"),
        description=gettext_lazy(
            "On `on` (default today): each designation's status (in progress, qualified, "
            "enrolled, renewal due, renewed, lapsed) with its term and qualification window, "
            "whether an admin can enrol it and what its package grants — or, not held, what "
            "enrolling it would add; the benefits granted in all; the specializations held; "
            "and, in a renewal window, the options the organization can choose with their "
            "annual fee and benefits."
        ),
        parameters=[ON_PARAMETER],
        responses={
            200: OpenApiResponse(
                BenefitsSerializer,
                examples=[
                    OpenApiExample(
                        "Security held",
                        value={
                            "on": "2024-04-01",
                            "option": "solutions_partner",
                            "transition": False,
                            "year_ends_on": "2025-03-15",
                            "anniversary": "2025-03-15",
                            "microsoft_cloud": False,
                            "packages": ["sp-security"],
                            "benefits": [GRANT_EXAMPLE],
                            "designations": [
                                {
                                    "designation": "security",
                                    "name": "Solutions Partner for Security",
                                    "status": "enrolled",
                                    "held": True,
                                    "can_enrol": False,
                                    "term": {
                                        "kind": "enrolment",
                                        "starts_on": "2024-03-15",
                                        "ends_on": "2025-03-15",
                                    },
                                    "qualification_window": {
                                        "start": "2024-01-01",
                                        "end": "2024-04-01",
                                    },
                                    "qualified_in_window": True,
                                    "package": "sp-security",
                                    "benefits": [GRANT_EXAMPLE],
                                }
                            ],
                            "specializations": [],
                            "renewal": None,
                        },
                        response_only=True,
                    )
                ],
            ),
            400: BAD_ON,
        },
        filters=False,
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        on = _on(request)
        organization = self.organization
        holdings = selectors.holdings_on(organization=organization, on=on)
        entitlements = selectors.entitlements_on(
            organization=organization, on=on, holdings=holdings
        )
        catalog = selectors.package_catalog()
        designations = []
        for holding in holdings.designations:
            if holding.held:
                assert holding.term is not None
                package = selectors.package_in_force(
                    catalog,
                    on=holding.term.starts_on,
                    designation_id=holding.designation.pk,
                    grantor="designation",
                )
                grants = (
                    selectors.stack_grants([(package, item) for item in package.items.all()])
                    if package
                    else []
                )
            else:
                package = selectors.package_in_force(
                    catalog, on=on, designation_id=holding.designation.pk, grantor="designation"
                )
                grants = selectors.designation_additions(
                    entitlements=entitlements, catalog=catalog, designation=holding.designation
                )
            start, end = holding.window
            designations.append(
                {
                    "holding": holding,
                    "can_enrol": holding.status == DesignationStatus.QUALIFIED,
                    "qualification_window": {"start": start, "end": end},
                    "package": package.code if package else None,
                    "benefits": grants,
                }
            )
        window = selectors.renewal_window_on(organization=organization, on=on)
        renewal = None
        if window is not None:
            choice = selectors.renewal_choice_get(
                organization=organization, anniversary=window.anniversary
            )
            renewal = {
                "anniversary": window.anniversary,
                "opens_on": window.opens_on,
                "closes_on": window.closes_on,
                "chosen": choice.option if choice else None,
                "offers": selectors.renewal_offers(organization=organization, window=window, on=on),
            }
        data = {
            "on": on,
            "option": entitlements.option,
            "transition": entitlements.transition,
            "year_ends_on": entitlements.year_ends_on,
            "anniversary": holdings.anniversary,
            "microsoft_cloud": holdings.microsoft_cloud,
            "packages": [package.code for package in entitlements.packages],
            "benefits": entitlements.grants,
            "designations": designations,
            "specializations": holdings.specializations,
            "renewal": renewal,
        }
        return Response(BenefitsSerializer(data).data)


# --- entitlements and their use ------------------------------------------------------------------


class ActivationSerializer(serializers.Serializer):
    tenant = serializers.CharField()
    activated_on = serializers.DateField()


class EntitlementSerializer(GrantSerializer):
    granted = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy(
            "Assignments the grant allows (seats, or 1 for a credit); null when nothing is "
            "assigned to people."
        ),
    )
    assigned = serializers.IntegerField(help_text=gettext_lazy("Open assignments."))
    remaining = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("granted − assigned; null as granted.")
    )
    activation = ActivationSerializer(
        allow_null=True,
        help_text=gettext_lazy("Cloud services: the tenant it is activated on, or null."),
    )


class EntitlementsSerializer(serializers.Serializer):
    on = serializers.DateField()
    option = serializers.ChoiceField(choices=RenewalOption.choices, allow_null=True)
    year_ends_on = serializers.DateField(allow_null=True)
    entitlements = EntitlementSerializer(many=True)


class EntitlementApi(OrganizationViewSet):
    """What the organization is granted on a date, and how much of it is in use."""

    model = BenefitAssignment
    serializer_class = EntitlementsSerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet[BenefitAssignment]:
        return selectors.benefit_assignment_list(organization=organization)

    @extend_schema(
        operation_id="benefits_entitlements",
        summary=gettext_lazy("Entitlements and their use"),
        description=gettext_lazy(
            "Every product granted for the benefit year `on` (default today) falls in, "
            "combined over the packages by the product's stacking rule: the quantity, and for "
            "products assigned to people how many assignments the grant allows, how many are "
            "made and how many remain; for cloud services, the tenant it is activated on."
        ),
        parameters=[ON_PARAMETER],
        responses={
            200: OpenApiResponse(
                EntitlementsSerializer,
                examples=[
                    OpenApiExample(
                        "Visual Studio seats",
                        value={
                            "on": "2024-04-01",
                            "option": "solutions_partner",
                            "year_ends_on": "2025-03-15",
                            "entitlements": [
                                {
                                    **GRANT_EXAMPLE,
                                    "granted": 25,
                                    "assigned": 2,
                                    "remaining": 23,
                                    "activation": None,
                                }
                            ],
                        },
                        response_only=True,
                    )
                ],
            ),
            400: BAD_ON,
        },
        filters=False,
    )
    def summary(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        on = _on(request)
        entitlements = selectors.entitlements_on(organization=self.organization, on=on)
        uses = {use.product.pk: use for use in selectors.benefit_use(entitlements=entitlements)}
        rows = []
        for grant in entitlements.grants:
            use = uses.get(grant.product.pk)
            assignable = grant.product.use != BenefitProduct.Use.NONE
            activation = use.activation if use else None
            rows.append(
                {
                    "product": grant.product,
                    "quantity": grant.quantity,
                    "details": grant.details,
                    "sources": grant.sources,
                    "granted": use.granted if use and assignable else None,
                    "assigned": use.assigned if use else 0,
                    "remaining": use.free if use and assignable else None,
                    "activation": (
                        {"tenant": activation.tenant, "activated_on": activation.activated_on}
                        if activation
                        else None
                    ),
                }
            )
        data = {
            "on": on,
            "option": entitlements.option,
            "year_ends_on": entitlements.year_ends_on,
            "entitlements": rows,
        }
        return Response(EntitlementsSerializer(data).data)


# --- assignments ---------------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    product = serializers.CharField(source="product.code")
    person_id = serializers.CharField(
        source="person.person_id", help_text=gettext_lazy("The person's certification profile ID.")
    )
    person_name = serializers.CharField(source="person.name")
    open = serializers.SerializerMethodField(
        help_text=gettext_lazy("Still assigned (not unassigned).")
    )

    class Meta:
        model = BenefitAssignment
        fields = [
            "id",
            "url",
            "product",
            "person_id",
            "person_name",
            "assigned_on",
            "unassigned_on",
            "open",
        ]

    def get_url(self, assignment: BenefitAssignment) -> str:
        return reverse(
            "api-benefit-assignment-detail",
            kwargs={"partner_id": self.context["partner_id"], "pk": assignment.pk},
            request=self.context.get("request"),
        )

    def get_open(self, assignment: BenefitAssignment) -> bool:
        return assignment.unassigned_on is None


class AssignmentFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product__code")
    person_id = django_filters.CharFilter(field_name="person__person_id")
    open = django_filters.BooleanFilter(
        field_name="unassigned_on",
        lookup_expr="isnull",
        help_text=gettext_lazy("Only open (true) or ended (false) assignments."),
    )

    class Meta:
        model = BenefitAssignment
        fields = ["product", "person_id", "open"]


ASSIGNMENT_EXAMPLE = {
    "id": 17,
    "url": "https://portal.example.com/api/v1/orgs/1000001/benefits/assignments/17/",
    "product": "visual-studio-enterprise",
    "person_id": "P00042",
    "person_name": "Aiko Tanaka",
    "assigned_on": "2024-04-01",
    "unassigned_on": None,
    "open": True,
}


@extend_schema_view(
    list=extend_schema(
        operation_id="benefits_assignments_list",
        summary=gettext_lazy("Benefit assignments"),
        description=gettext_lazy(
            "Who holds which seat or credit: every assignment, open and ended, oldest first."
        ),
    ),
    retrieve=extend_schema(
        operation_id="benefits_assignments_retrieve",
        summary=gettext_lazy("One benefit assignment"),
        description=gettext_lazy("An assignment by id."),
        examples=[OpenApiExample("Open", value=ASSIGNMENT_EXAMPLE, response_only=True)],
    ),
    destroy=extend_schema(
        operation_id="benefits_assignments_destroy",
        summary=gettext_lazy("Unassign a benefit"),
        description=gettext_lazy(
            "Ends the assignment today (admins and read-write keys), freeing the seat; it "
            "stays listed with `unassigned_on`. Refused (400) before the product's "
            "reassignment delay has passed (Visual Studio: 90 days) or when it is ended "
            "already."
        ),
    ),
)
class BenefitAssignmentApi(OrganizationViewSet):
    """Seats and credits given to the organization's people."""

    model = BenefitAssignment
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter

    class InputSerializer(serializers.Serializer):
        product = serializers.CharField(
            max_length=80, help_text=gettext_lazy("The product's code (see the entitlements).")
        )
        person_id = serializers.CharField(
            max_length=64,
            help_text=gettext_lazy("The certification profile ID of an active person."),
        )

    def scoped_queryset(self, organization: Organization) -> QuerySet[BenefitAssignment]:
        return selectors.benefit_assignment_list(organization=organization)

    def _context(self) -> dict[str, Any]:
        return {"partner_id": self.organization.partner_id, "request": self.request}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = AssignmentSerializer(page, many=True, context=self._context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(AssignmentSerializer(self.get_object(), context=self._context()).data)

    @extend_schema(
        operation_id="benefits_assignments_create",
        summary=gettext_lazy("Assign a benefit"),
        description=gettext_lazy(
            "Gives a seat (or a credit) of a granted product to an active person (admins and "
            "read-write keys), never beyond the quantity granted; `Location` names the new "
            "assignment. Refused (400) for a product not granted or not assigned to people, "
            "an unknown or inactive person, a person who has it already, or no seat left. "
            "Send `Idempotency-Key` to make retries safe."
        ),
        request=InputSerializer,
        responses={201: AssignmentSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=gettext_lazy(
                    "Any unique text (a UUID); a retry with the same key and body is not redone."
                ),
            )
        ],
        examples=[
            OpenApiExample(
                "A Visual Studio seat",
                value={"product": "visual-studio-enterprise", "person_id": "P00042"},
                request_only=True,
            ),
            OpenApiExample("Assigned", value=ASSIGNMENT_EXAMPLE, response_only=True),
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def handler() -> Response:
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            person = (
                Person.objects.for_org(self.organization)
                .filter(person_id=serializer.validated_data["person_id"])
                .first()
            )
            if person is None:
                raise ApplicationError(
                    _("No person of your organization has this certification profile ID."),
                    {"attr": "person_id"},
                )
            assignment = services.benefit_assign(
                organization=self.organization,
                product_code=serializer.validated_data["product"],
                person_id=person.pk,
                actor=self.caller.actor,
            )
            fresh = self.get_queryset().get(pk=assignment.pk)
            data = AssignmentSerializer(fresh, context=self._context()).data
            return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})

        return idempotent_response(request, caller=self.caller, body=request.body, handler=handler)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        assignment = self.get_object()  # another organization's id: 404
        services.benefit_unassign(
            organization=self.organization,
            assignment_id=assignment.pk,
            actor=self.caller.actor,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- status history ------------------------------------------------------------------------------


class StatusChangeFilter(django_filters.FilterSet):
    designation = django_filters.CharFilter(field_name="designation__code")
    status = django_filters.ChoiceFilter(choices=DesignationStatus.choices)
    changed_on = django_filters.DateFromToRangeFilter(
        help_text=gettext_lazy("`changed_on_after` / `changed_on_before` (inclusive dates).")
    )

    class Meta:
        model = DesignationStatusChange
        fields = ["designation", "status", "changed_on"]


class StatusHistoryPagination(ApiCursorPagination):
    ordering = ("-changed_on", "-pk")


@extend_schema_view(
    list=extend_schema(
        operation_id="benefits_status_history",
        summary=gettext_lazy("Designation status history"),
        description=gettext_lazy(
            "Every recorded change of a designation's status, newest first, with why. The "
            "`designation.qualified`, `designation.enrolled` and `designation.lapsed` webhook "
            "events are sent as these changes are recorded."
        ),
    )
)
class StatusHistoryApi(OrganizationViewSet):
    model = DesignationStatusChange
    filterset_class = StatusChangeFilter
    pagination_class = StatusHistoryPagination

    class OutputSerializer(serializers.ModelSerializer):
        designation = serializers.CharField(source="designation.code")

        class Meta:
            model = DesignationStatusChange
            fields = ["designation", "status", "changed_on", "reason", "recorded_at"]

    serializer_class = OutputSerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet[DesignationStatusChange]:
        return selectors.status_change_list(organization=organization)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)
