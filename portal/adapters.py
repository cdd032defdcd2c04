"""allauth adapter: signup is by invitation only, unless OPEN_SIGNUP is set."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from portal.exceptions import ApplicationError
from portal.models import Invitation
from portal.services import invitation_get_open_for_signup
from portal.signals import INVITATION_SESSION_KEY


def invitation_for_signup(request: HttpRequest | None) -> Invitation | None:
    """The invitation whose link brought this visitor, if it may still create an account."""
    # An invitation link stores its token in the session before sending the user to signup.
    session = getattr(request, "session", None)
    token = session.get(INVITATION_SESSION_KEY) if session is not None else None
    if not token:
        return None
    try:
        return invitation_get_open_for_signup(token=token)
    except ApplicationError:
        return None


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        if getattr(settings, "OPEN_SIGNUP", False):
            return True
        # Through an invitation, signup opens once, for an address without an account; the
        # signup form (portal.forms.SignupForm) then fixes the address to the invited one.
        return invitation_for_signup(request) is not None
