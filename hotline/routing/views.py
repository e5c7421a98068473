"""The routing-rules admin page: the rules in order, edit and add them, and try an address.
Supervisors and administrators keep the rules (README: the centre keeps the routing rules)."""
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from hotline.auth.views import roles_required
from hotline.cases.schemas import KINDS
from hotline.extensions import db
from hotline.labels import label
from hotline.reference.models import Bureau, Category, Division, RoutingRule
from hotline.routing.operations import decide_for, forget_cached_rules
from hotline.routing.rules import parse_label

audit = logging.getLogger("hotline.audit")
bp = Blueprint("routing", __name__, url_prefix="/admin/routing")
KEEPERS = ("supervisor", "admin")
MATCHES = {"keyword": _l("address keyword"), "division": _l("administrative division"),
           "category": _l("category"), "kind": _l("case type")}
# The rules table's column names, also used to name a field in an error message.
FIELDS = {"position": _l("Order"), "match": _l("Match"), "value": _l("Value"), "bureau": _l("Bureau")}
MAX_POSITION = 1_000_000


class _Probe:
    """The facts routing reads, for trying an address without a case."""
    kind = "complaint"
    business_platform = category_goods = category_service = category_issue = None
    business_name = business_shop = rulebook_version = None
    events = ()

    def __init__(self, address: str, platform: str | None):
        self.business_address, self.business_platform = address or None, platform or None


def value_name(match: str, value: str) -> str:
    """A rule's value as people read it: the division's or category's name, the case type."""
    if match == "division":
        division = db.session.get(Division, value)
        return division.name if division else value
    if match == "category":
        category = db.session.scalar(select(Category).where(Category.code == value).limit(1))
        return category.name if category else value
    if match == "kind":
        return label(value)
    return value


def describe_rule(rule_label: str | None) -> str:
    """"#1010 division=210303" → "规则 #1010：行政区划 = 铁东区"; other decisions by their label."""
    parts = parse_label(rule_label)
    if parts is None:
        return label((rule_label or "").split(":")[0])
    position, match, value = parts
    return _("rule #%(position)s: %(match)s = %(value)s", position=position, match=MATCHES.get(match, match),
             value=value_name(match, value))


def _rule_from_form(rule: RoutingRule) -> dict[str, str]:
    # The look-ups below would autoflush the half-filled rule: nothing is written until every check passed.
    with db.session.no_autoflush:
        return _check_rule_form(rule)


def _check_rule_form(rule: RoutingRule) -> dict[str, str]:
    errors = {}
    position = request.form.get("position", "").strip()
    # len first: int() of thousands of digits raises (Python's limit on long integer strings), issue #12
    if position.isascii() and position.isdigit() and len(position) <= 7 and int(position) <= MAX_POSITION:
        rule.position = int(position)
    else:
        errors["position"] = _("must be a whole number from 0 to %(max)s", max=MAX_POSITION)
    match = request.form.get("match", "")
    if match in MATCHES:
        rule.match = match
    else:
        errors["match"] = _("must be one of the listed values")
    rule.value = request.form.get("value", "").strip()[:128]
    if not rule.value:
        errors["value"] = _("required")
    elif rule.match == "division" and not db.session.scalar(
            select(Division.code).where(Division.code.startswith(rule.value, autoescape=True)).limit(1)):
        errors["value"] = _("no division has a code starting with %(value)s", value=rule.value)
    elif rule.match == "category" and not db.session.scalar(
            select(Category.id).where(Category.code.startswith(rule.value, autoescape=True)).limit(1)):
        errors["value"] = _("no category has a code starting with %(value)s", value=rule.value)
    elif rule.match == "kind" and rule.value not in KINDS:
        errors["value"] = _("must be one of: %(kinds)s", kinds=", ".join(f"{k} ({label(k)})" for k in KINDS))
    bureau = db.session.scalar(select(Bureau).where(Bureau.code == request.form.get("bureau", "")))
    if bureau is None:
        errors["bureau"] = _("no such bureau")
    else:
        rule.bureau = bureau
    rule.note = request.form.get("note", "").strip()[:255] or None
    rule.active = request.form.get("active") == "on"
    return errors


def _page(errors: dict[str, str] | None = None, failed: str | None = None, status: int = 200):
    rules = db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)).all()
    bureaus = db.session.scalars(select(Bureau).order_by(Bureau.id)).all()
    address, platform = request.args.get("address", "").strip()[:255], request.args.get("platform", "").strip()[:64]
    decision = decide_for(_Probe(address, platform)) if (address or platform) else None
    bureau_names = {b.code: b.short_name for b in bureaus}
    return render_template(
        "routing/rules.html", rules=rules, bureaus=bureaus, matches=MATCHES, decision=decision, address=address,
        platform=platform, decided_bureau=bureau_names.get(decision.bureau_code) if decision else None,
        decided_rule=describe_rule(decision.rule) if decision else None, value_name=value_name,
        errors=errors or {}, fields=FIELDS, failed=failed, values=request.form if failed else {}), status


@bp.get("")
@roles_required(*KEEPERS)
def rules():
    return _page()


@bp.post("/<int:rule_id>")
@bp.post("/new", defaults={"rule_id": None})
@roles_required(*KEEPERS)
def save(rule_id: int | None):
    rule = db.session.get(RoutingRule, rule_id) if rule_id and rule_id < 2**31 else None if rule_id else RoutingRule()
    if rule is None:
        abort(404)
    errors = _rule_from_form(rule)
    if errors:
        db.session.rollback()
        # Field names as the table heads read ("顺序: 必须是整数"), and the row keeps what was typed.
        flash("; ".join(f"{FIELDS[k]}: {v}" for k, v in errors.items()), "error")
        return _page(errors, failed=str(rule_id or "new"), status=422)
    db.session.add(rule)
    db.session.commit()
    audit.info("routing rule #%s saved by user %s: %s %s → %s (active %s)", rule.id, current_user.id, rule.match,
               rule.value, rule.bureau.code, rule.active)
    forget_cached_rules()
    flash(_("Routing rule saved."), "ok")
    return redirect(url_for("routing.rules"))
