"""The new-request form: what the beneficiary chose, typed and checked before any write.

Field names match the ones `request_submit` reports errors on (kind, entity,
category, subject, description), so a service error lands on its field.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary, ContactChannel
from tawasul.cases.models import Category, Kind
from tawasul.directory.models import CareCentre, Entity, EntityKind
from tawasul.portal.uploads import MAX_FILES, CheckedFilesField

SUBJECT_MIN, SUBJECT_MAX = 3, 200
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 5000

# The order of the entity groups, and each group's heading.
ENTITY_GROUPS: tuple[tuple[str, Any], ...] = (
    (EntityKind.REGION, _("Regional education departments")),
    (EntityKind.UNIVERSITY, _("Universities")),
    (EntityKind.SECTOR, _("Ministry sectors")),
    (EntityKind.AGENCY, _("Deputyships and general directorates")),
    (EntityKind.OFFICE, _("Education offices")),
)

# One line on each kind of request (the same words as on the home page).
KIND_HINTS: dict[str, Any] = {
    Kind.INQUIRY: _("Ask about a rule, a procedure or a service, and get a clear answer."),
    Kind.COMPLAINT: _(
        "Tell us what went wrong; the competent office will look into it and answer you."
    ),
    Kind.SUGGESTION: _("Share an idea that would make schools, universities or services better."),
    Kind.OBSERVATION: _(
        "Point out something you noticed that needs attention, even if it does not affect you."
    ),
    Kind.PRAISE: _("Thank a teacher, a school or an employee; we pass your words on."),
}

Choices = list[tuple[Any, Any]]


# --- the choices offered ----------------------------------------------------------------


def entity_choices() -> Choices:
    """Active entities that a centre serves (their own or an ancestor's), grouped by kind.

    The first choice is empty: "I don't know", the central centre triages it.
    """
    entities = list(
        Entity.objects.only("pk", "path", "kind", "name_ar", "name_en", "is_active").order_by(
            "path"
        )
    )
    active = {entity.path: entity.is_active for entity in entities}
    served = set(CareCentre.objects.filter(is_active=True).values_list("entity__path", flat=True))
    step = Entity.steplen
    groups: dict[str, list[Entity]] = defaultdict(list)
    for entity in entities:
        ancestry = [entity.path[:end] for end in range(step, len(entity.path) + 1, step)]
        if (
            entity.kind != EntityKind.MINISTRY
            and all(active.get(path, False) for path in ancestry)
            and any(path in served for path in ancestry)
        ):
            groups[entity.kind].append(entity)
    choices: Choices = [("", _("I don't know — let the ministry route it"))]
    for kind, label in ENTITY_GROUPS:
        members = sorted(groups.get(kind, []), key=lambda entity: entity.name)
        if members:
            choices.append((label, [(str(entity.pk), entity.name) for entity in members]))
    return choices


def category_choices() -> tuple[Choices, dict[str, str]]:
    """Active categories, a root with sub-categories shown as a group, and the kinds each takes.

    The second value maps each choice to its kinds separated by spaces ("" for any kind).
    """
    categories = list(Category.objects.filter(is_active=True).order_by("path"))
    active_paths = {category.path for category in categories}
    step = Category.steplen
    roots: list[Category] = []
    children: dict[str, list[Category]] = defaultdict(list)
    for category in categories:
        if category.depth == 1:
            roots.append(category)
        elif category.path[:step] in active_paths and all(
            category.path[:end] in active_paths for end in range(step, len(category.path), step)
        ):
            children[category.path[:step]].append(category)
    choices: Choices = [("", _("Choose a category"))]
    for root in sorted(roots, key=lambda category: category.name):
        below = sorted(children.get(root.path, []), key=lambda category: category.name)
        if below:
            options = [(str(category.pk), category.name) for category in [root, *below]]
            choices.append((root.name, options))
        else:
            choices.append((str(root.pk), root.name))
    kinds = {str(category.pk): " ".join(category.kinds or []) for category in categories}
    return choices, kinds


def contact_choices(beneficiary: Beneficiary) -> Choices:
    """The channels we can reach this beneficiary on, each with its (masked) address."""
    choices: Choices = []
    if beneficiary.mobile:
        choices.append(
            (
                ContactChannel.SMS.value,
                _address_label(_("SMS to {address}"), beneficiary.masked_mobile),
            )
        )
    if beneficiary.email:
        choices.append(
            (
                ContactChannel.EMAIL.value,
                _address_label(_("E-mail to {address}"), email_masked(beneficiary.email)),
            )
        )
    return choices


def _address_label(template: Any, address: str) -> SafeString:
    """The label with the address isolated left to right (it sits in Arabic text)."""
    return format_html(str(template), address=format_html('<bdi dir="ltr">{}</bdi>', address))


def email_masked(email: str) -> str:
    """k•••@example.com: enough to recognise one's own address on a shared screen."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


# --- widgets and fields -------------------------------------------------------------------


class CategorySelect(forms.Select):
    """A select whose options carry `data-kinds`, for the script that hides the others."""

    kinds_by_value: dict[str, str]

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.kinds_by_value = {}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        for _group, options, _index in context["widget"]["optgroups"]:
            for option in options:
                kinds = self.kinds_by_value.get(str(option["value"]))
                if kinds is not None:
                    option["attrs"]["data-kinds"] = kinds
        return context


# --- the form -------------------------------------------------------------------------------


class RequestNewForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What would you like to send?"), choices=Kind.choices, widget=forms.RadioSelect
    )
    entity = forms.ChoiceField(
        label=_("Which entity is it about?"),
        required=False,
        help_text=_(
            "If you are not sure, keep the first choice: the ministry will send it "
            "to the right office."
        ),
    )
    category = forms.ChoiceField(label=_("Topic"))
    subject = forms.CharField(
        label=_("Subject"),
        min_length=SUBJECT_MIN,
        max_length=SUBJECT_MAX,
        help_text=_("A short title, for example: exam result not shown."),
    )
    description = forms.CharField(
        label=_("Details"),
        min_length=DESCRIPTION_MIN,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What happened, where and when. Do not write passwords or bank details."),
    )
    attachments = CheckedFilesField(label=_("Attachments (optional)"), max_files=MAX_FILES)
    preferred_contact = forms.ChoiceField(
        label=_("How should we contact you?"), widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, beneficiary: Beneficiary, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"preferred_contact": beneficiary.preferred_contact})
        super().__init__(*args, **kwargs)
        self.beneficiary = beneficiary
        cast(forms.ChoiceField, self.fields["entity"]).choices = entity_choices()
        choices, kinds = category_choices()
        widget = CategorySelect()
        widget.kinds_by_value = kinds
        category_field = cast(forms.ChoiceField, self.fields["category"])
        category_field.widget = widget
        category_field.choices = choices
        contact_field = cast(forms.ChoiceField, self.fields["preferred_contact"])
        contact_field.choices = contact_choices(beneficiary)

    def kind_hints(self) -> list[tuple[Any, Any]]:
        """Each kind's radio button beside its one-line explanation."""
        return [
            (radio, KIND_HINTS.get(radio.data["value"], "")) for radio in self["kind"].subwidgets
        ]
