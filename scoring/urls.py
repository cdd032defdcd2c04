"""The scoring app's organization pages, under `orgs/<slug>/` (root URLconf)."""

from django.urls import path

from scoring import (
    customer_views,
    drilldown_views,
    history_views,
    people_views,
    views,
    whatif_views,
)

urlpatterns = [
    path("scores/", views.scores, name="org_scores"),
    path("scores/recompute/", views.scores_recompute_now, name="org_scores_recompute"),
    # Before any `scores/<designation_code>/` pattern, which would otherwise take "what-if".
    path("scores/what-if/", whatif_views.whatif, name="org_scores_whatif"),
    path("people/", people_views.people, name="org_people"),
    path("people/add/", people_views.person_add, name="org_person_add"),
    path("people/upload/", people_views.people_upload, name="org_people_upload"),
    path("people/<int:person_pk>/", people_views.person_detail, name="org_person"),
    path("people/<int:person_pk>/edit/", people_views.person_edit, name="org_person_edit"),
    path(
        "people/<int:person_pk>/deactivate/",
        people_views.person_deactivate,
        name="org_person_deactivate",
    ),
    path(
        "people/<int:person_pk>/reactivate/",
        people_views.person_reactivate,
        name="org_person_reactivate",
    ),
    path(
        "people/<int:person_pk>/certifications/add/",
        people_views.certification_add,
        name="org_certification_add",
    ),
    path(
        "people/<int:person_pk>/certifications/<int:held_pk>/edit/",
        people_views.certification_edit,
        name="org_certification_edit",
    ),
    path(
        "people/<int:person_pk>/certifications/<int:held_pk>/remove/",
        people_views.certification_remove,
        name="org_certification_remove",
    ),
    path("customers/", customer_views.customers, name="org_customers"),
    # Also before the `scores/<designation_code>/...` patterns: a literal "forecast/" and a
    # distinct "history/" suffix.
    path("scores/forecast/", history_views.scores_forecast, name="org_scores_forecast"),
    path(
        "scores/<slug:designation_code>/history/",
        history_views.designation_history_page,
        name="org_designation_history",
    ),
    # The generic designation and metric patterns last: literal `scores/...` paths first.
    path("scores/<str:designation_code>/", drilldown_views.designation, name="org_designation"),
    path(
        "scores/<str:designation_code>/<str:metric_code>/",
        drilldown_views.metric_drilldown_page,
        name="org_metric_drilldown",
    ),
]
