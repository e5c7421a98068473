"""Field rules (DESIGN.md §2 "Numbers, codes, personal data"): phones, credit codes, ID numbers, money,
masking. Pure functions; only flask_babel's lazy_gettext needs an app context, so a bare Flask app."""
from datetime import date
from decimal import Decimal

import flask
import flask_babel
import pytest
from stdnum.cn import ric, uscc

from hotline.cases.validation import (
    MAX_AMOUNT,
    check_amount,
    check_id_number,
    check_not_future,
    check_phone,
    check_uscc,
    mask_id_number,
    mask_phone,
)


@pytest.fixture(autouse=True)
def clean_database():
    """Overrides the suite's autouse database fixture: these tests need no database."""
    yield


@pytest.fixture(scope="module")
def babel_app():
    app = flask.Flask(__name__)
    flask_babel.Babel(app)
    return app


@pytest.fixture(autouse=True)
def app_context(babel_app):
    with babel_app.app_context():
        yield


def with_uscc_check(body: str) -> str:
    assert len(body) == 17
    return body + uscc.calc_check_digit(body)


def with_ric_check(body: str) -> str:
    # stdnum's ric.calc_check_digit expects the full number and ignores its last character.
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


# --- phones ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "139 0000 1111", "+86 139-0000-1111", "13900001111", " 13900001111 ", "8613900001111",
    "008613900001111", "139-0000-1111",
])
def test_mobile_numbers_normalise_to_eleven_digits(raw):
    assert check_phone(raw) == "13900001111"


@pytest.mark.parametrize("raw", ["0412-5551234", "0412 555 1234", "04125551234", "(0412)5551234",
                                 "+86 412 5551234"])
def test_anshan_landline_keeps_its_trunk_zero(raw):
    # Anshan (区号 0412) subscriber numbers have 7 digits; phonenumbers rejects 8-digit ones there.
    assert check_phone(raw) == "04125551234"


def test_beijing_landline():
    assert check_phone("010-12345678") == "01012345678"


def test_foreign_number_is_kept_in_e164():
    assert check_phone("+1 650 253 0000") == "+16502530000"


@pytest.mark.parametrize("raw", [
    "12", "abc", "1390000111",  # 10 digits
    "139000011112",  # 12 digits
    "041285551234",  # 8-digit subscriber number in Anshan
    "12315", "", None,
])
def test_not_a_valid_phone_raises(raw):
    with pytest.raises(ValueError) as excinfo:
        check_phone(raw)
    assert str(excinfo.value)  # a message for the user


# --- unified social credit codes ------------------------------------------------------------------

USCC_BODIES = ["91110000600037341", "91210300MA0Y7K8P2", "12210300000000000", "52210302MJ0000001"]


def test_known_uscc_is_accepted():
    assert check_uscc("91110000600037341L") == "91110000600037341L"


@pytest.mark.parametrize("body", USCC_BODIES)
def test_built_uscc_is_accepted_and_normalised(body):
    code = with_uscc_check(body)
    assert check_uscc(code) == code
    assert check_uscc(f"  {code.lower()} ") == code


@pytest.mark.parametrize("body", USCC_BODIES)
def test_uscc_with_any_wrong_check_character_is_refused(body):
    code = with_uscc_check(body)
    for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if wrong != code[-1]:
            with pytest.raises(ValueError, match="check character"):
                check_uscc(code[:-1] + wrong)


@pytest.mark.parametrize("bad", ["", "9111000060003734", "91110000600037341LL", "9111000060003734IL"])
def test_malformed_uscc_is_refused(bad):
    with pytest.raises(ValueError):
        check_uscc(bad)


def test_uscc_single_substitution_in_the_body_is_caught():
    code = "91110000600037341L"
    changed = code[:10] + ("1" if code[10] != "1" else "2") + code[11:]
    with pytest.raises(ValueError):
        check_uscc(changed)


# --- resident ID numbers --------------------------------------------------------------------------

