"""Reading satisfaction: which answer of a request is waiting for a rating."""

from __future__ import annotations

from tawasul.cases.models import Event, EventKind, Request, Status
from tawasul.feedback.models import SatisfactionResponse

# An answer can be rated while it stands (answered) or once the request closed after it.
RATEABLE_STATUSES = (Status.ANSWERED, Status.CLOSED)


def satisfaction_answer_latest(request: Request) -> Event | None:
    """The request's latest answer, if it has one and is answered or closed after it."""
    if request.status not in RATEABLE_STATUSES:
        return None
    return (
        Event.objects.filter(request=request, kind=EventKind.ANSWERED)
        .order_by("-created_at", "-id")
        .first()
    )


def satisfaction_of_answer(answer: Event) -> SatisfactionResponse | None:
    """The rating given to this answer, if any."""
    return SatisfactionResponse.objects.filter(answer_event=answer).first()


def satisfaction_answer_to_rate(request: Request) -> Event | None:
    """The answer the beneficiary may rate now: the latest one, not rated yet."""
    answer = satisfaction_answer_latest(request)
    if answer is None or satisfaction_of_answer(answer) is not None:
        return None
    return answer
