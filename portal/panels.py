"""The organization pages' extension points, filled in by the apps above `portal`.

`portal` knows nothing of scoring or benefits (import-linter checks it). An app that has
something to show on an organization's home page, or a tab in its navigation, registers it here
from its `AppConfig.ready`; the home page and the header render whatever is registered, in
`order`. Registering the same key twice replaces the entry (ready() may run more than once in
tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from portal.models import Membership

PanelContext = Callable[[Membership], Mapping[str, Any]]


@dataclass(frozen=True)
class OrganizationPanel:
    """A section of the organization home page: a template and the context it needs."""

    key: str
    template_name: str
    context: PanelContext
    order: int = 100


@dataclass(frozen=True)
class OrganizationTab:
    """A tab of the organization header: a URL name taking the organization's slug."""

    key: str
    label: str  # a lazy translation
    url_name: str
    order: int = 100
    # URL names of the pages that belong to this tab (the forms it posts to, say): a page whose
    # URL name starts with one of them shows the tab as current. Default: the tab's own page.
    current_for: tuple[str, ...] = ()

    def is_current(self, url_name: str | None) -> bool:
        if not url_name:
            return False
        prefixes = self.current_for or (self.url_name,)
        return url_name == self.url_name or any(url_name.startswith(p) for p in prefixes)


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    html: SafeString


_panels: dict[str, OrganizationPanel] = {}
_tabs: dict[str, OrganizationTab] = {}


def register_organization_panel(panel: OrganizationPanel) -> None:
    _panels[panel.key] = panel


def register_organization_tab(tab: OrganizationTab) -> None:
    _tabs[tab.key] = tab


def organization_panels(*, request: HttpRequest, membership: Membership) -> list[RenderedPanel]:
    """Every registered panel rendered for this membership, in display order."""
    ordered = sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))
    base = {"organization": membership.organization, "membership": membership}
    return [
        RenderedPanel(
            key=panel.key,
            html=render_to_string(
                panel.template_name, {**base, **panel.context(membership)}, request=request
            ),
        )
        for panel in ordered
    ]


def organization_tabs() -> list[OrganizationTab]:
    """Every registered tab, in display order."""
    return sorted(_tabs.values(), key=lambda tab: (tab.order, tab.key))
