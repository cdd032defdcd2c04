"""The organization's webhooks page (admins only): endpoints, their secret shown once, the
delivery log with response codes, replay and re-enabling."""

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
from portal.exceptions import ApplicationError
from portal.models import Membership, User
from portal.webhooks import (
    EVENTS,
    webhook_delivery_list,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_endpoint_list,
)


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("URL"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/portal"}),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=list(EVENTS.items()),
        widget=forms.CheckboxSelectMultiple,
        initial=list(EVENTS),
    )


def _page(
    request: HttpRequest,
    *,
    membership: Membership,
    form: WebhookEndpointForm | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = membership.organization
    context = {
        "organization": organization,
        "membership": membership,
        "endpoints": list(webhook_endpoint_list(organization=organization)),
        "deliveries": webhook_delivery_list(organization=organization),
        "events": EVENTS,
        "form": form or WebhookEndpointForm(),
        "new_secret": new_secret,
    }
    response = render(request, "portal/webhooks.html", context, status=status)
    if new_secret:
        response["Cache-Control"] = "no-store"
    return response


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # org_member_required: signed in
    return request.user


@org_member_required
@org_admin_required
def webhooks(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    if request.method != "POST":
        return _page(request, membership=membership)
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _page(request, membership=membership, form=form, status=400)
    try:
        endpoint = webhook_endpoint_create(
            organization=membership.organization,
            actor=_actor(request),
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
        )
    except ApplicationError as error:
        form.add_error("url" if error.extra.get("attr") == "url" else None, error.message)
        return _page(request, membership=membership, form=form, status=400)
    messages.success(request, _("Webhook endpoint %(url)s added.") % {"url": endpoint.url})
    return _page(request, membership=membership, new_secret=endpoint.secret, status=201)


def _action(request: HttpRequest, membership: Membership, run) -> HttpResponse:  # type: ignore[no-untyped-def]  # a local callable
    try:
        messages.success(request, run())
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(reverse("org_webhooks", args=[membership.organization.slug]))


@org_member_required
@org_admin_required
@require_POST
def webhook_delete(
    request: HttpRequest, *, membership: Membership, endpoint_id: int
) -> HttpResponse:
    def run() -> str:
        webhook_endpoint_delete(
            organization=membership.organization, actor=_actor(request), endpoint_id=endpoint_id
        )
        return _("Webhook endpoint removed.")

    return _action(request, membership, run)


@org_member_required
@org_admin_required
@require_POST
def webhook_enable(
    request: HttpRequest, *, membership: Membership, endpoint_id: int
) -> HttpResponse:
    def run() -> str:
        webhook_endpoint_enable(
            organization=membership.organization, actor=_actor(request), endpoint_id=endpoint_id
        )
        return _("Webhook endpoint enabled again.")

    return _action(request, membership, run)


@org_member_required
@org_admin_required
@require_POST
def webhook_replay(
    request: HttpRequest, *, membership: Membership, delivery_id: int
) -> HttpResponse:
    def run() -> str:
        webhook_delivery_replay(
            organization=membership.organization, actor=_actor(request), delivery_id=delivery_id
        )
        return _("The event is being sent again.")

    return _action(request, membership, run)
