"""A process-local memo for reference data read on every request: calendars, centres,
SLA policies.

Those rows change a few times a year, by an administrator, yet a submission read
them in five queries and ~10 ms of ORM work (bench/RESULTS.md, intake). Values are
kept per process for `TAWASUL_REFERENCE_MEMO_SECONDS` (0 turns the memo off). Any
save or delete of a model listed in `REFERENCE_MODELS` empties this process's memo
at once (signals, connected in `CoreConfig.ready`); other processes see the change
within the memo's lifetime, as with Django's own content-type and site caches.

Keep only immutable values or rows nobody mutates (the callers treat them as
read-only), keyed by primary keys.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")

# (app label, model name) of the rows the memo holds values derived from.
REFERENCE_MODELS = (
    ("directory", "entity"),
    ("directory", "carecentre"),
    ("directory", "businesscalendar"),
    ("directory", "holiday"),
    ("sla", "slapolicy"),
    ("cases", "category"),
    ("insights", "textmodel"),
)

_values: dict[Hashable, tuple[float, Any]] = {}
_lock = threading.Lock()


def memoised(key: Hashable, compute: Callable[[], T]) -> T:
    """The value kept under `key`, or `compute()` kept for the memo's lifetime."""
    seconds = settings.TAWASUL_REFERENCE_MEMO_SECONDS
    if seconds <= 0:
        return compute()
    now = time.monotonic()
    kept = _values.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    value = compute()
    with _lock:
        _values[key] = (now + seconds, value)
    return value


def memo_forget(**_signal: Any) -> None:
    """Empty this process's memo (a reference row changed; also between tests)."""
    with _lock:
        _values.clear()


def memo_connect() -> None:
    """Forget on every save and delete of a reference model."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    for label, name in REFERENCE_MODELS:
        model = apps.get_model(label, name)
        post_save.connect(memo_forget, sender=model, dispatch_uid=f"memo-save-{label}.{name}")
        post_delete.connect(memo_forget, sender=model, dispatch_uid=f"memo-del-{label}.{name}")
