"""Reading feedback: which answer awaits a rating; objections to review; objection statistics."""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet
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
    QualityCriterion,
    QualityReview,
    QualitySample,
    QualityScore,
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


# --- quality review -----------------------------------------------------------------------

QUALITY_GROUPS: dict[str, str] = {"agent": "answer_event__actor_user", "centre": "request__entity"}


def quality_samples_open(user: AbstractBaseUser | AnonymousUser) -> QuerySet[QualitySample]:
    """Unreviewed samples on requests the user may review, newest week first (one query)."""
    from tawasul.feedback.quality import quality_entities

    return (
        QualitySample.objects.filter(
            answer_event__request__in=access.requests_for(user, Permission.VIEW).values("pk"),
            answer_event__request__entity__in=quality_entities(user).values("pk"),
        )
        .exclude(Exists(QualityReview.objects.filter(answer_event=OuterRef("answer_event"))))
        .exclude(answer_event__actor_user_id=user.pk)
        .select_related("answer_event__request", "answer_event__actor_user", "centre")
        .order_by("-week", "centre_id", "id")
    )


def quality_sample_for_reviewer(
    user: AbstractBaseUser | AnonymousUser, *, pk: int
) -> QualitySample:
    """One sample on a request the user may review (else NotFound)."""
    from tawasul.feedback.quality import quality_entities

    sample = (
        QualitySample.objects.filter(
            pk=pk,
            answer_event__request__in=access.requests_for(user, Permission.VIEW).values("pk"),
            answer_event__request__entity__in=quality_entities(user).values("pk"),
        )
        .select_related("answer_event__request__entity", "answer_event__actor_user", "centre")
        .first()
    )
    if sample is None:
        raise NotFound(_("No such sample."))
    return sample


def quality_criteria_active() -> list[QualityCriterion]:
    return list(QualityCriterion.objects.filter(active=True).order_by("order", "id"))


def quality_reviews_of_agent(user: AbstractBaseUser | AnonymousUser) -> QuerySet[QualityReview]:
    """Reviews of the answers this user wrote, newest first, scores prefetched."""
    return (
        QualityReview.objects.filter(answer_event__actor_user_id=user.pk)
        .select_related("request")
        .prefetch_related(
            Prefetch("scores", queryset=QualityScore.objects.select_related("criterion"))
        )
        .order_by("-created_at", "-id")
    )


def quality_summary(*, group_by: str, requests: QuerySet[Request]) -> list[dict[str, Any]]:
    """Per agent (who answered) or centre: reviews, average total (0–100) and the average
    score (1–5) of each criterion, for reviews of these requests — two queries."""
    if group_by not in QUALITY_GROUPS:
        raise ValueError(f"group_by must be one of {sorted(QUALITY_GROUPS)}")
    key = QUALITY_GROUPS[group_by]
    reviews = QualityReview.objects.filter(request__in=requests.values("pk"))
    rows = reviews.values(key).annotate(reviews=Count("id"), average=Avg("total")).order_by(key)
    per_criterion: dict[Any, dict[str, float]] = {}
    criteria = (
        QualityScore.objects.filter(review__in=reviews.values("pk"))
        .values(f"review__{key}", "criterion__code")
        .annotate(average=Avg("score"))
        .order_by(f"review__{key}", "criterion__code")
    )
    for row in criteria:
        per_criterion.setdefault(row[f"review__{key}"], {})[row["criterion__code"]] = float(
            row["average"]
        )
    return [
        {
            "key": row[key],
            "reviews": row["reviews"],
            "average": float(row["average"]) if row["average"] is not None else None,
            "criteria": per_criterion.get(row[key], {}),
        }
        for row in rows
    ]


def calibration_agreement(
    group: int, *, requests: QuerySet[Request] | None = None
) -> dict[str, Any]:
    """Answers scored by two or more officers in calibration round `group`: per answer the
    reviews side by side, the mean absolute difference of their totals (over every pair)
    and the share of criteria on which all of them gave the same score."""
    reviews = QualityReview.objects.filter(calibration_group=group)
    if requests is not None:
        reviews = reviews.filter(request__in=requests.values("pk"))
    reviews = (
        reviews.select_related("reviewer", "request")
        .prefetch_related(
            Prefetch("scores", queryset=QualityScore.objects.select_related("criterion"))
        )
        .order_by("answer_event_id", "reviewer_id")
    )
    by_answer: dict[int, list[QualityReview]] = {}
    for review in reviews:
        by_answer.setdefault(review.answer_event_id, []).append(review)
    answers = [
        _agreement(answer_id, items) for answer_id, items in by_answer.items() if len(items) >= 2
    ]
    differences = [a["total_difference"] for a in answers]
    identical = [a["identical_share"] for a in answers if a["identical_share"] is not None]
    return {
        "group": group,
        "answers": answers,
        "total_difference": sum(differences) / len(differences) if differences else None,
        "identical_share": sum(identical) / len(identical) if identical else None,
    }


def _agreement(answer_id: int, reviews: list[QualityReview]) -> dict[str, Any]:
    totals = [float(review.total) for review in reviews]
    pairs = list(combinations(totals, 2))
    scores = [{s.criterion.code: s.score for s in review.scores.all()} for review in reviews]
    codes = sorted(set().union(*scores))
    shared = [code for code in codes if all(code in row for row in scores)]
    same = [code for code in shared if len({row[code] for row in scores}) == 1]
    return {
        "answer_event": answer_id,
        "request": reviews[0].request,
        "criteria": codes,
        "reviews": [
            {
                "reviewer": review.reviewer,
                "total": float(review.total),
                "scores": [row.get(code) for code in codes],
            }
            for review, row in zip(reviews, scores, strict=True)
        ],
        "total_difference": sum(abs(a - b) for a, b in pairs) / len(pairs),
        "identical_share": len(same) / len(shared) if shared else None,
    }
