"""One business across the spellings callers give: its unified social credit code (USCC) where given,
else its name with width, case, spaces and punctuation taken out. Stored on the case when it is
written, so that statistics and disclosure (Order 121 art. 38) group by it without recomputing."""
import re
import unicodedata

from sqlalchemy import event

_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)
LENGTH = 80


def business_key(uscc: str | None, name: str | None) -> str | None:
    if uscc and uscc.strip():
        return ("u:" + uscc.strip().upper())[:LENGTH]
    norm = _PUNCTUATION.sub("", unicodedata.normalize("NFKC", name or "")).lower()
    return ("n:" + norm)[:LENGTH] if norm else None


def _keep_key(_mapper, _connection, case) -> None:
    case.business_key = business_key(case.business_uscc, case.business_name)


def listen(case_class) -> None:
    event.listen(case_class, "before_insert", _keep_key)
    event.listen(case_class, "before_update", _keep_key)
