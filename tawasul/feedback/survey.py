"""The satisfaction survey by link: an invitation after each answer, with a signed token.

The token names one answer (its event id and the request id), is signed with the
site's secret (salt "tawasul.survey"), expires after `TAWASUL_SURVEY_TTL_DAYS`, and
is single-use because a `SatisfactionResponse` is unique per answer. Holding the
token is what proves the holder is the request's beneficiary: the link was sent
only to them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner, b62_encode
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Event, EventKind, Request
from tawasul.channels.models import OutboxMessage
from tawasul.channels.outbox import SENSITIVE_KEY, notify_beneficiary
from tawasul.core.errors import Conflict, DomainError, NotFound
from tawasul.feedback.models import SatisfactionResponse
from tawasul.feedback.selectors import satisfaction_answer_latest, satisfaction_of_answer
from tawasul.feedback.services import satisfaction_record

SALT = "tawasul.survey"


class SurveyClosed(DomainError):
    """The link was genuine but can no longer be used: expired, or the answer was superseded."""

    code = "survey_closed"
    status = 410


class _SurveySigner(TimestampSigner):
    """A timestamp signer that may date its signature (`issued_at`) for an invitation."""

    def __init__(self, *, issued_at: datetime | None = None) -> None:
        super().__init__(salt=SALT)
        self._issued_at = issued_at

    def timestamp(self) -> str:
        if self._issued_at is None:
            return str(super().timestamp())
        return b62_encode(int(self._issued_at.timestamp()))


def survey_token(answer_event: Event, *, issued_at: datetime | None = None) -> str:
    """The signed token for rating this answer (dated now unless `issued_at` is given)."""
    value = f"{answer_event.pk}.{answer_event.request_id}"
    return _SurveySigner(issued_at=issued_at).sign(value)


def survey_url(answer_event: Event, *, language: str) -> str:
    """The absolute survey link, in the beneficiary's language."""
    with translation.override(language):
        path = reverse("portal:survey", args=[survey_token(answer_event)])
    return settings.TAWASUL_PORTAL_URL.rstrip("/") + path


def survey_invite(*, request: Request, answer_event: Event) -> OutboxMessage | None:
    """Queue the invitation to rate this answer (call inside the answering transaction).

    The link is a bearer credential: the outbox row forgets it once it is sent.
    """
    url = survey_url(answer_event, language=request.beneficiary.language)
    return notify_beneficiary(
        request=request,
        template="survey_invitation",
        context={"survey_url": url, SENSITIVE_KEY: True},
    )


def survey_answer_for_token(token: str) -> Event:
    """The answer a token is about: NotFound if forged or tampered, SurveyClosed if expired."""
    max_age = timedelta(days=settings.TAWASUL_SURVEY_TTL_DAYS)
    try:
        value = _SurveySigner().unsign(token, max_age=max_age)
    except SignatureExpired:
        raise SurveyClosed(
            _("This survey link has expired. You can still rate the answer from your requests."),
            code="expired",
        ) from None
    except BadSignature:
        raise NotFound(_("No such survey.")) from None
    event_id, _dot, request_id = value.partition(".")
    answer = (
        Event.objects.select_related("request", "request__beneficiary")
        .filter(pk=_int(event_id), request_id=_int(request_id), kind=EventKind.ANSWERED)
        .first()
    )
    if answer is None:
        raise NotFound(_("No such survey."))
    return answer


def survey_open(token: str) -> Event:
    """The answer to rate with this token, if it can still be rated.

    Raises NotFound (forged), SurveyClosed (expired, or a newer answer was given or
    the request moved on), Conflict (already rated).
    """
    answer = survey_answer_for_token(token)
    if satisfaction_of_answer(answer) is not None:
        raise Conflict(_("You have already rated this answer."), code="already_rated")
    latest = satisfaction_answer_latest(answer.request)
    if latest is None or latest.pk != answer.pk:
        raise SurveyClosed(
            _("This answer can no longer be rated: the request has moved on since."),
            code="superseded",
        )
    return answer


def survey_submit(
    *, token: str, score: int, resolved: bool, comment: str = ""
) -> SatisfactionResponse:
    """Record the rating sent through a survey link: once per answer."""
    answer = survey_open(token)
    request = answer.request
    return satisfaction_record(
        request=request,
        beneficiary=request.beneficiary,
        score=score,
        resolved=resolved,
        comment=comment,
    )


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0
