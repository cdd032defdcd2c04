"""The root URLconf: each app's pages come from its own `urls.py`, its API from its own API URL
module (named by dotted path, so that portal imports no other app)."""

from django.contrib import admin
from django.urls import include, path, re_path

from portal.admin_auth import admin_login, admin_password_change
from portal.api.errors import not_found_view

# Staff sign in (and change their password) through allauth: MFA and rate limits apply.
admin.site.login = admin_login  # type: ignore[method-assign]  # AdminSite's documented hook
admin.site.password_change = (  # type: ignore[method-assign]  # AdminSite's hook, as above
    admin_password_change  # type: ignore[assignment]  # a redirect, not Django's form page
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("portal.api_urls")),
    path("api/v1/", include("scoring.api_urls")),
    path("api/v1/", include("benefits.api_urls")),
    re_path(r"^api/", not_found_view),
    path("", include("portal.web_urls")),
    path("orgs/<slug:slug>/", include("scoring.urls")),
    path("orgs/<slug:slug>/", include("benefits.urls")),
    path("staff/", include("scoring.console.urls")),
]
