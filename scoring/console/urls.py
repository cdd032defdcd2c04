"""The staff console, under `staff/` (root URLconf)."""

from django.urls import path

from scoring.console import views

urlpatterns = [
    path("", views.organization_list, name="staff_console"),
    path("organizations.csv", views.organization_export, name="staff_organization_export"),
    path("orgs/<str:partner_id>/", views.organization_detail, name="staff_organization"),
    path(
        "orgs/<str:partner_id>/recompute/",
        views.organization_recompute,
        name="staff_organization_recompute",
    ),
    path("statistics/", views.statistics, name="staff_statistics"),
]
