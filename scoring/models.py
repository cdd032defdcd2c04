"""Program rules (designations, versioned rule sets), customer telemetry and score snapshots.

Designations, rule sets, workloads, customers and their monthly usage are global reference data
(a customer tenant can be associated with several partners). Associations and snapshots belong
to one organization.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.models import Certification, LegacyCompetency, LocalizedNameMixin
from portal.tenancy import TenantModel


class Platform(models.TextChoices):
    M365 = "m365", _("Microsoft 365")
    AZURE = "azure", _("Azure")
    DYNAMICS = "dynamics", _("Dynamics 365 / Power Platform")


class AssociationType(models.TextChoices):
    CPOR = "CPOR", _("CPOR (Claiming Partner of Record)")
    PAL = "PAL", _("PAL (Partner Admin Link)")
    DPOR = "DPOR", _("DPOR (Digital Partner of Record)")


class Measure(models.TextChoices):
    PAID_SEATS = "paid_seats", _("Paid seats")
    PROTECTED_USERS = "protected_users", _("Monthly protected users")
    ACTIVE_USERS = "active_users", _("Monthly active users")
    ACR_USD = "acr_usd", _("Azure consumed revenue (USD)")
    REVENUE_USD = "revenue_usd", _("Billed revenue (USD)")
    CERTIFICATIONS = "certifications", _("Certified individuals")


class MetricCode(models.TextChoices):
    NET_CUSTOMER_ADDS = "net_customer_adds", _("Net Customer Adds")
    INTERMEDIATE_CERTIFICATIONS = "intermediate_certifications", _("Intermediate Certifications")
    ADVANCED_CERTIFICATIONS = "advanced_certifications", _("Advanced Certifications")
    USAGE_GROWTH = "usage_growth", _("Usage Growth")
    DEPLOYMENTS = "deployments", _("Deployments")


class Category(models.TextChoices):
    PERFORMANCE = "performance", _("Performance")
    SKILLING = "skilling", _("Skilling")
    CUSTOMER_SUCCESS = "customer_success", _("Customer Success")


METRIC_CATEGORY = {
    MetricCode.NET_CUSTOMER_ADDS: Category.PERFORMANCE,
    MetricCode.INTERMEDIATE_CERTIFICATIONS: Category.SKILLING,
    MetricCode.ADVANCED_CERTIFICATIONS: Category.SKILLING,
    MetricCode.USAGE_GROWTH: Category.CUSTOMER_SUCCESS,
    MetricCode.DEPLOYMENTS: Category.CUSTOMER_SUCCESS,
}


class Designation(LocalizedNameMixin):
    """One of the six Solutions Partner designations (one per solution area)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    certifications = models.ManyToManyField(
        Certification,
        blank=True,
        related_name="designations",
        verbose_name=_("certifications that count"),
    )
    legacy_competencies = models.ManyToManyField(
        LegacyCompetency,
        blank=True,
        related_name="designations",
        verbose_name=_("legacy competencies migrating here"),
    )

    history = HistoricalRecords(m2m_fields=[certifications, legacy_competencies])

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("Solutions Partner designation")
        verbose_name_plural = _("Solutions Partner designations")


