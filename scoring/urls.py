"""The scoring app's organization pages, under `orgs/<slug>/` (root URLconf)."""

from django.urls import path

from scoring import drilldown_views, views, whatif_views

urlpatterns = [
    path("scores/", views.scores, name="org_scores"),
    path("scores/recompute/", views.scores_recompute_now, name="org_scores_recompute"),
    # Before any `scores/<designation_code>/` pattern, which would otherwise take "what-if".
    path("scores/what-if/", whatif_views.whatif, name="org_scores_whatif"),
    path("scores/<str:designation_code>/", drilldown_views.designation, name="org_designation"),
    path(
        "scores/<str:designation_code>/<str:metric_code>/",
        drilldown_views.metric_drilldown_page,
        name="org_metric_drilldown",
    ),
]
