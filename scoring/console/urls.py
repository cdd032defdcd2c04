"""The staff console, under `staff/` (root URLconf)."""

from django.urls import path

from scoring.console import import_views, views

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
    path("imports/", import_views.import_list, name="staff_imports"),
    path("imports/<int:job_id>/", import_views.import_detail, name="staff_import"),
    path(
        "imports/<int:job_id>/progress/", import_views.import_progress, name="staff_import_progress"
    ),
    path("imports/<int:job_id>/confirm/", import_views.import_confirm, name="staff_import_confirm"),
    path("imports/<int:job_id>/restart/", import_views.import_restart, name="staff_import_restart"),
    path("imports/<int:job_id>/report.csv", import_views.import_report, name="staff_import_report"),
]
