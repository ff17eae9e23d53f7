"""Writes on beneficiaries."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary, BeneficiaryKind, ContactChannel
from tawasul.core.errors import InvalidInput
from tawasul.core.validators import mobile_clean, national_id_clean


def email_clean(value: str) -> str:
    email = (value or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid e-mail address."), code="email_invalid", details={"field": "email"}
        ) from None
    return email


def beneficiary_register(
    *,
    full_name: str,
    national_id: str = "",
    mobile: str = "",
    email: str = "",
    kind: str = BeneficiaryKind.OTHER,
    language: str = "ar",
    preferred_contact: str = "",
    consent: bool = False,
) -> Beneficiary:
    """Find the beneficiary with this national ID (updating contact details) or create one.

    Every field is validated before anything is written.
    """
    name = " ".join((full_name or "").split())
    if not name or len(name) > 150:
        raise InvalidInput(
            _("Enter the full name (up to 150 characters)."),
            code="name_invalid",
            details={"field": "full_name"},
        )
    nid = national_id_clean(national_id) if national_id else None
    phone = mobile_clean(mobile) if mobile else ""
    mail = email_clean(email)
    if not phone and not mail:
        raise InvalidInput(
            _("Give a mobile number or an e-mail address so we can reach you."),
            code="contact_missing",
            details={"field": "mobile"},
        )
    if kind not in BeneficiaryKind.values:
        raise InvalidInput(
            _("Unknown beneficiary kind."), code="kind_invalid", details={"field": "kind"}
        )
    contact = preferred_contact or (ContactChannel.SMS if phone else ContactChannel.EMAIL)
    if (
        contact not in ContactChannel.values
        or (contact == ContactChannel.SMS and not phone)
        or (contact == ContactChannel.EMAIL and not mail)
    ):
        raise InvalidInput(
            _("The preferred contact channel needs its address."),
            code="contact_invalid",
            details={"field": "preferred_contact"},
        )
    fields = {
        "full_name": name,
        "mobile": phone,
        "email": mail,
        "kind": kind,
        "language": language if language in ("ar", "en") else "ar",
        "preferred_contact": contact,
    }
    with transaction.atomic():
        if nid:
            beneficiary, created = Beneficiary.objects.select_for_update().get_or_create(
                national_id=nid, defaults=fields
            )
            if not created:
                for field, value in fields.items():
                    setattr(beneficiary, field, value)
                beneficiary.save(update_fields=list(fields))
        else:
            beneficiary = Beneficiary.objects.create(**fields)
        if consent and beneficiary.consent_at is None:
            beneficiary.consent_at = timezone.now()
            beneficiary.save(update_fields=["consent_at"])
    return beneficiary


def beneficiary_contact_set(*, beneficiary: Beneficiary, preferred_contact: str) -> Beneficiary:
    """Change how the beneficiary wants to hear from us (SMS or e-mail).

    The chosen channel must have its address on file; nothing is written when it
    is already the preferred one.
    """
    addresses: dict[str, str] = {
        ContactChannel.SMS.value: beneficiary.mobile,
        ContactChannel.EMAIL.value: beneficiary.email,
    }
    if not addresses.get(preferred_contact):
        raise InvalidInput(
            _("The preferred contact channel needs its address."),
            code="contact_invalid",
            details={"field": "preferred_contact"},
        )
    if beneficiary.preferred_contact != preferred_contact:
        beneficiary.preferred_contact = preferred_contact
        beneficiary.save(update_fields=["preferred_contact"])
    return beneficiary


ANONYMOUS_NAME = "—"  # a person who gave no name (partner systems, Open311)
EMAIL_MAX = 254


def beneficiary_for_contact(
    *, full_name: str = "", mobile: str = "", email: str = "", national_id: str = ""
) -> Beneficiary:
    """The beneficiary a partner system submits for: found by national ID, mobile or
    e-mail (in that order), or registered. A person found is never changed, so a
    partner cannot rewrite someone's name or contact details.

    Every field is validated before anything is read or written.
    """
    nid = national_id_clean(national_id) if national_id.strip() else ""
    phone = mobile_clean(mobile) if mobile.strip() else ""
    mail = email_clean(email)
    if len(mail) > EMAIL_MAX:
        raise InvalidInput(
            _("Enter a valid e-mail address."), code="email_invalid", details={"field": "email"}
        )
    if not phone and not mail:
        raise InvalidInput(
            _("Give a mobile number or an e-mail address so we can reach you."),
            code="contact_missing",
            details={"field": "mobile"},
        )
    found = _beneficiary_matching(national_id=nid, mobile=phone, email=mail)
    if found is not None:
        return found
    return beneficiary_register(
        full_name=" ".join((full_name or "").split()) or ANONYMOUS_NAME,
        national_id=nid,
        mobile=phone,
        email=mail,
    )


def _beneficiary_matching(*, national_id: str, mobile: str, email: str) -> Beneficiary | None:
    people = Beneficiary.objects.order_by("pk")
    if national_id:
        return people.filter(national_id=national_id).first()
    if mobile:
        return people.filter(mobile=mobile).first()
    return people.filter(email=email).first()
