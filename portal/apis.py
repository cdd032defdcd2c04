"""The tenancy app's API: the organization, its people and their certifications, and the
certification catalog. Thin: reads through selectors and `scoped_queryset`, writes through the
audited services of `portal.people_services`; the organization and the caller's rights are
resolved by `portal.api.base`."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from portal import people_services
from portal.api.base import Access, GlobalViewSet, OrganizationViewSet
from portal.api.idempotency import idempotent_response
from portal.models import Certification, HeldCertification, Organization, Person
from portal.selectors import legacy_competency_list, person_list

# --- the organization --------------------------------------------------------------------------


class OrganizationApi(OrganizationViewSet):
    """The partner organization named in the URL."""

    model = Organization

    lookup_field = "partner_id"
    lookup_url_kwarg = "partner_id"

    class OutputSerializer(serializers.ModelSerializer):
        legacy_competencies = serializers.SerializerMethodField()

        class Meta:
            model = Organization
            fields = [
                "partner_id",
                "name",
                "slug",
                "country",
                "renewal_date",
                "legacy_competencies",
            ]

        def get_legacy_competencies(self, organization: Organization) -> list[dict[str, str]]:
            return [
                {"code": held.competency.code, "level": held.level}
                for held in legacy_competency_list(organization=organization)
            ]

    serializer_class = OutputSerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet[Organization]:
        return Organization.objects.filter(pk=organization.pk)

    @extend_schema(
        operation_id="organization_retrieve",
        summary=_("The partner organization"),
        description=_(
            "The organization of the Partner ID in the URL: the caller's own (an organization "
            "key's, or one the signed-in user is a member of). Any other Partner ID is a 404."
        ),
        examples=[
            OpenApiExample(
                "Contoso",
                value={
                    "partner_id": "1000001",
                    "name": "Contoso Security",
                    "slug": "contoso",
                    "country": "US",
                    "renewal_date": "2026-10-01",
                    "legacy_competencies": [{"code": "security", "level": "gold"}],
                },
                response_only=True,
            )
        ],
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.OutputSerializer(self.get_object()).data)


# --- people ------------------------------------------------------------------------------------


class HeldCertificationOutputSerializer(serializers.ModelSerializer):
    certification = serializers.CharField(source="certification.code")
    name = serializers.CharField(source="certification.name")
    level = serializers.CharField(source="certification.level")
    active = serializers.SerializerMethodField(
        help_text=_("Whether it counts today: earned, and not expired.")
    )

    class Meta:
        model = HeldCertification
        fields = ["certification", "name", "level", "earned_on", "expires_on", "active"]

    def get_active(self, held: HeldCertification) -> bool:
        if hasattr(held, "is_active"):  # annotated by the person_list selector
            return bool(held.is_active)
        today = timezone.localdate()
        return held.earned_on <= today and (held.expires_on is None or held.expires_on > today)


PERSON_EXAMPLE = {
    "person_id": "P00042",
    "name": "Aiko Tanaka",
    "email": "aiko@contoso.example",
    "active": True,
    "created_at": "2026-11-01T09:00:00Z",
    "certifications": [
        {
            "certification": "AZ-500",
            "name": "Azure Security Engineer Associate",
            "level": "intermediate",
            "earned_on": "2025-03-14",
            "expires_on": "2026-03-14",
            "active": True,
        }
    ],
}


# A person is addressed by this id in URLs (`people/<person_id>/`): no slash, no control
# characters.
PERSON_ID_PATTERN = r"^[^/\x00-\x1f\x7f]+$"
PERSON_ID_INVALID = _("A certification profile ID has no slash and no control characters.")


class PersonFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(help_text=_("Only active (true) or inactive people."))
    name = django_filters.CharFilter(lookup_expr="icontains", help_text=_("Part of the name."))
    certification = django_filters.CharFilter(
        field_name="certifications__certification__code",
        distinct=True,
        help_text=_("People holding this certification (exam code, e.g. AZ-500)."),
    )

    class Meta:
        model = Person
        fields = ["active", "name", "certification"]


@extend_schema_view(
    list=extend_schema(
        operation_id="people_list",
        summary=_("List people"),
        description=_(
            "The organization's people (active and inactive) with their certifications, "
            "cursor-paginated."
        ),
    ),
    retrieve=extend_schema(
        operation_id="people_retrieve",
        summary=_("One person"),
        description=_("A person by certification profile ID, with their certifications."),
        examples=[OpenApiExample("A person", value=PERSON_EXAMPLE, response_only=True)],
    ),
    destroy=extend_schema(
        operation_id="people_destroy",
        summary=_("Remove a person"),
        description=_(
            "Removes the person and their certifications (admins and read-write keys); the "
            "organization's scores are recomputed."
        ),
    ),
)
class PersonApi(OrganizationViewSet):
    """People of the organization: read for members and keys, write for admins and read-write
    keys."""

    model = Person

    lookup_field = "person_id"
    filterset_class = PersonFilter

    class OutputSerializer(serializers.ModelSerializer):
        certifications = HeldCertificationOutputSerializer(many=True, read_only=True)

        class Meta:
            model = Person
            fields = ["person_id", "name", "email", "active", "created_at", "certifications"]

    class InputSerializer(serializers.Serializer):
        person_id = serializers.RegexField(
            PERSON_ID_PATTERN, max_length=64, error_messages={"invalid": PERSON_ID_INVALID}
        )
        name = serializers.CharField(max_length=200)
        email = serializers.EmailField(required=False, allow_blank=True, default="")
        active = serializers.BooleanField(required=False, default=True)

    class UpdateSerializer(serializers.Serializer):
        person_id = serializers.RegexField(
            PERSON_ID_PATTERN,
            max_length=64,
            required=False,
            error_messages={"invalid": PERSON_ID_INVALID},
        )
        name = serializers.CharField(max_length=200, required=False)
        email = serializers.EmailField(required=False, allow_blank=True)
        active = serializers.BooleanField(required=False)

    serializer_class = OutputSerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet[Person]:
        return person_list(organization=organization, active_only=False)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.OutputSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="people_create",
        summary=_("Add a person"),
        description=_(
            "Adds a person (admins and read-write keys). The certification profile ID is "
            "unique in the organization. Send `Idempotency-Key` to make retries safe."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer},
        examples=[
            OpenApiExample(
                "New person",
                value={
                    "person_id": "P00042",
                    "name": "Aiko Tanaka",
                    "email": "aiko@contoso.example",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def handler() -> Response:
            data = self._valid(self.InputSerializer, request.data)
            person = people_services.person_create(
                organization=self.organization, actor=self.caller.actor, **data
            )
            return self._person_response(person, status.HTTP_201_CREATED)

        return idempotent_response(request, caller=self.caller, body=request.body, handler=handler)

    @extend_schema(
        operation_id="people_partial_update",
        summary=_("Change a person"),
        description=_("Changes the fields given (admins and read-write keys)."),
        request=UpdateSerializer,
        responses={200: OutputSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        data = self._valid(self.UpdateSerializer, request.data)
        person = people_services.person_update(person=person, actor=self.caller.actor, **data)
        return self._person_response(person, status.HTTP_200_OK)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        people_services.person_delete(person=self.get_object(), actor=self.caller.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _person_response(self, person: Person, status_code: int) -> Response:
        fresh = self.get_queryset().get(pk=person.pk)
        url = reverse(
            "api-person-detail",
            kwargs={"partner_id": self.organization.partner_id, "person_id": person.person_id},
            request=self.request,
        )
        headers = {"Location": url} if status_code == status.HTTP_201_CREATED else {}
        return Response(self.OutputSerializer(fresh).data, status=status_code, headers=headers)


class HeldCertificationFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(
        field_name="certification__level", choices=Certification.Level.choices
    )
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lt")

    class Meta:
        model = HeldCertification
        fields = ["level", "expires_before"]


@extend_schema_view(
    list=extend_schema(
        operation_id="person_certifications_list",
        summary=_("A person's certifications"),
        description=_("The certifications a person holds, active or not."),
    ),
    retrieve=extend_schema(
        operation_id="person_certifications_retrieve",
        summary=_("One held certification"),
        description=_("One certification the person holds, by exam code."),
    ),
    destroy=extend_schema(
        operation_id="person_certifications_destroy",
        summary=_("Remove a held certification"),
        description=_("The person no longer holds it (admins and read-write keys)."),
    ),
)
class HeldCertificationApi(OrganizationViewSet):
    """A person's certifications, by exam code (`AZ-500`)."""

    model = HeldCertification

    lookup_field = "certification__code"
    lookup_url_kwarg = "code"
    filterset_class = HeldCertificationFilter
    serializer_class = HeldCertificationOutputSerializer

    class InputSerializer(serializers.Serializer):
        certification = serializers.CharField(
            max_length=60,
            help_text=_("Exam code, e.g. AZ-500 (or the credential code of one without an exam)."),
        )
        earned_on = serializers.DateField()
        expires_on = serializers.DateField(required=False, allow_null=True, default=None)

    class UpdateSerializer(serializers.Serializer):
        earned_on = serializers.DateField(required=False)
        expires_on = serializers.DateField(required=False, allow_null=True)

    def _person(self) -> Person:
        return get_object_or_404(
            Person.objects.for_org(self.organization), person_id=self.kwargs["person_id"]
        )

    def scoped_queryset(self, organization: Organization) -> QuerySet[HeldCertification]:
        return (
            HeldCertification.objects.for_org(organization)
            .filter(person__person_id=self.kwargs["person_id"])
            .select_related("certification")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._person()  # an unknown person is a 404, not an empty list
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.serializer_class(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.serializer_class(self.get_object()).data)

    @extend_schema(
        operation_id="person_certifications_create",
        summary=_("Record a held certification"),
        description=_(
            "Records that the person holds a certification of the catalog (admins and "
            "read-write keys); the organization's scores are recomputed."
        ),
        request=InputSerializer,
        responses={201: HeldCertificationOutputSerializer},
        examples=[
            OpenApiExample(
                "AZ-500",
                value={"certification": "AZ-500", "earned_on": "2025-03-14"},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def handler() -> Response:
            person = self._person()
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            held = people_services.held_certification_create(
                person=person, actor=self.caller.actor, **serializer.validated_data
            )
            url = reverse(
                "api-person-certification-detail",
                kwargs={
                    "partner_id": self.organization.partner_id,
                    "person_id": person.person_id,
                    "code": held.certification.code,
                },
                request=request,
            )
            return Response(
                self.serializer_class(held).data,
                status=status.HTTP_201_CREATED,
                headers={"Location": url},
            )

        return idempotent_response(request, caller=self.caller, body=request.body, handler=handler)

    @extend_schema(
        operation_id="person_certifications_partial_update",
        summary=_("Change a held certification"),
        description=_("Changes when it was earned or expires (admins and read-write keys)."),
        request=UpdateSerializer,
        responses={200: HeldCertificationOutputSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        held = self.get_object()
        serializer = self.UpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        held = people_services.held_certification_update(
            held=held, actor=self.caller.actor, **serializer.validated_data
        )
        return Response(self.serializer_class(held).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        people_services.held_certification_delete(held=self.get_object(), actor=self.caller.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- ping --------------------------------------------------------------------------------------


class PingSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    organization = serializers.CharField(
        allow_null=True,
        help_text=_(
            "The slug of the organization key's organization; null for a platform key or a "
            "signed-in user."
        ),
    )
    time = serializers.DateTimeField(help_text=_("The server's time."))


class PingApi(GlobalViewSet):
    """The cheapest authenticated call: checks a key (or session) and reads nothing else."""

    model = Organization
    serializer_class = PingSerializer
    pagination_class = None
    filter_backends: list[Any] = []
    access = {"ping": Access.CATALOG}

    def scoped_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.none()  # nothing is served: the caller is the answer

    @extend_schema(
        operation_id="ping",
        summary=_("Check a key"),
        description=_(
            "Answers when the credentials are valid (any organization or platform key, or a "
            "session): the key's organization and the server's time. Reads no data."
        ),
        responses={200: PingSerializer},
        examples=[
            OpenApiExample(
                "Organization key",
                value={"ok": True, "organization": "contoso", "time": "2026-11-30T02:31:07Z"},
                response_only=True,
            )
        ],
    )
    def ping(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = self.caller.organization_key
        data = {
            "ok": True,
            "organization": key.organization.slug if key is not None else None,
            "time": timezone.now(),
        }
        return Response(PingSerializer(data).data)


# --- the certification catalog -----------------------------------------------------------------


class CertificationCatalogFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Certification.Level.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Certification
        fields = ["level", "active"]


@extend_schema_view(
    list=extend_schema(
        operation_id="catalog_certifications_list",
        summary=_("The certification catalog"),
        description=_("Every certification of the program, by exam code (any caller)."),
    ),
    retrieve=extend_schema(
        operation_id="catalog_certifications_retrieve",
        summary=_("One certification"),
        description=_("A certification of the catalog by exam code."),
    ),
)
class CertificationCatalogApi(GlobalViewSet):
    model = Certification
    lookup_field = "code"
    filterset_class = CertificationCatalogFilter

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Certification
            fields = ["code", "name", "name_ja", "level", "active"]

    serializer_class = OutputSerializer

    def scoped_queryset(self) -> QuerySet[Certification]:
        return Certification.objects.all()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.OutputSerializer(self.get_object()).data)
