"""The what-if page's input: hypothetical people and customers, and removals, validated.

Rows left as they were shown are ignored (the formsets' extra forms); a row with an error is
named by its row and field in the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from portal.models import Certification, Organization
from scoring.models import AssociationType, Platform
from scoring.whatif import HypotheticalCustomer, HypotheticalPerson, Scenario
from scoring.whatif_selectors import whatif_customer_choices, whatif_person_choices

CODE_SPLIT = re.compile(r"[\s,、，]+")
MAX_PEOPLE_ROWS = 20
MAX_CUSTOMER_ROWS = 20


class HypotheticalPersonForm(forms.Form):
    certifications = forms.CharField(
        label=_("Certifications"),
        max_length=300,
        help_text=_("Certification codes, separated by commas: AZ-104, AZ-305"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    count = forms.IntegerField(
        label=_("How many people"),
        initial=1,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
    )

    def __init__(self, *args: Any, catalog: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = catalog  # upper-case code -> code as in the catalog

    def clean_certifications(self) -> tuple[str, ...]:
        codes = [c.upper() for c in CODE_SPLIT.split(self.cleaned_data["certifications"]) if c]
        unknown = [c for c in codes if c not in self.catalog]
        if unknown:
            raise forms.ValidationError(
                _("Not in the certification catalog: %(codes)s"),
                params={"codes": ", ".join(unknown)},
                code="unknown",
            )
        if not codes:
            raise forms.ValidationError(_("Name at least one certification."), code="required")
        return tuple(dict.fromkeys(self.catalog[c] for c in codes))


class HypotheticalCustomerForm(forms.Form):
    # Initial values a row left untouched submits as is: such a row is ignored.
    platform = forms.ChoiceField(
        label=_("Platform"), choices=Platform.choices, initial=Platform.M365
    )
    association_type = forms.ChoiceField(
        label=_("Association"), choices=AssociationType.choices, initial=AssociationType.CPOR
    )
    count = forms.IntegerField(
        label=_("How many customers"),
        initial=1,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    workload = forms.CharField(
        label=_("Workload"),
        max_length=40,
        required=False,
        help_text=_("Blank: the whole customer."),
    )
    paid_seats = forms.IntegerField(
        label=_("Paid seats"), required=False, validators=[MinValueValidator(0)]
    )
    active_users = forms.IntegerField(
        label=_("Monthly active users"), required=False, validators=[MinValueValidator(0)]
    )
    protected_users = forms.IntegerField(
        label=_("Monthly protected users"), required=False, validators=[MinValueValidator(0)]
    )
    acr_usd = forms.DecimalField(
        label=_("Azure consumed revenue per month (USD)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        figures = ("paid_seats", "active_users", "protected_users", "acr_usd")
        if not self.errors and all(data.get(name) is None for name in figures):
            raise forms.ValidationError(
                _("Give at least one monthly figure (seats, users or revenue)."), code="figures"
            )
        return data


class LongSelectMultiple(forms.SelectMultiple):
    """A multiple select of flat choices rendered in one pass, not one template per option.

    An organization's removable people and customers run to hundreds of options: Django's
    per-option templates cost about 0.15 ms each (100 ms for the what-if page of an organization
    with 500 customers and 200 people); joining them here costs a few. Same markup otherwise.
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        selected = {str(v) for v in (self.format_value(value) or ())}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) in selected else "", label)
                for key, label in self.choices
            ),
        )
        final = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<select name="{}" multiple{}>{}</select>', name, flatatt(final), options
        )


