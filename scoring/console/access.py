"""Who may open the staff console: active program staff.

Anyone signed out is sent to sign in; a signed-in user who is not active staff gets 404, as a
non-member gets for an organization's pages: the console's existence is nobody else's business.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Only active staff (`is_active and is_staff`); 404 for every other signed-in user."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not (user.is_active and user.is_staff):
            raise Http404(_("No such page."))
        return view(request, *args, **kwargs)

    return wrapper
