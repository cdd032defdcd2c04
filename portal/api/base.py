"""The base classes every endpoint derives from: the one place the organization is resolved.

`OrganizationViewSet` serves `/api/v1/orgs/<partner_id>/…`. In `initial` — after DRF has
authenticated the caller and checked throttles, before any handler runs — it resolves the
partner ID in the URL against the caller: the organization key's own organization, the
signed-in user's membership, or (for telemetry writes only) any organization for a platform key.
Everyone else gets 404, so another organization's existence never leaks. Handlers read rows
only through `get_queryset()` / `get_object()`, which start from the subclass's
`scoped_queryset(organization)` hook and are filtered to the organization again here; a
subclass that overrides `initial`, `dispatch`, `get_queryset` or `get_object` is refused when
its class is created (PostHog's `TeamAndOrgViewSetMixin` does the same).

What a caller may do is declared per action in `access` (`READ`: members and every organization
key; `WRITE`: admins and read-write keys; `TELEMETRY`: platform keys only). Unsafe methods
default to `WRITE`, safe ones to `READ`.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from rest_framework import exceptions, viewsets
from rest_framework.request import Request

from portal.api.auth import Caller, caller_of
from portal.api.pagination import ApiCursorPagination
from portal.models import Membership, Organization
from portal.tenancy import TenantModel

SEALED_METHODS = ("initial", "dispatch", "get_queryset", "get_object")


class Access(enum.Enum):
    READ = "read"  # members, every organization key
    WRITE = "write"  # admins, read-write organization keys
    TELEMETRY = "telemetry"  # platform keys only
    CATALOG = "catalog"  # every authenticated caller (program reference data)


class _SealedViewSet(viewsets.GenericViewSet):
    """Refuses subclasses that override the methods the scoping depends on."""

    access: ClassVar[dict[str, Access]] = {}
    model: ClassVar[type[Model]]  # what the endpoint serves (the schema reads it)
    pagination_class = ApiCursorPagination
    caller: Caller

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_scoping_base", False):
            return  # the two base classes below, which define the scoping
        overridden = [name for name in SEALED_METHODS if name in cls.__dict__]
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}: API endpoints read through "
                "scoped_queryset(organization) and may not bypass the organization check."
            )

    def required_access(self) -> Access:
        action = getattr(self, "action", None)
        if action in self.access:
            return self.access[action]
        method = (self.request.method or "GET").upper()
        # No action for the method: the least access, so that the caller gets the 405.
        if action is None or method in ("GET", "HEAD", "OPTIONS"):
            return Access.READ
        return Access.WRITE

    def _resolve_caller(self, request: Request) -> Caller:
        caller = caller_of(request)
        if caller is None:  # the permission class refuses this first; kept fail-closed
            raise exceptions.NotAuthenticated()
        return caller


class OrganizationViewSet(_SealedViewSet):
    """Endpoints under `/api/v1/orgs/<partner_id>/`; see the module docstring."""

    _scoping_base = True
    organization: Organization
    membership: Membership | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.caller = self._resolve_caller(request)
        self.organization = self._resolve_organization(
            self.caller, str(kwargs.get("partner_id", "")), self.required_access()
        )

    def _resolve_organization(
        self, caller: Caller, partner_id: str, needed: Access
    ) -> Organization:
        not_found = exceptions.NotFound(_("No such partner organization."))
        if caller.platform_key is not None:
            if needed is not Access.TELEMETRY:
                raise exceptions.PermissionDenied(_("A platform key writes telemetry only."))
            organization = Organization.objects.unscoped().filter(partner_id=partner_id).first()
            if organization is None:
                raise not_found
            return organization
        if needed is Access.TELEMETRY:
            # Decided before the organization is looked up, so it tells nothing about it.
            raise exceptions.PermissionDenied(_("Only a platform key can write telemetry."))
        if caller.organization_key is not None:
            key = caller.organization_key
            if key.organization.partner_id != partner_id:
                raise not_found
            if needed is Access.WRITE and not key.can_write:
                raise exceptions.PermissionDenied(_("This API key is read-only."))
            return key.organization
        assert caller.user is not None
        # The organization is not known yet: narrowed to the caller's own membership.
        membership = (
            Membership.objects.unscoped()
            .select_related("organization")
            .filter(user=caller.user, organization__partner_id=partner_id)
            .first()
        )
        if membership is None:
            raise not_found
        if needed is Access.WRITE and not membership.is_admin:
            raise exceptions.PermissionDenied(
                _("Only an admin of the partner organization can do this.")
            )
        self.membership = membership
        return membership.organization

    def scoped_queryset(self, organization: Organization) -> QuerySet[Any]:
        """The rows this endpoint serves, of this organization only. Subclasses define it."""
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            # drf-spectacular describing the endpoint: no caller, no organization, no rows.
            manager = self.model.objects  # type: ignore[attr-defined]  # every model here has it
            rows = manager.unscoped() if issubclass(self.model, TenantModel) else manager.all()
            return rows.none()
        queryset = self.scoped_queryset(self.organization)
        if issubclass(queryset.model, TenantModel):
            # Whatever the hook did, nothing of another organization gets through.
            queryset = queryset.filter(organization=self.organization)
        return queryset

    def get_object(self) -> Model:
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        obj = get_object_or_404(
            self.get_queryset(), **{self.lookup_field: self.kwargs[lookup_url_kwarg]}
        )
        self.check_object_permissions(self.request, obj)
        return obj


class GlobalViewSet(_SealedViewSet):
    """Endpoints outside any organization: the program catalog (`CATALOG`, every caller) and
    telemetry that is not an organization's (`TELEMETRY`, platform keys only). Safe methods
    default to `CATALOG`, unsafe ones to `TELEMETRY`."""

    _scoping_base = True

    def required_access(self) -> Access:
        action = getattr(self, "action", None)
        if action in self.access:
            return self.access[action]
        method = (self.request.method or "GET").upper()
        if action is None or method in ("GET", "HEAD", "OPTIONS"):
            return Access.CATALOG
        return Access.TELEMETRY

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.caller = self._resolve_caller(request)
        needed = self.required_access()
        if needed is Access.TELEMETRY and self.caller.platform_key is None:
            raise exceptions.PermissionDenied(_("Only a platform key can write telemetry."))
        if needed not in (Access.CATALOG, Access.TELEMETRY):  # nothing else is global
            raise exceptions.PermissionDenied()

    def scoped_queryset(self) -> QuerySet[Any]:
        """The (global) rows this endpoint serves. Subclasses define it."""
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.scoped_queryset()
        if issubclass(queryset.model, TenantModel):
            raise TypeError("A global endpoint cannot serve an organization's rows.")
        return queryset

    def get_object(self) -> Model:
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        obj = get_object_or_404(
            self.get_queryset(), **{self.lookup_field: self.kwargs[lookup_url_kwarg]}
        )
        self.check_object_permissions(self.request, obj)
        return obj
