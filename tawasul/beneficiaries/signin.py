"""One-time codes for beneficiaries: sign in, or follow one request without an account.

Codes are 6 random digits, valid a few minutes, checked a limited number of times,
and rate-limited per address and per IP. The address and the code are kept only
as keyed digests. Every answer is the same whether or not an address is known to
us, so the codes reveal nothing about who has written to the ministry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import CodePurpose, ContactChannel, SignInCode
from tawasul.beneficiaries.services import email_clean
from tawasul.channels.outbox import notify_address
from tawasul.core.errors import InvalidInput, RateLimited
from tawasul.core.validators import mobile_clean

CODE_DIGITS = 6


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass(frozen=True)
class Destination:
    """A normalised address a code can be sent to."""

    channel: str
    address: str

    @property
    def digest(self) -> str:
        return keyed_digest("destination", self.address)


@dataclass(frozen=True)
class VerifiedCode:
    destination_digest: str
    channel: str
    request_id: int | None


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under the secret key, separated by purpose."""
    key = hashlib.sha256(f"tawasul:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def destination_parse(value: str) -> Destination:
    """A mobile (any Saudi form) or an e-mail address, normalised."""
    text = (value or "").strip()
    if "@" in text:
        return Destination(channel=ContactChannel.EMAIL, address=email_clean(text))
    return Destination(channel=ContactChannel.SMS, address=mobile_clean(text))


def _rate_limit(*, destination: Destination, ip: str) -> None:
    now = timezone.now()
    recent = SignInCode.objects.filter(destination_digest=destination.digest)
    window_short = recent.filter(created_at__gte=now - timedelta(minutes=15)).count()
    window_day = recent.filter(created_at__gte=now - timedelta(days=1)).count()
    if window_short >= _setting("TAWASUL_CODES_PER_15_MINUTES", 3) or window_day >= _setting(
        "TAWASUL_CODES_PER_DAY", 10
    ):
        raise RateLimited(_("Too many codes were asked for this address. Please try again later."))
    ip_key = f"signin-ip:{keyed_digest('ip', ip or '-')}:{now:%Y%m%d%H}"
    cache.add(ip_key, 0, timeout=3700)
    if cache.incr(ip_key) > _setting("TAWASUL_CODES_PER_IP_HOUR", 30):
        raise RateLimited(_("Too many codes were asked from this network. Please try again later."))


def signin_code_send(
    *,
    destination: str,
    ip: str,
    language: str = "ar",
    purpose: str = CodePurpose.SIGN_IN,
    request_id: int | None = None,
) -> str:
    """Send a fresh code to `destination`; return the challenge id the form carries.

    The same happens whether or not the address belongs to a known beneficiary.
    """
    target = destination_parse(destination)
    _rate_limit(destination=target, ip=ip)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    public_id = secrets.token_urlsafe(18)
    with transaction.atomic():
        SignInCode.objects.create(
            public_id=public_id,
            purpose=purpose,
            channel=target.channel,
            destination_digest=target.digest,
            code_digest=keyed_digest("code", f"{public_id}:{code}"),
            request_id=request_id,
            expires_at=timezone.now()
            + timedelta(seconds=_setting("TAWASUL_CODE_TTL_SECONDS", 600)),
        )
        notify_address(
            channel=target.channel,
            recipient=target.address,
            template="sign_in_code",
            language=language,
            context={"code": code},
            sensitive=True,
        )
    return public_id


def _wrong_code() -> InvalidInput:
    return InvalidInput(
        _("The code is wrong or has expired. Ask for a new code."),
        code="code_invalid",
        details={"field": "code"},
    )


def signin_code_verify(
    *, challenge: str, code: str, purpose: str = CodePurpose.SIGN_IN
) -> VerifiedCode:
    """Check a code once; a wrong try counts even though the check fails."""
    typed = "".join(ch for ch in (code or "") if not ch.isspace())
    with transaction.atomic():
        row = (
            SignInCode.objects.select_for_update()
            .filter(public_id=challenge or "", purpose=purpose)
            .first()
        )
        if row is None or row.consumed_at is not None or row.expires_at <= timezone.now():
            raise _wrong_code()
        if row.attempts >= _setting("TAWASUL_CODE_MAX_ATTEMPTS", 5):
            raise _wrong_code()
        expected = keyed_digest("code", f"{row.public_id}:{typed}")
        matched = hmac.compare_digest(expected, row.code_digest)
        if matched:
            row.consumed_at = timezone.now()
            row.save(update_fields=["consumed_at"])
        else:
            row.attempts += 1
            row.save(update_fields=["attempts"])
    if not matched:  # raised after commit, so the attempt is counted
        raise _wrong_code()
    return VerifiedCode(
        destination_digest=row.destination_digest, channel=row.channel, request_id=row.request_id
    )
