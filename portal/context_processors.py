from django.http import HttpRequest

from portal.models import Organization


def organizations(request: HttpRequest) -> dict[str, object]:
    """The signed-in user's organizations, for the switcher in the base template."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_organizations": []}
    return {"my_organizations": Organization.objects.for_user(user).only("name", "slug")}
