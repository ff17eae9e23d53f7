"""Forms of the call-centre intake: finding the caller, registering them, taking a request."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import BeneficiaryKind
from tawasul.cases.models import Category, Kind, Priority
from tawasul.core.arabic import to_ascii_digits
from tawasul.directory.models import CareCentre

Choices = list[tuple[str, Any]]


class CallerLookupForm(forms.Form):
    """One box: a national ID / iqama (10 digits starting with 1 or 2) or a mobile."""

    query = forms.CharField(
        label=_("Mobile or national ID / iqama"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "tel", "autofocus": True, "dir": "ltr"}
        ),
    )

    def lookup(self) -> dict[str, str]:
        """The selector's keyword: `national_id` or `mobile`."""
        text = to_ascii_digits(self.cleaned_data["query"]).replace(" ", "").strip()
        if len(text) == 10 and text.isdigit() and text[0] in "12":
            return {"national_id": text}
        return {"mobile": text}


class CallerRegisterForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    national_id = forms.CharField(
        label=_("National ID / iqama"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "numeric"}),
    )
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "tel"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    kind = forms.ChoiceField(
        label=_("The caller is a"), choices=BeneficiaryKind.choices, initial=BeneficiaryKind.OTHER
    )
    consent = forms.BooleanField(
        label=_("I read the privacy notice to the caller and they agreed to it"),
        required=True,
    )


def category_choices() -> Choices:
    choices: Choices = [("", _("Choose a category"))]
    for category in Category.objects.filter(is_active=True).order_by("path"):
        indent = "— " * (category.depth - 1)
        choices.append((str(category.pk), f"{indent}{category.name}"))
    return choices


def entity_choices() -> Choices:
    choices: Choices = [("", _("Central centre (triage)"))]
    centres = (
        CareCentre.objects.filter(is_active=True, entity__is_active=True)
        .select_related("entity")
        .order_by("entity__path")
    )
    choices.extend((str(centre.entity_id), centre.entity.name) for centre in centres)
    return choices


class CallerRequestForm(forms.Form):
    """A request taken on the caller's behalf."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.INQUIRY)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, empty_value=None)
    entity = forms.TypedChoiceField(label=_("Entity"), coerce=int, empty_value=None, required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("What the caller said"), widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = category_choices()
        cast(forms.ChoiceField, self.fields["entity"]).choices = entity_choices()


class CallerAnsweredForm(CallerRequestForm):
    """An inquiry answered during the call (first-contact resolution)."""

    resolution = forms.CharField(
        label=_("The answer given"), widget=forms.Textarea(attrs={"rows": 4})
    )
    resolution_code = forms.CharField(label=_("Resolution code"), max_length=30, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["priority"]
