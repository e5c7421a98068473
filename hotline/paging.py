"""Page numbers from the query string, and the query string a pager link keeps."""
from flask import abort, request

# url_for's own parameters: a query string must not be able to set them (a 500 otherwise).
_RESERVED = ("endpoint", "values", "method", "external", "anchor", "scheme")

# The deepest page a list opens, as in the API (hotline/api/cases.py): an OFFSET deeper than this reads
# and throws away millions of rows; past it, filters narrow the list. Pager links never go beyond it
# (Page.pages in hotline/cases/queries.py stops there).
MAX_PAGE = 100_000


def page_number() -> int:
    """`?page=` as a page number from 1 to MAX_PAGE; absent or empty is page 1. Anything else (0, -3,
    abc, 2.5, ², a number of twenty digits) is a 400: a link that asks for a page that cannot exist is
    wrong, and silently showing page 1 instead hid it (issue #12 item 8). A page past the end of the
    list, but within the bound, still shows the last page (a stale link after cases closed)."""
    value = request.args.get("page", "").strip()
    if not value:
        return 1
    # isascii/isdigit first: int() takes "١٢", "1_000" and " +5"; len first: int() of thousands of digits raises
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_PAGE))) \
            or not 1 <= int(value) <= MAX_PAGE:
        abort(400)
    return int(value)


def pager_query(page: int) -> dict[str, str]:
    """The current filters with another page, safe to pass to url_for."""
    query = {k: v for k, v in request.args.items() if k not in _RESERVED and not k.startswith("_")}
    query["page"] = str(page)
    return query
