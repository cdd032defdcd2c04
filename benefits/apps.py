from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "benefits"
    verbose_name = _("Benefits")

    def ready(self) -> None:
        from benefits.console import register as register_console

        self._register_organization_pages()
        register_console()  # status column, renewal filter and counts of the staff console

    @staticmethod
    def _register_organization_pages() -> None:
        """The benefits panel on the organization home and the Benefits tab (portal.panels)."""
        from benefits.views import benefits_panel
        from portal.panels import (
            OrganizationPanel,
            OrganizationTab,
            register_organization_panel,
            register_organization_tab,
        )

        register_organization_panel(
            OrganizationPanel(
                key="benefits",
                template_name="benefits/_benefits_panel.html",
                context=benefits_panel,
                order=20,
            )
        )
        register_organization_tab(
            OrganizationTab(key="benefits", label=_("Benefits"), url_name="org_benefits", order=95)
        )
