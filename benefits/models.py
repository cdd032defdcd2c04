"""The benefit catalog staff maintain, program terms as data, and what organizations hold.

Global reference data (no tenant column): benefit products, packages and their items, annual
fees, qualification-window rules, specialization caps and availability. Everything effective-
dated is read "in force on a date", so a later version never rewrites what was granted.

Tenant data: designation terms (enrolments and renewals), the status history, specialization
awards, renewal choices, and benefit use (assignments, activations and the per-product lock
row that keeps assignments within the grant).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.models import LocalizedNameMixin
from portal.tenancy import TenantModel

# --- catalog ---------------------------------------------------------------------------------


class BenefitProduct(LocalizedNameMixin):
    """A product or service a package grants, counted in one unit."""

    class Unit(models.TextChoices):
        USD_CREDIT_YEAR = "usd_credit_year", _("USD credit per year")
        USD_CREDIT_MONTH = "usd_credit_month", _("USD credit per month")
        LICENSES = "licenses", _("licenses")
        USERS = "users", _("users")
        SANDBOX = "sandbox", _("sandbox")
        HOURS = "hours", _("hours")
        INCIDENTS = "incidents", _("incidents")
        ON_PREMISES_LICENSES = "on_premises_licenses", _("on-premises licenses")
        INCLUDED = "included", _("included")

    class Stacking(models.TextChoices):
        SUM = "sum", _("sum: every grant adds")
        MAXIMUM = "max", _("maximum: the largest grant counts")

    class Use(models.TextChoices):
        SEAT = "seat", _("assigned per person")
        CREDIT = "credit", _("assigned to one user who redeems it")
        NONE = "none", _("nothing to assign")

    code = models.SlugField(_("code"), max_length=80, unique=True)
    unit = models.CharField(_("unit"), max_length=30, choices=Unit.choices)
    stacking = models.CharField(
        _("stacking"),
        max_length=10,
        choices=Stacking.choices,
        default=Stacking.SUM,
        help_text=_("How grants of this product from several packages combine."),
    )
    use = models.CharField(_("use"), max_length=10, choices=Use.choices, default=Use.NONE)
    activated_on_tenant = models.BooleanField(
        _("activated on a tenant"),
        default=False,
        help_text=_("Cloud services: the organization records the tenant it activates them on."),
    )
    reassign_after_days = models.PositiveIntegerField(
        _("reassignable after (days)"),
        null=True,
        blank=True,
        help_text=_(
            "An assignment can be moved to someone else only this many days after it "
            "was made; empty: any time."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("benefit product")
        verbose_name_plural = _("benefit products")


class Grantor(models.TextChoices):
    """What a package is granted for."""

    DESIGNATION = "designation", _("Solutions Partner designation")
    SPECIALIZATION = "specialization", _("Specialization (incremental)")
    LEGACY_GOLD = "legacy_gold", _("Legacy benefits (gold)")
    LEGACY_SILVER = "legacy_silver", _("Legacy benefits (silver)")
    ACTION_PACK = "action_pack", _("Microsoft Action Pack")


class BenefitPackage(LocalizedNameMixin):
    """One version of what a designation, a specialization, legacy benefits or the Action Pack
    grants, in force from `effective_from` until the next version of the same code."""

    code = models.SlugField(_("code"), max_length=100)
    grantor = models.CharField(_("granted for"), max_length=20, choices=Grantor.choices)
    designation = models.ForeignKey(
        "scoring.Designation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("designation"),
    )
    specialization = models.ForeignKey(
        "scoring.Specialization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialization"),
    )
    effective_from = models.DateField(_("effective from"))
    quantities_published = models.BooleanField(
        _("product list complete"),
        default=True,
        help_text=_(
            "Off: the published record gives no product quantities for this package; "
            "its product list awaits staff."
        ),
    )
    catalog_note = models.TextField(_("catalog note"), blank=True)
    catalog_note_ja = models.TextField(_("catalog note (Japanese)"), blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["grantor", "code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "effective_from"], name="uniq_benefit_package_version"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(grantor="designation", designation__isnull=False)
                    | ~models.Q(grantor="designation")
                )
                & (
                    models.Q(grantor="specialization", specialization__isnull=False)
                    | ~models.Q(grantor="specialization")
                ),
                name="benefit_package_grantor_named",
            ),
        ]
        verbose_name = _("benefit package")
        verbose_name_plural = _("benefit packages")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.effective_from})"

    @property
    def display_note(self) -> str:
        language = (get_language() or "en").split("-")[0]
        return (
            self.catalog_note_ja if language == "ja" and self.catalog_note_ja else self.catalog_note
        )


class PackageItem(models.Model):
    """A product a package grants and how much; no quantity: included, amount not published."""

    package = models.ForeignKey(BenefitPackage, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        BenefitProduct, on_delete=models.PROTECT, related_name="items", verbose_name=_("product")
    )
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Empty: included, quantity not published."),
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    detail_ja = models.CharField(_("detail (Japanese)"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product__position", "product__code"]
        constraints = [
            models.UniqueConstraint(fields=["package", "product"], name="uniq_package_product")
        ]
        verbose_name = _("package item")
        verbose_name_plural = _("package items")

    def __str__(self) -> str:
        return f"{self.package.code}: {self.product.code} {self.quantity}"


class RenewalOption(models.TextChoices):
    SOLUTIONS_PARTNER = "solutions_partner", _("Solutions Partner benefits")
    LEGACY = "legacy", _("Legacy benefits")
    ACTION_PACK = "action_pack", _("Microsoft Action Pack")


class AnnualFee(models.Model):
    """What an option costs a year, in force from a date; no amount: not published."""

    class Offer(models.TextChoices):
        SOLUTIONS_PARTNER = "solutions_partner", _("Solutions Partner designations")
        LEGACY_GOLD = "legacy_gold", _("Legacy benefits (gold)")
        LEGACY_SILVER = "legacy_silver", _("Legacy benefits (silver)")
        ACTION_PACK = "action_pack", _("Microsoft Action Pack")

    offer = models.CharField(_("offer"), max_length=20, choices=Offer.choices)
    effective_from = models.DateField(_("effective from"))
    amount = models.DecimalField(
        _("amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    available = models.BooleanField(
        _("offered"), default=True, help_text=_("Off: the offer is retired from this date.")
    )
    source = models.CharField(_("source"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["offer", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "effective_from"], name="uniq_annual_fee")
        ]
        verbose_name = _("annual fee")
        verbose_name_plural = _("annual fees")

    def __str__(self) -> str:
        return f"{self.offer} {self.effective_from}: {self.amount}"


class QualificationWindowRule(models.Model):
    """How the qualification window and the renewal window are measured, from a date on."""

    class Kind(models.TextChoices):
        DAYS_BEFORE_ANNIVERSARY = (
            "days_before_anniversary",
            _("the days before the anniversary (first attainment: any day since GA)"),
        )
        ROLLING_MONTHS = (
            "rolling_months",
            _("the current month and the previous full calendar months, rolling"),
        )

    effective_from = models.DateField(_("effective from"), unique=True)
    kind = models.CharField(_("window"), max_length=30, choices=Kind.choices)
    days_before_anniversary = models.PositiveSmallIntegerField(
        _("days before the anniversary"), null=True, blank=True
    )
    previous_months = models.PositiveSmallIntegerField(
        _("previous full months"), null=True, blank=True
    )
    renewal_window_days = models.PositiveSmallIntegerField(
        _("renewal window (days after the anniversary)"), default=30
    )
    source = models.CharField(_("source"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="days_before_anniversary", days_before_anniversary__isnull=False)
                    | models.Q(kind="rolling_months", previous_months__isnull=False)
                ),
                name="qualification_window_rule_complete",
            )
        ]
        verbose_name = _("qualification window rule")
        verbose_name_plural = _("qualification window rules")

    def __str__(self) -> str:
        return f"{self.kind} from {self.effective_from}"


class SpecializationArea(LocalizedNameMixin):
    """Specializations counted together against a cap (Security 3; the Azure areas share 5)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    designations = models.ManyToManyField(
        "scoring.Designation", related_name="+", verbose_name=_("designations")
    )
    cap = models.PositiveSmallIntegerField(_("specializations at most"))
    source = models.CharField(_("source"), max_length=300, blank=True)

    history = HistoricalRecords(m2m_fields=[designations])

    class Meta:
        ordering = ["code"]
        verbose_name = _("specialization area")
        verbose_name_plural = _("specialization areas")


