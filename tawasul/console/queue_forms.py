"""The queue page's filter form (GET) and the "save this view" form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Category, Channel, Kind, Priority, Status
from tawasul.cases.queues import OPEN_FILTER, QueueFilters, SlaFilter, Sort
from tawasul.directory import access
from tawasul.directory.models import Entity

_ANY = [("", _("Any"))]
SLA_CHOICES = [
    (SlaFilter.RUNNING.value, _("On track")),
    (SlaFilter.WARNED.value, _("At risk")),
    (SlaFilter.BREACHED.value, _("Overdue")),
    (SlaFilter.PAUSED.value, _("Paused")),
    (SlaFilter.MET.value, _("Met")),
]
SORT_CHOICES = [
    (Sort.NEWEST.value, _("Newest first")),
    (Sort.CREATED.value, _("Oldest first")),
    (Sort.DUE.value, _("Due soonest")),
    (Sort.DUE_LAST.value, _("Due latest")),
    (Sort.PRIORITY.value, _("Priority")),
]


class EntityChoiceField(forms.ModelChoiceField[Entity]):
    def label_from_instance(self, obj: Entity) -> str:
        return obj.name


class CategoryChoiceField(forms.ModelChoiceField[Category]):
    def label_from_instance(self, obj: Category) -> str:
        return obj.name


class QueueFilterForm(forms.Form):
    """Filters in the address bar; every field optional; names are a public contract."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[*_ANY, (OPEN_FILTER, _("In hand (not yet answered)")), *Status.choices],
        required=False,
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=_ANY + Kind.choices, required=False)
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False, empty_label=_("Any")
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=_ANY + Channel.choices, required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=_ANY + Priority.choices, required=False
    )
    entity = EntityChoiceField(
        label=_("Entity"), queryset=Entity.objects.none(), required=False, empty_label=_("Any")
    )
    sla = forms.ChoiceField(label=_("Service level"), choices=_ANY + SLA_CHOICES, required=False)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `from` and `to` are Python keywords: declared here under their public names.
        self.fields["from"] = forms.DateField(
            label=_("Submitted from"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
        )
        self.fields["to"] = forms.DateField(
            label=_("Submitted to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
        self.order_fields(
            [
                "q",
                "status",
                "kind",
                "category",
                "channel",
                "priority",
                "entity",
                "from",
                "to",
                "sla",
                "sort",
            ]
        )
        entity_field: Any = self.fields["entity"]
        entity_field.queryset = access.entities_for(user).order_by("path")
        category_field: Any = self.fields["category"]
        category_field.queryset = Category.objects.filter(is_active=True).order_by("path")
        self.fields["q"].widget.attrs.update(
            {"type": "search", "data-shortcut": "/", "data-shortcut-label": _("Search")}
        )

    def filters(self) -> QueueFilters:
        """The valid values; an invalid field is left out (and reported by the form)."""
        data = self.cleaned_data if self.is_bound else {}
        errors = self.errors if self.is_bound else {}

        def value(name: str) -> Any:
            return None if name in errors else data.get(name) or None

        return QueueFilters(
            status=value("status") or "",
            kind=value("kind") or "",
            category=value("category"),
            channel=value("channel") or "",
            priority=value("priority") or "",
            entity=value("entity"),
            submitted_from=value("from"),
            submitted_to=value("to"),
            sla=value("sla") or "",
            q=(value("q") or "").strip(),
        )

    def chosen_sort(self) -> str:
        data = self.cleaned_data if self.is_bound else {}
        return (
            str(data.get("sort") or Sort.NEWEST.value)
            if "sort" not in self.errors
            else Sort.NEWEST.value
        )


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of this view"), max_length=80)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
