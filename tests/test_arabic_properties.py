"""Properties of the one Arabic normaliser (`tawasul.core.arabic`), which search,
deduplication and the text models all rely on: run on any text, not chosen examples."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from tawasul.core.arabic import normalise_arabic, to_ascii_digits

ARABIC_BLOCK = (0x0600, 0x06FF)  # every character the normaliser maps or drops is here
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"

# Arabic letters, marks, tatweel and digits, mixed with spaces and some Latin: the texts
# the normaliser meets, weighted towards the characters it changes.
arabic_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.sampled_from("أإآٱاةهىيؤئءـ \t\n" + ARABIC_INDIC + PERSIAN),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    )
)
any_text = st.one_of(arabic_text, st.text())
outside_arabic = st.text(
    alphabet=st.characters(
        blacklist_characters=[chr(c) for c in range(ARABIC_BLOCK[0], ARABIC_BLOCK[1] + 1)],
        blacklist_categories=["Cs"],
    )
)


@given(any_text)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_arabic(text)
    assert normalise_arabic(once) == once


@given(any_text)
def test_a_normalised_text_is_never_longer(text: str) -> None:
    assert len(normalise_arabic(text)) <= len(text)


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F)))
def test_ascii_text_only_has_its_whitespace_collapsed(text: str) -> None:
    # Exactly: runs of whitespace (str.isspace: space, \t \n \v \f \r and \x1c-\x1f)
    # become one space, and none is left at either end; every other character stays.
    assert normalise_arabic(text) == " ".join(text.split())


@given(outside_arabic)
def test_text_without_arabic_characters_only_has_its_whitespace_collapsed(text: str) -> None:
    # Latin with accents, other scripts, symbols, Unicode spaces: the same rule.
    assert normalise_arabic(text) == " ".join(text.split())


@given(st.text(alphabet=st.sampled_from(ARABIC_INDIC + PERSIAN + "0123456789"), min_size=1))
def test_arabic_indic_and_persian_digits_become_ascii_digits(digits: str) -> None:
    expected = "".join(str(unicodedata.digit(char)) for char in digits)
    assert normalise_arabic(digits) == expected
    assert to_ascii_digits(digits) == expected


@given(arabic_text)
def test_no_variant_letter_mark_or_eastern_digit_survives(text: str) -> None:
    normalised = normalise_arabic(text)
    assert not set(normalised) & set("أإآٱةىؤئـ" + ARABIC_INDIC + PERSIAN)
    assert not any(0x064B <= ord(char) <= 0x065F for char in normalised)  # harakat, shadda…


@given(st.sampled_from("ابتثجحخدذرسشصضطظعغفقكلمنهوي"), st.integers(min_value=3, max_value=12))
def test_a_letter_drawn_out_three_times_or_more_is_one_letter(letter: str, times: int) -> None:
    assert normalise_arabic(f"{letter * times} جدا") == f"{letter} جدا"
    assert normalise_arabic(f"{letter * 2} جدا") == f"{letter * 2} جدا"  # a doubled letter stays