class SpecializationAvailability(models.Model):
    """When a specialization can be awarded (the seed's 18 from GA, the later list after)."""

    specialization = models.OneToOneField(
        "scoring.Specialization", on_delete=models.CASCADE, related_name="+"
    )
    available_from = models.DateField(_("available from"))
    available_until = models.DateField(_("available until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["available_from"]
        verbose_name = _("specialization availability")
        verbose_name_plural = _("specialization availability")

    def __str__(self) -> str:
        return f"{self.specialization_id}: {self.available_from}–{self.available_until or ''}"


# --- what organizations hold -----------------------------------------------------------------


class DesignationTerm(TenantModel):
    """An organization holds a designation from `starts_on` through `ends_on` (the anniversary):
    one row per enrolment or renewal."""

    class Kind(models.TextChoices):
        ENROLMENT = "enrolment", _("Enrolment")
        RENEWAL = "renewal", _("Renewal")

    designation = models.ForeignKey(
        "scoring.Designation", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("anniversary"))
    fee_amount = models.DecimalField(
        _("fee recorded"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    fee_currency = models.CharField(_("currency"), max_length=3, blank=True)
    renewal_choice = models.ForeignKey(
        "benefits.RenewalChoice",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="terms",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "designation", "starts_on"], name="uniq_designation_term"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="designation_term_ends_after_start",
            ),
        ]
        verbose_name = _("designation term")
        verbose_name_plural = _("designation terms")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.designation_id} {self.starts_on}–{self.ends_on}"


class DesignationStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    QUALIFIED = "qualified", _("Qualified")
    ENROLLED = "enrolled", _("Enrolled")
    RENEWAL_DUE = "renewal_due", _("Enrolled (renewal due)")
    RENEWED = "renewed", _("Renewed")
    LAPSED = "lapsed", _("Lapsed")


class DesignationStatusChange(TenantModel):
    """The history of an organization's status for a designation: who, when and why."""

    designation = models.ForeignKey(
        "scoring.Designation", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=DesignationStatus.choices)
    changed_on = models.DateField(_("on"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("why"), max_length=300)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["-changed_on", "-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "designation", "status", "changed_on"],
                name="uniq_designation_status_change",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "designation", "changed_on"],
                name="status_change_org_designation",
            )
        ]
        verbose_name = _("designation status change")
        verbose_name_plural = _("designation status changes")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.designation_id} {self.status} {self.changed_on}"


