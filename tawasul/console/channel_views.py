"""The console's channel pages: the review queue of inbound messages, one message with its
three outcomes, and a beneficiary's history across channels with their addresses.

Every read of an inbound message goes through `access.inbound_for` (the selectors in
`tawasul.channels.review`), every read of a request through `access.requests_for` /
`access.request_for_staff`; every write is one service of `tawasul.channels.review`.
Senders are shown masked (an e-mail's first letter and domain, a mobile's last digits, a
platform user by their handle). A refused action re-renders its page with the service's
message and the status (400 bad input, 403 not allowed, 409 done meanwhile); never a 500.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.cases.models import Category, Kind, Request
from tawasul.channels import review
from tawasul.channels.inbound import REASON_LABELS, identity_shown
from tawasul.channels.models import (
    ChannelAccount,
    IdentityKind,
    InboundMessage,
    InboundStatus,
)
from tawasul.console.access import staff_required
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.core.ids import tracking_number_parse
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity

P = Permission
PAGE_SIZE = 25
IDENTITY_PREFIX = "identity"

# Reason codes of messages that became a request or a reply by themselves.
PROCESSED_LABELS: dict[str, Any] = {
    "request": _("Became a new request"),
    "reply": _("Became a reply on a request"),
}


def reason_label(code: str) -> str:
    label = REASON_LABELS.get(code) or PROCESSED_LABELS.get(code)
    return str(label) if label is not None else code


# --- showing an address -------------------------------------------------------------------


def sender_shown(message: InboundMessage) -> str:
    kind = str(message.data.get("identity_kind") or "")
    return identity_shown(kind, message.sender, message.sender_handle)


def _kind_label(kind: str) -> str:
    return str(IdentityKind(kind).label) if kind in IdentityKind.values else kind


# --- forms --------------------------------------------------------------------------------


class InboundFilterForm(forms.Form):
    """The queue's filters (a GET form): status (default: awaiting review), account, reason."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    account = forms.TypedChoiceField(
        label=_("Account"), coerce=int, required=False, empty_value=None
    )
    reason = forms.ChoiceField(label=_("Reason"), required=False)

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *InboundStatus.choices]  # type: ignore[attr-defined]
        self.fields["account"].choices = [("", _("Every account")), *accounts]  # type: ignore[attr-defined]
        self.fields["reason"].choices = [  # type: ignore[attr-defined]
            ("", _("Any reason")),
            *REASON_LABELS.items(),
            *PROCESSED_LABELS.items(),
        ]


class OpenForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, choices=())
    entity = forms.TypedChoiceField(label=_("Entity"), coerce=int, choices=())

    def __init__(
        self,
        *args: Any,
        categories: list[tuple[int, str]],
        entities: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = categories  # type: ignore[attr-defined]
        self.fields["entity"].choices = entities  # type: ignore[attr-defined]


class AttachForm(forms.Form):
    tracking_number = forms.CharField(
        label=_("Tracking number"), max_length=20, widget=forms.TextInput(attrs={"dir": "ltr"})
    )

    def clean_tracking_number(self) -> str:
        digits = tracking_number_parse(self.cleaned_data["tracking_number"])
        if digits is None:
            raise forms.ValidationError(_("This is not a valid tracking number."))
        return digits


class DismissForm(forms.Form):
    note = forms.CharField(
        label=_("Why it is dismissed"),
        min_length=review.NOTE_MIN,
        max_length=review.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of address"), choices=IdentityKind.choices)
    value = forms.CharField(
        label=_("Address or user id"), max_length=254, widget=forms.TextInput(attrs={"dir": "ltr"})
    )
    handle = forms.CharField(
        label=_("Handle (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    back = forms.ChoiceField(
        choices=[("request", "request"), ("history", "history")],
        required=False,
        widget=forms.HiddenInput,
    )


# --- helpers ------------------------------------------------------------------------------


def _user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


def _message(http: HttpRequest, public_id: Any) -> InboundMessage:
    try:
        return review.inbound_for_staff(http.user, public_id=public_id)
    except NotFound:
        raise Http404 from None


def _case(http: HttpRequest, number: str) -> Request:
    digits = tracking_number_parse(number)
    if digits is None:
        raise Http404
    try:
        return access.request_for_staff(http.user, tracking_number=digits)
    except NotFound:
        raise Http404 from None


def _accounts(http: HttpRequest) -> list[tuple[int, str]]:
    """The channel accounts whose centre is within the user's reach (the filter's choices)."""
    entities = access.entities_for(http.user).values("pk")
    accounts = ChannelAccount.objects.filter(centre__entity__in=entities).order_by("kind", "name")
    return [(account.pk, f"{account.name} · {account.get_kind_display()}") for account in accounts]


def _categories() -> list[tuple[int, str]]:
    return [(c.pk, c.name) for c in Category.objects.filter(is_active=True).order_by("path")]


def _entities() -> list[tuple[int, str]]:
    entities = Entity.objects.filter(is_active=True, centre__is_active=True).order_by("path")
    return [(e.pk, e.name) for e in entities]


def _status_of(error: DomainError) -> int:
    return 400 if isinstance(error, InvalidInput) else error.status


# --- the queue ----------------------------------------------------------------------------


@require_safe
@staff_required
def inbound_queue_page(http: HttpRequest) -> HttpResponse:
    params = http.GET.copy()
    if "status" not in params:
        params["status"] = InboundStatus.REVIEW
    form = InboundFilterForm(params, accounts=_accounts(http))
    if not form.is_valid():
        messages.error(http, _("Please correct the filters and try again."))
        context: dict[str, Any] = {"form": form, "page": None, "rows": [], "query": ""}
        return render(http, "console/inbound_queue.html", context, status=400)
    filters = form.cleaned_data
    rows = review.inbound_queue(
        http.user,
        status=filters["status"],
        account=filters["account"],
        reason=filters["reason"],
    )
    page = Paginator(rows, PAGE_SIZE).get_page(http.GET.get("page"))
    kept = QueryDict(mutable=True)
    for key in ("status", "account", "reason"):
        kept[key] = str(params.get(key) or "")
    context = {
        "form": form,
        "page": page,
        "rows": [
            {"message": m, "sender": sender_shown(m), "reason": reason_label(m.reason)}
            for m in page.object_list
        ],
        "query": kept.urlencode(),
    }
    return render(http, "console/inbound_queue.html", context)


# --- one message --------------------------------------------------------------------------


def _page(
    http: HttpRequest,
    message: InboundMessage,
    *,
    status: int = 200,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    user = _user(http)
    awaiting = message.status == InboundStatus.REVIEW
    can_act = awaiting and access.inbound_for(user, P.WORK).filter(pk=message.pk).exists()
    account = message.account
    forms_: dict[str, forms.Form | None] = {"open": None, "attach": None, "dismiss": None}
    if can_act:
        forms_ = {
            "open": OpenForm(
                initial={
                    "kind": account.setting("kind", Kind.INQUIRY),
                    "entity": account.centre.entity_id,
                },
                categories=_categories(),
                entities=_entities(),
            ),
            "attach": AttachForm(),
            "dismiss": DismissForm(),
            **(bound or {}),
        }
    linked = (
        access.requests_for(user).filter(pk=message.request_id).first()
        if message.request_id
        else None
    )
    decision = message.data.get("review") if isinstance(message.data, dict) else None
    context = {
        "message": message,
        "sender": sender_shown(message),
        "reason": reason_label(message.reason),
        "identity_kind": _kind_label(str(message.data.get("identity_kind") or "")),
        "files_refused": message.data.get("files_refused") or [],
        "linked": linked,
        "decision": decision if isinstance(decision, dict) else {},
        "can_act": can_act,
        "has_sender": bool(message.sender and message.data.get("identity_kind")),
        "forms": forms_,
    }
    return render(http, "console/inbound_message.html", context, status=status)


@require_safe
@staff_required
def inbound_message_page(http: HttpRequest, public_id: Any) -> HttpResponse:
    return _page(http, _message(http, public_id))


@require_safe
@staff_required
def inbound_original(http: HttpRequest, public_id: Any) -> FileResponse:
    """The original as received (an e-mail's .eml, a webhook's JSON), always as a download."""
    message = _message(http, public_id)
    if not message.raw:
        raise Http404
    try:
        handle = message.raw.open("rb")
    except OSError:
        raise Http404 from None
    name = PurePosixPath(message.raw.name).name or "message"
    response = FileResponse(
        handle, as_attachment=True, filename=name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _act(
    http: HttpRequest,
    public_id: Any,
    name: str,
    form: forms.Form,
    run: Any,
) -> HttpResponse:
    """Parse, run one review service, redirect with its message; or show why not."""
    message = _message(http, public_id)
    if not form.is_valid():
        messages.error(http, _("Please correct the form and try again."))
        return _page(http, message, status=400, bound={name: form})
    try:
        done, target = run(message, form.cleaned_data)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise Http404 from None
        messages.error(http, str(error.message))
        return _page(http, message, status=_status_of(error), bound={name: form})
    messages.success(http, str(done))
    return redirect(target)


def _request_url(http: HttpRequest, request: Request) -> str:
    """The request's page, or the queue when the request has left the user's reach."""
    if access.requests_for(http.user).filter(pk=request.pk).exists():
        return reverse("console:request", args=[request.pk])
    return reverse("console:inbound_queue")


@require_POST
@staff_required
def inbound_open(http: HttpRequest, public_id: Any) -> HttpResponse:
    def run(message: InboundMessage, data: dict[str, Any]) -> tuple[str, str]:
        opened = review.inbound_review_open(
            message,
            by=_user(http),
            kind=data["kind"],
            category=data["category"],
            entity=data["entity"],
        )
        done = str(_("Request {number} opened from the message.")).format(
            number=opened.tracking_display
        )
        return done, _request_url(http, opened)

    form = OpenForm(http.POST, categories=_categories(), entities=_entities())
    return _act(http, public_id, "open", form, run)


@require_POST
@staff_required
def inbound_attach(http: HttpRequest, public_id: Any) -> HttpResponse:
    def run(message: InboundMessage, data: dict[str, Any]) -> tuple[str, str]:
        try:
            target = access.request_for_staff(http.user, tracking_number=data["tracking_number"])
        except NotFound:
            raise InvalidInput(
                _("No request with this tracking number is within your reach."),
                code="other_not_found",
                details={"field": "tracking_number"},
            ) from None
        review.inbound_review_attach(message, by=_user(http), request=target)
        done = str(_("The message was added to request {number}.")).format(
            number=target.tracking_display
        )
        return done, _request_url(http, target)

    return _act(http, public_id, "attach", AttachForm(http.POST), run)


@require_POST
@staff_required
def inbound_dismiss(http: HttpRequest, public_id: Any) -> HttpResponse:
    def run(message: InboundMessage, data: dict[str, Any]) -> tuple[Promise, str]:
        review.inbound_review_dismiss(message, by=_user(http), note=data["note"])
        return _("The message was dismissed."), reverse("console:inbound_queue")

    return _act(http, public_id, "dismiss", DismissForm(http.POST), run)


# --- one person across channels -----------------------------------------------------------


def identities_panel(
    user: AbstractBaseUser, case: Request, *, revealed: bool = False
) -> dict[str, Any]:
    """The beneficiary's addresses for the request workspace's beneficiary panel, and the
    link-by-hand form for staff who may work on the request."""
    identities = case.beneficiary.identities.order_by("kind", "pk")
    return {
        "items": [
            {
                "kind": _kind_label(identity.kind),
                "shown": identity_shown(
                    identity.kind, identity.value, identity.handle, revealed=revealed
                ),
                "manual": identity.linked_by_id is not None,
            }
            for identity in identities
        ],
        "can_link": access.can(user, P.WORK, case),
        "form": IdentityForm(initial={"back": "request"}, prefix=IDENTITY_PREFIX),
    }


def _history(
    http: HttpRequest,
    case: Request,
    *,
    form: IdentityForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(http)
    history = review.beneficiary_history(user, request=case)
    context = {
        "case": case,
        "history": history,
        "identities": [
            {
                "kind": _kind_label(identity.kind),
                "shown": identity_shown(identity.kind, identity.value, identity.handle),
                "manual": identity.linked_by_id is not None,
                "last_seen_at": identity.last_seen_at,
            }
            for identity in history.identities
        ],
        "inbound": [
            {"message": m, "sender": sender_shown(m), "reason": reason_label(m.reason)}
            for m in history.inbound
        ],
        "limit": review.HISTORY_LIMIT,
        "can_link": access.can(user, P.WORK, case),
        "form": form or IdentityForm(initial={"back": "history"}, prefix=IDENTITY_PREFIX),
    }
    return render(http, "console/identities_history.html", context, status=status)


@require_safe
@staff_required
def beneficiary_history_page(http: HttpRequest, number: str) -> HttpResponse:
    return _history(http, _case(http, number))


@require_POST
@staff_required
def identity_link_view(http: HttpRequest, number: str) -> HttpResponse:
    case = _case(http, number)
    form = IdentityForm(http.POST, prefix=IDENTITY_PREFIX)
    if not form.is_valid():
        messages.error(http, _("Please correct the form and try again."))
        return _history(http, case, form=form, status=400)
    data = form.cleaned_data
    try:
        review.request_identity_link(
            request=case,
            by=_user(http),
            kind=data["kind"],
            value=data["value"],
            handle=data["handle"],
        )
    except DomainError as error:
        messages.error(http, str(error.message))
        return _history(http, case, form=form, status=_status_of(error))
    messages.success(http, _("The address is linked to this beneficiary."))
    if data["back"] == "history":
        return redirect(reverse("console:beneficiary_history", args=[case.tracking_number]))
    return redirect(reverse("console:request", args=[case.pk]) + "#beneficiary")


urlpatterns: list[URLPattern] = [
    path("inbound/", inbound_queue_page, name="inbound_queue"),
    path("inbound/<uuid:public_id>/", inbound_message_page, name="inbound_message"),
    path("inbound/<uuid:public_id>/original/", inbound_original, name="inbound_original"),
    path("inbound/<uuid:public_id>/open/", inbound_open, name="inbound_open"),
    path("inbound/<uuid:public_id>/attach/", inbound_attach, name="inbound_attach"),
    path("inbound/<uuid:public_id>/dismiss/", inbound_dismiss, name="inbound_dismiss"),
    path(
        "requests/number/<str:number>/history/",
        beneficiary_history_page,
        name="beneficiary_history",
    ),
    path(
        "requests/number/<str:number>/identities/",
        identity_link_view,
        name="identity_link",
    ),
]
