"""Case numbers and query codes: pure functions, no database."""
import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import date

from stdnum import damm

# No 0/O, 1/I/L: a query code is read out over the phone and typed from an SMS.
QUERY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
QUERY_CODE_LENGTH = 6


# A day's first 99,999 cases keep the 14-digit form every number issued so far has; a busier day (a
# provincial centre, a wave after a scandal) goes on with a 7-digit sequence, 16 digits in all, which
# still fits case.number (String(16)). The two lengths never collide: a 16-digit number's sequence is
# at least 100,000, so its ninth and tenth digits are never both 0.
SHORT_SEQUENCE, LONG_SEQUENCE = 5, 7
MAX_SEQUENCE = 10**LONG_SEQUENCE - 1
CASE_NUMBER_LENGTHS = (8 + SHORT_SEQUENCE + 1, 8 + LONG_SEQUENCE + 1)  # 14 and 16


def format_case_number(day: date, sequence: int) -> str:
    """`YYYYMMDD` + the daily sequence + a Damm check digit, e.g. 20261125000421; the sequence has 5
    digits up to 99,999 and 7 digits from 100,000 (2026112501234567).

    The Damm digit catches every single-digit error and every swap of adjacent digits."""
    if not 0 < sequence <= MAX_SEQUENCE:
        raise ValueError("daily sequence out of range")
    width = SHORT_SEQUENCE if sequence < 10**SHORT_SEQUENCE else LONG_SEQUENCE
    body = f"{day:%Y%m%d}{sequence:0{width}d}"
    return body + damm.calc_check_digit(body)


def is_valid_case_number(number: str) -> bool:
    number = (number or "").strip()
    # isascii: str.isdigit accepts full-width digits, which no stored number contains.
    if len(number) not in CASE_NUMBER_LENGTHS or not (number.isascii() and number.isdigit()):
        return False
    if len(number) == CASE_NUMBER_LENGTHS[1] and number[8:10] == "00":
        return False  # a sequence below 100,000 is only ever written with 5 digits
    return damm.is_valid(number)


# Groups of 4 digits, the way a number is read aloud: "2026 1125 0004 27", "2026 1125 0123 4567".
CASE_NUMBER_GROUPS = {14: (4, 4, 4, 2), 16: (4, 4, 4, 4)}
_SEPARATORS = re.compile(r"[\s\-_.·]+")


def group_case_number(number: str | None) -> str:
    """A case number as people read it ("2026 1125 0004 27"); anything else is returned unchanged."""
    sizes = CASE_NUMBER_GROUPS.get(len(number or ""))
    if not sizes or not (number.isascii() and number.isdigit()):
        return number or ""
    groups, start = [], 0
    for size in sizes:
        groups.append(number[start:start + size])
        start += size
    return " ".join(groups)


def normalise_case_number(text: str | None) -> str:
    """What staff type or paste back into a number: full-width digits (a CJK input method) become
    ASCII, and spaces, hyphens and dots between groups are dropped. Not checked here."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def normalise_query_code(code: str) -> str:
    return (code or "").strip().upper()


def hash_query_code(secret: str, number: str, code: str) -> str:
    """Keyed hash: a leaked table alone cannot be brute-forced over the small code space."""
    message = f"{number}:{normalise_query_code(code)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def query_code_matches(secret: str, number: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_query_code(secret, number, code), stored_hash)
