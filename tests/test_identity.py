"""National IDs, mobiles, tracking numbers and the Arabic normaliser."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tawasul.core.arabic import normalise_arabic, to_ascii_digits
from tawasul.core.errors import InvalidInput
from tawasul.core.ids import (
    damm_digit,
    tracking_number_display,
    tracking_number_new,
    tracking_number_parse,
)
from tawasul.core.validators import mobile_clean, mobile_masked, national_id_clean


class TestNationalId:
    def test_valid_citizen_and_resident_numbers(self):
        assert national_id_clean("1000000008") == "1000000008"
        assert national_id_clean("2000000006") == "2000000006"

    def test_arabic_indic_digits_are_accepted(self):
        assert national_id_clean("١٠٠٠٠٠٠٠٠٨") == "1000000008"

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("1000000000", "national_id_checksum"),
            ("3000000004", "national_id_prefix"),
            ("100000000", "national_id_length"),
            ("10000000081", "national_id_length"),
            ("10000a0008", "national_id_length"),
            ("", "national_id_length"),
        ],
    )
    def test_invalid_numbers_are_refused_with_a_reason(self, value, code):
        with pytest.raises(InvalidInput) as error:
            national_id_clean(value)
        assert error.value.code == code
        messages = error.value.messages()
        assert messages["ar"] != messages["en"]
        assert any("\u0600" <= char <= "\u06ff" for char in messages["ar"])


class TestMobile:
    @pytest.mark.parametrize("value", ["0551234567", "+966551234567", "966551234567", "٠٥٥١٢٣٤٥٦٧"])
    def test_saudi_mobiles_are_stored_in_e164(self, value):
        assert mobile_clean(value) == "+966551234567"

    @pytest.mark.parametrize("value", ["0112345678", "12345", "+14155552671", "05512345", "abc"])
    def test_landlines_foreign_and_malformed_numbers_are_refused(self, value):
        with pytest.raises(InvalidInput) as error:
            mobile_clean(value)
        assert error.value.details == {"field": "mobile"}

    def test_masking_keeps_only_the_last_three_digits(self):
        masked = mobile_masked("+966551234567")
        assert masked.endswith("567")
        assert "5512345" not in masked


class TestTrackingNumber:
    def test_new_numbers_are_eleven_digits_and_valid(self):
        numbers = {tracking_number_new() for _ in range(500)}
        assert len(numbers) == 500
        for number in numbers:
            assert len(number) == 11
            assert number[0] != "0"
            assert tracking_number_parse(number) == number

    def test_display_groups_three_four_four_and_parses_back(self):
        number = tracking_number_new()
        shown = tracking_number_display(number)
        assert shown.count("-") == 2
        assert [len(part) for part in shown.split("-")] == [3, 4, 4]
        assert tracking_number_parse(shown) == number
        assert tracking_number_parse(shown.replace("-", " ")) == number

    def test_arabic_indic_digits_parse(self):
        number = tracking_number_new()
        arabic = number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        assert tracking_number_parse(arabic) == number

    @given(st.text(alphabet="0123456789", min_size=10, max_size=10))
    def test_every_single_wrong_digit_is_caught(self, body):
        number = body + str(damm_digit(body))
        for position, wrong in itertools.product(range(11), "0123456789"):
            if number[position] != wrong:
                typo = number[:position] + wrong + number[position + 1 :]
                assert tracking_number_parse(typo) is None

    @given(st.text(alphabet="0123456789", min_size=10, max_size=10))
    def test_every_adjacent_swap_is_caught(self, body):
        number = body + str(damm_digit(body))
        for position in range(10):
            a, b = number[position], number[position + 1]
            if a != b:
                swapped = number[:position] + b + a + number[position + 2 :]
                assert tracking_number_parse(swapped) is None

    @pytest.mark.parametrize("text", ["", "abc", "123", "1234567890123", None])
    def test_garbage_is_not_a_number(self, text):
        assert tracking_number_parse(text) is None


class TestArabicNormaliser:
    def test_variants_fold_to_one_form(self):
        assert normalise_arabic("إختبار") == normalise_arabic("اختبار")
        assert normalise_arabic("المدرسة") == normalise_arabic("المدرسه")
        assert normalise_arabic("مستشفى") == normalise_arabic("مستشفي")
        assert normalise_arabic("مُعَلِّم") == "معلم"
        assert normalise_arabic("جـــداً") == "جدا"
        assert normalise_arabic("شكراااااا") == "شكرا"
        assert normalise_arabic("الصف ٣") == "الصف 3"

    @given(st.text())
    def test_idempotent_and_never_longer(self, text):
        once = normalise_arabic(text)
        assert normalise_arabic(once) == once
        assert len(once) <= len(text)

    @given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
    def test_latin_text_is_kept_apart_from_whitespace(self, text):
        assert normalise_arabic(text) == " ".join(text.split())

    def test_digits_helper(self):
        assert to_ascii_digits("۱۲۳ ٤٥٦") == "123 456"
