"""The organization's API keys page (admins only): create a key, shown once; revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.access import org_admin_required, org_member_required
from portal.api_keys import organization_key_create, organization_key_list, organization_key_revoke
from portal.exceptions import ApplicationError
from portal.models import Membership, OrganizationAPIKey


class APIKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("The system that will use it, e.g. HR sync."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"),
        choices=OrganizationAPIKey.Scope.choices,
        initial=OrganizationAPIKey.Scope.READ,
    )


def _page(
    request: HttpRequest,
    *,
    membership: Membership,
    form: APIKeyForm | None = None,
    new_key: str | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = membership.organization
    context = {
        "organization": organization,
        "membership": membership,
        "keys": list(organization_key_list(organization=organization)),
        "form": form or APIKeyForm(),
        "new_key": new_key,
        "api_base": request.build_absolute_uri(f"/api/v1/orgs/{organization.partner_id}/"),
    }
    response = render(request, "portal/api_keys.html", context, status=status)
    if new_key:
        # The one response that holds the key: never cached anywhere.
        response["Cache-Control"] = "no-store"
    return response


@org_member_required
@org_admin_required
def api_keys(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    if request.method != "POST":
        return _page(request, membership=membership)
    form = APIKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, membership=membership, form=form, status=400)
    try:
        issued = organization_key_create(
            organization=membership.organization,
            actor=request.user,  # type: ignore[arg-type]  # signed in: org_member_required
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return _page(request, membership=membership, form=form, status=400)
    messages.success(request, _("API key “%(name)s” created.") % {"name": issued.record.name})
    # Rendered, not redirected: the key must not travel through the session or a URL.
    return _page(request, membership=membership, new_key=issued.key, status=201)


@org_member_required
@org_admin_required
@require_POST
def api_key_revoke(request: HttpRequest, *, membership: Membership, key_id: int) -> HttpResponse:
    try:
        key = organization_key_revoke(
            organization=membership.organization,
            actor=request.user,  # type: ignore[arg-type]  # signed in: org_member_required
            key_id=key_id,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("API key “%(name)s” revoked.") % {"name": key.name})
    return redirect(reverse("org_api_keys", args=[membership.organization.slug]))
