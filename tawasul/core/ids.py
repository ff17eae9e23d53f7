"""Tracking numbers: random, readable aloud, guarded by a Damm check digit.

Format (docs/decisions/0002-tracking-number.md): ten random digits and one Damm
check digit, shown in groups 3-4-4 (``482-9310-5726``). The Damm algorithm
detects every single wrong digit and every swap of two adjacent digits. The
digits are random, so a number reveals nothing (not the date, not the volume).
"""

from __future__ import annotations

import re
import secrets

from tawasul.core.arabic import to_ascii_digits

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
BODY_DIGITS = 10
LENGTH = BODY_DIGITS + 1
_SEPARATORS = re.compile(r"[\s\-_.]")


def damm_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return interim


def tracking_number_new() -> str:
    """A fresh random tracking number (11 digits, stored without separators)."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(BODY_DIGITS))
    body = str(secrets.randbelow(9) + 1) + body[1:]  # no leading zero: read aloud cleanly
    return body + str(damm_digit(body))


def tracking_number_parse(text: str) -> str | None:
    """The canonical digits of a typed number, or None if it is not a valid one.

    Accepts Arabic-Indic digits, spaces and dashes as people type them.
    """
    digits = _SEPARATORS.sub("", to_ascii_digits(text or ""))
    if len(digits) != LENGTH or not digits.isascii() or not digits.isdigit():
        return None
    if damm_digit(digits) != 0:
        return None
    return digits


def tracking_number_display(digits: str) -> str:
    """Group the digits 3-4-4 for reading aloud."""
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
