"""The Huey queue for real: tasks go through the storage and deliver the outbox.

A worker is played by the test: it dequeues from the real storage (SQLite file
or Redis) and executes, as `run_huey` does, so what is proved is that the
wake-up written after commit reaches the storage and that running it delivers.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import caches
from huey import RedisHuey
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage, SqliteStorage

from tawasul.cases.services import request_submit
from tawasul.channels import sms
from tawasul.channels.models import OutboxMessage, OutboxStatus
from tawasul.channels.tasks import outbox_drain_task
from tawasul.core.ids import tracking_number_display

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="needs REDIS_URL (CI sets it in its PostgreSQL pass)"
)


@pytest.fixture
def configured_queue():
    """The project's queue (settings.HUEY), emptied before and after: only its own name."""
    HUEY.flush()
    yield HUEY
    HUEY.flush()


@pytest.fixture
def redis_queue():
    """A RedisHuey of its own on REDIS_URL, under a unique name."""
    if not REDIS_URL:
        pytest.skip("needs REDIS_URL (CI sets it in its PostgreSQL pass)")
    name = f"{os.environ.get('HUEY_NAME', 'tawasul')}-test-{uuid.uuid4().hex[:8]}"
    queue = RedisHuey(name, url=REDIS_URL, immediate=False)
    queue.flush()
    yield queue
    queue.flush()


def submit(ministry, beneficiary):
    return request_submit(
        beneficiary=beneficiary,
        kind="inquiry",
        category=ministry.exams,
        subject="موعد النتائج",
        description="متى تظهر نتائج الاختبارات النهائية في نظام نور؟",
        entity=ministry.riyadh,
    )


@pytest.mark.django_db(transaction=True)
def test_the_wake_up_after_commit_goes_through_the_configured_storage(
    ministry, sara, channels_in_memory, configured_queue
):
    expected = RedisStorage if settings.HUEY["huey_class"] == "huey.RedisHuey" else SqliteStorage
    assert isinstance(configured_queue.storage, expected)

    # Given a request committed (its outbox row and, after commit, the wake-up)
    request = submit(ministry, sara)

    # Then the wake-up waits in the storage and nothing is sent yet
    assert configured_queue.pending_count() == 1
    assert sms.outbox == []
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING

    # When a worker takes it from the storage and runs it
    task = configured_queue.dequeue()
    assert task is not None
    assert isinstance(task, outbox_drain_task.task_class)
    sent = configured_queue.execute(task)

    # Then the acknowledgement is delivered and the queue is empty
    assert sent == 1
    assert tracking_number_display(request.tracking_number) in sms.outbox[0].text
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    assert configured_queue.pending_count() == 0


@pytest.mark.redis
@pytest.mark.usefixtures("channels_in_memory", "configured_queue")
@pytest.mark.django_db(transaction=True)
def test_the_drain_task_goes_through_real_redis(ministry, sara, khalid, redis_queue):
    drain_on_redis = redis_queue.task(name="outbox_drain_task")(outbox_drain_task.func)
    sara_request, khalid_request = submit(ministry, sara), submit(ministry, khalid)

    drain_on_redis()
    assert redis_queue.pending_count() == 1
    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count() == 2

    task = redis_queue.dequeue()
    assert task is not None
    sent = redis_queue.execute(task)

    assert sent == 2
    assert tracking_number_display(sara_request.tracking_number) in sms.outbox[0].text
    assert tracking_number_display(khalid_request.tracking_number) in mail.outbox[0].subject
    assert redis_queue.pending_count() == 0


@pytest.mark.redis
@needs_redis
def test_the_django_cache_round_trips_through_redis():
    import redis

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    cache = caches["default"]
    key = f"test-{uuid.uuid4().hex}"
    value = {"عنوان": "تواصل", "count": 3}

    cache.set(key, value, timeout=60)

    assert cache.get(key) == value
    assert redis.Redis.from_url(REDIS_URL).exists(cache.make_key(key)) == 1
    cache.delete(key)
    assert cache.get(key) is None
