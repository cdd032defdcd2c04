"""The scoring app's API: an organization's customers, associations, scores and recomputes;
bulk telemetry for platform keys; the program catalog. Thin: reads through
`scoring.api_selectors`, writes through the import pipeline and `scoring.api_services`; the
organization and the caller's rights are resolved by `portal.api.base`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import django_filters
from django.core.cache import cache
from django.db.models import QuerySet
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

from portal.api.base import Access, GlobalViewSet, OrganizationViewSet
from portal.api.errors import ErrorResponseSerializer, client_error
from portal.api.pagination import ApiCursorPagination
from portal.models import Organization
from scoring import api_jobs, api_selectors, api_services
from scoring.api_bulk import CSV, JSON, BulkJobSerializer, BulkReportSerializer, bulk_upload
from scoring.imports.result import RowError
from scoring.models import (
    Association,
    AssociationType,
    CertificationGroup,
    Customer,
    Designation,
    Measure,
    MetricRule,
    MetricSource,
    OrganizationBulkJob,
    Platform,
    RuleSet,
    ScoreRecomputeRequest,
    ScoreSnapshot,
    TelemetryBulkJob,
    Workload,
)

# --- customers and associations ----------------------------------------------------------------


class AssociationOutputSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="customer.platform")
    customer_id = serializers.CharField(source="customer.customer_id")

    class Meta:
        model = Association
        fields = ["platform", "customer_id", "type", "workload", "start_month", "end_month"]


class CustomerAssociationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Association
        fields = ["type", "workload", "start_month", "end_month"]


class CustomerFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    production = django_filters.BooleanFilter()
    customer_id = django_filters.CharFilter()

    class Meta:
        model = Customer
        fields = ["platform", "production", "customer_id"]


@extend_schema_view(
    list=extend_schema(
        operation_id="customers_list",
        summary=gettext_lazy("The organization's customers"),
        description=gettext_lazy(
            "Customers the organization is associated with (CPOR, PAL or DPOR, any time), each "
            "with the organization's associations. Telemetry pipelines load customers with "
            "`POST /api/v1/telemetry/customers/`."
        ),
    )
)
class CustomerApi(OrganizationViewSet):
    model = Customer
    filterset_class = CustomerFilter

    class OutputSerializer(serializers.ModelSerializer):
        associations = CustomerAssociationSerializer(many=True, read_only=True)

        class Meta:
            model = Customer
            fields = ["platform", "customer_id", "name", "country", "production", "associations"]

    serializer_class = OutputSerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet[Customer]:
        return api_selectors.customer_list(organization=organization)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)


class AssociationFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=AssociationType.choices)
    platform = django_filters.ChoiceFilter(
        field_name="customer__platform", choices=Platform.choices
    )
    customer_id = django_filters.CharFilter(field_name="customer__customer_id")
    active_on = django_filters.DateFilter(
        method="filter_active_on",
        help_text=gettext_lazy("Associations covering this month (a date)."),
    )

    class Meta:
        model = Association
        fields = ["type", "platform", "customer_id", "active_on"]

    def filter_active_on(self, queryset: QuerySet[Association], name: str, value: Any) -> Any:
        return queryset.filter(api_selectors.association_active_q(on=value.replace(day=1)))


class AssociationRowSerializer(serializers.Serializer):
    partner_id = serializers.CharField(
        required=False,
        help_text=gettext_lazy("Optional; when given, it must be the Partner ID in the URL."),
    )
    platform = serializers.ChoiceField(choices=Platform.choices)
    customer_id = serializers.CharField()
    type = serializers.ChoiceField(choices=AssociationType.choices)
    workload = serializers.CharField(required=False, allow_blank=True)
    start_month = serializers.CharField(help_text=gettext_lazy("YYYY-MM"))
    end_month = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("YYYY-MM")
    )


BULK_DESCRIPTION = gettext_lazy(
    "A JSON array of rows (`application/json`) or the CSV file of data-formats.md "
    "(`text/csv`), validated and written by the same pipeline as `manage.py import_data`: "
    "every row is checked first and, when any is bad, nothing is written and the 400 lists "
    "every bad row (`line`, `attr` = column, `value`, `detail`). At most `API_BULK_MAX_ROWS` "
    "rows (default 100,000) and `API_BULK_MAX_BYTES` bytes (default 50 MiB) per request; "
    "beyond either, 413. A batch of more than `API_BULK_ASYNC_ROWS` rows (default 5,000) is "
    "checked for its size and shape only, then answered 202 with a job (`Location`) that "
    "Celery runs through the same pipeline: poll it for its state, progress and report (the "
    "same report, or the same error with every bad row; all rows or none). Rows are "
    "upserted on their natural key, so a batch can be sent again. "
    "Send `Idempotency-Key` to get the stored response back on a retry (the same key with "
    "another body: 409). Platform keys only."
)


JOB_EXAMPLE = {
    "id": 42,
    "url": "https://portal.example.com/api/v1/telemetry/jobs/42/",
    "kind": "usage",
    "state": "running",
    "rows": 80000,
    "progress": {"rows_validated": 80000, "rows_written": 31000},
    "created_at": "2026-11-30T06:00:00Z",
    "started_at": "2026-11-30T06:00:01Z",
    "finished_at": None,
    "report": None,
    "error": None,
}


def _bulk_responses(example_report: dict[str, Any]) -> dict[Any, Any]:
    return {
        200: OpenApiResponse(
            BulkReportSerializer,
            description=gettext_lazy("Every row written (or unchanged)."),
            examples=[OpenApiExample("Written", value=example_report, response_only=True)],
        ),
        400: OpenApiResponse(
            ErrorResponseSerializer,
            description=gettext_lazy("Bad rows: nothing was written."),
            examples=[
                OpenApiExample(
                    "Bad rows",
                    value={
                        "type": "validation_error",
                        "errors": [
                            {
                                "code": "invalid_row",
                                "detail": "use YYYY-MM",
                                "attr": "month",
                                "line": 2,
                                "value": "2026/01",
                            }
                        ],
                    },
                    response_only=True,
                )
            ],
        ),
        202: OpenApiResponse(
            BulkJobSerializer,
            description=gettext_lazy(
                "More than API_BULK_ASYNC_ROWS rows: queued as a job; `Location` is its URL."
            ),
            examples=[OpenApiExample("Queued", value=JOB_EXAMPLE, response_only=True)],
        ),
        409: OpenApiResponse(
            ErrorResponseSerializer,
            description=gettext_lazy("Idempotency-Key reused with another body."),
        ),
        413: OpenApiResponse(
            ErrorResponseSerializer,
            description=gettext_lazy("More rows or bytes than one batch may hold."),
        ),
        415: OpenApiResponse(
            ErrorResponseSerializer,
            description=gettext_lazy("Neither application/json nor text/csv."),
        ),
    }


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        "Any unique text (a UUID); a retry with the same key and body is not redone."
    ),
)


@extend_schema_view(
    list=extend_schema(
        operation_id="associations_list",
        summary=gettext_lazy("The organization's associations"),
        description=gettext_lazy(
            "The organization's CPOR, PAL and DPOR associations with customers."
        ),
    )
)
class AssociationApi(OrganizationViewSet):
    model = Association
    filterset_class = AssociationFilter
    serializer_class = AssociationOutputSerializer
    access = {"list": Access.READ, "bulk": Access.TELEMETRY}
    bulk_actions = ("bulk",)

    def scoped_queryset(self, organization: Organization) -> QuerySet[Association]:
        return api_selectors.association_list(organization=organization)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.serializer_class(page, many=True).data)

    @extend_schema(
        operation_id="associations_bulk_upsert",
        summary=gettext_lazy("Upsert associations (platform keys)"),
        description=BULK_DESCRIPTION,
        request={JSON: AssociationRowSerializer(many=True), CSV: OpenApiTypes.STR},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=_bulk_responses(
            {
                "kind": "associations",
                "rows": 2,
                "created": 1,
                "updated": 0,
                "unchanged": 1,
                "recompute_queued": True,
            }
        ),
        examples=[
            OpenApiExample(
                "Two associations",
                value=[
                    {
                        "platform": "m365",
                        "customer_id": "0f8e3c8e-4b7a-4b8e-9d3c-2f1a5b6c7d8e",
                        "type": "CPOR",
                        "workload": "MDE",
                        "start_month": "2025-01",
                    },
                    {
                        "platform": "azure",
                        "customer_id": "123456",
                        "type": "PAL",
                        "start_month": "2025-06",
                        "end_month": "",
                    },
                ],
                request_only=True,
            )
        ],
    )
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partner_id = self.organization.partner_id

        def prepare_record(line: int, record: dict[str, Any]) -> RowError | None:
            given = str(record.get("partner_id", "") or "").strip()
            if given and given != partner_id:
                return RowError(line, "partner_id", given, _not_this_partner(partner_id))
            record["partner_id"] = partner_id
            return None

        def check_csv_row(line: int, values: dict[str, str]) -> RowError | None:
            given = values.get("partner_id", "")
            if given != partner_id:
                return RowError(line, "partner_id", given, _not_this_partner(partner_id))
            return None

        return bulk_upload(
            request,
            caller=self.caller,
            kind="associations",
            organization=self.organization,
            prepare_record=prepare_record,
            check_csv_row=check_csv_row,
        )


def _not_this_partner(partner_id: str) -> str:
    return _("not the Partner ID in the URL (%(partner_id)s)") % {"partner_id": partner_id}


# --- telemetry that belongs to no organization: customers and usage ---------------------------


class CustomerRowSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    customer_id = serializers.CharField(
        help_text=gettext_lazy("Tenant GUID (M365, Dynamics) or TPID (Azure).")
    )
    name = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, allow_blank=True)
    production = serializers.BooleanField(required=False)


class UsageRowSerializer(serializers.Serializer):
    month = serializers.CharField(help_text=gettext_lazy("YYYY-MM"))
    platform = serializers.ChoiceField(choices=Platform.choices)
    customer_id = serializers.CharField()
    measure = serializers.ChoiceField(choices=[m for m in Measure.values if m != "certifications"])
    workload = serializers.CharField(required=False, allow_blank=True)
    value = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=False)


class TelemetryApi(GlobalViewSet):
    """Bulk upserts of customers and usage; the kind is the class's."""

    model = Customer

    kind = ""
    access = {"create": Access.TELEMETRY}
    bulk_actions = ("create",)

    def scoped_queryset(self) -> QuerySet[Any]:
        return Customer.objects.none()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return bulk_upload(request, caller=self.caller, kind=self.kind)


