"""The admin's sign-in goes through allauth, so staff get its MFA step and its rate limits.

Django's own admin login form checks the password alone: a staff user with TOTP enrolled would
reach `/admin/` without the code, and failed attempts there are not throttled. The admin site's
login and password-change views are replaced by these (see `portal/urls.py`); its logout stays
Django's, which ends the whole session, allauth's sign-in state included.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import secure_admin_login
from allauth.account.utils import get_next_redirect_url
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


@secure_admin_login
def _admin_login_for_staff(request: HttpRequest) -> HttpResponse:
    # Only signed-in, active staff get here. Django's login form is never shown to them either:
    # posting another account's password to it would switch accounts without that one's MFA.
    next_url = get_next_redirect_url(request)
    return HttpResponseRedirect(next_url or reverse("admin:index", current_app=admin.site.name))


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Anonymous visitors go to allauth's sign-in (with `next`); signed-in non-staff are refused."""
    user = request.user
    if user.is_authenticated and not (user.is_active and user.is_staff):
        # allauth's decorator refuses them too, but with no reason the 403 page could show.
        raise PermissionDenied(
            _("The admin is for program staff. Your account %(email)s has no access to it.")
            % {"email": getattr(user, "email", "")}
        )
    return _admin_login_for_staff(request)


def admin_password_change(
    request: HttpRequest, extra_context: dict[str, Any] | None = None
) -> HttpResponse:
    """One password change for everybody: allauth's (reauthentication, its signals and mails)."""
    return redirect("account_change_password")
