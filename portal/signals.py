"""allauth signal receivers: finish an invitation once the invitee's address is verified."""

from __future__ import annotations

import logging

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.contrib import messages
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from portal.exceptions import ApplicationError
from portal.services import invitation_accept

INVITATION_SESSION_KEY = "invitation_token"

logger = logging.getLogger(__name__)


@receiver(email_confirmed, dispatch_uid="portal.accept_invitation_on_email_confirmed")
def accept_invitation_on_email_confirmed(
    sender: object, request: HttpRequest | None, email_address: EmailAddress, **kwargs: object
) -> None:
    """The invitation link put its token in the session; verification proves the address."""
    if request is None or not hasattr(request, "session"):
        return
    token = request.session.get(INVITATION_SESSION_KEY)
    if not token:
        return
    try:
        membership = invitation_accept(token=token, user=email_address.user)
    except ApplicationError as error:
        logger.info("Invitation not accepted after e-mail confirmation: %s", error.message)
        messages.error(request, error.message)
        return
    finally:
        request.session.pop(INVITATION_SESSION_KEY, None)
    messages.success(
        request,
        _("Welcome to %(organization)s.") % {"organization": membership.organization.name},
    )
