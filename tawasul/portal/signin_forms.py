"""Forms of the sign-in pages: the address, the one-time code, and the first-sign-in identity."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import BeneficiaryKind
from tawasul.beneficiaries.signin import CODE_DIGITS, Destination, destination_parse
from tawasul.core.arabic import to_ascii_digits
from tawasul.core.errors import InvalidInput


class DescribedForm(forms.Form):
    """Each input names its help text and its errors in `aria-describedby`.

    The ids match the `portal/signin_field.html` include: `<id>_helptext`, `<id>_error`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.fields:
            self._describe(name)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.fields:
            self._describe(name)

    def _describe(self, name: str) -> None:
        bound, field = self[name], self.fields[name]
        ids = [f"{bound.auto_id}_helptext"] if field.help_text else []
        errors = getattr(self, "_errors", None)  # None until the form is cleaned
        if errors is not None and name in errors:
            ids.append(f"{bound.auto_id}_error")
        if ids:
            field.widget.attrs["aria-describedby"] = " ".join(ids)


class SignInForm(DescribedForm):
    destination = forms.CharField(
        label=_("Mobile number or e-mail"),
        max_length=254,
        help_text=_("A Saudi mobile number (05XXXXXXXX) or an e-mail address."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "dir": "ltr"}),
    )

    def clean_destination(self) -> Destination:
        try:
            return destination_parse(self.cleaned_data["destination"])
        except InvalidInput as error:
            raise forms.ValidationError(str(error.message), code=error.code) from None


class CodeForm(DescribedForm):
    code = forms.CharField(
        label=_("The code you received"),
        max_length=20,
        help_text=_("6 digits."),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "dir": "ltr",
                "size": "8",
            }
        ),
    )

    def clean_code(self) -> str:
        digits = "".join(to_ascii_digits(self.cleaned_data["code"]).split())
        if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits of the code."), code="code_format")
        return digits


def _language_initial() -> str:
    return "en" if (get_language() or "ar").startswith("en") else "ar"


class ProfileForm(DescribedForm):
    """Who the beneficiary is; the service checks the national ID and the name."""

    national_id = forms.CharField(
        label=_("National ID or iqama number"),
        max_length=20,
        help_text=_("10 digits, starting with 1 (citizens) or 2 (residents)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}),
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    kind = forms.ChoiceField(
        label=_("You are"), choices=BeneficiaryKind.choices, widget=forms.RadioSelect
    )
    language = forms.ChoiceField(
        label=_("Preferred language for our messages"),
        choices=[("ar", "العربية"), ("en", "English")],
        initial=_language_initial,
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=_(
            "I have read the privacy notice and agree to the processing of my data "
            "for this purpose."
        ),
        error_messages={
            "required": _("Please read the privacy notice and agree to it to continue.")
        },
    )
