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

from tawasul.beneficiaries.models import Beneficiary, CodePurpose, ContactChannel, SignInCode
from tawasul.beneficiaries.services import beneficiary_register, email_clean
from tawasul.channels.outbox import notify_address
from tawasul.core.errors import InvalidInput, RateLimited
from tawasul.core.validators import mobile_clean, national_id_clean

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


def signin_code_decoy(*, destination: str, ip: str, purpose: str = CodePurpose.TRACK) -> str:
    """Count an attempt exactly as `signin_code_send` does, but send nothing.

    For tracking without an account when the number and the mobile do not match:
    the same rate limits apply and a challenge id comes back, so the answer looks
    the same; no code can ever verify against it.
    """
    target = destination_parse(destination)
    _rate_limit(destination=target, ip=ip)
    public_id = secrets.token_urlsafe(18)
    SignInCode.objects.create(
        public_id=public_id,
        purpose=purpose,
        channel=target.channel,
        destination_digest=target.digest,
        code_digest=keyed_digest("decoy", secrets.token_urlsafe(18)),
        expires_at=timezone.now() + timedelta(seconds=_setting("TAWASUL_CODE_TTL_SECONDS", 600)),
    )
    return public_id


def beneficiary_for_destination(destination: Destination) -> Beneficiary | None:
    """The beneficiary reached at this verified address (the most recent if several)."""
    field = "mobile" if destination.channel == ContactChannel.SMS else "email"
    return (
        Beneficiary.objects.filter(**{field: destination.address})
        .order_by("-created_at", "-pk")
        .first()
    )


def beneficiary_sign_up(
    *,
    destination: Destination,
    national_id: str,
    full_name: str,
    kind: str,
    language: str,
    consent: bool,
) -> Beneficiary:
    """First sign-in: record who owns the verified `destination`, with their consent.

    A national ID already registered to someone reached at another address is
    refused: otherwise anyone who verified their own mobile could take over
    another person's record by typing that person's national ID.
    """
    if not consent:
        raise InvalidInput(
            _("Please read the privacy notice and agree to it to continue."),
            code="consent_required",
            details={"field": "consent"},
        )
    nid = national_id_clean(national_id)
    sms = destination.channel == ContactChannel.SMS
    with transaction.atomic():
        existing = Beneficiary.objects.select_for_update().filter(national_id=nid).first()
        if existing is not None and destination.address not in (existing.mobile, existing.email):
            raise InvalidInput(
                _(
                    "This national ID or iqama number is registered with another mobile number "
                    "or e-mail address. Sign in with that one, or contact the beneficiary care "
                    "centre."
                ),
                code="national_id_taken",
                details={"field": "national_id"},
            )
        return beneficiary_register(
            full_name=full_name,
            national_id=nid,
            mobile=destination.address if sms else (existing.mobile if existing else ""),
            email=(existing.email if existing else "") if sms else destination.address,
            kind=kind,
            language=language,
            preferred_contact=existing.preferred_contact if existing else destination.channel,
            consent=True,
        )
