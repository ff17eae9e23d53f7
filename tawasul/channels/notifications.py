"""Rendering outbox messages: an SMS text, or an e-mail (subject, text and HTML).

Each notification key has its templates under `templates/notifications/`:
`<key>_sms.txt`, `<key>_subject.txt`, `<key>_email.txt` and `<key>_email.html`,
written with `{% translate %}` and rendered in the recipient's language.
An SMS carries the tracking number and the portal link, nothing else: no text
of the request and no personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from tawasul.channels.models import OutboxMessage
from tawasul.core.ids import tracking_number_display
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label

NOTIFICATIONS = (
    "acknowledgement",
    "info_requested",
    "replied",
    "answered",
    "sign_in_code",
    "merged",
    "survey_invitation",
    "objection_upheld",
    "objection_rejected",
    # Minister meetings (tawasul.meetings): the meeting's tracking number and the portal link.
    "meeting_received",
    "meeting_decided",
    "meeting_offered",
    "meeting_scheduled",
    "meeting_cancelled",
    "meeting_reminder",
)
# E-mails to staff (no SMS version): the SLA sweep's warnings, breaches and escalations;
# a low satisfaction rating for the centre's supervisors.
STAFF_NOTIFICATIONS = (
    "sla_warning",
    "sla_breached",
    "sla_escalated",
    "survey_low_rating",
    "objection_overdue",  # an objection past its review due date, to the reviewing centre
    "report_ready",  # a periodic report to its subscribers (a link, never the figures)
    "emerging_issues",  # new emerging issues, to the central centre (a link, no figures)
)
# Sent only on a social platform: the public answer to a mention, which asks the person to
# write privately (`<key>_sms.txt` only: a short text with no personal data).
CHAT_NOTIFICATIONS = ("mention_ack",)
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


class UnknownNotification(Exception):
    """The outbox row names a template key that has no templates (will never render)."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def notification_language(message: OutboxMessage) -> str:
    """The message's language if the site offers it, else the default (Arabic)."""
    offered = {code for code, _name in settings.LANGUAGES}
    return message.language if message.language in offered else settings.LANGUAGE_CODE


def notification_context(message: OutboxMessage) -> dict[str, Any]:
    """What the templates may use: the tracking number, the portal link, the request kind,
    and what a message carries for its own template (a code, a survey link)."""
    if (
        message.template not in NOTIFICATIONS
        and message.template not in STAFF_NOTIFICATIONS
        and message.template not in CHAT_NOTIFICATIONS
    ):
        raise UnknownNotification(message.template)
    request = message.request if message.request_id else None
    digits = str(message.context.get("tracking_number") or "")
    if not digits and request is not None:
        digits = request.tracking_number
    return {
        "tracking_number": digits,
        "tracking": tracking_number_display(digits) if digits else "",
        "portal_url": settings.TAWASUL_PORTAL_URL.rstrip("/") + "/",
        "kind": request.get_kind_display() if request is not None else "",
        "resolution_due": dual_datetime_label(request.resolution_due) if request else "",
        "code": str(message.context.get("code") or ""),
        # "merged": the tracking number of the request this one was merged into.
        "merged_into": tracking_number_display(str(message.context["merged_into"]))
        if message.context.get("merged_into")
        else "",
        # "survey_invitation": the signed link to rate the answer.
        "survey_url": str(message.context.get("survey_url") or ""),
        # "report_ready": the report's page in the console.
        "report_url": str(message.context.get("report_url") or ""),
        # "emerging_issues": the insights dashboard's period of the issues.
        "dashboard_url": str(message.context.get("dashboard_url") or ""),
        # A notification sent back through the channel the beneficiary wrote by carries the
        # staff message it is about (a reply, a question, the answer).
        "reply_body": reply_body(message),
    }


def reply_body(message: OutboxMessage) -> str:
    """The text of the staff message a routed notification carries ("" for others)."""
    from tawasul.cases.models import Message, Visibility

    message_id = message.context.get("message")
    if not message_id or message.account_id is None or message.request_id is None:
        return ""
    body = (
        Message.objects.filter(
            pk=message_id, request_id=message.request_id, visibility=Visibility.PUBLIC
        )
        .values_list("body", flat=True)
        .first()
    )
    return body or ""


def notification_render_chat(message: OutboxMessage, *, limit: int = 4000) -> str:
    """A direct message on a social platform: the staff message's text, if any, then the
    notification's short text (tracking number and portal link); cut to the platform's
    `limit` keeping the short text whole. A public answer never carries a staff text."""
    short = notification_render_sms(message)
    body = "" if message.thread.get("public") else reply_body(message).strip()
    if not body:
        return short[:limit]
    room = limit - len(short) - 2
    if len(body) > room:
        body = body[: max(room - 1, 0)].rstrip() + "…"
    return f"{body}\n\n{short}"


def notification_render_sms(message: OutboxMessage) -> str:
    """The SMS text, on one line, in the recipient's language."""
    with translation.override(notification_language(message)):
        context = notification_context(message)
        return _one_line(render_to_string(f"notifications/{message.template}_sms.txt", context))


def notification_render_email(message: OutboxMessage) -> RenderedEmail:
    """Subject, plain text and HTML alternative, in the recipient's language."""
    with translation.override(notification_language(message)):
        context = notification_context(message)
        name = f"notifications/{message.template}"
        return RenderedEmail(
            subject=_one_line(render_to_string(f"{name}_subject.txt", context)),
            text=_paragraphs(render_to_string(f"{name}_email.txt", context)),
            html=render_to_string(f"{name}_email.html", context).strip(),
        )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _paragraphs(text: str) -> str:
    lines = "\n".join(line.strip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines) + "\n"
