"""Mail providers' inbound webhooks, through django-anymail: for a centre whose mail is
received by Postmark or Mailgun rather than read from its own IMAP server.

    POST /channels/email/postmark/inbound/          Postmark's inbound webhook (JSON)
    POST /channels/email/mailgun/inbound/           a Mailgun route's forward() (form post;
    POST /channels/email/mailgun/inbound_mime/      the "mime" address gets the raw MIME)

Both take the HTTP basic auth `settings.ANYMAIL["WEBHOOK_SECRET"]` ("user:password", put in
the URL configured at the provider); Mailgun's posts are also signed (HMAC-SHA256 of their
timestamp and token) with the Mailgun account's webhook signing key: the `webhook_secret`
of a Mailgun account here (or `ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]`), and their
timestamp must be within `TAWASUL_WEBHOOK_WINDOW_SECONDS`. Without a basic-auth secret the
webhooks are off (anymail would accept anyone).

Anymail parses the provider's payload into an e-mail and sends its `inbound` signal; the
receiver here finds the account (an active `email_webhook` account of that provider whose
`address` is among the recipients, else the first active one of that provider), parses
the e-mail like one read by IMAP (`email_in`) and stores it with `inbound_receive`
(idempotent: a provider's retry is stored once).

Answers: 200 stored; 400 malformed payload; 403 bad credentials or signature (Postmark
stops retrying on 403); 404 webhooks not configured or no account for the provider.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailError,
    AnymailWebhookValidationFailure,
)
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, inbound
from anymail.utils import get_anymail_setting
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, re_path
from django.views.decorators.csrf import csrf_exempt

from tawasul.channels.email_in import addresses_to, incoming_from_message
from tawasul.channels.errors import WebhookRefused
from tawasul.channels.inbound import Reason, inbound_receive
from tawasul.channels.models import ChannelAccount, ChannelKind
from tawasul.channels.verify import timestamp_check

# The views anymail provides, by the name an account's `provider` setting gives them.
PROVIDER_VIEWS: dict[str, type[Any]] = {
    "postmark": PostmarkInboundWebhookView,
    "mailgun": MailgunInboundWebhookView,
}
_FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
# What anymail's parsing raises on a payload that is not what the provider sends (a
# "configuration error" is another of the provider's webhooks posted to the inbound URL).
_MALFORMED = (
    AnymailError,
    AnymailConfigurationError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
)


def _refused(code: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code}, status=status)


def _inbound_view(provider: str) -> Callable[..., HttpResponse]:
    """Anymail's view for this provider, behind our checks and our error answers."""
    view_class = PROVIDER_VIEWS[provider]

    @csrf_exempt
    def receive(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not get_anymail_setting("webhook_secret", default=""):
            return _refused("not_configured", 404)
        try:
            options = _mailgun_checked(request) if provider == "mailgun" else {}
            view = view_class.as_view(**options)
            response: HttpResponse = view(request, *args, **kwargs)
            return response
        except WebhookRefused as refusal:
            code = {404: "unknown_account", 400: "malformed"}.get(refusal.status, "bad_signature")
            return _refused(code, refusal.status)
        except AnymailWebhookValidationFailure:
            return _refused("bad_credentials", 403)
        except _MALFORMED:
            return _refused("malformed", 400)

    return receive


def _mailgun_checked(request: HttpRequest) -> dict[str, Any]:
    """Mailgun signs its timestamp and token: find the signing key that verifies them (an
    account's `webhook_secret`, or the global setting), within the time window; it is
    handed to anymail's view, which checks the basic auth and the signature again."""
    if request.method != "POST":
        return {"webhook_signing_key": "-"}
    if request.content_type not in _FORM_TYPES:
        raise WebhookRefused("not a form post", status=400)
    given = request.POST.get("signature", "")
    timestamp = request.POST.get("timestamp", "")
    token = request.POST.get("token", "")
    if not (given and timestamp and token):
        raise WebhookRefused("unsigned", status=403)
    timestamp_check(timestamp)
    signed = f"{timestamp}{token}".encode()
    for key in _mailgun_keys():
        expected = hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()
        if hmac.compare_digest(given.encode(), expected.encode()):
            return {"webhook_signing_key": key}
    raise WebhookRefused("bad signature", status=403)


def _mailgun_keys() -> list[str]:
    keys = [str(get_anymail_setting("webhook_signing_key", esp_name="Mailgun", default=""))]
    keys += [account.secret("webhook_secret") for account in _provider_accounts("mailgun")]
    return list(dict.fromkeys(key for key in keys if key))


def _provider_accounts(provider: str) -> list[ChannelAccount]:
    accounts = ChannelAccount.objects.filter(
        kind=ChannelKind.EMAIL_WEBHOOK, is_active=True
    ).select_related("centre")
    return [
        account
        for account in accounts.order_by("pk")
        if account.setting("provider").strip().lower() == provider
    ]


# --- anymail's inbound signal -------------------------------------------------------------


def account_for_recipients(provider: str, recipients: list[str]) -> ChannelAccount:
    """The account of this provider the e-mail was sent to (its `address` among the
    recipients), else the provider's first active account; `WebhookRefused` (404) if none."""
    accounts = _provider_accounts(provider)
    wanted = {recipient.lower() for recipient in recipients}
    for account in accounts:
        if account.setting("address").strip().lower() in wanted:
            return account
    if not accounts:
        raise WebhookRefused("no account for the provider", status=404)
    return accounts[0]


def email_received(
    sender: type[Any], event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """Anymail parsed an inbound e-mail: store it for the account it was sent to."""
    message = event.message
    if not isinstance(message, AnymailInboundMessage):
        raise WebhookRefused("no message", status=400)
    recipients = addresses_to(message)
    if message.envelope_recipient:
        recipients.append(str(message.envelope_recipient).lower())
    account = account_for_recipients(esp_name.lower(), recipients)
    provider_id = f"{esp_name.lower()}:{event.event_id}" if event.event_id else ""
    incoming = incoming_from_message(
        message, account, raw=_original(event), fallback_id=provider_id
    )
    if message.envelope_sender == "" and not incoming.ignore_reason:
        # The null sender (Return-Path <>), which the provider took out of the headers:
        # only delivery reports are sent from it.
        incoming.ignore_reason = Reason.BOUNCE
    inbound_receive(account, incoming)


def _original(event: AnymailInboundEvent) -> bytes | None:
    """The e-mail as the provider received it, when the payload carries it (Postmark's
    RawEmail, Mailgun's body-mime); else the parsed message is written back out."""
    payload = event.esp_event
    raw: object = None
    if isinstance(payload, dict):
        raw = payload.get("RawEmail")
    elif isinstance(payload, HttpRequest):
        raw = payload.POST.get("body-mime")
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) and raw else None


for _view in PROVIDER_VIEWS.values():
    inbound.connect(email_received, sender=_view, dispatch_uid=f"tawasul-email-{_view.__name__}")


urlpatterns: list[URLPattern] = [
    path(
        "email/postmark/inbound/",
        _inbound_view("postmark"),
        name="email_postmark_inbound",
    ),
    re_path(
        r"^email/mailgun/inbound(?:_mime)?/$",
        _inbound_view("mailgun"),
        name="email_mailgun_inbound",
    ),
]
