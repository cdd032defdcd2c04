"""Writes of the tenancy app: invitations and memberships. Errors a user can cause raise
`ApplicationError`; acting without the admin role raises `PermissionDenied`."""

from __future__ import annotations

from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.audit import audit_as
from portal.exceptions import ApplicationError
from portal.models import Invitation, Membership, Organization, User
from portal.selectors import membership_get

ROLES = frozenset(Membership.Role.values)


def _require_admin(*, organization: Organization, actor: User) -> None:
    membership = membership_get(organization=organization, user=actor)
    if membership is None or not membership.is_admin:
        raise PermissionDenied(_("Only an admin of the partner organization can do this."))


def _normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ApplicationError(_("Enter a valid e-mail address.")) from error
    return email


def _validate_role(role: str) -> str:
    if role not in ROLES:
        raise ApplicationError(_("Unknown role: %(role)s.") % {"role": role})
    return role


def _send_invitation_mail(*, invitation_id: int, accept_url: str, language: str) -> None:
    # Runs after commit, outside any request's organization: look the row up by its id.
    invitation = (
        Invitation.objects.unscoped()
        .select_related("organization", "invited_by")
        .get(pk=invitation_id)
    )
    with translation.override(language):
        context = {
            "invitation": invitation,
            "organization": invitation.organization,
            "role": invitation.get_role_display(),
            "accept_url": accept_url,
            "inviter": (invitation.invited_by.email if invitation.invited_by else _("An admin")),
        }
        subject = render_to_string("portal/email/invitation_subject.txt", context)
        body = render_to_string("portal/email/invitation_message.txt", context)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


