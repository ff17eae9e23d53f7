"""One-time codes: random, hashed, expiring, limited attempts, rate-limited, no enumeration."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from tawasul.beneficiaries.models import SignInCode
from tawasul.beneficiaries.signin import (
    destination_parse,
    keyed_digest,
    signin_code_send,
    signin_code_verify,
)
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.models import OutboxMessage
from tawasul.core.errors import InvalidInput, RateLimited


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def delivered_code() -> str:
    outbox_drain()
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)


def test_a_code_goes_to_the_mobile_and_only_digests_are_stored(db, channels_in_memory):
    challenge = signin_code_send(destination="0551234567", ip="10.0.0.1")
    code = delivered_code()
    assert sms.outbox[-1].to == "+966551234567"
    row = SignInCode.objects.get(public_id=challenge)
    assert code not in row.code_digest
    assert "551234567" not in row.destination_digest
    assert row.destination_digest == keyed_digest("destination", "+966551234567")
    verified = signin_code_verify(challenge=challenge, code=code)
    assert verified.destination_digest == destination_parse("+966 55 123 4567").digest


def test_the_code_is_gone_from_the_outbox_once_sent(db, channels_in_memory):
    signin_code_send(destination="0551234567", ip="10.0.0.1")
    code = delivered_code()
    message = OutboxMessage.objects.get(template="sign_in_code")
    assert code not in str(message.context)


def test_a_code_works_once(db, channels_in_memory):
    challenge = signin_code_send(destination="0551234567", ip="10.0.0.1")
    code = delivered_code()
    signin_code_verify(challenge=challenge, code=code)
    with pytest.raises(InvalidInput):
        signin_code_verify(challenge=challenge, code=code)


def test_wrong_tries_are_counted_and_the_code_dies_after_the_limit(
    db, channels_in_memory, settings
):
    settings.TAWASUL_CODE_MAX_ATTEMPTS = 3
    challenge = signin_code_send(destination="0551234567", ip="10.0.0.1")
    code = delivered_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(3):
        with pytest.raises(InvalidInput) as error:
            signin_code_verify(challenge=challenge, code=wrong)
        assert error.value.code == "code_invalid"
    assert SignInCode.objects.get(public_id=challenge).attempts == 3
    with pytest.raises(InvalidInput):  # the right code no longer opens anything
        signin_code_verify(challenge=challenge, code=code)
    assert SignInCode.objects.get(public_id=challenge).consumed_at is None


def test_an_expired_code_is_refused(db, channels_in_memory):
    challenge = signin_code_send(destination="0551234567", ip="10.0.0.1")
    code = delivered_code()
    SignInCode.objects.filter(public_id=challenge).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(InvalidInput):
        signin_code_verify(challenge=challenge, code=code)


def test_codes_are_rate_limited_per_address(db, channels_in_memory, settings):
    settings.TAWASUL_CODES_PER_15_MINUTES = 2
    signin_code_send(destination="0551234567", ip="10.0.0.1")
    signin_code_send(destination="+966551234567", ip="10.0.0.2")
    with pytest.raises(RateLimited) as error:
        signin_code_send(destination="055 123 4567", ip="10.0.0.3")
    assert error.value.status == 429
    signin_code_send(destination="0557654321", ip="10.0.0.3")  # another address is not affected


def test_codes_are_rate_limited_per_ip(db, channels_in_memory, settings):
    settings.TAWASUL_CODES_PER_IP_HOUR = 2
    signin_code_send(destination="0551111111", ip="10.9.9.9")
    signin_code_send(destination="0552222222", ip="10.9.9.9")
    with pytest.raises(RateLimited):
        signin_code_send(destination="0553333333", ip="10.9.9.9")
    assert SignInCode.objects.count() == 2


def test_unknown_and_known_addresses_get_the_same_treatment(db, sara, channels_in_memory):
    known = signin_code_send(destination=sara.mobile, ip="10.0.0.1")
    unknown = signin_code_send(destination="0599999999", ip="10.0.0.1")
    assert len(known) == len(unknown)
    outbox_drain()
    assert len(sms.outbox) == 2


@pytest.mark.parametrize("value", ["0112345678", "not-an-address", "a@b", ""])
def test_a_malformed_address_is_refused_before_anything_is_written(db, value):
    with pytest.raises(InvalidInput):
        signin_code_send(destination=value, ip="10.0.0.1")
    assert SignInCode.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_codes_are_random(db, channels_in_memory, settings):
    settings.TAWASUL_CODES_PER_15_MINUTES = 100
    settings.TAWASUL_CODES_PER_DAY = 100
    settings.TAWASUL_CODES_PER_IP_HOUR = 100
    codes = set()
    for _ in range(20):
        signin_code_send(destination="0551234567", ip="10.0.0.1")
        codes.add(delivered_code())
    assert len(codes) >= 18
