"""A staff member's own API tokens: create one (shown once) and revoke it.

A token acts with its owner's grants and nothing more; its secret is shown on
the page that creates it and never again (only its digest is stored).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from tawasul.api import credentials
from tawasul.api.models import PersonalAccessToken, Scope
from tawasul.console.access import staff_required
from tawasul.core.errors import InvalidInput

LIFETIMES = [(30, _("30 days")), (90, _("90 days")), (365, _("One year"))]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What is it for?"), max_length=120)
    scopes = forms.MultipleChoiceField(
        label=_("It may"),
        choices=[(s.value, s.label) for s in sorted(credentials.STAFF_SCOPES)],
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.REQUESTS_READ.value],
    )
    days = forms.TypedChoiceField(label=_("Valid for"), choices=LIFETIMES, coerce=int, initial=90)


def _own_tokens(http: HttpRequest) -> QuerySet[PersonalAccessToken]:
    """The signed-in member's tokens (staff_required has checked they are signed in)."""
    owner: Any = http.user
    return PersonalAccessToken.objects.filter(user=owner)


def _page(
    http: HttpRequest, form: TokenForm, *, secret: str = "", status: int = 200
) -> HttpResponse:
    tokens = _own_tokens(http).order_by("-created_at")
    response = render(
        http,
        "console/tokens.html",
        {"form": form, "tokens": tokens, "secret": secret},
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def tokens_page(http: HttpRequest) -> HttpResponse:
    if http.method != "POST":
        return _page(http, TokenForm())
    form = TokenForm(http.POST)
    if not form.is_valid():
        return _page(http, form, status=400)
    user: Any = http.user
    try:
        issued = credentials.personal_token_create(
            user=user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
        )
    except InvalidInput as error:
        form.add_error(None, str(error))
        return _page(http, form, status=400)
    return _page(http, TokenForm(), secret=issued.secret, status=201)


@require_POST
@staff_required
def token_revoke(http: HttpRequest, pk: int) -> HttpResponse:
    token = _own_tokens(http).filter(pk=pk).first()
    if token is None:
        raise Http404
    credentials.credential_revoke(token)
    messages.success(http, _("Token revoked."))
    return redirect(reverse("console:tokens"))


urlpatterns: list[URLPattern] = [
    path("tokens/", tokens_page, name="tokens"),
    path("tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
]
