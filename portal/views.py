"""Server-rendered pages: the switcher, organization home, members and invitation acceptance.

Organization pages resolve `/orgs/<slug>/` in one place, `portal.access.org_member_required`:
a non-member (or an unknown slug) gets 404, so another organization's existence never leaks.
The home page shows the panels other apps registered (`portal.panels`) without importing them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import org_admin_required, org_member_required
from portal.exceptions import ApplicationError
from portal.forms import InvitationForm, MembershipRoleForm
from portal.models import Membership
from portal.panels import organization_panels
from portal.selectors import (
    invitation_accepted_by,
    invitation_list,
    legacy_competency_list,
    member_get,
    member_list,
    organization_list_for_user,
    people_summary,
)
from portal.services import (
    invitation_accept,
    invitation_create,
    invitation_get_open,
    invitation_get_open_for_signup,
    invitation_revoke,
    membership_change_role,
    membership_remove,
)
from portal.signals import INVITATION_SESSION_KEY

# secrets.token_urlsafe(32) gives 43 characters of this alphabet; allow some slack.
INVITATION_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One organization: go there. Several: the switcher. None: program staff go to the
    program's pages (the staff console); anyone else is told how to get in."""
    organizations = list(organization_list_for_user(user=request.user))
    if len(organizations) == 1:
        return redirect("org_home", slug=organizations[0].slug)
    if not organizations and request.user.is_staff:
        # By URL name: the console is scoring's page, which portal does not import.
        return redirect("staff_console")
    return render(request, "portal/home.html", {"organizations": organizations})


@org_member_required
def organization_home(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    organization = membership.organization
    context = {
        "organization": organization,
        "membership": membership,
        "legacy_competencies": list(legacy_competency_list(organization=organization)),
        # Figures and the next certifications to lapse; the People tab lists everyone.
        "summary": people_summary(organization=organization),
        "panels": organization_panels(request=request, membership=membership),
    }
    return render(request, "portal/organization_home.html", context)


def _members_page(
    request: HttpRequest,
    *,
    membership: Membership,
    invite_form: InvitationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = membership.organization
    context = {
        "organization": organization,
        "membership": membership,
        "members": list(member_list(organization=organization)),
        "roles": Membership.Role.choices,
        "invitations": (
            list(invitation_list(organization=organization)) if membership.is_admin else []
        ),
        "invite_form": invite_form or InvitationForm(),
    }
    return render(request, "portal/members.html", context, status=status)


@org_member_required
def members(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    return _members_page(request, membership=membership)


def _members_action(
    request: HttpRequest,
    *,
    membership: Membership,
    action: Callable[[], str],
    invite_form: InvitationForm | None = None,
    done_url: str | None = None,
) -> HttpResponse:
    """One admin action of the members page: run the service, then its success message and the
    members page; a refusal shows the page again with the reason (and the submitted form)."""
    try:
        message = action()
    except ApplicationError as error:
        messages.error(request, error.message)
        return _members_page(request, membership=membership, invite_form=invite_form, status=400)
    messages.success(request, message)
    return redirect(done_url or reverse("org_members", args=[membership.organization.slug]))


@org_member_required
@org_admin_required
@require_POST
def member_invite(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _members_page(request, membership=membership, invite_form=form, status=400)

    def invite() -> str:
        invitation = invitation_create(
            organization=membership.organization,
            actor=request.user,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            site_url=request.build_absolute_uri("/"),
        )
        return _("Invitation sent to %(email)s as %(role)s.") % {
            "email": invitation.email,
            "role": invitation.get_role_display(),
        }

    return _members_action(request, membership=membership, action=invite, invite_form=form)


@org_member_required
@org_admin_required
@require_POST
def member_change_role(
    request: HttpRequest, membership_id: int, *, membership: Membership
) -> HttpResponse:
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return _members_page(request, membership=membership, status=400)

    def change_role() -> str:
        changed = membership_change_role(
            organization=membership.organization,
            actor=request.user,
            membership_id=membership_id,
            role=form.cleaned_data["role"],
        )
        return _("%(email)s is now %(role)s.") % {
            "email": changed.user.email,
            "role": changed.get_role_display(),
        }

    return _members_action(request, membership=membership, action=change_role)


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def member_remove(
    request: HttpRequest, membership_id: int, *, membership: Membership
) -> HttpResponse:
    """GET asks the admin to confirm (a removal cannot be undone, only re-invited); POST removes."""
    if request.method == "GET":
        target = member_get(organization=membership.organization, membership_id=membership_id)
        if target is None:
            raise Http404(_("No such member."))
        context = {
            "organization": membership.organization,
            "membership": membership,
            "target": target,
        }
        return render(request, "portal/member_remove_confirm.html", context)

    def remove() -> str:
        membership_remove(
            organization=membership.organization, actor=request.user, membership_id=membership_id
        )
        return _("The member has been removed.")

    # An admin who removed themselves can no longer see the members page.
    done_url = reverse("home") if membership_id == membership.pk else None
    return _members_action(request, membership=membership, action=remove, done_url=done_url)


@org_member_required
@org_admin_required
@require_POST
def member_invitation_revoke(
    request: HttpRequest, invitation_id: int, *, membership: Membership
) -> HttpResponse:
    def revoke() -> str:
        invitation = invitation_revoke(
            organization=membership.organization, actor=request.user, invitation_id=invitation_id
        )
        return _("The invitation to %(email)s has been revoked.") % {"email": invitation.email}

    return _members_action(request, membership=membership, action=revoke)


def _invitation_problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "portal/invitation_invalid.html", {"message": message}, status=status)


def invitation_detail(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: sign up or sign in first, then accept (POST) as the invited address."""
    if not INVITATION_TOKEN_RE.fullmatch(token):
        return _invitation_problem(request, _("This invitation link is malformed."), 400)
    try:
        invitation = invitation_get_open(token=token)
    except ApplicationError as error:
        accepted_by_me = request.user.is_authenticated and invitation_accepted_by(
            token=token, user=request.user
        )
        if accepted_by_me:
            return redirect("home")
        return _invitation_problem(request, error.message, 404)

    if not request.user.is_authenticated:
        # The adapter opens signup while this token is in the session (once, for the invited
        # address only); the e-mail confirmation receiver (portal.signals) then creates the
        # membership. An address that has an account signs in instead.
        request.session[INVITATION_SESSION_KEY] = token
        here = reverse("invitation_accept", args=[token])
        context = {
            "invitation": invitation,
            "login_url": reverse("account_login") + "?" + urlencode({"next": here}),
        }
        try:
            invitation_get_open_for_signup(token=token)
        except ApplicationError as error:
            context["signup_refused"] = error.message
        else:
            query = urlencode({"email": invitation.email})
            context["signup_url"] = reverse("account_signup") + "?" + query
        return render(request, "portal/invitation.html", context)

    status = 200
    if request.method == "POST":
        try:
            membership = invitation_accept(token=token, user=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
            status = 403
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(
                request,
                _("Welcome to %(organization)s.") % {"organization": membership.organization.name},
            )
            return redirect("org_home", slug=membership.organization.slug)
    email_matches = request.user.emailaddress_set.filter(
        email__iexact=invitation.email, verified=True
    ).exists()
    return render(
        request,
        "portal/invitation.html",
        {"invitation": invitation, "email_matches": email_matches},
        status=status,
    )
