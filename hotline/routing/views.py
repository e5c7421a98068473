"""The routing-rules admin page: the rules in order, edit and add them, and try an address."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.auth.views import roles_required
from hotline.extensions import db
from hotline.reference.models import Bureau, RoutingRule
from hotline.routing.operations import decide_for, forget_cached_rules

bp = Blueprint("routing", __name__, url_prefix="/admin/routing")
MATCHES = ("keyword", "division", "category", "kind")


class _Probe:
    """The facts routing reads, for trying an address without a case."""
    kind = "complaint"
    business_platform = category_goods = category_service = category_issue = None

    def __init__(self, address: str, platform: str | None):
        self.business_address, self.business_platform = address or None, platform or None


def _rule_from_form(rule: RoutingRule) -> dict[str, str]:
    errors = {}
    try:
        rule.position = int(request.form.get("position", ""))
    except ValueError:
        errors["position"] = _("must be a whole number")
    rule.match = request.form.get("match", "")
    if rule.match not in MATCHES:
        errors["match"] = _("must be one of the listed values")
    rule.value = request.form.get("value", "").strip()[:128]
    if not rule.value:
        errors["value"] = _("required")
    bureau = db.session.scalar(select(Bureau).where(Bureau.code == request.form.get("bureau", "")))
    if bureau is None:
        errors["bureau"] = _("no such bureau")
    else:
        rule.bureau = bureau
    rule.note = request.form.get("note", "").strip()[:255] or None
    rule.active = request.form.get("active") == "on"
    return errors


@bp.get("")
@roles_required("admin", "supervisor")
def rules():
    rules = db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)).all()
    bureaus = db.session.scalars(select(Bureau).order_by(Bureau.id)).all()
    address, platform = request.args.get("address", ""), request.args.get("platform", "")
    decision = decide_for(_Probe(address, platform)) if (address or platform) else None
    return render_template("routing/rules.html", rules=rules, bureaus=bureaus, matches=MATCHES, decision=decision,
                           address=address, platform=platform, can_edit=current_user.role == "admin")


@bp.post("/<int:rule_id>")
@bp.post("/new", defaults={"rule_id": None})
@roles_required("admin")
def save(rule_id: int | None):
    rule = db.session.get(RoutingRule, rule_id) if rule_id else RoutingRule()
    if rule is None:
        abort(404)
    errors = _rule_from_form(rule)
    if errors:
        db.session.rollback()
        flash("; ".join(f"{k}: {v}" for k, v in errors.items()), "error")
    else:
        db.session.add(rule)
        db.session.commit()
        forget_cached_rules()
        flash(_("Routing rule saved."), "ok")
    return redirect(url_for("routing.rules"))
