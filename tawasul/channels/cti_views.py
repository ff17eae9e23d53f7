"""The telephony system's webhook: call events, signed with the account's secret.

    POST /channels/cti/<public_id>/events
    X-Tawasul-Timestamp: <unix seconds>
    X-Tawasul-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

The body is read once and its signature checked on those exact bytes before it is parsed.
Refusals answer `{"error": "<code>"}`: 404 unknown account, 403 bad signature or a time
outside the replay window, 400 malformed; nothing is written then. A replayed or repeated
event changes nothing (`call_event_apply` merges events into one call per call id).
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tawasul.channels.calls import call_event_apply, call_event_parse
from tawasul.channels.errors import WebhookRefused
from tawasul.channels.models import ChannelKind
from tawasul.channels.verify import account_for_webhook, tawasul_signed_check, webhook_refusal
from tawasul.core.errors import DomainError

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def cti_events(request: HttpRequest, public_id: str) -> JsonResponse:
    """One call event of the telephony system: checked, then merged into its call."""
    try:
        account = account_for_webhook(public_id, ChannelKind.CTI)
    except WebhookRefused as error:
        return webhook_refusal(error, channel="cti")
    try:
        body = request.body
    except RequestDataTooBig:
        return webhook_refusal(
            WebhookRefused("too large", status=400, code="malformed"),
            channel="cti",
            account=account.pk,
        )
    try:
        tawasul_signed_check(request.headers, secret=account.secret("webhook_secret"), body=body)
        event = call_event_parse(body)
    except WebhookRefused as error:
        return webhook_refusal(error, channel="cti", account=account.pk)
    try:
        call = call_event_apply(account=account, event=event)
    except DomainError as error:
        return JsonResponse({"error": error.code}, status=400)
    return JsonResponse({"call": str(call.public_id), "status": call.status})


urlpatterns: list[URLPattern] = [
    path("cti/<str:public_id>/events", cti_events, name="cti_events"),
]