class Specialization(LocalizedNameMixin):
    """A specialization: needs its parent designation first, adds requirements and benefits."""

    code = models.SlugField(_("code"), max_length=80, unique=True)
    designation = models.ForeignKey(
        Designation, on_delete=models.PROTECT, related_name="specializations"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["designation__position", "name"]
        verbose_name = _("specialization")
        verbose_name_plural = _("specializations")


class Workload(LocalizedNameMixin):
    """A product (M365 / Dynamics workload) or an Azure solution area that telemetry reports."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product / workload")
        AREA = "area", _("Azure solution area")

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9-]*$", _("Letters, digits and '-'."))],
    )
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PRODUCT)
    designations = models.ManyToManyField(
        Designation, blank=True, related_name="workloads", verbose_name=_("counts for")
    )

    history = HistoricalRecords(m2m_fields=[designations])

    class Meta:
        ordering = ["platform", "code"]
        verbose_name = _("workload")
        verbose_name_plural = _("workloads")

    def __str__(self) -> str:
        return self.code


class ProgramDate(LocalizedNameMixin):
    """A key date of the program timeline (announcement, legacy cut-off, GA)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    date = models.DateField(_("date"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("program date")
        verbose_name_plural = _("program dates")


class RuleSet(models.Model):
    """One version of a designation's scoring rules, in force from `effective_from`.

    A rules change is a new version with a later effective date, so scores already computed
    keep pointing at the rules they were computed with.
    """

    designation = models.ForeignKey(Designation, on_delete=models.PROTECT, related_name="rule_sets")
    version = models.PositiveIntegerField(_("version"), validators=[MinValueValidator(1)])
    effective_from = models.DateField(_("effective from"))
    qualifying_total = models.DecimalField(
        _("points to qualify"), max_digits=6, decimal_places=2, default=70
    )
    min_metric_points = models.DecimalField(
        _("minimum points in every metric"), max_digits=6, decimal_places=2, default=1
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["designation__position", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["designation", "version"], name="uniq_rule_set_version"
            ),
            models.UniqueConstraint(
                fields=["designation", "effective_from"], name="uniq_rule_set_effective_from"
            ),
        ]
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")

    def __str__(self) -> str:
        return f"{self.designation.code} v{self.version} ({self.effective_from})"

    def clean(self) -> None:
        """A designation's versions take effect in version order: a later version, later."""
        super().clean()
        if self.designation_id is None or self.version is None or self.effective_from is None:
            return
        others = RuleSet.objects.filter(designation_id=self.designation_id).exclude(pk=self.pk)
        earlier = others.filter(version__lt=self.version, effective_from__gte=self.effective_from)
        later = others.filter(version__gt=self.version, effective_from__lte=self.effective_from)
        clash = earlier.order_by("-version").first() or later.order_by("version").first()
        if clash is None:
            return
        if clash.version < self.version:
            message = _(
                "Version %(version)s takes effect on %(date)s: a later version must take effect "
                "after that date."
            )
        else:
            message = _(
                "Version %(version)s takes effect on %(date)s: an earlier version must take "
                "effect before that date."
            )
        raise ValidationError(
            {
                "effective_from": message
                % {"version": clash.version, "date": clash.effective_from.isoformat()}
            }
        )


class MetricRule(models.Model):
    """One metric of a rule set: maximum points, target and how points scale."""

    class Scaling(models.TextChoices):
        PER_UNIT = "per_unit", _("Per unit (max ÷ target per whole unit)")
        PROPORTIONAL = "proportional", _("Proportional (max × value ÷ target)")

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="metrics")
    code = models.CharField(_("metric"), max_length=40, choices=MetricCode.choices)
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=2)
    target = models.DecimalField(
        _("target"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Applied to the sum of all sources. Leave blank when each source has a target."
        ),
    )
    scaling = models.CharField(_("scaling"), max_length=20, choices=Scaling.choices)
    unit_label = models.CharField(
        _("unit (English, plural)"), max_length=80, help_text=_("e.g. net customer adds")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_set", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "code"], name="uniq_metric_per_rule_set"),
            models.CheckConstraint(
                condition=models.Q(max_points__gt=0), name="metric_max_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(target__isnull=True) | models.Q(target__gt=0),
                name="metric_target_positive",
            ),
        ]
        verbose_name = _("metric rule")
        verbose_name_plural = _("metric rules")

    def __str__(self) -> str:
        return f"{self.rule_set} · {self.code}"

    @property
    def category(self) -> str:
        return METRIC_CATEGORY[MetricCode(self.code)]


class MetricSource(models.Model):
    """Where a metric's value comes from: platform, attribution, measure, workloads, thresholds.

    The measures layer reads these parameters; their meaning per metric:
    - net customer adds: `seat_threshold` S (M365/Dynamics: 0 → ≥ S seats is an add) or
      `usage_threshold` A (Azure: average monthly ACR over 12 months ≥ A qualifies);
    - usage growth: growth of `measure` over `workloads`, with its own `target` when the metric
      has several sources each with a target;
    - deployments: `usage_threshold` crossed (a share of paid seats for user measures, the
      trailing-12-month ACR for Azure, the seats themselves for paid seats) and `seat_threshold`
      as the size floor now.
    """

    class Unit(models.TextChoices):
        COUNT = "count", _("count")
        USERS = "users", _("users")
        USD = "usd", _("US dollars")

    metric = models.ForeignKey(MetricRule, on_delete=models.CASCADE, related_name="sources")
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    attributions = models.JSONField(
        _("attributions"), default=list, help_text=_('e.g. ["CPOR"] or ["CPOR", "DPOR"]')
    )
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    workloads = models.ManyToManyField(Workload, blank=True, verbose_name=_("eligible workloads"))
    seat_threshold = models.PositiveIntegerField(_("seat threshold"), null=True, blank=True)
    usage_threshold = models.DecimalField(
        _("usage threshold"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    target = models.DecimalField(
        _("source target"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    production_only = models.BooleanField(_("production tenants only"), default=False)
    label = models.CharField(_("label (English)"), max_length=80, help_text=_("e.g. Security ACR"))
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.COUNT)

    history = HistoricalRecords(m2m_fields=[workloads])

    class Meta:
        ordering = ["metric", "id"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "platform"], name="uniq_source_platform"),
        ]
        verbose_name = _("metric source")
        verbose_name_plural = _("metric sources")

    def __str__(self) -> str:
        return f"{self.metric} · {self.platform}"


class CertificationGroup(models.Model):
    """A group of a certification metric: the person holds ALL of them, or ANY ONE of them.

    A person counts when every group of the metric is satisfied (Security: all of MS-500 and
    AZ-500, and any one of SC-200 / SC-300 / SC-400).
    """

    class Mode(models.TextChoices):
        ALL = "all", _("all of")
        ANY = "any", _("one of")

    metric = models.ForeignKey(
        MetricRule, on_delete=models.CASCADE, related_name="certification_groups"
    )
    mode = models.CharField(_("mode"), max_length=3, choices=Mode.choices)
    certifications = models.ManyToManyField(Certification, verbose_name=_("certifications"))

    history = HistoricalRecords(m2m_fields=[certifications])

    class Meta:
        ordering = ["metric", "id"]
        verbose_name = _("certification group")
        verbose_name_plural = _("certification groups")

    def __str__(self) -> str:
        return f"{self.metric} · {self.mode}"


class Customer(models.Model):
    """A customer tenant (M365 / Dynamics, by tenant GUID) or Azure customer (by TPID)."""

    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    customer_id = models.CharField(_("customer ID"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    production = models.BooleanField(_("production tenant"), default=True)

    class Meta:
        ordering = ["platform", "customer_id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "customer_id"], name="uniq_customer"),
        ]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.platform}:{self.customer_id}"


class Association(TenantModel):
    """A customer attributed to the organization (CPOR / PAL / DPOR) for a range of months."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="associations")
    type = models.CharField(_("type"), max_length=4, choices=AssociationType.choices)
    workload = models.CharField(
        _("workload"), max_length=40, blank=True, default="", help_text=_("Blank: whole customer.")
    )
    start_month = models.DateField(_("start month"))
    end_month = models.DateField(_("end month"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["customer", "type"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "customer", "type", "workload"], name="uniq_association"
            ),
            models.CheckConstraint(
                condition=models.Q(end_month__isnull=True)
                | models.Q(end_month__gte=models.F("start_month")),
                name="association_end_after_start",
            ),
        ]
        verbose_name = _("customer association")
        verbose_name_plural = _("customer associations")

    def __str__(self) -> str:
        return f"{self.type} {self.customer}"


class CustomerSeries(models.Model):
    """What names one series of a customer's figures: the customer, a measure, a workload."""

    # No index of its own: each table's unique key starts with the customer and serves every
    # look-up by it (a second, narrower index would tempt the planner away from the key).
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    workload = models.CharField(_("workload"), max_length=40, blank=True, default="")

    class Meta:
        abstract = True


class Usage(CustomerSeries):
    """One monthly figure of one customer: (month, customer, measure, workload) → value."""

    month = models.DateField(_("month"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            # On PostgreSQL migration 0003 rebuilds this index with INCLUDE (value), so that
            # the scoring queries read values from the index alone (SQLite has no INCLUDE).
            models.UniqueConstraint(
                fields=["customer", "measure", "workload", "month"], name="uniq_usage"
            ),
        ]
        verbose_name = _("monthly usage")
        verbose_name_plural = _("monthly usage")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.customer_id} {self.measure}/{self.workload}={self.value}"


class UsageYear(CustomerSeries):
    """A customer series' monthly usage pivoted by calendar year: m1..m12 (NULL: no row).

    Kept in step with Usage by database triggers (migration 0005), so that nothing — import,
    admin, bulk load — can leave it behind. The scoring statement reads a customer's months
    here, one row a year instead of twelve. Never written by the application.
    """

    year = models.PositiveSmallIntegerField(_("year"))
    m1 = models.DecimalField(_("month 1"), max_digits=16, decimal_places=2, null=True)
    m2 = models.DecimalField(_("month 2"), max_digits=16, decimal_places=2, null=True)
    m3 = models.DecimalField(_("month 3"), max_digits=16, decimal_places=2, null=True)
    m4 = models.DecimalField(_("month 4"), max_digits=16, decimal_places=2, null=True)
    m5 = models.DecimalField(_("month 5"), max_digits=16, decimal_places=2, null=True)
    m6 = models.DecimalField(_("month 6"), max_digits=16, decimal_places=2, null=True)
    m7 = models.DecimalField(_("month 7"), max_digits=16, decimal_places=2, null=True)
    m8 = models.DecimalField(_("month 8"), max_digits=16, decimal_places=2, null=True)
    m9 = models.DecimalField(_("month 9"), max_digits=16, decimal_places=2, null=True)
    m10 = models.DecimalField(_("month 10"), max_digits=16, decimal_places=2, null=True)
    m11 = models.DecimalField(_("month 11"), max_digits=16, decimal_places=2, null=True)
    m12 = models.DecimalField(_("month 12"), max_digits=16, decimal_places=2, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "measure", "workload", "year"], name="uniq_usage_year"
            ),
        ]
        verbose_name = _("yearly usage")
        verbose_name_plural = _("yearly usage")

    def __str__(self) -> str:
        return f"{self.year} {self.customer_id} {self.measure}/{self.workload}"


class ScoreSnapshot(TenantModel):
    """An organization's score for one designation as of a date, under one rule-set version."""

    designation = models.ForeignKey(Designation, on_delete=models.PROTECT, related_name="+")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="snapshots")
    as_of = models.DateField(_("as of"))
    total = models.FloatField(_("total"))
    qualified = models.BooleanField(_("qualified"))
    metrics = models.JSONField(_("breakdown"), default=list)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta(TenantModel.Meta):
        ordering = ["-as_of", "designation__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "designation", "as_of", "rule_set"],
                name="uniq_score_snapshot",
            ),
        ]
        indexes = [models.Index(fields=["organization", "as_of"], name="snapshot_org_as_of")]
        verbose_name = _("score snapshot")
        verbose_name_plural = _("score snapshots")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.designation_id} {self.as_of}: {self.total:.1f}"


class RecomputeRun(models.Model):
    """The ledger of nightly recompute runs: one row per run date stops overlapping runs."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run_date = models.DateField(_("run date"), unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    organizations = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-run_date"]
        verbose_name = _("recompute run")
        verbose_name_plural = _("recompute runs")

    def __str__(self) -> str:
        return f"{self.run_date} {self.status}"


class ScoreRecomputeRequest(TenantModel):
    """A recompute of one organization's scores asked for through the API, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    requested_by = models.CharField(_("requested by"), max_length=80)
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    snapshots_written = models.PositiveIntegerField(_("snapshots written"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-requested_at"]
        verbose_name = _("score recompute request")
        verbose_name_plural = _("score recompute requests")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.as_of} {self.status}"


# The staff console's import history lives with the console; Django finds models here.
from scoring.console.models import ImportJob  # noqa: E402, F401  # registered with the scoring app
