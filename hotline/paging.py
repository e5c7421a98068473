"""Page numbers from the query string, and the query string a pager link keeps."""
from flask import request

# url_for's own parameters: a query string must not be able to set them (a 500 otherwise).
_RESERVED = ("endpoint", "values", "method", "external", "anchor", "scheme")


def page_number() -> int:
    """`?page=` as a page number: anything that is not one reads as page 1 (the list clamps the top)."""
    value = request.args.get("page", "1").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 and int(value) > 0 else 1


def pager_query(page: int) -> dict[str, str]:
    """The current filters with another page, safe to pass to url_for."""
    query = {k: v for k, v in request.args.items() if k not in _RESERVED and not k.startswith("_")}
    query["page"] = str(page)
    return query
