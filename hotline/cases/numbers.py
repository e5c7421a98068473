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


def format_case_number(day: date, sequence: int) -> str:
    """`YYYYMMDD` + a 5-digit daily sequence + a Damm check digit, e.g. 20261125000421.

    The Damm digit catches every single-digit error and every swap of adjacent digits."""
    if not 0 < sequence < 100_000:
        raise ValueError("daily sequence out of range")
    body = f"{day:%Y%m%d}{sequence:05d}"
    return body + damm.calc_check_digit(body)


def is_valid_case_number(number: str) -> bool:
    number = (number or "").strip()
    # isascii: str.isdigit accepts full-width digits, which no stored number contains.
    return len(number) == 14 and number.isascii() and number.isdigit() and damm.is_valid(number)


# Groups of 4-4-4-2 digits, the way a number is read aloud: "2026 1125 0004 27".
CASE_NUMBER_GROUPS = (4, 4, 4, 2)
_SEPARATORS = re.compile(r"[\s\-_.·]+")


def group_case_number(number: str | None) -> str:
    """A case number as people read it ("2026 1125 0004 27"); anything else is returned unchanged."""
    if not number or len(number) != sum(CASE_NUMBER_GROUPS) or not (number.isascii() and number.isdigit()):
        return number or ""
    groups, start = [], 0
    for size in CASE_NUMBER_GROUPS:
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
