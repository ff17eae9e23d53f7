"""Routing suggestions: what the active classifiers propose for a request (its category,
the entity competent to answer it), and — once the request is answered — whether staff
kept the proposal or corrected it, the signal the next versions learn from.

A suggestion is made once per request and target, after the request is submitted (a job
enqueued after commit) or when the workspace finds it missing. Only what the request may
become is proposed: an active category that takes the request's kind, an active entity
with an active care centre. Making one never raises: without an active model, or with its
file gone, there is simply no suggestion.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tawasul.cases.models import Category, Event, EventKind, Request
from tawasul.core.memo import memoised
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.insights.classifier import (
    ANSWERED_STATUSES,
    ClassifierError,
    request_text,
    text_model_classifier,
    text_models_active,
)
from tawasul.insights.text_models import Suggestion, SuggestionOutcome, TextModel, TextTarget

logger = logging.getLogger(__name__)

SETTLE_BATCH = 500


def _categories_allowed(kind: str) -> frozenset[str]:
    def compute() -> frozenset[str]:
        return frozenset(
            str(c.pk) for c in Category.objects.filter(is_active=True) if c.allows(kind)
        )

    return memoised(("suggestion-categories", kind), compute)


def _entities_allowed() -> frozenset[str]:
    def compute() -> frozenset[str]:
        receiving = Entity.objects.filter(is_active=True, centre__is_active=True)
        return frozenset(str(pk) for pk in receiving.values_list("pk", flat=True))

    return memoised(("suggestion-entities",), compute)


def suggestion_make(*, request: Request, text_model: TextModel) -> Suggestion | None:
    """The suggestion of `text_model` for the request (made now, or the one already
    there); None when the model's file cannot be read."""
    try:
        classifier = text_model_classifier(text_model)
    except ClassifierError as error:
        logger.warning("%s: no suggestion for request %s: %s", text_model, request.pk, error)
        return None
    is_category = text_model.target == TextTarget.CATEGORY
    allowed = _categories_allowed(request.kind) if is_category else _entities_allowed()
    prediction = classifier.predict(
        [request_text(request.subject, request.description)], allowed=allowed
    )[0]
    label = int(prediction.label) if prediction.label.isdigit() else None  # a row's id
    suggestion, _created = Suggestion.objects.get_or_create(
        request=request,
        target=text_model.target,
        defaults={
            "model": text_model,
            "category_id": label if is_category else None,
            "entity_id": None if is_category else label,
            "confidence": prediction.confidence,
            "abstained": prediction.abstained or label is None,
        },
    )
    return suggestion


def suggest(request: Request, *, known: Iterable[Suggestion] | None = None) -> list[Suggestion]:
    """The request's suggestions for both targets, made by the active models where missing
    (none active: an empty list). `known`: its suggestions, when the caller has read them."""
    if known is None:
        known = Suggestion.objects.filter(request=request)
    found = {s.target: s for s in known}
    for target, text_model in text_models_active().items():
        if target not in found:
            made = suggestion_make(request=request, text_model=text_model)
            if made is not None:
                found[target] = made
    return [found[target] for target in TextTarget.values if target in found]


def suggestions_for_staff(user: Any, request: Request) -> QuerySet[Suggestion]:
    """A request's suggestions, for staff who may see the request (else none)."""
    if not access.can(user, Permission.VIEW, request):
        return Suggestion.objects.none()
    return Suggestion.objects.filter(request=request).select_related("model", "category", "entity")


def suggestions_differing(requests: Iterable[Request]) -> dict[int, dict[str, Suggestion]]:
    """For a page of a queue (requests the user already may view): the suggestions that
    did not abstain and differ from the request's category or entity now, by request id
    and target — what triage shows beside each row (one query)."""
    rows = {request.pk: request for request in requests}
    found: dict[int, dict[str, Suggestion]] = {}
    if not rows:
        return found
    suggestions = Suggestion.objects.filter(request__in=list(rows), abstained=False)
    for suggestion in suggestions.select_related("category", "entity"):
        request = rows[suggestion.request_id]
        differs = (
            suggestion.category_id not in (None, request.category_id)
            if suggestion.target == TextTarget.CATEGORY
            else suggestion.entity_id not in (None, request.entity_id)
        )
        if differs:
            found.setdefault(request.pk, {})[suggestion.target] = suggestion
    return found


# --- outcomes ------------------------------------------------------------------------------


def _answers(request_ids: list[int]) -> dict[int, Event]:
    """The last answer event of each request (one query)."""
    events = Event.objects.filter(request_id__in=request_ids, kind=EventKind.ANSWERED).order_by(
        "request_id", "created_at", "id"
    )
    return {event.request_id: event for event in events}


def _outcome(suggestion: Suggestion, request: Request) -> dict[str, Any]:
    if suggestion.target == TextTarget.CATEGORY:
        kept = suggestion.category_id == request.category_id
        final = {"final_category_id": request.category_id}
    else:
        kept = suggestion.entity_id == request.entity_id
        final = {"final_entity_id": request.entity_id}
    outcome = SuggestionOutcome.ACCEPTED if kept else SuggestionOutcome.CORRECTED
    return {"outcome": outcome, **final}


def suggestions_settle(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Record what became of the pending suggestions of requests now answered: accepted
    (the request kept the proposed category or entity) or corrected, the final value, the
    agent who answered and when. An abstained suggestion is settled the same way on its
    withheld best guess. Each row is claimed by a conditional UPDATE, so two runs at once
    settle each suggestion once; counts of each outcome."""
    now = now or timezone.now()
    settled = {SuggestionOutcome.ACCEPTED.value: 0, SuggestionOutcome.CORRECTED.value: 0}
    while True:
        batch = list(
            Suggestion.objects.filter(
                outcome=SuggestionOutcome.PENDING,
                request__status__in=ANSWERED_STATUSES,
                request__answered_at__isnull=False,
            )
            .select_related("request")
            .order_by("pk")[:SETTLE_BATCH]
        )
        if not batch:
            return settled
        answers = _answers([s.request_id for s in batch])
        for suggestion in batch:
            answer = answers.get(suggestion.request_id)
            change = _outcome(suggestion, suggestion.request)
            claimed = Suggestion.objects.filter(
                pk=suggestion.pk, outcome=SuggestionOutcome.PENDING
            ).update(
                **change,
                decided_by_id=answer.actor_user_id if answer is not None else None,
                decided_at=answer.created_at if answer is not None else now,
            )
            settled[change["outcome"]] += claimed
