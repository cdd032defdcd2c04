"""The root URLconf: each app's pages come from its own `urls.py`."""

from django.contrib import admin
from django.urls import include, path

from portal.admin_auth import admin_login, admin_password_change

# Staff sign in (and change their password) through allauth: MFA and rate limits apply.
admin.site.login = admin_login  # type: ignore[method-assign]  # AdminSite's documented hook
admin.site.password_change = (  # type: ignore[method-assign]  # AdminSite's hook, as above
    admin_password_change  # type: ignore[assignment]  # a redirect, not Django's form page
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portal.web_urls")),
    path("orgs/<slug:slug>/", include("scoring.urls")),
    path("orgs/<slug:slug>/", include("benefits.urls")),
    path("staff/", include("scoring.console.urls")),
]
