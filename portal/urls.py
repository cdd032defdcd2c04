"""The root URLconf: each app's pages come from its own `urls.py`."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portal.web_urls")),
    path("orgs/<slug:slug>/", include("scoring.urls")),
    path("orgs/<slug:slug>/", include("benefits.urls")),
]
