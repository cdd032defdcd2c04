"""allauth adapter: signup is by invitation only, unless OPEN_SIGNUP is set."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        if getattr(settings, "OPEN_SIGNUP", False):
            return True
        # An invitation link stores its token in the session before sending the user to signup.
        return bool(request.session.get("invitation_token"))
