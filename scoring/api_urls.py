"""The scoring app's API under `api/v1/` (root URLconf): customers, associations, scores and
recomputes of an organization, bulk telemetry, and the program catalog."""

from django.urls import path

from scoring import apis

ORG = "orgs/<str:partner_id>/"

urlpatterns = [
    path(ORG + "customers/", apis.CustomerApi.as_view({"get": "list"}), name="api-customer-list"),
    path(
        ORG + "associations/",
        apis.AssociationApi.as_view({"get": "list"}),
        name="api-association-list",
    ),
    path(
        ORG + "associations/bulk/",
        apis.AssociationApi.as_view({"post": "bulk"}),
        name="api-association-bulk",
    ),
    path(ORG + "scores/", apis.ScoreApi.as_view({"get": "current"}), name="api-score-current"),
    path(
        ORG + "scores/history/", apis.ScoreApi.as_view({"get": "history"}), name="api-score-history"
    ),
    path(
        ORG + "scores/recompute/",
        apis.RecomputeApi.as_view({"post": "create"}),
        name="api-score-recompute",
    ),
    path(
        ORG + "scores/recompute/<int:pk>/",
        apis.RecomputeApi.as_view({"get": "retrieve"}),
        name="api-score-recompute-detail",
    ),
    path(
        ORG + "scores/<str:designation>/",
        apis.ScoreApi.as_view({"get": "designation"}),
        name="api-score-designation",
    ),
    path(
        ORG + "jobs/<int:pk>/",
        apis.OrganizationBulkJobApi.as_view({"get": "retrieve"}),
        name="api-bulk-job",
    ),
    path(
        ORG + "jobs/<int:pk>/restart/",
        apis.OrganizationBulkJobApi.as_view({"post": "restart"}),
        name="api-bulk-job-restart",
    ),
    path(
        "telemetry/jobs/<int:pk>/restart/",
        apis.TelemetryBulkJobApi.as_view({"post": "restart"}),
        name="api-telemetry-job-restart",
    ),
    path(
        "telemetry/jobs/<int:pk>/",
        apis.TelemetryBulkJobApi.as_view({"get": "retrieve"}),
        name="api-telemetry-job",
    ),
    path(
        "telemetry/customers/",
        apis.CustomerBulkApi.as_view({"post": "create"}),
        name="api-telemetry-customers",
    ),
    path(
        "telemetry/usage/",
        apis.UsageBulkApi.as_view({"post": "create"}),
        name="api-telemetry-usage",
    ),
    path(
        "catalog/designations/",
        apis.DesignationCatalogApi.as_view({"get": "list"}),
        name="api-catalog-designation-list",
    ),
    path(
        "catalog/rule-sets/",
        apis.RuleSetCatalogApi.as_view({"get": "list"}),
        name="api-catalog-rule-set-list",
    ),
    path(
        "catalog/workloads/",
        apis.WorkloadCatalogApi.as_view({"get": "list"}),
        name="api-catalog-workload-list",
    ),
]
