"""The scoring app's organization pages, under `orgs/<slug>/` (root URLconf)."""

from django.urls import path

from scoring import history_views, views, whatif_views

urlpatterns = [
    path("scores/", views.scores, name="org_scores"),
    path("scores/recompute/", views.scores_recompute_now, name="org_scores_recompute"),
    # Before any `scores/<designation_code>/` pattern, which would otherwise take "what-if".
    path("scores/what-if/", whatif_views.whatif, name="org_scores_whatif"),
    # Also before the `scores/<designation_code>/...` patterns: a literal "forecast/" and a
    # distinct "history/" suffix.
    path("scores/forecast/", history_views.scores_forecast, name="org_scores_forecast"),
    path(
        "scores/<slug:designation_code>/history/",
        history_views.designation_history_page,
        name="org_designation_history",
    ),
]