@transaction.atomic
def invitation_create(
    *, organization: Organization, actor: User, email: str, role: str, site_url: str
) -> Invitation:
    """An admin invites an e-mail address that is neither a member nor already invited."""
    _require_admin(organization=organization, actor=actor)
    email = _normalize_email(email)
    role = _validate_role(role)
    if (
        Membership.objects.for_org(organization)
        .filter(Q(user__email__iexact=email) | Q(user__emailaddress__email__iexact=email))
        .exists()
    ):
        raise ApplicationError(
            _("%(email)s is already a member of this partner organization.") % {"email": email}
        )
    pending = Invitation.objects.for_org(organization).filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    now = timezone.now()
    if pending.filter(expires_at__gt=now).exists():
        raise ApplicationError(_("%(email)s already has an open invitation.") % {"email": email})
    # An expired invitation still holds the one-open-invitation-per-address constraint.
    for expired in pending.select_for_update():
        expired.revoked_at = now
        audit_as(expired, actor=actor)
        expired.save(update_fields=["revoked_at"])
    invitation = Invitation(organization=organization, email=email, role=role, invited_by=actor)
    audit_as(invitation, actor=actor)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as error:  # a concurrent request invited the same address
        raise ApplicationError(
            _("%(email)s already has an open invitation.") % {"email": email}
        ) from error
    accept_url = site_url.rstrip("/") + reverse("invitation_accept", args=[invitation.token])
    transaction.on_commit(
        partial(
            _send_invitation_mail,
            invitation_id=invitation.pk,
            accept_url=accept_url,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
    )
    return invitation


def invitation_get_open(*, token: str) -> Invitation:
    """The open invitation with this token; unknown, used, revoked or expired ones are refused."""
    invitation = (
        Invitation.objects.unscoped().select_related("organization").filter(token=token).first()
    )
    if invitation is None:
        raise ApplicationError(_("This invitation link is not valid."))
    if invitation.revoked_at is not None:
        raise ApplicationError(_("This invitation has been revoked."))
    if invitation.accepted_at is not None:
        raise ApplicationError(_("This invitation has already been used."))
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(_("This invitation has expired. Ask an admin for a new one."))
    return invitation


def _account_exists_for(email: str) -> bool:
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


def invitation_get_open_for_signup(*, token: str) -> Invitation:
    """An open invitation creates one account, for an address that has none (else: sign in)."""
    invitation = invitation_get_open(token=token)
    if invitation.signed_up_at is not None:
        raise ApplicationError(
            _(
                "An account has already been created with this invitation. "
                "Sign in as %(email)s to accept it."
            )
            % {"email": invitation.email}
        )
    if _account_exists_for(invitation.email):
        raise ApplicationError(
            _("%(email)s already has an account. Sign in to accept this invitation.")
            % {"email": invitation.email}
        )
    return invitation


@transaction.atomic
def invitation_record_signup(*, token: str, user: User) -> Invitation:
    """Record the account created through an invitation: for the invited address, and once."""
    # The token names the invitation across organizations, as in invitation_accept; the lock
    # makes two sign-ups through one link wait for each other.
    Invitation.objects.unscoped().select_for_update().filter(token=token).first()
    invitation = invitation_get_open(token=token)
    if invitation.signed_up_at is not None:
        raise ApplicationError(
            _("An account has already been created with this invitation. Sign in instead.")
        )
    if user.email.lower() != invitation.email.lower():
        raise ApplicationError(
            _("This invitation is for %(email)s. Sign up with that address.")
            % {"email": invitation.email}
        )
    invitation.signed_up_at = timezone.now()
    invitation.signed_up_by = user
    audit_as(invitation, actor=user)
    invitation.save(update_fields=["signed_up_at", "signed_up_by"])
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """The invitee, signed in with the invited address verified, joins with the invited role."""
    invitation = (
        Invitation.objects.unscoped()
        .select_for_update()
        .select_related("organization")
        .filter(token=token)
        .first()
    )
    if invitation is not None and invitation.accepted_by_id == user.pk:
        # Accepting twice (a reload, the signal and the page) returns the same membership.
        existing = membership_get(organization=invitation.organization, user=user)
        if existing is not None:
            return existing
    invitation = invitation_get_open(token=token)
    if not EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists():
        raise ApplicationError(
            _(
                "This invitation was sent to %(email)s. Sign in with that address, "
                "verified, to accept it."
            )
            % {"email": invitation.email}
        )
    organization = invitation.organization
    membership = membership_get(organization=organization, user=user)
    if membership is None:
        membership = Membership(organization=organization, user=user, role=invitation.role)
        audit_as(membership, actor=user)
        membership.save()
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    audit_as(invitation, actor=user)
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_revoke(*, organization: Organization, actor: User, invitation_id: int) -> Invitation:
    """An admin revokes an invitation that has not been accepted yet."""
    _require_admin(organization=organization, actor=actor)
    invitation = (
        Invitation.objects.for_org(organization)
        .select_for_update()
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise ApplicationError(_("This invitation does not exist."))
    if invitation.accepted_at is not None:
        raise ApplicationError(_("This invitation has already been accepted."))
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    audit_as(invitation, actor=actor)
    invitation.save(update_fields=["revoked_at"])
    return invitation


def _locked_membership(*, organization: Organization, membership_id: int) -> Membership:
    # Lock every admin row too, so two concurrent demotions cannot both pass the last-admin check.
    list(
        Membership.objects.for_org(organization)
        .select_for_update()
        .filter(role=Membership.Role.ADMIN)
        .values_list("pk", flat=True)
    )
    membership = (
        Membership.objects.for_org(organization)
        .select_for_update()
        .select_related("user")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None:
        raise ApplicationError(_("This member does not exist."))
    return membership


def _is_last_admin(membership: Membership) -> bool:
    if not membership.is_admin:
        return False
    admins = Membership.objects.for_org(membership.organization).filter(role=Membership.Role.ADMIN)
    return not admins.exclude(pk=membership.pk).exists()


@transaction.atomic
def membership_change_role(
    *, organization: Organization, actor: User, membership_id: int, role: str
) -> Membership:
    """An admin changes a member's role; the last admin cannot be demoted."""
    _require_admin(organization=organization, actor=actor)
    role = _validate_role(role)
    membership = _locked_membership(organization=organization, membership_id=membership_id)
    if membership.role == role:
        return membership
    if role != Membership.Role.ADMIN and _is_last_admin(membership):
        raise ApplicationError(
            _("A partner organization needs at least one admin; make someone else admin first.")
        )
    membership.role = role
    audit_as(membership, actor=actor)
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, organization: Organization, actor: User, membership_id: int) -> None:
    """An admin removes a member; the last admin cannot be removed."""
    _require_admin(organization=organization, actor=actor)
    membership = _locked_membership(organization=organization, membership_id=membership_id)
    if _is_last_admin(membership):
        raise ApplicationError(
            _("A partner organization needs at least one admin; make someone else admin first.")
        )
    audit_as(membership, actor=actor)
    membership.delete()
