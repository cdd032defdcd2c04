"""Program rules (designations, versioned rule sets), customer telemetry and score snapshots.

Designations, rule sets, workloads, customers and their monthly usage are global reference data
(a customer tenant can be associated with several partners). Associations and snapshots belong
to one organization.
"""

from __future__ import annotations

from typing import Any

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
    CSP = "CSP", _("CSP (Cloud Solution Provider, Tier 1 or Tier 2)")


class CustomerSegment(models.TextChoices):
    SMB = "smb", _("SMB")
    CORPORATE = "corporate", _("Corporate")
    ENTERPRISE = "enterprise", _("Enterprise")


class Measure(models.TextChoices):
    PAID_SEATS = "paid_seats", _("Paid seats")
    PROTECTED_USERS = "protected_users", _("Monthly protected users")
    ACTIVE_USERS = "active_users", _("Monthly active users")
    ACR_USD = "acr_usd", _("Azure consumed revenue (USD)")
    REVENUE_USD = "revenue_usd", _("Billed revenue (USD)")
    CAPACITY = "capacity", _("Capacity units")
    CERTIFICATIONS = "certifications", _("Certified individuals")
    # Computed, never imported: active users or capacity × the rule set's rate card.
    CONSUMPTION_VALUE = "consumption_value", _("Monthly consumption value")


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
    """A product (M365 / Dynamics workload), an Azure solution area or an Azure service.

    An Azure service (`kind` service) names the solution areas it belongs to (`areas`): a rule
    counting an area counts its services' consumption too. `distinct_service` says whether it
    counts as a distinct service for deployments (virtual machines do not).
    """

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product / workload")
        AREA = "area", _("Azure solution area")
        SERVICE = "service", _("Azure service")

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
    areas = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="services",
        verbose_name=_("solution areas (Azure services)"),
    )
    distinct_service = models.BooleanField(
        _("counts as a distinct service"),
        default=True,
        help_text=_("Azure services only: virtual machines and their licences do not count."),
    )

    history = HistoricalRecords(m2m_fields=[designations, areas])

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


class TrackMode(models.TextChoices):
    SINGLE = "single", _("One track")
    BEST = "best", _("Scored on every track, the best counts")
    CLASSIFIED = "classified", _("One track, assigned by a classification rule")


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
    release = models.CharField(
        _("release"),
        max_length=20,
        blank=True,
        help_text=_("The published version these rules follow, e.g. 2023-12."),
    )
    source_title = models.CharField(_("source"), max_length=200, blank=True)
    source_url = models.URLField(_("source address"), max_length=300, blank=True)
    published_on = models.DateField(
        _("published on"), null=True, blank=True, help_text=_("The date of the source page.")
    )
    track_mode = models.CharField(
        _("tracks"), max_length=12, choices=TrackMode.choices, default=TrackMode.SINGLE
    )
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

    @property
    def version_label(self) -> str:
        """The published release the rules follow ("2023-12"), else the version ("v3")."""
        return self.release or f"v{self.version}"

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


