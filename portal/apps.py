from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Partner portal")

    def ready(self) -> None:
        from portal import signals  # noqa: F401  # connects the allauth signal receivers
        from portal.panels import OrganizationTab, register_organization_tab

        register_organization_tab(
            OrganizationTab(key="home", label=_("Overview"), url_name="org_home", order=10)
        )
        register_organization_tab(
            OrganizationTab(
                key="members",
                label=_("Members"),
                url_name="org_members",
                order=90,
                # The invite, role, remove and revoke forms show the members page on errors.
                current_for=("org_member", "org_invitation"),
            )
        )
        register_organization_tab(
            OrganizationTab(key="api_keys", label=_("API keys"), url_name="org_api_keys", order=95)
        )
        register_organization_tab(
            OrganizationTab(key="webhooks", label=_("Webhooks"), url_name="org_webhooks", order=96)
        )
