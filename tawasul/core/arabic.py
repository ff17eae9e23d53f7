"""The one Arabic normaliser, used by search, deduplication and the text models.

Written here (not taken from a GPL package) so the platform stays Apache-2.0.
Normalising: diacritics, tatweel and Quranic marks removed; alef forms (أ إ آ ٱ)
to ا; ta marbuta to ه; alef maqsura to ي; hamza on waw/ya to و/ي; Arabic-Indic
and Persian digits to ASCII; letters repeated three or more times collapsed to
one ("جدااااا" → "جدا"); whitespace collapsed. It is idempotent and never makes a
text longer.
"""

from __future__ import annotations

import re

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ک": "ك",
        "ی": "ي",
    }
)
# Harakat, tanwin, shadda, sukun, superscript alef, Quranic annotation marks, tatweel.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_REPEATS = re.compile(r"([\u0621-\u064a])\1{2,}")
_SPACES = re.compile(r"\s+")


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic and Persian digits with ASCII digits."""
    return text.translate(_DIGITS)


def normalise_arabic(text: str) -> str:
    """Fold the spelling variants of Arabic text into one form (see module doc)."""
    text = _MARKS.sub("", text)
    text = text.translate(_LETTERS).translate(_DIGITS)
    text = _REPEATS.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()
