from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from scoring import signals  # noqa: F401  # connects the recompute-on-change receiver
        from scoring.sqlite import register_functions

        connection_created.connect(register_functions, dispatch_uid="scoring-sqlite-functions")