def test_known_id_number_is_accepted():
    number = with_ric_check("11010519491231002")
    assert number == "11010519491231002X"
    assert check_id_number(number) == number
    assert check_id_number("11010519491231002x") == number  # lower-case x
    assert check_id_number(" 11010519491231002X ") == number


@pytest.mark.parametrize("body", ["21030219900101123", "21030320000229004", "11010519491231003"])
def test_built_id_numbers_are_accepted(body):
    number = with_ric_check(body)
    assert check_id_number(number) == number


@pytest.mark.parametrize("body", ["11010519491231002", "21030219900101123"])
def test_id_number_with_a_wrong_check_character_is_refused(body):
    number = with_ric_check(body)
    for wrong in "0123456789X":
        if wrong != number[-1]:
            with pytest.raises(ValueError):
                check_id_number(number[:-1] + wrong)


@pytest.mark.parametrize("body", [
    "11010519491331002",  # month 13
    "21030319990229004",  # 1999-02-29 does not exist
    "1101051949123100",  # too short
])
def test_id_number_with_impossible_birth_date_or_length_is_refused(body):
    number = with_ric_check(body) if len(body) == 17 else body + "0"
    with pytest.raises(ValueError):
        check_id_number(number)


# --- amounts --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("100", "100.00"),
    ("100.5", "100.50"),
    (Decimal("0.10"), "0.10"),
    ("1,234.50", "1234.50"),
    ("0", "0.00"),
    (100, "100.00"),
    (Decimal("100"), "100.00"),
    ("100000000", "100000000.00"),  # exactly the maximum
    (0.1, "0.10"),  # a float goes through repr, never through its binary value
    (12.34, "12.34"),
    (100.0, "100.00"),
])
def test_amounts_are_accepted_and_quantised(raw, expected):
    amount = check_amount(raw)
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected)
    assert str(amount) == expected
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize("raw", [
    "-1", "-0.01", "12.345", "0.001", "abc", "", None, "12.3.4", "NaN", "-NaN", "sNaN", "Infinity",
    "-Infinity", "inf", True, False, "100000000.01", "1e9", Decimal("1E+8") + 1,
    float("nan"), float("inf"), 0.1 + 0.2, 1e-7, 1e20,
    # issue #12 item 9: ASCII digits, an optional "." and at most two decimals, nothing Decimal also reads
    " 7 ", "1E+8", "1e3", "1_000", "١٢٣", "１２３", " 12", "+5", "12.", ".5", "-0", Decimal("-0.00"), [], {},
])
def test_bad_amounts_are_refused(raw):
    with pytest.raises(ValueError) as excinfo:
        check_amount(raw)
    assert str(excinfo.value)


def test_max_amount_is_one_hundred_million_yuan():
    assert MAX_AMOUNT == Decimal("1e8")


def test_zero_comes_back_as_plain_zero():
    assert str(check_amount("0")) == "0.00"
    assert str(check_amount(Decimal("0.00"))) == "0.00"


# --- dates ----------------------------------------------------------------------------------------

def test_check_not_future():
    today = date(2026, 9, 29)
    assert check_not_future(today, today) == today
    assert check_not_future(date(2026, 9, 28), today) == date(2026, 9, 28)
    with pytest.raises(ValueError):
        check_not_future(date(2026, 9, 30), today)


# --- masking --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"),
    ("04125551234", "041****1234"),
    ("01012345678", "010****5678"),
    ("+16502530000", "+16*****0000"),
    ("12345678", "123*5678"),
    ("1234567", "12*****"),
    ("12315", "12***"),
    ("", ""),
    (None, None),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_masked_mobile_keeps_length_and_hides_the_middle():
    masked = mask_phone("13900001111")
    assert len(masked) == 11
    assert "0000" not in masked


def test_mask_id_number():
    assert mask_id_number("002X") == "**************002X"
    assert len(mask_id_number("1234")) == 18
    assert mask_id_number(None) is None
    assert mask_id_number("") is None
