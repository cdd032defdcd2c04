"""Who is calling: a signed-in user (session, the browser) or an API key (`Authorization:
Bearer <key>`). `Caller` is what the rest of the API reads, whichever it is."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from portal.api_keys import key_authenticate
from portal.models import OrganizationAPIKey, PlatformAPIKey, User

KEYWORD = "Bearer"


class APIKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`; a key that is unknown, wrong or revoked gets a 401."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, object] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _sep, raw_key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        key = key_authenticate(raw_key.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="api"'


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # drf-spectacular's registry
    target_class = "portal.api.auth.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _(
                    "An organization key (spo_…, created by the organization's admins under "
                    "Settings → API keys) or a platform key (spp_…, created by program staff)."
                )
            ),
        }


@dataclass(frozen=True)
class Caller:
    """The one who acts: exactly one of a user, an organization key or a platform key."""

    user: User | None = None
    organization_key: OrganizationAPIKey | None = None
    platform_key: PlatformAPIKey | None = None

    @property
    def identity(self) -> str:
        """Stable text naming the caller (throttling, idempotency)."""
        if self.organization_key is not None:
            return f"org-key:{self.organization_key.pk}"
        if self.platform_key is not None:
            return f"platform-key:{self.platform_key.pk}"
        assert self.user is not None
        return f"user:{self.user.pk}"

    @property
    def actor(self) -> object:
        """What services record as having acted (simple-history names users only)."""
        return self.user or self.organization_key or self.platform_key


def caller_of(request: Request) -> Caller | None:
    if isinstance(request.auth, OrganizationAPIKey):
        return Caller(organization_key=request.auth)
    if isinstance(request.auth, PlatformAPIKey):
        return Caller(platform_key=request.auth)
    if request.user is not None and request.user.is_authenticated:
        return Caller(user=request.user)  # type: ignore[arg-type]  # an authenticated User
    return None


class IsAuthenticatedCaller(permissions.BasePermission):
    """A signed-in user or a valid key; which of them may do what is the base classes' call."""

    def has_permission(self, request: Request, view: object) -> bool:
        return caller_of(request) is not None
