"""The organization pages' registration hook: apps add home panels and header tabs."""

import pytest
from django.urls import reverse

from portal import panels


@pytest.fixture
def registered_panel():
    panel = panels.OrganizationPanel(
        key="test-panel",
        template_name="portal/_test_panel.html",
        context=lambda membership: {"greeting": f"Hello {membership.organization.partner_id}"},
        order=5,
    )
    panels.register_organization_panel(panel)
    yield panel
    panels._panels.pop(panel.key)


def test_the_scoring_app_registers_its_summary_and_tab():
    assert "scores" in {tab.key for tab in panels.organization_tabs()}
    keys = [tab.key for tab in panels.organization_tabs()]
    assert keys[:5] == ["home", "scores", "people", "customers", "members"]
    assert "scores" in panels._panels


def test_home_renders_every_registered_panel_with_its_context(
    admin_client, org, registered_panel, settings, tmp_path
):
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "_test_panel.html").write_text(
        '<section data-testid="test-panel">{{ greeting }} / {{ organization.name }}</section>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    response = admin_client.get(reverse("org_home", args=[org.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Hello {org.partner_id} / {org.name}" in html
    # Panels render in order: the test panel (5) before the score summary (10).
    assert html.index('data-testid="test-panel"') < html.index('data-testid="score-summary"')


def test_registering_a_key_again_replaces_the_entry(registered_panel):
    replacement = panels.OrganizationPanel(
        key=registered_panel.key, template_name="other.html", context=dict, order=1
    )
    panels.register_organization_panel(replacement)
    assert panels._panels[registered_panel.key] is replacement


def test_the_header_shows_every_registered_tab(admin_client, org):
    html = admin_client.get(reverse("org_home", args=[org.slug])).content.decode()
    for url_name in ("org_home", "org_scores", "org_members"):
        assert f'href="{reverse(url_name, args=[org.slug])}"' in html
    assert 'aria-current="page"' in html


def test_the_members_tab_stays_current_when_the_invite_form_comes_back_with_an_error(
    admin_client, org
):
    response = admin_client.post(
        reverse("org_member_invite", args=[org.slug]), {"email": "not-an-address", "role": "x"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    members_url = reverse("org_members", args=[org.slug])
    assert f'<a href="{members_url}" aria-current="page">' in html
    assert html.count('aria-current="page"') == 1


@pytest.mark.parametrize(
    ("url_name", "current"),
    [
        ("org_home", "home"),
        ("org_members", "members"),
        ("org_member_invite", "members"),
        ("org_invitation_revoke", "members"),
        ("org_scores", "scores"),
        ("org_scores_recompute", "scores"),
        ("home", None),
    ],
)
def test_each_page_belongs_to_one_tab(url_name, current):
    tabs = panels.organization_tabs()
    assert [tab.key for tab in tabs if tab.is_current(url_name)] == ([current] if current else [])
