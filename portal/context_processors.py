from allauth.account.adapter import get_adapter
from django.http import HttpRequest

from portal.models import Organization
from portal.panels import OrganizationTab
from portal.panels import organization_tabs as registered_tabs


def organizations(request: HttpRequest) -> dict[str, object]:
    """The signed-in user's organizations, for the switcher in the base template."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_organizations": []}
    return {"my_organizations": Organization.objects.for_user(user).only("name", "slug")}


def organization_tabs(request: HttpRequest) -> dict[str, object]:
    """The organization header's tabs (portal's own and those other apps registered) and which
    of them the current page belongs to."""
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match else None
    tabs: list[OrganizationTab] = registered_tabs()
    current = next((tab.key for tab in tabs if tab.is_current(url_name)), None)
    return {"organization_tabs": tabs, "current_organization_tab": current}


def signup_open(request: HttpRequest) -> dict[str, object]:
    """Whether this visitor may sign up (pages that offer sign-up ask; evaluated only then)."""
    return {"signup_open": lambda: get_adapter(request).is_open_for_signup(request)}
