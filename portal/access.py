"""Who may open an organization's pages: the one place `/orgs/<slug>/` is resolved.

`org_member_required` turns the slug into the caller's membership (with its organization) or a
404, so another organization's existence never leaks; the view receives `membership` instead of
the slug. `org_admin_required` narrows that to the organization's admins (members get 403).
Every app's organization pages use these two, whatever app they live in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from portal.models import Membership
from portal.selectors import membership_get_for_slug

View = Callable[..., HttpResponse]


def org_member_required(view: View) -> View:
    """Resolve `slug` to the user's membership of that organization; 404 for everyone else."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        # login_required above: the user is signed in.
        membership = membership_get_for_slug(user=request.user, slug=slug)  # type: ignore[arg-type]  # signed in (login_required)
        if membership is None:
            raise Http404(_("No such partner organization."))
        return view(request, *args, membership=membership, **kwargs)

    return wrapper


def org_admin_required(view: View) -> View:
    """Only the organization's admins; members get 403. Use inside `org_member_required`."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, *args: Any, membership: Membership, **kwargs: Any
    ) -> HttpResponse:
        if not membership.is_admin:
            raise PermissionDenied(_("Only an admin of the partner organization can do this."))
        return view(request, *args, membership=membership, **kwargs)

    return wrapper
