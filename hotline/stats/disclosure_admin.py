"""The disclosure rule's page (投诉公示设置, Order 121 art. 38): the threshold, on or off, and the businesses
kept off the public pages with the reason. Administrators change it; supervisors may read it (they publish
consumer alerts and answer for what the public pages say), so the page shows them the rule without forms."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from hotline.auth.views import roles_required
from hotline.extensions import db
from hotline.stats import disclosure
from hotline.stats.disclosure import DisclosureInputError

bp = Blueprint("disclosure_admin", __name__, url_prefix="/manage/disclosure")
FIELDS = {"threshold": _l("Threshold"), "business": _l("Business"), "reason": _l("Reason")}
TOP = 20


def _page(errors: dict[str, str] | None = None, status: int = 200):
    current = disclosure.rule()
    excluded = disclosure.exclusions()
    excluded_keys = {row.business_key for row in excluded}
    months = disclosure.window()
    return render_template(
        "stats/disclosure_admin.html", rule=current, exclusions=excluded, excluded_keys=excluded_keys,
        candidates=disclosure.candidates(TOP), months=months, errors=errors or {}, fields=FIELDS,
        values=request.form if errors else {}, can_edit=current_user.role == "admin"), status


@bp.get("")
@roles_required("admin", "supervisor")
def settings():
    page = _page()
    db.session.commit()  # the rule's default row, if this was the first look
    return page


def _threshold() -> int:
    raw = request.form.get("threshold", "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) < 6):
        low, high = disclosure.THRESHOLD_RANGE
        raise DisclosureInputError("threshold", _("must be a whole number from %(low)s to %(high)s", low=low,
                                                  high=high))
    return int(raw)


@bp.post("")
@roles_required("admin", "supervisor")
def change():
    if current_user.role != "admin":
        abort(403)  # supervisors read the rule; administrators keep it
    action = request.form.get("action", "")
    try:
        if action == "rule":
            disclosure.save_rule(_threshold(), request.form.get("enabled") == "on", current_user.username)
            message = _("The disclosure rule is saved.")
        elif action == "exclude":
            key = disclosure.key_for(request.form.get("business", ""))
            row = disclosure.exclude(key, request.form.get("reason", ""), current_user.username)
            message = _("%(name)s is kept off the public pages.", name=row.business_name or row.business_key)
        elif action == "include":
            key = request.form.get("business", "")
            if not disclosure.include(key, current_user.username):
                raise DisclosureInputError("business", _("this business is not excluded"))
            message = _("The exclusion is lifted.")
        else:
            abort(400)
    except DisclosureInputError as exc:
        db.session.rollback()
        return _page({exc.field: exc.message}, 422)
    db.session.commit()
    flash(message, "ok")
    return redirect(url_for("disclosure_admin.settings"))
