"""Reading feedback: which answer awaits a rating; objections to review; objection statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Event, EventKind, Request, Status
from tawasul.core.errors import NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.feedback.models import (
    SCORE_MAX,
    SCORE_MIN,
    Objection,
    ObjectionOutcome,
    SatisfactionResponse,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

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


# --- objections ---------------------------------------------------------------------------

STATS_GROUPS: dict[str, str] = {
    "centre": "request__entity",
    "category": "request__category",
    "agent": "actor_user",
    "month": "month",
}


def objections_to_review(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Objection]:
    """Pending objections the user may decide, the oldest due first (one query)."""
    return (
        Objection.objects.filter(
            outcome=ObjectionOutcome.PENDING,
            request__in=access.requests_for(user, Permission.SUPERVISE).values("pk"),
            reviewer_entity__in=access.entities_for(user, Permission.SUPERVISE).values("pk"),
        )
        .select_related("request", "request__entity", "reviewer_entity", "answer_event__actor_user")
        .order_by("review_due", "id")
    )


def objection_for_staff(user: AbstractBaseUser | AnonymousUser, *, pk: int) -> Objection:
    """One objection on a request the user may see (else NotFound)."""
    objection = (
        Objection.objects.filter(
            pk=pk, request__in=access.requests_for(user, Permission.VIEW).values("pk")
        )
        .select_related(
            "request",
            "request__entity",
            "request__beneficiary",
            "reviewer_entity",
            "answer_event__actor_user",
            "decided_by",
        )
        .first()
    )
    if objection is None:
        raise NotFound(_("No such objection."))
    return objection


def objection_of_answer(answer: Event) -> Objection | None:
    return Objection.objects.filter(answer_event=answer).first()


def objection_stats(*, requests: QuerySet[Request], group_by: str) -> list[dict[str, Any]]:
    """Per centre, category, agent (who answered) or month of the answer: answers given,
    objections filed, objection rate, upheld, and upheld rate (upheld / decided) — one query.
    """
    if group_by not in STATS_GROUPS:
        raise ValueError(f"group_by must be one of {sorted(STATS_GROUPS)}")
    answers = Event.objects.filter(kind=EventKind.ANSWERED, request__in=requests.values("pk"))
    if group_by == "month":
        answers = answers.annotate(month=TruncMonth("created_at"))
    key = STATS_GROUPS[group_by]
    upheld = Q(objections__outcome=ObjectionOutcome.UPHELD)
    decided = Q(objections__outcome__in=[ObjectionOutcome.UPHELD, ObjectionOutcome.REJECTED])
    rows = (
        answers.values(key)
        .annotate(
            answered=Count("id"),
            objected=Count("objections"),
            upheld=Count("objections", filter=upheld),
            decided=Count("objections", filter=decided),
        )
        .order_by(key)
    )
    return [
        {
            "key": row[key],
            "answered": row["answered"],
            "objections": row["objected"],
            "objection_rate": _rate(row["objected"], row["answered"]),
            "upheld": row["upheld"],
            "upheld_rate": _rate(row["upheld"], row["decided"]),
        }
        for row in rows
    ]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- satisfaction statistics --------------------------------------------------------------

SATISFACTION_GROUPS: dict[str, str] = {
    "centre": "request__entity",
    "category": "request__category",
    "agent": "answer_event__actor_user",
    "month": "month",
}
_SCORES = range(SCORE_MIN, SCORE_MAX + 1)


def satisfaction_stats(*, requests: QuerySet[Request], group_by: str) -> list[dict[str, Any]]:
    """Per centre, category, agent (who answered) or month rated: responses, CSAT average,
    distribution of scores 1–5 and resolved-rate of these requests' ratings — one query."""
    if group_by not in SATISFACTION_GROUPS:
        raise ValueError(f"group_by must be one of {sorted(SATISFACTION_GROUPS)}")
    responses = SatisfactionResponse.objects.filter(request__in=requests.values("pk"))
    if group_by == "month":
        responses = responses.annotate(month=TruncMonth("created_at"))
    key = SATISFACTION_GROUPS[group_by]
    rows = (
        responses.values(key)
        .annotate(
            responses=Count("id"),
            average=Avg("score"),
            resolved=Count("id", filter=Q(resolved=True)),
            **{f"score_{n}": Count("id", filter=Q(score=n)) for n in _SCORES},
        )
        .order_by(key)
    )
    return [
        {
            "key": row[key],
            "responses": row["responses"],
            "csat_average": float(row["average"]) if row["average"] is not None else None,
            "distribution": {n: row[f"score_{n}"] for n in _SCORES},
            "resolved_rate": _rate(row["resolved"], row["responses"]),
        }
        for row in rows
    ]
