"""Case numbers and query codes (DESIGN.md §2 "Numbers, codes, personal data"): pure, no database."""
import re
import string
from datetime import date

import pytest
from stdnum import damm

from hotline.cases.numbers import (
    QUERY_CODE_ALPHABET,
    QUERY_CODE_LENGTH,
    format_case_number,
    hash_query_code,
    is_valid_case_number,
    new_query_code,
    normalise_query_code,
    query_code_matches,
)


@pytest.fixture(autouse=True)
def clean_database():
    """Overrides the suite's autouse database fixture: these tests need no app and no database."""
    yield


# --- case numbers ---------------------------------------------------------------------------------

def test_docstring_example():
    assert format_case_number(date(2026, 11, 25), 42) == "20261125000421"


def test_format_is_date_sequence_and_damm_digit():
    number = format_case_number(date(2026, 9, 29), 1234)
    assert re.fullmatch(r"\d{14}", number)
    assert number[:8] == "20260929"
    assert number[8:13] == "01234"
    assert number[13] == damm.calc_check_digit(number[:13])
    assert damm.is_valid(number)


@pytest.mark.parametrize("sequence", [1, 2, 9, 10, 42, 99_998, 99_999])
def test_sequences_in_range_give_valid_numbers(sequence):
    number = format_case_number(date(2004, 1, 1), sequence)
    assert len(number) == 14
    assert int(number[8:13]) == sequence
    assert is_valid_case_number(number)


@pytest.mark.parametrize("sequence", [0, -1, 10_000_000, 100_000_000])
def test_sequence_out_of_range_raises(sequence):
    with pytest.raises(ValueError):
        format_case_number(date(2026, 9, 29), sequence)


def test_numbers_for_different_days_or_sequences_differ():
    day = date(2026, 9, 29)
    numbers = {format_case_number(day, s) for s in range(1, 2001)}
    numbers |= {format_case_number(date(2026, 9, 30), s) for s in range(1, 2001)}
    assert len(numbers) == 4000


@pytest.mark.parametrize("number", [
    format_case_number(date(2026, 11, 25), 42),
    format_case_number(date(2026, 9, 29), 73_519),
])
def test_every_single_digit_substitution_is_caught(number):
    assert is_valid_case_number(number)
    caught = 0
    for i, original in enumerate(number):
        for digit in string.digits:
            if digit != original:
                assert not is_valid_case_number(number[:i] + digit + number[i + 1:]), (i, digit)
                caught += 1
    assert caught == 14 * 9


@pytest.mark.parametrize("number", [
    format_case_number(date(2026, 11, 25), 42),
    format_case_number(date(2026, 9, 29), 73_519),
])
def test_every_adjacent_transposition_is_caught(number):
    swaps = 0
    for i in range(len(number) - 1):
        if number[i] == number[i + 1]:
            continue
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
        assert not is_valid_case_number(swapped), i
        swaps += 1
    assert swaps >= 5


def test_valid_number_with_surrounding_whitespace_is_accepted():
    number = format_case_number(date(2026, 9, 29), 7)
    assert is_valid_case_number(f"  {number}\n")


@pytest.mark.parametrize("bad", [
    None, "", "   ", "2026112500042",  # 13 digits: the check digit is missing
    "202611250004210",  # 15 digits
    "2026112500042a", "2026-1125-00042-1", "20261125 000421",
])
def test_malformed_numbers_are_invalid(bad):
    assert not is_valid_case_number(bad)


def test_full_width_digits_are_not_a_valid_case_number():
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in format_case_number(date(2026, 11, 25), 42))
    assert full_width == "２０２６１１２５０００４２１"
    assert not is_valid_case_number(full_width)


# --- query codes ----------------------------------------------------------------------------------

def test_alphabet_is_unambiguous():
    assert QUERY_CODE_LENGTH == 6
    assert len(set(QUERY_CODE_ALPHABET)) == len(QUERY_CODE_ALPHABET)
    assert set(QUERY_CODE_ALPHABET) <= set(string.ascii_uppercase + string.digits)
    assert not set("0O1IL") & set(QUERY_CODE_ALPHABET)


def test_new_query_codes_use_only_the_alphabet_and_six_characters():
    codes = [new_query_code() for _ in range(2000)]
    for code in codes:
        assert len(code) == 6
        assert set(code) <= set(QUERY_CODE_ALPHABET)
    assert len(set(codes)) > 1990  # random: 31**6 ≈ 8.9e8 possibilities
    assert set("".join(codes)) == set(QUERY_CODE_ALPHABET)  # every character turns up


@pytest.mark.parametrize(("raw", "expected"), [
    ("abc234", "ABC234"),
    ("  xyz789 \n", "XYZ789"),
    ("ABC234", "ABC234"),
    ("", ""),
    (None, ""),
])
def test_normalise(raw, expected):
    assert normalise_query_code(raw) == expected


SECRET = "test-secret"
NUMBER = format_case_number(date(2026, 9, 29), 42)


def test_hash_is_hex_sha256_and_not_the_code():
    stored = hash_query_code(SECRET, NUMBER, "ABC234")
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert "ABC234" not in stored
    assert hash_query_code(SECRET, NUMBER, "ABC234") == stored  # deterministic


def test_hash_is_keyed_by_secret_and_number():
    stored = hash_query_code(SECRET, NUMBER, "ABC234")
    assert hash_query_code("another-secret", NUMBER, "ABC234") != stored
    other_number = format_case_number(date(2026, 9, 29), 43)
    assert hash_query_code(SECRET, other_number, "ABC234") != stored
    assert hash_query_code(SECRET, NUMBER, "ABC235") != stored


def test_hash_normalises_the_code():
    stored = hash_query_code(SECRET, NUMBER, "ABC234")
    assert hash_query_code(SECRET, NUMBER, "abc234") == stored
    assert hash_query_code(SECRET, NUMBER, " aBc234 ") == stored


def test_query_code_matches():
    code = new_query_code()
    stored = hash_query_code(SECRET, NUMBER, code)
    assert query_code_matches(SECRET, NUMBER, code, stored)
    assert query_code_matches(SECRET, NUMBER, code.lower(), stored)
    assert query_code_matches(SECRET, NUMBER, f" {code.lower()}\t", stored)
    wrong = ("B" if code[0] != "B" else "C") + code[1:]
    assert not query_code_matches(SECRET, NUMBER, wrong, stored)
    assert not query_code_matches("another-secret", NUMBER, code, stored)
    assert not query_code_matches(SECRET, format_case_number(date(2026, 9, 29), 43), code, stored)
    assert not query_code_matches(SECRET, NUMBER, "", stored)
