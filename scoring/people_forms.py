"""The people pages' forms: search and filters, a person, a held certification, a CSV upload."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Person
from scoring.people_selectors import PeopleQuery, certification_catalog_list, designation_choices

UPLOAD_MAX_BYTES = 5 * 1024 * 1024


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or e-mail"), required=False, max_length=100)
    certification = forms.ChoiceField(label=_("Certification"), required=False)
    designation = forms.ChoiceField(label=_("Counts toward"), required=False)
    expiring = forms.BooleanField(label=_("Expiring within 90 days"), required=False)
    inactive = forms.BooleanField(label=_("Include deactivated people"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["certification"]).choices = [
            ("", _("Any certification"))
        ] + [(c.code, f"{c.code} {c.display_name}") for c in certification_catalog_list()]
        cast(forms.ChoiceField, self.fields["designation"]).choices = [
            ("", _("Any designation")),
            *designation_choices(),
        ]

    def query(self) -> PeopleQuery:
        """The filters; a bad value (an unknown code) is ignored, as if not given."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        return PeopleQuery(
            search=(data.get("q") or "").strip(),
            certification=data.get("certification") or "",
            designation=data.get("designation") or "",
            expiring=bool(data.get("expiring")),
            inactive=bool(data.get("inactive")),
        )


class PersonForm(forms.Form):
    person_id = forms.CharField(
        label=_("Certification profile ID"),
        max_length=Person._meta.get_field("person_id").max_length,
        help_text=_("The individual's certification profile id, as used in imports."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"), required=False)


class HeldCertificationForm(forms.Form):
    certification = forms.ChoiceField(label=_("Certification"))
    earned_on = forms.DateField(
        label=_("Earned on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave blank when it does not expire."),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The certification of a held row is its identity: change the dates only.
            del self.fields["certification"]
        else:
            cast(forms.ChoiceField, self.fields["certification"]).choices = [
                (c.code, f"{c.code} {c.display_name}") for c in certification_catalog_list()
            ]


class PeopleUploadForm(forms.Form):
    KINDS = (
        ("people", _("People (partner_id, person_id, name, email)")),
        (
            "certifications",
            _("Certifications (partner_id, person_id, certification, earned_on, expires_on)"),
        ),
    )
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KINDS)
    file = forms.FileField(label=_("CSV file (UTF-8)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload
