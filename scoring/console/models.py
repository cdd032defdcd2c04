"""The web import's history: one row per uploaded file, its validation report and progress.

Global (not a tenant model): a file of any kind may touch every organization, and only staff
see the history. The row is the durable state a page reload reads; while the import's single
transaction runs, its live counts are in the cache (`scoring.console.imports`), since rows the
transaction writes are invisible to everyone else until it commits.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One uploaded file: who, when, which file (name, size, SHA-256), what kind, what it did."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Validating")
        INVALID = "invalid", _("Rejected: bad rows")
        VALID = "valid", _("Validated: waiting for confirmation")
        QUEUED = "queued", _("Queued")
        IMPORTING = "importing", _("Importing")
        RECOMPUTING = "recomputing", _("Recomputing scores")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=300)
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.BigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    lines = models.BigIntegerField(_("lines"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.VALIDATING
    )
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    rows_validated = models.BigIntegerField(_("rows validated"), default=0)
    rows_written = models.BigIntegerField(_("rows written"), default=0)
    organizations_total = models.PositiveIntegerField(_("organizations to recompute"), default=0)
    organizations_recomputed = models.PositiveIntegerField(_("organizations recomputed"), default=0)
    organization_ids = models.JSONField(_("organizations affected"), default=list, blank=True)
    created = models.BigIntegerField(_("rows created"), default=0)
    updated = models.BigIntegerField(_("rows updated"), default=0)
    unchanged = models.BigIntegerField(_("rows unchanged"), default=0)
    error_count = models.BigIntegerField(_("bad values"), default=0)
    errors = models.JSONField(_("report (first bad values)"), default=list, blank=True)
    report = models.FileField(_("full report"), upload_to="imports/reports/%Y/%m/", blank=True)
    failure = models.TextField(_("failure"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    started_at = models.DateTimeField(_("import started"), null=True, blank=True)
    # Set in the import's own transaction: the rows are in once this is (a restart then only
    # recomputes).
    imported_at = models.DateTimeField(_("rows committed"), null=True, blank=True)
    finished_at = models.DateTimeField(_("import finished"), null=True, blank=True)
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
