"""Recording what beneficiaries think of their answers; low ratings flag the request."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Event, EventKind, Request
from tawasul.channels.outbox import notify_staff
from tawasul.core.errors import Conflict, InvalidInput, NotFound
from tawasul.feedback.models import COMMENT_MAX, SCORE_MAX, SCORE_MIN, SatisfactionResponse
from tawasul.feedback.selectors import satisfaction_answer_latest, satisfaction_of_answer
from tawasul.sla.sweep import centre_supervisors


def _score(value: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (SCORE_MIN <= value <= SCORE_MAX)
    ):
        raise InvalidInput(
            format_lazy(_("Choose a score from {min} to {max}."), min=SCORE_MIN, max=SCORE_MAX),
            code="score",
            details={"field": "score"},
        )
    return value


def _comment(value: str) -> str:
    text = (value or "").strip()
    if len(text) > COMMENT_MAX:
        raise InvalidInput(
            format_lazy(_("At most {max} characters."), max=COMMENT_MAX),
            code="length",
            details={"field": "comment", "max": COMMENT_MAX},
        )
    return text


def satisfaction_record(
    *,
    request: Request,
    beneficiary: Beneficiary,
    score: int,
    resolved: bool,
    comment: str = "",
) -> SatisfactionResponse:
    """The beneficiary rates the latest answer to their request: once per answer."""
    score = _score(score)
    comment = _comment(comment)
    with transaction.atomic():
        # The request row is the lock: two ratings of one answer queue here.
        locked = Request.objects.select_for_update().filter(pk=request.pk).first()
        if locked is None or locked.beneficiary_id != beneficiary.pk:
            raise NotFound(_("No such request."))
        answer = satisfaction_answer_latest(locked)
        if answer is None:
            raise Conflict(
                _("You can rate the answer once the request has been answered."),
                code="not_answered",
            )
        if satisfaction_of_answer(answer) is not None:
            raise Conflict(_("You have already rated this answer."), code="already_rated")
        try:
            with transaction.atomic():
                response = SatisfactionResponse.objects.create(
                    request=locked,
                    answer_event=answer,
                    score=score,
                    resolved=bool(resolved),
                    comment=comment,
                )
        except IntegrityError:
            raise Conflict(_("You have already rated this answer."), code="already_rated") from None
        if satisfaction_is_low(response):
            _flag_low_rating(locked, response)
        return response


def satisfaction_is_low(response: SatisfactionResponse) -> bool:
    """A score at or below `TAWASUL_SURVEY_LOW_SCORE`, or "not resolved", needs a supervisor."""
    return response.score <= settings.TAWASUL_SURVEY_LOW_SCORE or not response.resolved


def _flag_low_rating(request: Request, response: SatisfactionResponse) -> None:
    """An internal event on the request, and an e-mail to the supervisors of its centre."""
    Event.objects.create(
        request=request,
        kind=EventKind.LOW_RATING,
        from_status=request.status,
        to_status=request.status,
        is_public=False,
        data={
            "response": response.pk,
            "answer": response.answer_event_id,
            "score": response.score,
            "resolved": response.resolved,
        },
    )
    notify_staff(
        request=request, users=centre_supervisors(request.entity), template="survey_low_rating"
    )
