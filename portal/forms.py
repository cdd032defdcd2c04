"""Forms of the portal pages: parse and validate input; the services hold the rules."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.adapters import invitation_for_signup
from portal.exceptions import ApplicationError
from portal.models import Membership, User
from portal.services import invitation_record_signup


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form (ACCOUNT_FORMS); through an invitation, for the invited address.

    The address is shown read-only, and a posted one that differs is refused rather than
    replaced, so a forged request creates nothing.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # allauth builds the form without the request; its middleware keeps it in a context var.
        self.invitation = invitation_for_signup(allauth_context.request)
        if self.invitation is not None and "email" in self.fields:
            self.initial["email"] = self.invitation.email
            field = self.fields["email"]
            field.widget.attrs["readonly"] = True
            field.help_text = _("The address this invitation was sent to.")

    def clean_email(self) -> str:
        if self.invitation is not None:
            posted = (self.cleaned_data.get("email") or "").strip().lower()
            if posted != self.invitation.email.lower():
                raise forms.ValidationError(
                    gettext("This invitation is for %(email)s. Sign up with that address.")
                    % {"email": self.invitation.email}
                )
        return super().clean_email()

    def save(self, request: HttpRequest) -> User:
        if self.invitation is None:
            return super().save(request)
        token = self.invitation.token
        try:
            # The account and the invitation's record of it are made together or not at all.
            with transaction.atomic():
                user = super().save(request)
                invitation_record_signup(token=token, user=user)
        except ApplicationError as error:
            messages.error(request, error.message)
            # allauth's middleware turns this into the response (back to the invitation page).
            raise ImmediateHttpResponse(redirect("invitation_accept", token=token)) from error
        return user