class Track(LocalizedNameMixin):
    """A qualification track of a rule set (Enterprise, SMB).

    With `RuleSet.track_mode` best, the partner is scored on every track and the best counts.
    With classified, the track whose classification rule holds is the partner's, the track
    without a rule the default. The classification is computed as of the scoring date; keeping
    it frozen for the enrolment year (published for Azure 2026) is not implemented yet. Rules:
    - workload_revenue: at least `classify_count` distinct workloads of the classification
      workloads with more than `classify_threshold` revenue on one customer tenant, both in the
      current month and 12 months earlier (Business Applications Enterprise);
    - segment_share: at least `classify_share` of the partner's customers associated in the
      current month are in `classify_segment` (Azure SMB).
    """

    class Rule(models.TextChoices):
        NONE = "", _("none (default track)")
        WORKLOAD_REVENUE = "workload_revenue", _("workloads over a revenue per tenant")
        SEGMENT_SHARE = "segment_share", _("share of customers in a segment")

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="tracks")
    code = models.SlugField(_("code"), max_length=30)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    classify_rule = models.CharField(
        _("classification rule"), max_length=20, choices=Rule.choices, blank=True, default=""
    )
    classify_count = models.PositiveIntegerField(_("workloads"), null=True, blank=True)
    classify_threshold = models.DecimalField(
        _("revenue per tenant (USD)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    classify_segment = models.CharField(
        _("segment"), max_length=12, choices=CustomerSegment.choices, blank=True
    )
    classify_share = models.DecimalField(
        _("share of customers"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    classify_workloads: models.ManyToManyField[Workload, Any] = models.ManyToManyField(
        Workload, blank=True, related_name="+", verbose_name=_("classification workloads")
    )

    history = HistoricalRecords(m2m_fields=[classify_workloads])

    class Meta:
        ordering = ["rule_set", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "code"], name="uniq_track_code"),
        ]
        verbose_name = _("track")
        verbose_name_plural = _("tracks")


class MetricRule(models.Model):
    """One metric of a rule set: maximum points, target and how points scale.

    A metric of one track (`track`) counts on that track only; a metric without a track on
    every track of the rule set. `provenance` says whether the numbers are the published rule
    or our own default where the published rule of that time is unknown.
    """

    class Provenance(models.TextChoices):
        PUBLISHED = "published", _("as published")
        DEFAULT = "default", _("our default (published rule unknown)")

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
    track = models.ForeignKey(
        Track,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="metrics",
        verbose_name=_("track"),
        help_text=_("Blank: the metric counts on every track."),
    )
    provenance = models.CharField(
        _("provenance"), max_length=10, choices=Provenance.choices, default=Provenance.PUBLISHED
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_set", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "code"],
                condition=models.Q(track__isnull=True),
                name="uniq_metric_per_rule_set",
            ),
            models.UniqueConstraint(
                fields=["rule_set", "track", "code"],
                condition=models.Q(track__isnull=False),
                name="uniq_metric_per_track",
            ),
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
        if self.track is not None:
            return f"{self.rule_set} · {self.track.code} · {self.code}"
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
      as the size floor now; `seat_max` tops a band (Security 2026 SMB: tenants of 5-300
      licences, or Azure customers coming into $750-$12,000 trailing ACR).

    `computation` chooses one of the published versions' calculations instead (blank: the one
    above, as in 2022):
    - qualifying_net: units qualifying in the current month minus a year earlier. A unit is a
      tenant with one eligible workload in the band (`count_unit` tenant_any: MW seat bands),
      a tenant whose total is in it (tenant_total: Azure ACR), or each workload of a tenant
      (workload: BA). The band is `usage_threshold` (or `seat_threshold`) ..`seat_max`,
      inclusive, over the best of the last `lookback_months` months;
    - percent_growth: growth of the summed value, current month against 12 months earlier, in
      per cent of that baseline; nothing below `min_baseline`;
    - distinct_services: distinct Azure services (catalog `distinct_service`) with consumption
      over the trailing 12 months;
    - active_ratio_net: tenants whose active users of the eligible workloads reach
      `usage_threshold` of their paid seats (of those workloads when given per workload), now
      minus at the baseline (12 months ago, or the month of association when later: a tenant
      already deployed when claimed is not a new deployment).
    `seat_threshold`..`seat_max` with growth and active ratios: only tenants with one eligible
    workload of paid seats in the band in the current month count (seat bands of a track).
    `option`: sources of one option are scored together, the best option counts (CPOR vs DPOR).
    `unit_size`: points are earned per whole multiple of it (1 point per $1,250).
    Measure consumption_value: active users and capacity × the rule set's rate card.
    """

    class Computation(models.TextChoices):
        DEFAULT = "", _("as in 2022 (by metric)")
        QUALIFYING_NET = "qualifying_net", _("qualifying units, now minus a year ago")
        PERCENT_GROWTH = "percent_growth", _("growth in per cent of the baseline")
        DISTINCT_SERVICES = "distinct_services", _("distinct services with consumption")
        ACTIVE_RATIO_NET = "active_ratio_net", _("tenants over an active-seat ratio, net")

    class CountUnit(models.TextChoices):
        TENANT_ANY = "tenant_any", _("tenant, one workload in the band")
        TENANT_TOTAL = "tenant_total", _("tenant, its total in the band")
        WORKLOAD = "workload", _("each workload of a tenant")

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
    computation = models.CharField(
        _("computation"), max_length=20, choices=Computation.choices, blank=True, default=""
    )
    count_unit = models.CharField(
        _("what counts"), max_length=12, choices=CountUnit.choices, blank=True, default=""
    )
    seat_max = models.PositiveIntegerField(_("seat band maximum"), null=True, blank=True)
    lookback_months = models.PositiveSmallIntegerField(
        _("months looked at"), default=1, validators=[MinValueValidator(1)]
    )
    min_baseline = models.DecimalField(
        _("minimum baseline"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    unit_size = models.DecimalField(
        _("points per whole"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    option = models.CharField(
        _("option"),
        max_length=20,
        blank=True,
        help_text=_("Sources of one option are scored together; the best option counts."),
    )

    history = HistoricalRecords(m2m_fields=[workloads])

    class Meta:
        ordering = ["metric", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "platform", "option"], name="uniq_source_platform"
            ),
        ]
        verbose_name = _("metric source")
        verbose_name_plural = _("metric sources")

    def __str__(self) -> str:
        return f"{self.metric} · {self.platform}"


class CertificationStep(models.Model):
    """A step of a gated certification metric (Azure 2023: 2 × AZ-104, then AZ-700 holders).

    A gate (`scoring` false) needs `min_people` people meeting its groups; it awards
    `points_each` per person up to `points_cap` when given (SMB tracks), else nothing. The
    scoring steps award their people (each person once per step; `points_each`, or the metric's
    maximum ÷ target when blank) only once every gate is met. The metric's maximum caps the sum.
    """

    metric = models.ForeignKey(MetricRule, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    scoring = models.BooleanField(_("scoring step"), default=False)
    min_people = models.PositiveIntegerField(_("people needed"), default=1)
    points_each = models.DecimalField(
        _("points per person"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    points_cap = models.DecimalField(
        _("points at most"), max_digits=6, decimal_places=2, null=True, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["metric", "position", "id"]
        verbose_name = _("certification step")
        verbose_name_plural = _("certification steps")

    def __str__(self) -> str:
        return f"{self.metric} · step {self.position}"


class CertificationGroup(models.Model):
    """A group of a certification metric: the person holds ALL of them, or ANY ONE of them.

    A person counts when every group of the metric is satisfied (Security: all of MS-500 and
    AZ-500, and any one of SC-200 / SC-300 / SC-400). In a gated metric each group belongs to
    a step, and a person meets a step when every group of that step is satisfied.
    """

    class Mode(models.TextChoices):
        ALL = "all", _("all of")
        ANY = "any", _("one of")

    metric = models.ForeignKey(
        MetricRule, on_delete=models.CASCADE, related_name="certification_groups"
    )
    mode = models.CharField(_("mode"), max_length=3, choices=Mode.choices)
    certifications = models.ManyToManyField(Certification, verbose_name=_("certifications"))
    step = models.ForeignKey(
        CertificationStep,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="groups",
        verbose_name=_("step"),
    )

    history = HistoricalRecords(m2m_fields=[certifications])

    class Meta:
        ordering = ["metric", "id"]
        verbose_name = _("certification group")
        verbose_name_plural = _("certification groups")

    def __str__(self) -> str:
        return f"{self.metric} · {self.mode}"


class CertificationLifetime(models.Model):
    """A retired certification keeps counting for a rule set until a date ("counts through
    June 2024"): held certifications of that code count on and before `counts_until` only."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="lifetimes")
    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="+")
    counts_until = models.DateField(_("counts until"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_set", "certification"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "certification"], name="uniq_certification_lifetime"
            ),
        ]
        verbose_name = _("certification lifetime")
        verbose_name_plural = _("certification lifetimes")

    def __str__(self) -> str:
        return f"{self.rule_set} · {self.certification_id} until {self.counts_until}"


class RateCardEntry(models.Model):
    """The rule set's consumption rate of a workload: monthly consumption value = active users
    (or capacity) × rate. The rate card is versioned with the rule set that uses it."""

    class RatedMeasure(models.TextChoices):
        ACTIVE_USERS = Measure.ACTIVE_USERS.value, Measure.ACTIVE_USERS.label
        CAPACITY = Measure.CAPACITY.value, Measure.CAPACITY.label

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rates")
    workload = models.ForeignKey(Workload, on_delete=models.PROTECT, related_name="+")
    measure = models.CharField(_("usage unit"), max_length=20, choices=RatedMeasure.choices)
    rate = models.DecimalField(_("rate"), max_digits=10, decimal_places=4)

    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_set", "workload"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "workload"], name="uniq_rate_card_entry"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_positive"),
        ]
        verbose_name = _("rate card entry")
        verbose_name_plural = _("rate card")

    def __str__(self) -> str:
        return f"{self.rule_set} · {self.workload_id} × {self.rate}"


class Customer(models.Model):
    """A customer tenant (M365 / Dynamics, by tenant GUID) or Azure customer (by TPID)."""

    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    customer_id = models.CharField(_("customer ID"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    production = models.BooleanField(_("production tenant"), default=True)
    segment = models.CharField(
        _("segment"), max_length=12, choices=CustomerSegment.choices, blank=True, default=""
    )

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
    # No database-level constraint either: at a million rows its per-row check cost more than
    # the import's whole merge. Every write resolves the customer first and the imports lock
    # the file's customers FOR KEY SHARE until they commit (`scoring.imports.setbased`);
    # deleting a customer deletes its series through this CASCADE (Django's, not the
    # database's).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
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
    track = models.CharField(_("counting track"), max_length=30, blank=True, default="")
    tracks = models.JSONField(_("tracks"), default=list, blank=True)
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


class TrackFreeze(TenantModel):
    """A classified designation's track, kept from enrolment (or renewal) to the anniversary.

    Business Applications and Azure 2026 assign the track by a classification rule and freeze
    it for the enrolment year: while a freeze covers the scoring date, the measures report this
    track's classification as holding (and no other's), whatever the telemetry says now.
    """

    designation = models.ForeignKey(Designation, on_delete=models.PROTECT, related_name="+")
    track = models.SlugField(_("track"), max_length=30)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("through"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "designation", "starts_on"], name="uniq_track_freeze"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="track_freeze_ends_after_start",
            ),
        ]
        verbose_name = _("frozen track")
        verbose_name_plural = _("frozen tracks")

    def __str__(self) -> str:
        return (
            f"{self.organization_id} {self.designation_id} {self.track}"
            f" {self.starts_on}–{self.ends_on}"
        )


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


class BulkJobFields(models.Model):
    """A bulk upload through the API too large to answer at once: its body (under MEDIA_ROOT,
    shared by the web servers and the workers), who sent it, its state, progress and report."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20)
    media_type = models.CharField(_("media type"), max_length=40)
    payload = models.FileField(_("body"), upload_to="api-jobs/%Y/%m/", max_length=300)
    rows = models.PositiveIntegerField(_("rows sent"))
    # The caller's identity (`platform-key:<id>`, …): only it may read the job.
    caller = models.CharField(_("created by"), max_length=80, db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    rows_validated = models.PositiveIntegerField(_("rows validated"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    report = models.JSONField(_("report"), null=True, blank=True)
    error = models.JSONField(_("error"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.kind} {self.rows} rows {self.state}"


class OrganizationBulkJob(TenantModel, BulkJobFields):
    """A bulk upload of one organization's rows (associations) run by Celery."""

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-pk"]
        verbose_name = _("bulk API job")
        verbose_name_plural = _("bulk API jobs")


class TelemetryBulkJob(BulkJobFields):
    """A bulk upload of telemetry that is no organization's (customers, usage) run by Celery."""

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("telemetry bulk API job")
        verbose_name_plural = _("telemetry bulk API jobs")


# The staff console's import history lives with the console; Django finds models here.
from scoring.console.models import ImportJob  # noqa: E402, F401  # registered with the scoring app
