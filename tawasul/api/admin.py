"""API credentials in the admin: keys are created here and shown once, never again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tawasul.api import credentials
from tawasul.api.models import ApiClient, PersonalAccessToken, Scope

if TYPE_CHECKING:
    _ClientAdmin = admin.ModelAdmin[ApiClient]
    _TokenAdmin = admin.ModelAdmin[PersonalAccessToken]
else:
    _ClientAdmin = admin.ModelAdmin
    _TokenAdmin = admin.ModelAdmin


class ScopesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class ApiClientForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = ScopesField(choices=Scope.choices, required=False, label=_("scopes"))

    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "rate_limit_per_minute", "entity", "contact")


def _show_once(request: HttpRequest, secret: str) -> None:
    messages.warning(
        request,
        _("Copy the key now; it will not be shown again: %(key)s") % {"key": secret},
    )


@admin.register(ApiClient)
class ApiClientAdmin(_ClientAdmin):
    form = ApiClientForm
    list_display = (
        "name",
        "prefix",
        "scopes",
        "rate_limit_per_minute",
        "revoked_at",
        "last_used_at",
    )
    search_fields = ("name",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("rotate", "revoke")

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = credentials.api_client_create(
            name=obj.name,
            scopes=form.cleaned_data.get("scopes") or [],
            rate_limit_per_minute=obj.rate_limit_per_minute,
            entity=obj.entity,
            contact=obj.contact,
        )
        obj.pk = issued.record.pk
        obj.prefix = issued.record.prefix
        obj.digest = issued.record.digest
        _show_once(request, issued.secret)

    @admin.action(description=_("Issue a new key (the old one stops working)"))
    def rotate(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            _show_once(request, credentials.api_client_rotate(client=client).secret)

    @admin.action(description=_("Revoke the key"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            credentials.credential_revoke(client)


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(_TokenAdmin):
    list_display = ("name", "user", "prefix", "scopes", "expires_at", "revoked_at", "last_used_at")
    search_fields = ("name", "user__username")
    fields = ("user", "name", "scopes", "prefix", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = (
        "user",
        "name",
        "scopes",
        "prefix",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # created with `tawasul apitoken create` or by the member in the console

    @admin.action(description=_("Revoke the token"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[PersonalAccessToken]) -> None:
        for token in queryset:
            credentials.credential_revoke(token)