class RemovalsForm(forms.Form):
    remove_people = forms.TypedMultipleChoiceField(
        label=_("Remove people"), required=False, coerce=int, widget=LongSelectMultiple
    )
    remove_customers = forms.TypedMultipleChoiceField(
        label=_("Remove customers"), required=False, coerce=int, widget=LongSelectMultiple
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        remove_people = self.fields["remove_people"]
        remove_customers = self.fields["remove_customers"]
        assert isinstance(remove_people, forms.ChoiceField)
        assert isinstance(remove_customers, forms.ChoiceField)
        remove_people.choices = whatif_person_choices(organization=organization)
        remove_customers.choices = whatif_customer_choices(organization=organization)


class _CountedFormSet(forms.BaseFormSet):
    """Rows each add `count` of something; the sum is capped so that a projection stays a
    fraction of a second (each hypothetical customer is 12 months of usage rows)."""

    most = 0
    too_many = ""

    def clean(self) -> None:
        super().clean()
        total = sum(
            form.cleaned_data.get("count") or 0
            for form in self.forms
            if form.has_changed() and getattr(form, "cleaned_data", None)
        )
        if total > self.most:
            raise forms.ValidationError(self.too_many % {"most": self.most}, code="too_many")


class _PeopleFormSet(_CountedFormSet):
    most = 500
    too_many = _("At most %(most)s hypothetical people in all.")


class _CustomersFormSet(_CountedFormSet):
    most = 500
    too_many = _("At most %(most)s hypothetical customers in all.")


PersonFormSet = forms.formset_factory(
    HypotheticalPersonForm,
    formset=_PeopleFormSet,
    extra=1,
    max_num=MAX_PEOPLE_ROWS,
    validate_max=True,
)
CustomerFormSet = forms.formset_factory(
    HypotheticalCustomerForm,
    formset=_CustomersFormSet,
    extra=1,
    max_num=MAX_CUSTOMER_ROWS,
    validate_max=True,
)


def _with_added_row(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """ "Add a person" / "Add a customer" (the buttons without JavaScript): one more row."""
    for button, prefix, most in (
        ("add_person", "people", MAX_PEOPLE_ROWS),
        ("add_customer", "customers", MAX_CUSTOMER_ROWS),
    ):
        if button in data:
            total = f"{prefix}-TOTAL_FORMS"
            try:
                rows = int(data.get(total, 0))
            except (TypeError, ValueError):
                continue  # the formset reports its broken management form
            copy = data.copy() if hasattr(data, "copy") else dict(data)
            copy[total] = str(min(rows + 1, most))
            data = copy
    return data


class WhatIfInput:
    """The page's three parts bound together; `scenario()` once `is_valid()`."""

    def __init__(self, *, organization: Organization, data: Mapping[str, Any] | None = None):
        if data is not None:
            data = _with_added_row(data)
        catalog = {
            code.upper(): code
            for code in Certification.objects.filter(active=True).values_list("code", flat=True)
        }
        self.people = PersonFormSet(data, prefix="people", form_kwargs={"catalog": catalog})
        self.customers = CustomerFormSet(data, prefix="customers")
        self.removals = RemovalsForm(data, organization=organization, prefix="remove")

    def is_valid(self) -> bool:
        # Every part validated, so that every error shows at once.
        results = [self.people.is_valid(), self.customers.is_valid(), self.removals.is_valid()]
        return all(results)

    def error_texts(self) -> list[str]:
        """Every error, each naming its row and field ("Person 2, Certifications: …")."""
        texts = _row_errors(self.people, str(_("Person"))) + _row_errors(
            self.customers, str(_("Customer"))
        )
        for name, errors in self.removals.errors.items():
            label = self.removals.fields[name].label if name in self.removals.fields else ""
            texts.extend(f"{label}: {error}" for error in errors)
        return texts

    def scenario(self) -> Scenario:
        people = tuple(
            HypotheticalPerson(
                certifications=form.cleaned_data["certifications"], count=form.cleaned_data["count"]
            )
            for form in self.people.forms
            if form.has_changed() and form.cleaned_data
        )
        customers = tuple(
            HypotheticalCustomer(
                platform=data["platform"],
                association_type=data["association_type"],
                count=data["count"],
                workload=data["workload"],
                paid_seats=data["paid_seats"],
                active_users=data["active_users"],
                protected_users=data["protected_users"],
                acr_usd=data["acr_usd"],
            )
            for form in self.customers.forms
            if form.has_changed() and (data := form.cleaned_data)
        )
        removals = self.removals.cleaned_data
        return Scenario(
            people=people,
            customers=customers,
            remove_people=tuple(removals.get("remove_people", ())),
            remove_customers=tuple(removals.get("remove_customers", ())),
        )


def _row_errors(formset: forms.BaseFormSet, row_label: str) -> list[str]:
    texts = [str(error) for error in formset.non_form_errors()]
    for number, form in enumerate(formset.forms, start=1):
        for name, errors in form.errors.items():
            for error in errors:
                if name == forms.forms.NON_FIELD_ERRORS:
                    texts.append(_("%(row)s %(number)s: %(error)s") % {
                        "row": row_label, "number": number, "error": error})  # fmt: skip
                else:
                    texts.append(_("%(row)s %(number)s, %(field)s: %(error)s") % {
                        "row": row_label, "number": number,
                        "field": form.fields[name].label, "error": error})  # fmt: skip
    return texts
