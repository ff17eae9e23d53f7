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
from tawasul.channels.verify import account_for_webhook, tawasul_signed_check
from tawasul.core.errors import DomainError

logger = logging.getLogger(__name__)

# verify.py's summaries → the codes a telephony system can act on.
_CODES = {
    "unknown account": "unknown_account",
    "the account has no signing secret": "bad_signature",
    "bad signature": "bad_signature",
    "timestamp outside the window": "stale",
    "missing or bad timestamp": "malformed",
}


def _refused(error: WebhookRefused, account_id: object = None) -> JsonResponse:
    code = _CODES.get(str(error), "malformed" if error.status == 400 else "refused")
    logger.warning("cti event refused: account=%s code=%s", account_id, code)
    return JsonResponse({"error": code}, status=error.status)


@csrf_exempt
@require_POST
def cti_events(request: HttpRequest, public_id: str) -> JsonResponse:
    """One call event of the telephony system: checked, then merged into its call."""
    try:
        account = account_for_webhook(public_id, ChannelKind.CTI)
    except WebhookRefused as error:
        return _refused(error)
    try:
        body = request.body
    except RequestDataTooBig:
        return _refused(WebhookRefused("too large", status=400), account.pk)
    try:
        tawasul_signed_check(request.headers, secret=account.secret("webhook_secret"), body=body)
        event = call_event_parse(body)
    except WebhookRefused as error:
        return _refused(error, account.pk)
    try:
        call = call_event_apply(account=account, event=event)
    except DomainError as error:
        return JsonResponse({"error": error.code}, status=400)
    return JsonResponse({"call": str(call.public_id), "status": call.status})


urlpatterns: list[URLPattern] = [
    path("cti/<str:public_id>/events", cti_events, name="cti_events"),
]
