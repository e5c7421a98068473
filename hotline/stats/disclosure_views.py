"""投诉公示, the public pages (no log-in): the searchable list of disclosed businesses and one business's
figures over the last 12 months (Order 121 art. 38). Business figures only: nothing about consumers."""
from flask import Blueprint, abort, render_template, request

from hotline.extensions import db
from hotline.paging import page_number
from hotline.stats import disclosure
from hotline.stats.models import DisclosureRule

bp = Blueprint("disclosure", __name__, url_prefix="/disclosure")
PER_PAGE = 30
QUERY_LENGTH = 100


def _rule_ready():
    """The rule, its default row kept once created (the first visit makes it; later visits only read)."""
    created = db.session.get(DisclosureRule, disclosure.RULE_ID) is None
    current = disclosure.rule()
    if created:
        db.session.commit()
    return current


@bp.get("")
def index():
    _rule_ready()
    q = request.args.get("q", "").strip()[:QUERY_LENGTH]
    result = disclosure.listing(q or None, page_number(), PER_PAGE)
    return render_template("public/disclosure.html", result=result, q=q)


@bp.get("/<path:key>")
def business(key: str):
    _rule_ready()
    found = disclosure.business(key)
    if found is None:
        abort(404)  # below the threshold, excluded, or the rule is off: not public
    return render_template("public/disclosure_business.html", business=found, months=disclosure.window(),
                           by_month=disclosure.by_month(key), rule=disclosure.rule())
