"""Quality review of answers: the weekly sample per centre, and recording a review.

Rules enforced here:
- each week, per centre (the request's entity), a random share of that week's
  answers (`TAWASUL_QA_SAMPLE_PERCENT`, rounded up) plus every answer that was
  objected to or rated at or below `TAWASUL_SURVEY_LOW_SCORE`; running the
  sampling again for the same week adds nothing;
- a review needs the quality officer, supervisor, centre manager or
  administrator role over the request's entity, is refused to the person who
  wrote the answer, scores every active criterion 1–5, and is given once per
  reviewer per answer; its total is the weighted average scaled to 0–100.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Event, EventKind
from tawasul.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity, Role, StaffGrant
from tawasul.feedback.models import (
    COMMENT_MAX,
    SCORE_MAX,
    SCORE_MIN,
    Objection,
    QualityCriterion,
    QualityReview,
    QualitySample,
    QualityScore,
    SampleReason,
    SatisfactionResponse,
)

QUALITY_ROLES = (Role.QUALITY_OFFICER, Role.SUPERVISOR, Role.CENTRE_MANAGER, Role.ADMINISTRATOR)


# --- who may review -------------------------------------------------------------------------


def quality_entities(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Entity]:
    """Entities on whose requests the user may record quality reviews."""
    if not user.is_authenticated or not user.is_active:
        return Entity.objects.none()
    if getattr(user, "is_superuser", False):
        return Entity.objects.all()
    prefixes = StaffGrant.objects.filter(
        user_id=user.pk, role__in=QUALITY_ROLES, entity__is_active=True
    ).values_list("entity__path", flat=True)
    query = Entity.objects.none()
    for prefix in prefixes:
        query = query | Entity.objects.filter(path__startswith=prefix)
    return query


def quality_may_review(user: AbstractBaseUser | AnonymousUser, entity: Entity) -> bool:
    """Whether the user holds a quality-review role over `entity` (on it or above it)."""
    if not access.staff_scope(user).covers(Permission.VIEW, entity.path):
        return False
    if getattr(user, "is_superuser", False):
        return True
    if not isinstance(user, AbstractBaseUser):
        return False
    ancestors = [
        entity.path[:end] for end in range(Entity.steplen, len(entity.path) + 1, Entity.steplen)
    ]
    return StaffGrant.objects.filter(
        user_id=user.pk, role__in=QUALITY_ROLES, entity__path__in=ancestors, entity__is_active=True
    ).exists()


# --- sampling -------------------------------------------------------------------------------


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _week_bounds(week_start: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = datetime.combine(week_start, time.min, tzinfo=zone)
    return start, start + timedelta(days=7)


def quality_sample_week(
    *, week_start: date, percent: int | None = None, seed: int | None = None
) -> int:
    """Sample the answers given in the week starting `week_start` (local time); returns
    how many samples were added. Idempotent: a centre already sampled at random that
    week gets no new random picks, and no answer is sampled twice for a week."""
    share = settings.TAWASUL_QA_SAMPLE_PERCENT if percent is None else percent
    week = iso_week(week_start)
    start, end = _week_bounds(week_start)
    answers = list(
        Event.objects.filter(kind=EventKind.ANSWERED, created_at__gte=start, created_at__lt=end)
        .order_by("id")
        .values_list("id", "request__entity_id")
    )
    ids = [pk for pk, _entity in answers]
    objected = set(
        Objection.objects.filter(answer_event_id__in=ids).values_list("answer_event_id", flat=True)
    )
    low = set(
        SatisfactionResponse.objects.filter(
            answer_event_id__in=ids, score__lte=settings.TAWASUL_SURVEY_LOW_SCORE
        ).values_list("answer_event_id", flat=True)
    )
    by_centre: dict[int, list[int]] = defaultdict(list)
    for pk, entity_id in answers:
        by_centre[entity_id].append(pk)
    with transaction.atomic():
        existing = dict(
            QualitySample.objects.filter(week=week).values_list("answer_event_id", "reason")
        )
        randomly_sampled = set(
            QualitySample.objects.filter(week=week, reason=SampleReason.RANDOM).values_list(
                "centre_id", flat=True
            )
        )
        rows: list[QualitySample] = []
        for centre_id, centre_answers in sorted(by_centre.items()):
            picks: dict[int, str] = {}
            if centre_id not in randomly_sampled:
                for pk in _random_share(
                    centre_answers, share, seed=seed, key=f"{week}:{centre_id}"
                ):
                    picks[pk] = SampleReason.RANDOM
            for pk in centre_answers:
                if pk in objected:
                    picks[pk] = SampleReason.OBJECTED
                elif pk in low:
                    picks[pk] = SampleReason.LOW_RATED
            rows += [
                QualitySample(answer_event_id=pk, centre_id=centre_id, week=week, reason=reason)
                for pk, reason in sorted(picks.items())
                if pk not in existing
            ]
        QualitySample.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _random_share(answers: list[int], percent: int, *, seed: int | None, key: str) -> list[int]:
    count = min(len(answers), math.ceil(len(answers) * max(percent, 0) / 100))
    if count == 0:
        return []
    chooser = random.Random(f"{seed}:{key}") if seed is not None else random.SystemRandom()  # noqa: S311
    return chooser.sample(answers, count)


def quality_sample_previous_week(*, today: date | None = None) -> int:
    """The weekly job: sample the last complete ISO week (Monday to Sunday) before the
    current one; run on a Sunday morning, that is the week that ended a week ago, so
    every answer, Sundays included, is sampled exactly once."""
    today = today or timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    return quality_sample_week(week_start=this_monday - timedelta(days=7))


# --- recording a review ---------------------------------------------------------------------


def quality_total(scores: dict[QualityCriterion, int]) -> Decimal:
    """Weighted average of 1–5 scores, scaled to 0–100 (1 → 0, 5 → 100)."""
    weights = sum(criterion.weight for criterion in scores)
    if not weights:
        return Decimal(0)
    weighted = sum(
        Decimal(criterion.weight) * Decimal(score - SCORE_MIN)
        for criterion, score in scores.items()
    )
    scaled = weighted / Decimal(weights) / Decimal(SCORE_MAX - SCORE_MIN) * 100
    return scaled.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _scores(raw: dict[str, int]) -> dict[QualityCriterion, int]:
    criteria = list(QualityCriterion.objects.filter(active=True))
    codes = {criterion.code for criterion in criteria}
    missing = sorted(codes - set(raw))
    if missing or set(raw) - codes:
        raise InvalidInput(
            _("Score every criterion of the rubric."),
            code="criteria",
            details={"field": "scores", "missing": missing},
        )
    result: dict[QualityCriterion, int] = {}
    for criterion in criteria:
        value = raw[criterion.code]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not SCORE_MIN <= value <= SCORE_MAX
        ):
            raise InvalidInput(
                format_lazy(_("Choose a score from {min} to {max}."), min=SCORE_MIN, max=SCORE_MAX),
                code="score",
                details={"field": criterion.code},
            )
        result[criterion] = value
    return result


def quality_review_record(
    *,
    answer_event: Event,
    by: AbstractBaseUser,
    scores: dict[str, int],
    comment: str = "",
    calibration_group: int | None = None,
) -> QualityReview:
    """A quality officer (or supervisor) of the request's entity scores one answer, once."""
    if answer_event.kind != EventKind.ANSWERED:
        raise InvalidInput(_("Only answers can be reviewed."), code="not_an_answer")
    request = answer_event.request
    if not quality_may_review(by, request.entity):
        if access.can(by, Permission.VIEW, request):
            raise AccessDenied(_("Only quality officers and supervisors may review answers."))
        raise NotFound(_("No such request."))
    if answer_event.actor_user_id == by.pk:
        raise AccessDenied(_("You cannot review an answer you wrote."), code="own_answer")
    checked = _scores(scores)
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise InvalidInput(
            format_lazy(_("At most {max} characters."), max=COMMENT_MAX),
            code="length",
            details={"field": "comment", "max": COMMENT_MAX},
        )
    if QualityReview.objects.filter(answer_event=answer_event, reviewer_id=by.pk).exists():
        raise Conflict(_("You have already reviewed this answer."), code="already_reviewed")
    try:
        with transaction.atomic():
            review = QualityReview.objects.create(
                request=request,
                answer_event=answer_event,
                reviewer_id=by.pk,
                calibration_group=calibration_group,
                total=quality_total(checked),
                comment=text,
            )
            QualityScore.objects.bulk_create(
                QualityScore(review=review, criterion=criterion, score=score)
                for criterion, score in checked.items()
            )
    except IntegrityError:
        raise Conflict(
            _("You have already reviewed this answer."), code="already_reviewed"
        ) from None
    return review


RUBRIC_DEFAULTS = (
    ("accuracy", "الدقة", "Accuracy"),
    ("completeness", "الاكتمال", "Completeness"),
    ("clarity", "الوضوح", "Clarity"),
    ("courtesy", "اللباقة", "Courtesy"),
    ("language", "سلامة اللغة", "Language"),
    ("timeliness", "الالتزام بالوقت", "Timeliness"),
)


def quality_rubric_ensure() -> int:
    """Create the six default criteria that are missing (the migration seeds them too)."""
    created = 0
    for order, (code, name_ar, name_en) in enumerate(RUBRIC_DEFAULTS, start=1):
        _criterion, made = QualityCriterion.objects.get_or_create(
            code=code,
            defaults={"name_ar": name_ar, "name_en": name_en, "weight": 1, "order": order},
        )
        created += made
    return created