@extend_schema_view(
    create=extend_schema(
        operation_id="telemetry_customers_bulk_upsert",
        summary=gettext_lazy("Upsert customers (platform keys)"),
        description=BULK_DESCRIPTION,
        request={JSON: CustomerRowSerializer(many=True), CSV: OpenApiTypes.STR},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=_bulk_responses(
            {
                "kind": "customers",
                "rows": 1,
                "created": 1,
                "updated": 0,
                "unchanged": 0,
                "recompute_queued": False,
            }
        ),
        examples=[
            OpenApiExample(
                "One customer",
                value=[
                    {
                        "platform": "azure",
                        "customer_id": "123456",
                        "name": "Northwind",
                        "country": "JP",
                        "production": True,
                    }
                ],
                request_only=True,
            )
        ],
    )
)
class CustomerBulkApi(TelemetryApi):
    kind = "customers"


@extend_schema_view(
    create=extend_schema(
        operation_id="telemetry_usage_bulk_upsert",
        summary=gettext_lazy("Upsert monthly usage (platform keys)"),
        description=BULK_DESCRIPTION,
        request={JSON: UsageRowSerializer(many=True), CSV: OpenApiTypes.STR},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=_bulk_responses(
            {
                "kind": "usage",
                "rows": 24,
                "created": 12,
                "updated": 2,
                "unchanged": 10,
                "recompute_queued": True,
            }
        ),
        examples=[
            OpenApiExample(
                "Seats and consumed revenue",
                value=[
                    {
                        "month": "2026-10",
                        "platform": "m365",
                        "customer_id": "0f8e3c8e-4b7a-4b8e-9d3c-2f1a5b6c7d8e",
                        "measure": "paid_seats",
                        "value": 120,
                    },
                    {
                        "month": "2026-10",
                        "platform": "azure",
                        "customer_id": "123456",
                        "measure": "acr_usd",
                        "workload": "security",
                        "value": 1520.5,
                    },
                ],
                request_only=True,
            )
        ],
    )
)
class UsageBulkApi(TelemetryApi):
    kind = "usage"


