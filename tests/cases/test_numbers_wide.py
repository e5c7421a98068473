"""Issue #12 item 6: a day's sequence past 99,999 (a provincial centre, a wave after a scandal) goes on
with 7 digits (16 in all, grouped 4-4-4-4) instead of stopping intake with a 500; every number issued
before keeps its 14 digits and stays valid, and the Damm check digit guards both forms."""
import string
from datetime import date

import pytest
from stdnum import damm

from hotline.cases.numbers import (
    format_case_number,
    group_case_number,
    is_valid_case_number,
    normalise_case_number,
)

DAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def clean_database():
    """Overrides the suite's autouse database fixture: the pure tests need no database."""
    yield


@pytest.mark.parametrize(("sequence", "expected"), [
    (1, "2026112500001"), (99_999, "2026112599999"), (100_000, "202611250100000"),
    (1_234_567, "202611251234567"), (9_999_999, "202611259999999")])
def test_the_sequence_widens_to_seven_digits_from_100000(sequence, expected):
    number = format_case_number(DAY, sequence)
    assert number == expected + damm.calc_check_digit(expected)
    assert is_valid_case_number(number)


def test_numbers_issued_before_keep_their_form():
    assert format_case_number(DAY, 42) == "20261125000421"  # the docstring's example, unchanged
    assert is_valid_case_number("20261125000421")


def test_a_sixteen_digit_number_never_carries_a_short_sequence():
    """"2026112500000421" would be a second spelling of sequence 42: refused, so each case has one number."""
    body = "202611250000042"
    assert not is_valid_case_number(body + damm.calc_check_digit(body))


@pytest.mark.parametrize("number", [format_case_number(DAY, 100_000), format_case_number(DAY, 7_654_321)])
def test_the_check_digit_catches_slips_in_long_numbers(number):
    for i, original in enumerate(number):
        for digit in string.digits:
            if digit != original:
                assert not is_valid_case_number(number[:i] + digit + number[i + 1:]), (i, digit)
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            assert not is_valid_case_number(number[:i] + number[i + 1] + number[i] + number[i + 2:]), i


def test_long_numbers_are_grouped_and_read_back():
    number = format_case_number(DAY, 1_234_567)
    grouped = group_case_number(number)
    assert grouped == f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    assert [len(g) for g in grouped.split()] == [4, 4, 4, 4]
    assert normalise_case_number(grouped.replace(" ", "-")) == number
    full_width = grouped.translate(str.maketrans("0123456789 ", "０１２３４５６７８９\u3000"))
    assert normalise_case_number(full_width) == number
    assert group_case_number("202611250004210") == "202611250004210"  # 15 digits: not a number, left alone


@pytest.mark.parametrize("length", [13, 15, 17])
def test_other_lengths_are_not_case_numbers(length):
    assert not is_valid_case_number(format_case_number(DAY, 1_234_567)[:length].ljust(length, "0"))
