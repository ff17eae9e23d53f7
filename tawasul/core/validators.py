"""Identity and contact validation: national ID / iqama and Saudi mobiles."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_lazy as _

from tawasul.core.arabic import to_ascii_digits
from tawasul.core.errors import InvalidInput


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def national_id_clean(value: str) -> str:
    """A valid national ID (1…) or iqama (2…) number as 10 ASCII digits.

    Raises InvalidInput with a message saying what is wrong.
    """
    digits = to_ascii_digits((value or "").strip()).replace(" ", "")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise InvalidInput(
            _("The national ID or iqama number must be exactly 10 digits."),
            code="national_id_length",
            details={"field": "national_id"},
        )
    if digits[0] not in "12":
        raise InvalidInput(
            _("The national ID starts with 1 and the iqama number with 2."),
            code="national_id_prefix",
            details={"field": "national_id"},
        )
    if not luhn_valid(digits):
        raise InvalidInput(
            _("This national ID or iqama number is not valid; please check the digits."),
            code="national_id_checksum",
            details={"field": "national_id"},
        )
    return digits


def mobile_clean(value: str) -> str:
    """A Saudi mobile number in E.164 form (+9665XXXXXXXX)."""
    text = to_ascii_digits((value or "").strip())
    try:
        number = phonenumbers.parse(text, "SA")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
        or number.country_code != 966
    ):
        raise InvalidInput(
            _("Enter a valid Saudi mobile number, for example 05XXXXXXXX."),
            code="mobile_invalid",
            details={"field": "mobile"},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_masked(e164: str) -> str:
    """A mobile number with all but the last three digits hidden (for display and logs)."""
    if not e164:
        return ""
    return e164[:4] + "•" * max(len(e164) - 7, 0) + e164[-3:]
