"""Field rules shared by the API and the pages: phones, credit codes, ID numbers, money, dates.

Each `check_*` returns the normalised value or raises ValueError with a message for the user."""
import re
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers
from flask_babel import lazy_gettext as _l
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

# Yuan as people write them: ASCII digits, optionally grouped by thousands (1,234.50; never 1,0,0), and an
# optional "." with decimals. re.ASCII: \d would otherwise match other scripts' digits (١٢٣).
AMOUNT = re.compile(r"(?P<whole>\d+|\d{1,3}(?:,\d{3})+)(?:\.(?P<fraction>\d+))?", re.ASCII)
MAX_AMOUNT = Decimal("100000000.00")  # 1亿元: beyond this an amount is a typing error


def is_storable_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no lone surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_phone(value: str) -> str:
    """A Chinese phone number → national significant digits (13900001111, 041212345678)."""
    raw = (value or "").strip().replace(" ", "").replace("-", "")
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError(str(_l("not a phone number"))) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(str(_l("not a valid phone number")))
    national = str(parsed.national_number)
    if parsed.country_code != 86:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return national if len(national) == 11 and national.startswith("1") else "0" + national


def check_uscc(value: str) -> str:
    """统一社会信用代码 (GB 32100-2015), 18 characters with a check character."""
    try:
        return uscc.validate(value.strip().upper())
    except ValidationError:
        raise ValueError(str(_l("not a valid unified social credit code (check character wrong)"))) from None


def check_id_number(value: str) -> str:
    """居民身份证号码, 18 characters with a check character and a real birth date."""
    try:
        return ric.validate(value.strip().upper())
    except ValidationError:
        raise ValueError(str(_l("not a valid resident ID number"))) from None


def check_amount(value) -> Decimal:
    """Yuan: ASCII digits, an optional "." and at most two decimal places, nothing else. Python's Decimal
    would also read "1_000", "١٢٣", "1e3", " 12" and "+5"; none of them is how an amount is written, so
    each is refused rather than guessed at. Floats are read through repr (they cannot hold 0.1 exactly)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(str(_l("not an amount of money")))
    text = repr(value) if isinstance(value, float) else str(value)
    if text.startswith("-") and AMOUNT.fullmatch(text[1:]):
        raise ValueError(str(_l("must be zero or more")))
    match = AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(str(_l("not an amount of money")))
    if len(match["fraction"] or "") > 2:
        raise ValueError(str(_l("at most two decimal places")))
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:  # cannot happen for text the pattern matched; kept so no input can raise
        raise ValueError(str(_l("not an amount of money"))) from None
    if amount > MAX_AMOUNT:
        raise ValueError(str(_l("too large")))
    return amount.quantize(Decimal("0.01"))


def check_not_future(value: date, today: date) -> date:
    if value > today:
        raise ValueError(str(_l("cannot be in the future")))
    return value


def mask_phone(phone: str | None) -> str | None:
    """138****5678: enough for a caller to recognise, not enough to call."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return phone[:2] + "*" * (len(phone) - 2)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str | None) -> str | None:
    """张** : a named reporter's identity is for the handling bureau and the centre only."""
    return name if not name else name[0] + "*" * max(1, len(name) - 1)


def mask_id_number(tail: str | None) -> str | None:
    return None if not tail else "*" * 14 + tail
