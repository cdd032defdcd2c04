"""allauth adapter: signup is by invitation only, unless OPEN_SIGNUP is set."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from portal.exceptions import ApplicationError
from portal.services import invitation_get_open
from portal.signals import INVITATION_SESSION_KEY


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        if getattr(settings, "OPEN_SIGNUP", False):
            return True
        # An invitation link stores its token in the session before sending the user to signup;
        # the token must still name an open invitation.
        token = request.session.get(INVITATION_SESSION_KEY)
        if not token:
            return False
        try:
            invitation_get_open(token=token)
        except ApplicationError:
            return False
        return True
