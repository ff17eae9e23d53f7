"""The form of "track a request without an account": the tracking number and the mobile."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tawasul.core.errors import InvalidInput
from tawasul.core.ids import tracking_number_parse
from tawasul.core.validators import mobile_clean
from tawasul.portal.signin_forms import DescribedForm


class TrackForm(DescribedForm):
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=30,
        help_text=_("11 digits, as in the message we sent you, for example 482-9310-5726."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}),
    )
    mobile = forms.CharField(
        label=_("The mobile number the request was sent with"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "dir": "ltr", "autocomplete": "tel"}),
    )

    def clean_tracking_number(self) -> str:
        digits = tracking_number_parse(self.cleaned_data["tracking_number"])
        if digits is None:
            raise forms.ValidationError(
                _("This is not a valid tracking number; please check the digits."),
                code="tracking_invalid",
            )
        return digits

    def clean_mobile(self) -> str:
        try:
            return mobile_clean(self.cleaned_data["mobile"])
        except InvalidInput as error:
            raise forms.ValidationError(str(error.message), code=error.code) from None