class SpecializationAward(TenantModel):
    """Staff award a specialization; it holds while its parent designation does."""

    specialization = models.ForeignKey(
        "scoring.Specialization", on_delete=models.PROTECT, related_name="+"
    )
    awarded_on = models.DateField(_("awarded on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    evidence_note = models.TextField(_("evidence"))
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["-awarded_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "specialization", "awarded_on"],
                name="uniq_specialization_award",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gt=models.F("awarded_on")),
                name="specialization_award_ends_after_award",
            ),
        ]
        verbose_name = _("specialization award")
        verbose_name_plural = _("specialization awards")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.specialization_id} {self.awarded_on}"


class RenewalChoice(TenantModel):
    """The option an admin chose for the year after an anniversary, with the fee it costs."""

    anniversary = models.DateField(_("anniversary"))
    option = models.CharField(_("option"), max_length=20, choices=RenewalOption.choices)
    fee_amount = models.DecimalField(
        _("annual fee"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    fee_currency = models.CharField(_("currency"), max_length=3, blank=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    chosen_at = models.DateTimeField(_("chosen at"))

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["-anniversary"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "anniversary"], name="uniq_renewal_choice"
            )
        ]
        verbose_name = _("renewal choice")
        verbose_name_plural = _("renewal choices")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.anniversary}: {self.option}"


class BenefitAllowance(TenantModel):
    """One row per organization and product: assignments lock it, so two requests cannot both
    take the last seat."""

    product = models.ForeignKey(BenefitProduct, on_delete=models.PROTECT, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product"], name="uniq_benefit_allowance"
            )
        ]
        verbose_name = _("benefit allowance")
        verbose_name_plural = _("benefit allowances")


class BenefitAssignment(TenantModel):
    """A seat or a credit of a product given to a person of the organization."""

    product = models.ForeignKey(BenefitProduct, on_delete=models.PROTECT, related_name="+")
    # RESTRICT, not PROTECT: a person with an assignment cannot be deleted alone, but deleting the
    # organization removes both together.
    person = models.ForeignKey("portal.Person", on_delete=models.RESTRICT, related_name="+")
    assigned_on = models.DateField(_("assigned on"))
    unassigned_on = models.DateField(_("unassigned on"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["product__position", "assigned_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product", "person"],
                condition=models.Q(unassigned_on__isnull=True),
                name="uniq_open_benefit_assignment",
            )
        ]
        verbose_name = _("benefit assignment")
        verbose_name_plural = _("benefit assignments")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.product_id} → {self.person_id}"


class BenefitActivation(TenantModel):
    """The tenant a cloud-service benefit is activated on."""

    product = models.ForeignKey(BenefitProduct, on_delete=models.PROTECT, related_name="+")
    tenant = models.CharField(
        _("tenant"), max_length=200, help_text=_("Tenant ID or primary domain.")
    )
    activated_on = models.DateField(_("activated on"))
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product"], name="uniq_benefit_activation"
            )
        ]
        verbose_name = _("benefit activation")
        verbose_name_plural = _("benefit activations")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.product_id} @ {self.tenant}"


# --- notifications ---------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    QUALIFIED = "qualified", _("Designation qualified")
    ENROLLED = "enrolled", _("Designation enrolled")
    RENEWAL_DUE = "renewal_due", _("Renewal due")
    LAPSED = "lapsed", _("Designation lapsed")
    CERTIFICATION_EXPIRING = "certification_expiring", _("Certification expiring within 90 days")
    RENEWAL_WINDOW_OPEN = "renewal_window_open", _("Renewal window open")
    RENEWAL_CHOICE_DUE = "renewal_choice_due", _("Renewal choice due within 14 days")


class Notification(TenantModel):
    """One event told to one user, once: the event key is unique per organization and user,
    so however many times the nightly job runs, an event is never told twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    event_key = models.CharField(_("event"), max_length=200)
    params = models.JSONField(_("details"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "event_key"], name="uniq_notification_event"
            )
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.user_id} {self.event_key}"


class NotificationPreference(TenantModel):
    """A user's choice to receive a kind of notification by e-mail (default: yes)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    email = models.BooleanField(_("by e-mail"), default=True)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "kind"], name="uniq_notification_preference"
            )
        ]
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
