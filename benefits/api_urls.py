"""The benefits app's API under `api/v1/` (root URLconf): what an organization holds and can
choose, its entitlements, benefit assignments and the designation status history."""

from django.urls import path

from benefits import apis

ORG = "orgs/<str:partner_id>/benefits/"

urlpatterns = [
    path(ORG, apis.BenefitsApi.as_view({"get": "retrieve"}), name="api-benefits"),
    path(
        ORG + "entitlements/",
        apis.EntitlementApi.as_view({"get": "summary"}),
        name="api-benefit-entitlements",
    ),
    path(
        ORG + "assignments/",
        apis.BenefitAssignmentApi.as_view({"get": "list", "post": "create"}),
        name="api-benefit-assignment-list",
    ),
    path(
        ORG + "assignments/<int:pk>/",
        apis.BenefitAssignmentApi.as_view({"get": "retrieve", "delete": "destroy"}),
        name="api-benefit-assignment-detail",
    ),
    path(
        ORG + "status-history/",
        apis.StatusHistoryApi.as_view({"get": "list"}),
        name="api-benefit-status-history",
    ),
]
