"""Similar requests: the near-duplicates and related requests of one request, for staff.

Candidates, every one read through `access.requests_for(user, VIEW)` so a request the
user may not see is never a candidate:

- the same beneficiary's requests submitted within a year of it, whatever their status;
- requests of the same entity, or of the same category, submitted within
  `TAWASUL_SIMILAR_DAYS` (90) of it, cancelled ones left out; the same entity *and*
  category are fetched on their own too, so a busy entity does not crowd them out.

Each source is one indexed query (`req_beneficiary`, `req_entity_status`,
`req_category_created`), newest first and capped (`CAPS`), so a call reads at most a few
hundred rows whatever the size of the table. The request itself, and requests already
merged into it, are never candidates.

Text: character 2–4-grams within words (`char_wb`) over the normalised subject and the
head of the description (`tawasul.core.arabic`, then casefold), TF-IDF fitted on the
candidates and the request together, cosine similarity — robust to the spelling
variants of Arabic (أ/ا, ة/ه, diacritics) and to typing mistakes.

Score, between 0 and 1 (decision 0013):

    score = 0.70·text + 0.15·same beneficiary + 0.10·same entity + 0.05·same category

A candidate at or above `NEAR_DUPLICATE` (0.80) is flagged a near-duplicate: the same
text from the same beneficiary, or nearly the same text within the same entity and
category. Candidates below `MIN_SCORE` are not shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Request, Status
from tawasul.cases.selectors import request_linked_ids
from tawasul.core.arabic import normalise_arabic
from tawasul.directory import access
from tawasul.directory.access import Permission

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

# The weights of the score (they add up to 1) and its thresholds.
TEXT_WEIGHT = 0.70
BENEFICIARY_WEIGHT = 0.15
ENTITY_WEIGHT = 0.10
CATEGORY_WEIGHT = 0.05
NEAR_DUPLICATE = 0.80
MIN_SCORE = 0.30
SAME_TEXT = 0.90  # text similarity from which the texts count as the same
NEAR_TEXT = 0.40  # … and as near
BENEFICIARY_DAYS = 365
DESCRIPTION_CHARS = 600  # the head of the description compared (bounds the work per row)


class SimilarReason(models.TextChoices):
    SAME_BENEFICIARY = "same_beneficiary", _("Same beneficiary")
    SAME_TEXT = "same_text", _("Same text")
    NEAR_TEXT = "near_text", _("Similar text")
    SAME_ENTITY = "same_entity", _("Same entity, same period")
    SAME_CATEGORY = "same_category", _("Same category, same period")


@dataclass(frozen=True)
class SimilarRequest:
    """Another request like this one: how alike (0–1), why, and what is already done."""

    request: Request
    score: float
    text_score: float
    reasons: tuple[SimilarReason, ...]
    near_duplicate: bool
    linked: bool
    merged: bool  # this request was merged into it

    @property
    def percent(self) -> int:
        return round(self.score * 100)


# --- text --------------------------------------------------------------------------------


def text_normalised(text: str) -> str:
    """The form texts are compared in: the one Arabic normaliser, then casefold."""
    return normalise_arabic(text).casefold()


def text_vectors(texts: Sequence[str]) -> Any:
    """TF-IDF vectors (rows of unit length, so a dot product is the cosine) of the texts'
    character 2–4-grams within words, fitted on these texts.

    The same vectors as `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
    preprocessor=text_normalised, sublinear_tf=True)`, computed word by word: `char_wb`
    takes its n-grams inside each word, so a text's n-gram counts are its word counts
    times each distinct word's n-gram counts. Two to three times faster, as a request's
    words repeat across its candidates.
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    words = CountVectorizer(analyzer=str.split)
    per_text = words.fit_transform([text_normalised(text) for text in texts])
    grams = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False)
    per_word = grams.fit_transform(words.get_feature_names_out())
    return TfidfTransformer(sublinear_tf=True).fit_transform(per_text @ per_word)


def text_similarities(text: str, others: Sequence[str]) -> list[float]:
    """Cosine similarity (0–1) of `text` to each of `others`, fitted on all of them."""
    if not others:
        return []
    try:
        matrix = text_vectors([text, *others])
    except ValueError:  # no word at all in any of them
        return [0.0] * len(others)
    scores = (matrix[1:] @ matrix[0].T).toarray().ravel()
    return [min(max(float(value), 0.0), 1.0) for value in scores]


def request_text(subject: str, description: str) -> str:
    return f"{subject}\n{description[:DESCRIPTION_CHARS]}"


# --- candidates --------------------------------------------------------------------------


class Source(StrEnum):
    """Where a candidate comes from; each is one capped, indexed query."""

    BENEFICIARY = "beneficiary"
    ENTITY_CATEGORY = "entity_category"
    ENTITY = "entity"
    CATEGORY = "category"


# The most rows read from each source, newest first.
CAPS: dict[Source, int] = {
    Source.BENEFICIARY: 50,
    Source.ENTITY_CATEGORY: 200,
    Source.ENTITY: 100,
    Source.CATEGORY: 100,
}
FIELDS = (
    "pk",
    "beneficiary_id",
    "entity_id",
    "category_id",
    "created_at",
    "subject",
    "head",
)


@dataclass(frozen=True)
class Candidate:
    pk: int
    beneficiary_id: int
    entity_id: int
    category_id: int
    created_at: dt.datetime
    text: str


def _window(request: Request, days: int) -> Q:
    around = request.created_at or timezone.now()
    span = dt.timedelta(days=days)
    return Q(created_at__gte=around - span, created_at__lte=around + span)


