"""The portal app's pages. Everything under `orgs/<slug>/` goes through `org_member_required`
(`portal.access`); other apps add their organization pages under the same prefix from their own
`urls.py`, included by the root URLconf."""

from django.urls import include, path

from portal import api_key_views, views, webhook_views

organization_patterns = [
    path("", views.organization_home, name="org_home"),
    path("members/", views.members, name="org_members"),
    path("members/invite/", views.member_invite, name="org_member_invite"),
    path("members/<int:membership_id>/role/", views.member_change_role, name="org_member_role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="org_member_remove"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views.member_invitation_revoke,
        name="org_invitation_revoke",
    ),
    path("settings/api-keys/", api_key_views.api_keys, name="org_api_keys"),
    path(
        "settings/api-keys/<int:key_id>/revoke/",
        api_key_views.api_key_revoke,
        name="org_api_key_revoke",
    ),
    path("settings/webhooks/", webhook_views.webhooks, name="org_webhooks"),
    path(
        "settings/webhooks/<int:endpoint_id>/delete/",
        webhook_views.webhook_delete,
        name="org_webhook_delete",
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/enable/",
        webhook_views.webhook_enable,
        name="org_webhook_enable",
    ),
    path(
        "settings/webhooks/deliveries/<int:delivery_id>/replay/",
        webhook_views.webhook_replay,
        name="org_webhook_replay",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("orgs/<slug:slug>/", include(organization_patterns)),
    path("invitations/<str:token>/", views.invitation_detail, name="invitation_accept"),
]
