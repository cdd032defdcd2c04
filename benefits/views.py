"""Pages of the benefits app, under `orgs/<slug>/benefits/`: the overview (what each designation
brings or would add, enrolment), benefit use (assign, unassign, activate) and the renewal
choice. Writes are POSTs by admins; ids come in the body, so every URL is the organization's
own and the isolation walk covers it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from benefits import badges as badge_files
from benefits import presenters, selectors, services
from benefits.models import DesignationStatus, NotificationKind
from portal.access import org_admin_required, org_member_required
from portal.exceptions import ApplicationError
from portal.models import Membership, User
from scoring.selectors import program_date_list


def benefits_panel(membership: Membership) -> dict[str, Any]:
    """The organization home's benefits panel (registered in `BenefitsConfig.ready`)."""
    summary = selectors.benefits_panel_summary(
        organization=membership.organization, on=timezone.localdate()
    )
    return {"benefits_summary": summary}


def _actor(request: HttpRequest) -> User:
    """The signed-in user (org_member_required let only them through)."""
    assert isinstance(request.user, User)
    return request.user


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@org_member_required
def overview(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """What each held designation brings, what one within reach would add, and the timeline."""
    organization = membership.organization
    today = timezone.localdate()
    holdings = selectors.holdings_on(organization=organization, on=today)
    entitlements = selectors.entitlements_on(organization=organization, on=today, holdings=holdings)
    catalog = selectors.package_catalog()
    cards = []
    for holding in holdings.designations:
        if holding.held:
            assert holding.term is not None
            package = selectors.package_in_force(
                catalog,
                on=holding.term.starts_on,
                designation_id=holding.designation.pk,
                grantor="designation",
            )
            rows = presenters.grant_rows(
                selectors.stack_grants([(package, item) for item in package.items.all()])
                if package
                else []
            )
        else:
            package = selectors.package_in_force(
                catalog, on=today, designation_id=holding.designation.pk, grantor="designation"
            )
            rows = presenters.grant_rows(
                selectors.designation_additions(
                    entitlements=entitlements, catalog=catalog, designation=holding.designation
                ),
                additions=True,
            )
        cards.append(
            {
                "holding": holding,
                "badge": presenters.status_badge(holding.status),
                "package": package,
                "rows": rows,
                "can_enrol": holding.status == DesignationStatus.QUALIFIED,
            }
        )
    legacy = selectors.legacy_competencies_held(organization=organization)
    context = {
        "organization": organization,
        "membership": membership,
        "today": today,
        "holdings": holdings,
        "entitlements": entitlements,
        "grant_rows": presenters.grant_rows(entitlements.grants),
        "cards": cards,
        "legacy": legacy,
        "program_dates": program_date_list(),
        "next_window": selectors.next_renewal_window(organization=organization, on=today),
        "history": selectors.status_history(organization=organization, limit=20),
    }
    return render(request, "benefits/overview.html", context)


@org_member_required
@org_admin_required
@require_POST
def enrol(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Admins: enrol a qualified designation (the fee is recorded)."""
    organization = membership.organization
    try:
        term = services.designation_enrol(
            organization=organization,
            designation_code=request.POST.get("designation", ""),
            actor=_actor(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Enrolled in %(designation)s until %(date)s.")
            % {"designation": term.designation.display_name, "date": term.ends_on.isoformat()},
        )
    return redirect("org_benefits", slug=organization.slug)


@org_member_required
def use(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Granted / assigned / free per product, the people holding them, the tenants."""
    organization = membership.organization
    today = timezone.localdate()
    entitlements = selectors.entitlements_on(organization=organization, on=today)
    uses = selectors.benefit_use(entitlements=entitlements)
    rows = [
        {
            "use": item,
            "amount": presenters.quantity_text(item.grant.quantity, item.product.unit),
            "assignable": item.product.use != "none",
        }
        for item in uses
    ]
    context = {
        "organization": organization,
        "membership": membership,
        "entitlements": entitlements,
        "rows": rows,
        "people": selectors.active_people(organization=organization) if membership.is_admin else [],
    }
    return render(request, "benefits/use.html", context)


def _use_action(
    request: HttpRequest, membership: Membership, action: Any, done: str
) -> HttpResponse:
    try:
        action()
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("org_benefits_use", slug=membership.organization.slug)


@org_member_required
@org_admin_required
@require_POST
def assign(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Admins: give a seat or a credit to a person of the organization."""
    person_id = _int(request.POST.get("person"))
    return _use_action(
        request,
        membership,
        lambda: services.benefit_assign(
            organization=membership.organization,
            product_code=request.POST.get("product", ""),
            person_id=person_id or 0,
            actor=_actor(request),
        ),
        _("Assigned."),
    )


@org_member_required
@org_admin_required
@require_POST
def unassign(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Admins: free a seat (after the product's reassignment delay)."""
    assignment_id = _int(request.POST.get("assignment"))
    return _use_action(
        request,
        membership,
        lambda: services.benefit_unassign(
            organization=membership.organization,
            assignment_id=assignment_id or 0,
            actor=_actor(request),
        ),
        _("Unassigned."),
    )


@org_member_required
@org_admin_required
@require_POST
def activate(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Admins: record the tenant a cloud-service benefit is activated on."""
    return _use_action(
        request,
        membership,
        lambda: services.benefit_activate(
            organization=membership.organization,
            product_code=request.POST.get("product", ""),
            tenant=request.POST.get("tenant", ""),
            actor=_actor(request),
        ),
        _("Activation recorded."),
    )


@org_member_required
def badges(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """The badges held, with the organization's name; `?badge=<code>&format=svg|png` downloads
    one (404 for anything not held)."""
    organization = membership.organization
    holdings = selectors.holdings_on(organization=organization, on=timezone.localdate())
    held = badge_files.badges_held(holdings)
    wanted = request.GET.get("badge")
    if wanted is None:
        context = {"organization": organization, "membership": membership, "badges": held}
        return render(request, "benefits/badges.html", context)
    badge = next((b for b in held if b.key == wanted), None)
    if badge is None:
        raise Http404(_("Your organization does not hold this badge."))
    if request.GET.get("format") == "png":
        response = HttpResponse(badge_files.badge_png(badge), content_type="image/png")
        extension = "png"
    else:
        response = HttpResponse(badge_files.badge_svg(badge), content_type="image/svg+xml")
        extension = "svg"
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="{badge.filename_stem}.{extension}"'
        )
    return response


@org_member_required
def renewal(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """The renewal window: each option's fee and benefits, and the choice made."""
    organization = membership.organization
    today = timezone.localdate()
    window = selectors.renewal_window_on(organization=organization, on=today)
    offers = []
    choice = None
    if window is not None:
        choice = selectors.renewal_choice_get(
            organization=organization, anniversary=window.anniversary
        )
        offers = [
            {
                "offer": offer,
                "fee": presenters.fee_text(offer.fee),
                "rows": presenters.grant_rows(offer.grants),
                "chosen": choice is not None and choice.option == offer.option,
            }
            for offer in selectors.renewal_offers(
                organization=organization, window=window, on=today
            )
        ]
    context = {
        "organization": organization,
        "membership": membership,
        "today": today,
        "window": window,
        "next_window": selectors.next_renewal_window(organization=organization, on=today),
        "offers": offers,
        "choice": choice,
    }
    return render(request, "benefits/renewal.html", context)


@org_member_required
@org_admin_required
@require_POST
def renewal_choose(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Admins: choose (or change) the renewal option while the window is open."""
    organization = membership.organization
    try:
        choice = services.renewal_choose(
            organization=organization,
            option=request.POST.get("option", ""),
            actor=_actor(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Renewal option recorded: %(option)s.") % {"option": choice.get_option_display()},
        )
    return redirect("org_benefits_renewal", slug=organization.slug)


@org_member_required
def notifications(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """The user's notifications for this organization and their e-mail choices per kind."""
    organization = membership.organization
    user = _actor(request)
    items = selectors.notification_list(organization=organization, user=user)
    wanted = selectors.email_kinds_wanted(organization=organization, user=user)
    context = {
        "organization": organization,
        "membership": membership,
        "items": [
            {"notification": n, "text": presenters.notification_text(n.kind, n.params)}
            for n in items
        ],
        "kinds": [
            {"value": value, "label": label, "email": value in wanted}
            for value, label in NotificationKind.choices
        ],
    }
    return render(request, "benefits/notifications.html", context)


@org_member_required
@require_POST
def notification_preferences(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Any member: choose the kinds that come by e-mail; marking read is the other action."""
    organization = membership.organization
    if request.POST.get("action") == "read":
        services.notifications_mark_read(organization=organization, user=_actor(request))
    else:
        services.notification_preferences_set(
            organization=organization,
            user=_actor(request),
            email_kinds=set(request.POST.getlist("email")),
        )
        messages.success(request, _("Your e-mail choices are saved."))
    return redirect("org_benefits_notifications", slug=organization.slug)
