"""The benefits app's organization pages, under `orgs/<slug>/` (root URLconf)."""

from django.urls import path

from benefits import views

urlpatterns = [
    path("benefits/", views.overview, name="org_benefits"),
    path("benefits/enrol/", views.enrol, name="org_benefits_enrol"),
    path("benefits/use/", views.use, name="org_benefits_use"),
    path("benefits/use/assign/", views.assign, name="org_benefits_assign"),
    path("benefits/use/unassign/", views.unassign, name="org_benefits_unassign"),
    path("benefits/use/activate/", views.activate, name="org_benefits_activate"),
    path("benefits/badges/", views.badges, name="org_benefits_badges"),
    path("benefits/notifications/", views.notifications, name="org_benefits_notifications"),
    path(
        "benefits/notifications/preferences/",
        views.notification_preferences,
        name="org_benefits_notification_preferences",
    ),
    path("benefits/renewal/", views.renewal, name="org_benefits_renewal"),
    path("benefits/renewal/choose/", views.renewal_choose, name="org_benefits_renewal_choose"),
]
