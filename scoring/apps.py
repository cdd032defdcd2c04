from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from scoring import signals  # noqa: F401  # connects the recompute-on-change receiver
        from scoring.console import tasks  # noqa: F401  # registers the web import's tasks
        from scoring.sqlite import register_functions

        connection_created.connect(register_functions, dispatch_uid="scoring-sqlite-functions")
        self._register_organization_pages()

    @staticmethod
    def _register_organization_pages() -> None:
        """The score summary on the organization home and the Scores tab (portal.panels)."""
        from portal.panels import (
            OrganizationPanel,
            OrganizationTab,
            register_organization_panel,
            register_organization_tab,
        )
        from scoring.views import score_summary_panel

        register_organization_panel(
            OrganizationPanel(
                key="scores",
                template_name="scoring/_score_summary.html",
                context=score_summary_panel,
                order=10,
            )
        )
        register_organization_tab(
            OrganizationTab(
                key="scores",
                label=_("Scores"),
                url_name="org_scores",
                order=20,
                current_for=(
                    "org_scores",
                    "org_scores_whatif",
                    "org_designation",
                    "org_metric_drilldown",
                    "org_scores_forecast",
                    "org_designation_history",
                ),
            )
        )
        register_organization_tab(
            OrganizationTab(
                key="people",
                label=_("People"),
                url_name="org_people",
                order=30,
                current_for=("org_people", "org_person", "org_certification"),
            )
        )
        register_organization_tab(
            OrganizationTab(
                key="customers", label=_("Customers"), url_name="org_customers", order=35
            )
        )