# --- scores ------------------------------------------------------------------------------------


class GapPartSerializer(serializers.Serializer):
    amount = serializers.FloatField()
    label = serializers.CharField()
    label_one = serializers.CharField(required=False)
    unit = serializers.CharField()
    baseline = serializers.BooleanField(
        required=False, help_text=gettext_lazy("What a growth source's baseline lacks.")
    )
    certifications = serializers.ListField(
        child=serializers.ListField(),
        required=False,
        help_text=gettext_lazy(
            "The certifications more people must hold: [mode, [codes]] per group, mode "
            "'all' or 'any'."
        ),
    )


class MetricBreakdownSerializer(serializers.Serializer):
    code = serializers.CharField()
    category = serializers.CharField()
    points = serializers.FloatField(help_text=gettext_lazy("Unrounded."))
    max_points = serializers.FloatField()
    value = serializers.FloatField()
    target = serializers.FloatField()
    gap = serializers.CharField(
        help_text=gettext_lazy("What is missing for full points (English).")
    )
    gap_parts = GapPartSerializer(many=True, required=False)
    meets_minimum = serializers.BooleanField(required=False)
    sources = serializers.DictField(child=serializers.FloatField(), required=False)


class ScoreSerializer(serializers.ModelSerializer):
    designation = serializers.CharField(source="designation.code")
    designation_name = serializers.CharField(source="designation.name")
    rule_set_version = serializers.IntegerField(source="rule_set.version")
    qualifying_total = serializers.FloatField(source="rule_set.qualifying_total")
    min_metric_points = serializers.FloatField(source="rule_set.min_metric_points")
    points_to_qualify = serializers.SerializerMethodField(
        help_text=gettext_lazy("Points still missing to the qualifying total (0 when reached).")
    )
    metrics = MetricBreakdownSerializer(many=True)

    class Meta:
        model = ScoreSnapshot
        fields = [
            "designation",
            "designation_name",
            "as_of",
            "rule_set_version",
            "total",
            "qualified",
            "qualifying_total",
            "min_metric_points",
            "points_to_qualify",
            "computed_at",
            "metrics",
        ]

    def get_points_to_qualify(self, snapshot: ScoreSnapshot) -> float:
        return max(0.0, float(snapshot.rule_set.qualifying_total) - snapshot.total)


class CurrentScoresSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    scores = ScoreSerializer(many=True)


# --- the score read's fast path: stored rows to the serializers' output, without the per-field
# machinery of DRF (the score read is the API's most frequent call). The output is the
# serializers' own, field by field: the same names, order, types and None handling;
# tests/api/test_scores.py compares the two.


def _converter(field: serializers.Field) -> Callable[[Any], Any]:
    """`field.to_representation`, or the same function without the method call for the plain
    fields (DRF's FloatField, CharField and IntegerField are `float`, `str` and `int`)."""
    kind = type(field)
    if kind is serializers.FloatField:
        return float
    if kind is serializers.CharField:
        return str
    if kind is serializers.IntegerField:
        return int
    if isinstance(field, serializers.ListSerializer) and isinstance(
        field.child, serializers.Serializer
    ):
        child = _dict_converter(field.child)
        return lambda items: [child(item) for item in items]
    if kind is serializers.DictField and type(field.child) is serializers.FloatField:
        return lambda value: {str(key): float(item) for key, item in value.items()}
    return field.to_representation


def _dict_converter(serializer: serializers.Serializer) -> Callable[[dict[str, Any]], Any]:
    """What `serializer.to_representation(data)` answers for a dict whose keys are the field
    names (a missing optional key is left out, None stays None)."""
    plan = [(name, field.required, _converter(field)) for name, field in serializer.fields.items()]

    def represent(data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, required, convert in plan:
            if name not in data:
                if required:
                    raise KeyError(name)
                continue
            value = data[name]
            out[name] = None if value is None else convert(value)
        return out

    return represent


# ScoreSerializer's fields and the stored columns (`api_selectors.SCORE_ROW_FIELDS`) they read.
SCORE_ROW_SOURCES = {
    "designation": "designation__code",
    "designation_name": "designation__name",
    "as_of": "as_of",
    "rule_set_version": "rule_set__version",
    "total": "total",
    "qualified": "qualified",
    "qualifying_total": "rule_set__qualifying_total",
    "min_metric_points": "rule_set__min_metric_points",
    "computed_at": "computed_at",
}


def _column(column: str, convert: Callable[[Any], Any]) -> Callable[[dict[str, Any]], Any]:
    def read(row: dict[str, Any]) -> Any:
        value = row[column]
        return None if value is None else convert(value)

    return read


def _points_to_qualify(row: dict[str, Any]) -> float:
    return max(0.0, float(row["rule_set__qualifying_total"]) - row["total"])


@functools.cache
def _score_plan() -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    """ScoreSerializer's fields in order, each with what computes it from a stored row."""
    plan: list[tuple[str, Callable[[dict[str, Any]], Any]]] = []
    for name, field in ScoreSerializer().fields.items():
        if name == "points_to_qualify":  # its SerializerMethodField
            plan.append((name, _points_to_qualify))
        elif name == "metrics":
            assert isinstance(field, serializers.ListSerializer)
            assert isinstance(field.child, serializers.Serializer)
            metric = _dict_converter(field.child)
            plan.append((name, lambda row, m=metric: [m(item) for item in row["metrics"]]))
        else:
            plan.append((name, _column(SCORE_ROW_SOURCES[name], _converter(field))))
    return plan


def score_row_representation(row: dict[str, Any]) -> dict[str, Any]:
    """`ScoreSerializer(snapshot).data` for a row of `api_selectors.score_current_rows`."""
    return {name: compute(row) for name, compute in _score_plan()}


SCORE_EXAMPLE = {
    "designation": "security",
    "designation_name": "Security",
    "as_of": "2026-11-30",
    "rule_set_version": 1,
    "total": 72.5,
    "qualified": True,
    "qualifying_total": 70.0,
    "min_metric_points": 1.0,
    "points_to_qualify": 0.0,
    "computed_at": "2026-11-30T02:31:07Z",
    "metrics": [
        {
            "code": "net_customer_adds",
            "category": "performance",
            "points": 10.0,
            "max_points": 10.0,
            "value": 4,
            "target": 4,
            "gap": "",
            "gap_parts": [],
            "meets_minimum": True,
            "sources": {"m365": 3, "azure": 1},
        }
    ],
}


class ScoreHistoryFilter(django_filters.FilterSet):
    designation = django_filters.CharFilter(field_name="designation__code")
    as_of = django_filters.DateFromToRangeFilter(
        help_text=gettext_lazy("`as_of_after` / `as_of_before` (inclusive dates).")
    )
    qualified = django_filters.BooleanFilter()

    class Meta:
        model = ScoreSnapshot
        fields = ["designation", "as_of", "qualified"]


class HistoryPagination(ApiCursorPagination):
    ordering = ("-as_of", "-pk")


def _not_modified(request: Request, etag: str) -> Response | None:
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return None


ETAG_PARAMETER = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("The ETag of an earlier response: 304 when the scores are unchanged."),
)


