"""Background jobs of the routing suggestions (issue 12); imported by `tasks` so the queue
finds them.

- A request just submitted gets its suggestions from a job enqueued after its transaction
  commits (`request_suggest_after_commit`, connected to `post_save` in
  `InsightsConfig.ready`): the submission never waits for the model.
- Every hour the suggestions of requests answered since are settled (accepted or
  corrected), at minute 20.
- Every Friday at 02:00 Riyadh (Thursday 23:00 in the queue's UTC clock) both classifiers
  are trained again from the answered requests, each made active when it trains; with too
  little data a target is skipped with a log line, the worker carries on.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tawasul.cases.models import Request
from tawasul.core.memo import memoised
from tawasul.insights.classifier import ClassifierError, text_model_train
from tawasul.insights.suggestions import suggest, suggestions_settle
from tawasul.insights.text_models import TextModel, TextTarget

logger = logging.getLogger(__name__)


@db_task()
def request_suggest_task(request_id: int) -> int:
    """Make the suggestions of one request; how many it has."""
    request = Request.objects.filter(pk=request_id).first()
    return len(suggest(request)) if request is not None else 0


def _models_active() -> bool:
    """Whether any classifier is active (kept in the reference memo: a submission pays no
    query for it; a new version clears the memo when it is saved)."""
    return memoised("insights.text_models_active", TextModel.objects.filter(is_active=True).exists)


def request_suggest_after_commit(
    sender: type[Request], instance: Request, created: bool, **kwargs: Any
) -> None:
    """`post_save` of a request: a new one gets its suggestions once it is committed (a
    rolled-back submission enqueues nothing); with no active model (a platform without
    classifiers, or the demo loading) nothing is queued at all."""
    if created and not kwargs.get("raw") and _models_active():
        transaction.on_commit(partial(request_suggest_task, instance.pk), robust=True)


@db_periodic_task(crontab(minute="20"))
def suggestions_settle_task(now: dt.datetime | None = None) -> dict[str, int]:
    settled = suggestions_settle(now=now)
    logger.info("suggestions settled: %s", settled)
    return settled


def classifiers_retrain() -> dict[str, int | None]:
    """Train both targets; the new active version of each, None where it was skipped."""
    versions: dict[str, int | None] = {}
    for target in TextTarget.values:
        try:
            versions[target] = text_model_train(target=target, log=logger.info).version
        except ClassifierError as error:
            logger.warning("classifier %s not retrained: %s", target, error)
            versions[target] = None
    return versions


@db_periodic_task(crontab(minute="0", hour="23", day_of_week="4"))
def classifiers_retrain_task() -> dict[str, int | None]:
    return classifiers_retrain()