def _source(request: Request, source: Source) -> Q:
    if source == Source.BENEFICIARY:
        return Q(beneficiary_id=request.beneficiary_id) & _window(request, BENEFICIARY_DAYS)
    period = _window(request, settings.TAWASUL_SIMILAR_DAYS) & ~Q(status=Status.CANCELLED)
    if source == Source.ENTITY:
        return Q(entity_id=request.entity_id) & period
    if source == Source.CATEGORY:
        return Q(category_id=request.category_id) & period
    return Q(entity_id=request.entity_id, category_id=request.category_id) & period


def _sources(request: Request) -> list[Source]:
    """The sources that apply (a request described at intake may have no entity yet)."""
    sources = [Source.BENEFICIARY]
    if request.entity_id is not None and request.category_id is not None:
        sources.append(Source.ENTITY_CATEGORY)
    if request.entity_id is not None:
        sources.append(Source.ENTITY)
    if request.category_id is not None:
        sources.append(Source.CATEGORY)
    return sources


def _rows(visible: QuerySet[Request], request: Request, source: Source) -> list[dict[str, Any]]:
    rows = (
        visible.filter(_source(request, source))
        .annotate(head=Substr("description", 1, DESCRIPTION_CHARS))
        .order_by("-created_at", "-id")
        .values(*FIELDS)
    )
    return list(rows[: CAPS[source]])


def similar_candidates(*, user: User, request: Request) -> list[Candidate]:
    """Every candidate within the user's view, once each (four capped queries)."""
    visible = access.requests_for(user, Permission.VIEW)
    if request.pk is not None:  # itself, and the duplicates already merged into it
        visible = visible.exclude(pk=request.pk).exclude(merged_into_id=request.pk)
    found: dict[int, Candidate] = {}
    for source in _sources(request):
        for row in _rows(visible, request, source):
            found.setdefault(
                row["pk"],
                Candidate(
                    pk=row["pk"],
                    beneficiary_id=row["beneficiary_id"],
                    entity_id=row["entity_id"],
                    category_id=row["category_id"],
                    created_at=row["created_at"],
                    text=request_text(row["subject"], row["head"]),
                ),
            )
    return list(found.values())


# --- scoring -----------------------------------------------------------------------------


def _within(candidate: Candidate, request: Request) -> bool:
    around = request.created_at or timezone.now()
    return abs(candidate.created_at - around) <= dt.timedelta(days=settings.TAWASUL_SIMILAR_DAYS)


def _reasons(candidate: Candidate, request: Request, text: float) -> tuple[SimilarReason, ...]:
    reasons: list[SimilarReason] = []
    if candidate.beneficiary_id == request.beneficiary_id:
        reasons.append(SimilarReason.SAME_BENEFICIARY)
    if text >= SAME_TEXT:
        reasons.append(SimilarReason.SAME_TEXT)
    elif text >= NEAR_TEXT:
        reasons.append(SimilarReason.NEAR_TEXT)
    if _within(candidate, request):
        if candidate.entity_id == request.entity_id:
            reasons.append(SimilarReason.SAME_ENTITY)
        if candidate.category_id == request.category_id:
            reasons.append(SimilarReason.SAME_CATEGORY)
    return tuple(reasons)


def similarity_score(*, text: float, reasons: Sequence[SimilarReason]) -> float:
    """The documented formula: text similarity weighed with what the two have in common."""
    score = TEXT_WEIGHT * text
    score += BENEFICIARY_WEIGHT * (SimilarReason.SAME_BENEFICIARY in reasons)
    score += ENTITY_WEIGHT * (SimilarReason.SAME_ENTITY in reasons)
    score += CATEGORY_WEIGHT * (SimilarReason.SAME_CATEGORY in reasons)
    return round(min(score, 1.0), 4)


@dataclass(frozen=True)
class _Scored:
    candidate: Candidate
    text: float
    reasons: tuple[SimilarReason, ...]
    score: float


def _scored(request: Request, candidates: list[Candidate]) -> list[_Scored]:
    texts = text_similarities(
        request_text(request.subject, request.description), [c.text for c in candidates]
    )
    scored = []
    for candidate, text in zip(candidates, texts, strict=True):
        reasons = _reasons(candidate, request, text)
        scored.append(
            _Scored(candidate, text, reasons, similarity_score(text=text, reasons=reasons))
        )
    return scored


def similar_requests(
    *, user: User, request: Request, limit: int = 8, min_score: float = MIN_SCORE
) -> list[SimilarRequest]:
    """The requests most like `request` that `user` may view, best first (at most `limit`).

    `request` may be unsaved (what a caller describes at intake): its subject,
    description, beneficiary, entity and category are what is compared.
    """
    candidates = similar_candidates(user=user, request=request)
    best = sorted(
        (row for row in _scored(request, candidates) if row.score >= min_score),
        key=lambda row: (-row.score, -row.text, -row.candidate.pk),
    )[:limit]
    if not best:
        return []
    linked = request_linked_ids(request) if request.pk is not None else set()
    loaded = Request.objects.select_related("entity", "category").in_bulk(
        [row.candidate.pk for row in best]
    )
    return [
        SimilarRequest(
            request=loaded[row.candidate.pk],
            score=row.score,
            text_score=round(row.text, 4),
            reasons=row.reasons,
            near_duplicate=row.score >= NEAR_DUPLICATE,
            linked=row.candidate.pk in linked,
            merged=request.merged_into_id == row.candidate.pk,
        )
        for row in best
        if row.candidate.pk in loaded
    ]