# How long a current-scores body is kept under its ETag (a new snapshot changes the ETag; this
# bounds what a renamed designation could show).
SCORE_CACHE_SECONDS = 300


class ScoreApi(OrganizationViewSet):
    """The organization's Partner Capability Scores, from the stored snapshots."""

    model = ScoreSnapshot

    serializer_class = ScoreSerializer
    filterset_class = ScoreHistoryFilter
    pagination_class = HistoryPagination
    lookup_field = "designation__code"
    lookup_url_kwarg = "designation"

    def scoped_queryset(self, organization: Organization) -> QuerySet[ScoreSnapshot]:
        return api_selectors.score_history(organization=organization)

    @extend_schema(
        operation_id="scores_current",
        summary=gettext_lazy("Current scores"),
        description=gettext_lazy(
            "The latest score of each designation: total, qualified, every metric's points, "
            "value, target and gap. Send the ETag back in `If-None-Match` to get a 304 while "
            "nothing was recomputed."
        ),
        parameters=[ETAG_PARAMETER],
        responses={
            200: OpenApiResponse(
                CurrentScoresSerializer,
                examples=[
                    OpenApiExample(
                        "Scores",
                        value={"as_of": "2026-11-30", "scores": [SCORE_EXAMPLE]},
                        response_only=True,
                    )
                ],
            ),
            304: OpenApiResponse(description=gettext_lazy("Not modified since the ETag given.")),
        },
        filters=False,
    )
    def current(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        stamp = api_selectors.score_stamp(organization=self.organization)
        etag = stamp.etag
        if (unchanged := _not_modified(request, etag)) is not None:
            return unchanged
        # The body is the same for every caller while the ETag is: kept under it.
        cache_key = f"api:scores-current:{self.organization.pk}:{etag}"
        data = cache.get(cache_key)
        if data is None:
            rows = api_selectors.score_current_rows(
                organization=self.organization, as_of=stamp.latest
            )
            # What CurrentScoresSerializer answers, through the fast path above.
            as_of = CurrentScoresSerializer().fields["as_of"]
            data = {
                "as_of": as_of.to_representation(rows[0]["as_of"]) if rows else None,
                "scores": [score_row_representation(row) for row in rows],
            }
            cache.set(cache_key, data, SCORE_CACHE_SECONDS)
        return Response(data, headers={"ETag": etag})

    @extend_schema(
        operation_id="scores_current_designation",
        summary=gettext_lazy("Current score of one designation"),
        description=gettext_lazy("The latest score of one designation (by code, e.g. `security`)."),
        parameters=[ETAG_PARAMETER],
        responses={
            200: OpenApiResponse(
                ScoreSerializer,
                examples=[OpenApiExample("Security", value=SCORE_EXAMPLE, response_only=True)],
            ),
            304: OpenApiResponse(description=gettext_lazy("Not modified since the ETag given.")),
        },
        filters=False,
    )
    def designation(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        stamp = api_selectors.score_stamp(organization=self.organization)
        etag = stamp.etag
        if (unchanged := _not_modified(request, etag)) is not None:
            return unchanged
        code = self.kwargs["designation"]
        rows = api_selectors.score_current_rows(organization=self.organization, as_of=stamp.latest)
        for row in rows:
            if row["designation__code"] == code:
                return Response(score_row_representation(row), headers={"ETag": etag})
        return Response(
            {
                "type": "client_error",
                "errors": [
                    {
                        "code": "not_found",
                        "detail": _("No score for this designation yet."),
                        "attr": None,
                    }
                ],
            },
            status=status.HTTP_404_NOT_FOUND,
        )

    @extend_schema(
        operation_id="scores_history",
        summary=gettext_lazy("Score history"),
        description=gettext_lazy(
            "Every stored snapshot, newest first, filtered by designation, date range "
            "(`as_of_after`, `as_of_before`) and qualification."
        ),
        responses={200: ScoreSerializer(many=True)},
    )
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ScoreSerializer(page, many=True).data)


class RecomputeSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    # Declared: a model field's range depends on the database, the schema must not.
    snapshots_written = serializers.IntegerField(min_value=0, read_only=True)

    class Meta:
        model = ScoreRecomputeRequest
        fields = [
            "id",
            "url",
            "as_of",
            "status",
            "requested_at",
            "started_at",
            "finished_at",
            "snapshots_written",
            "error",
        ]

    def get_url(self, recompute: ScoreRecomputeRequest) -> str:
        return reverse(
            "api-score-recompute-detail",
            kwargs={"partner_id": self.context["partner_id"], "pk": recompute.pk},
            request=self.context.get("request"),
        )


class RecomputeApi(OrganizationViewSet):
    """Recomputes asked for through the API, and their status."""

    model = ScoreRecomputeRequest

    serializer_class = RecomputeSerializer

    class InputSerializer(serializers.Serializer):
        as_of = serializers.DateField(
            required=False,
            help_text=gettext_lazy("The date to compute the scores as of (default today)."),
        )

    def scoped_queryset(self, organization: Organization) -> QuerySet[ScoreRecomputeRequest]:
        return ScoreRecomputeRequest.objects.for_org(organization)

    def _context(self) -> dict[str, Any]:
        return {"partner_id": self.organization.partner_id, "request": self.request}

    @extend_schema(
        operation_id="scores_recompute",
        summary=gettext_lazy("Recompute the scores"),
        description=gettext_lazy(
            "Queues a recompute of every designation (admins and read-write keys) and answers "
            "202 with the status URL (`Location`, and `url` in the body) to poll."
        ),
        request=InputSerializer,
        responses={202: RecomputeSerializer},
        examples=[OpenApiExample("Today", value={}, request_only=True)],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recompute = api_services.recompute_request_create(
            organization=self.organization,
            requested_by=self.caller.identity,
            as_of=serializer.validated_data.get("as_of"),
        )
        recompute.refresh_from_db()  # an in-process task may have run it already
        data = RecomputeSerializer(recompute, context=self._context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})

    @extend_schema(
        operation_id="scores_recompute_status",
        summary=gettext_lazy("Status of a recompute"),
        description=gettext_lazy("queued, running, done (with the snapshots written) or failed."),
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(RecomputeSerializer(self.get_object(), context=self._context()).data)


# --- bulk jobs ------------------------------------------------------------------------------------

JOB_DESCRIPTION = gettext_lazy(
    "A bulk upload of more than `API_BULK_ASYNC_ROWS` rows, run by Celery: `state` is "
    "`queued`, `running`, `succeeded` (with `report`, what a smaller upload answers) or "
    "`failed` (with `error`, in the one error shape: every bad row with its `line`, `attr`, "
    "`value` and `detail`; nothing was written). `progress` counts the rows validated and "
    "written so far (JSON batches report them when they finish). Only the key that sent the "
    "upload can read it."
)
JOB_RESPONSES = {
    200: OpenApiResponse(
        BulkJobSerializer,
        examples=[
            OpenApiExample(
                "Succeeded",
                value={
                    **JOB_EXAMPLE,
                    "state": "succeeded",
                    "progress": {"rows_validated": 80000, "rows_written": 80000},
                    "finished_at": "2026-11-30T06:00:40Z",
                    "report": {
                        "kind": "usage",
                        "rows": 80000,
                        "created": 79000,
                        "updated": 1000,
                        "unchanged": 0,
                        "recompute_queued": True,
                    },
                },
                response_only=True,
            ),
            OpenApiExample(
                "Failed",
                value={
                    **JOB_EXAMPLE,
                    "state": "failed",
                    "finished_at": "2026-11-30T06:00:20Z",
                    "error": {
                        "type": "validation_error",
                        "errors": [
                            {
                                "code": "invalid_row",
                                "detail": "use YYYY-MM",
                                "attr": "month",
                                "line": 70211,
                                "value": "2026/01",
                            }
                        ],
                    },
                },
                response_only=True,
            ),
        ],
    )
}


JOB_RESTART_DESCRIPTION = gettext_lazy(
    "Runs a job whose worker was lost (`restartable` true) again from the start: its rows are "
    "validated and written all or none, as the first time. 409 for any other job."
)
JOB_RESTART_RESPONSES = {
    202: OpenApiResponse(BulkJobSerializer, description=gettext_lazy("Queued again.")),
    409: OpenApiResponse(
        ErrorResponseSerializer, description=gettext_lazy("The job is not restartable.")
    ),
}


def _job_restart(request: Request, scope: str, job: Any) -> Response:
    if not api_jobs.bulk_job_restart(scope=scope, job=job):
        return client_error(
            status.HTTP_409_CONFLICT,
            "not_restartable",
            _("Only a job whose worker was lost can be restarted."),
        )
    job.refresh_from_db()
    data = BulkJobSerializer(job, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class OrganizationBulkJobApi(OrganizationViewSet):
    """Jobs of the organization's bulk uploads (associations), for the key that sent them."""

    model = OrganizationBulkJob
    serializer_class = BulkJobSerializer
    access = {"retrieve": Access.TELEMETRY, "restart": Access.TELEMETRY}

    def scoped_queryset(self, organization: Organization) -> QuerySet[OrganizationBulkJob]:
        return api_selectors.organization_bulk_job_list(
            organization=organization, caller=self.caller.identity
        )

    @extend_schema(
        operation_id="bulk_jobs_retrieve",
        summary=gettext_lazy("A bulk upload job of the organization"),
        description=JOB_DESCRIPTION,
        responses=JOB_RESPONSES,
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(BulkJobSerializer(self.get_object(), context={"request": request}).data)

    @extend_schema(
        operation_id="bulk_jobs_restart",
        summary=gettext_lazy("Restart a lost bulk upload job of the organization"),
        description=JOB_RESTART_DESCRIPTION,
        request=None,
        responses=JOB_RESTART_RESPONSES,
    )
    def restart(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _job_restart(request, api_jobs.ORGANIZATION, self.get_object())


class TelemetryBulkJobApi(GlobalViewSet):
    """Jobs of telemetry bulk uploads (customers, usage), for the platform key that sent them."""

    model = TelemetryBulkJob
    serializer_class = BulkJobSerializer
    access = {"retrieve": Access.TELEMETRY, "restart": Access.TELEMETRY}

    def scoped_queryset(self) -> QuerySet[TelemetryBulkJob]:
        if getattr(self, "swagger_fake_view", False):
            return TelemetryBulkJob.objects.none()
        return api_selectors.telemetry_bulk_job_list(caller=self.caller.identity)

    @extend_schema(
        operation_id="telemetry_jobs_retrieve",
        summary=gettext_lazy("A telemetry bulk upload job"),
        description=JOB_DESCRIPTION,
        responses=JOB_RESPONSES,
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(BulkJobSerializer(self.get_object(), context={"request": request}).data)

    @extend_schema(
        operation_id="telemetry_jobs_restart",
        summary=gettext_lazy("Restart a lost telemetry bulk upload job"),
        description=JOB_RESTART_DESCRIPTION,
        request=None,
        responses=JOB_RESTART_RESPONSES,
    )
    def restart(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _job_restart(request, api_jobs.TELEMETRY, self.get_object())


# --- the program catalog -----------------------------------------------------------------------


class DesignationFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()

    class Meta:
        model = Designation
        fields = ["code"]


@extend_schema_view(
    list=extend_schema(
        operation_id="catalog_designations_list",
        summary=gettext_lazy("Designations"),
        description=gettext_lazy(
            "The six Solutions Partner designations with the certifications and workloads "
            "that count for each (any caller)."
        ),
    )
)
class DesignationCatalogApi(GlobalViewSet):
    model = Designation
    filterset_class = DesignationFilter

    class OutputSerializer(serializers.ModelSerializer):
        certifications = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
        workloads = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
        # Declared: a model field's range depends on the database, the schema must not.
        position = serializers.IntegerField(min_value=0, read_only=True)

        class Meta:
            model = Designation
            fields = ["code", "name", "name_ja", "position", "certifications", "workloads"]

    serializer_class = OutputSerializer

    def scoped_queryset(self) -> QuerySet[Designation]:
        return api_selectors.designation_list()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)


class RuleSetFilter(django_filters.FilterSet):
    designation = django_filters.CharFilter(field_name="designation__code")
    effective_on = django_filters.DateFilter(field_name="effective_from", lookup_expr="lte")

    class Meta:
        model = RuleSet
        fields = ["designation", "effective_on"]


class MetricSourceCatalogSerializer(serializers.ModelSerializer):
    workloads = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    # Declared: a model field's range depends on the database, the schema must not.
    seat_threshold = serializers.IntegerField(min_value=0, allow_null=True, read_only=True)
    attributions = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = MetricSource
        fields = [
            "platform",
            "attributions",
            "measure",
            "workloads",
            "seat_threshold",
            "usage_threshold",
            "target",
            "production_only",
            "label",
            "unit",
        ]


class CertificationGroupCatalogSerializer(serializers.ModelSerializer):
    certifications = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = CertificationGroup
        fields = ["mode", "certifications"]


class MetricRuleCatalogSerializer(serializers.ModelSerializer):
    category = serializers.CharField()
    sources = MetricSourceCatalogSerializer(many=True)
    certification_groups = CertificationGroupCatalogSerializer(many=True)

    class Meta:
        model = MetricRule
        fields = [
            "code",
            "category",
            "max_points",
            "target",
            "scaling",
            "unit_label",
            "sources",
            "certification_groups",
        ]


@extend_schema_view(
    list=extend_schema(
        operation_id="catalog_rule_sets_list",
        summary=gettext_lazy("Rule-set versions"),
        description=gettext_lazy(
            "Every version of every designation's scoring rules, with its metrics, sources and "
            "certification groups; `effective_on` keeps the versions in force by then."
        ),
    )
)
class RuleSetCatalogApi(GlobalViewSet):
    model = RuleSet
    filterset_class = RuleSetFilter

    class OutputSerializer(serializers.ModelSerializer):
        designation = serializers.CharField(source="designation.code")
        metrics = MetricRuleCatalogSerializer(many=True)
        # Declared: a model field's range depends on the database, the schema must not.
        version = serializers.IntegerField(min_value=1, read_only=True)

        class Meta:
            model = RuleSet
            fields = [
                "designation",
                "version",
                "effective_from",
                "qualifying_total",
                "min_metric_points",
                "notes",
                "metrics",
            ]

    serializer_class = OutputSerializer

    def scoped_queryset(self) -> QuerySet[RuleSet]:
        return api_selectors.rule_set_list()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)


class WorkloadFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    kind = django_filters.ChoiceFilter(choices=Workload.Kind.choices)

    class Meta:
        model = Workload
        fields = ["platform", "kind"]


@extend_schema_view(
    list=extend_schema(
        operation_id="catalog_workloads_list",
        summary=gettext_lazy("Workloads"),
        description=gettext_lazy(
            "Products and Azure solution areas that telemetry reports, and the designations "
            "they count for."
        ),
    )
)
class WorkloadCatalogApi(GlobalViewSet):
    model = Workload
    filterset_class = WorkloadFilter

    class OutputSerializer(serializers.ModelSerializer):
        designations = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

        class Meta:
            model = Workload
            fields = ["code", "name", "name_ja", "platform", "kind", "designations"]

    serializer_class = OutputSerializer

    def scoped_queryset(self) -> QuerySet[Workload]:
        return api_selectors.workload_list()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)
