"""Case pages: the list, the bureau inbox, the triage queue, one case with its timeline and the
action forms for what the user may do next."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hotline.auth.models import ROLES, User
from hotline.auth.views import roles_required
from hotline.cases import extension_requests, flags, identity, queries, workflow
from hotline.cases.access import may_see_personal_data
from hotline.cases.actions import (
    ActionForbidden,
    ActionRefused,
    NeedsConfirmation,
    next_steps_message,
    offered_actions,
    parse_action,
    take_action,
)
from hotline.cases.operations import reveal_personal_data
from hotline.cases.schemas import CHANNELS, KINDS, FieldErrors
from hotline.cases.serialise import case_detail
from hotline.deadlines import operations as clocks
from hotline.extensions import db
from hotline.labels import label
from hotline.paging import page_number
from hotline.reference.models import Bureau
from hotline.reference.queries import grounds_for
from hotline.types import utcnow

bp = Blueprint("cases", __name__)


@bp.get("/cases")
@roles_required(*ROLES)
def index():
    filters = {name: request.args.get(name, "").strip() for name in queries.FILTERS}
    result = queries.list_cases(current_user, {k: v for k, v in filters.items() if v}, page_number(),
                                current_app.config["PER_PAGE"])
    bureaus = db.session.scalars(select(Bureau).order_by(Bureau.id)).all()
    return render_template("cases/index.html", result=result, filters=filters, statuses=workflow.STATUSES,
                           kinds=KINDS, channels=CHANNELS, bureaus=bureaus)


@bp.get("/inbox")
@roles_required("bureau")
def inbox():
    """分局待办: the bureau's open cases, the one due first on top."""
    filters = {name: request.args.get(name, "").strip() for name in ("status", "kind", "mine", "overdue")}
    result = queries.inbox(current_user, {k: v for k, v in filters.items() if v}, page_number(),
                           current_app.config["PER_PAGE"])
    return render_template("cases/inbox.html", result=result, filters=filters, now=utcnow(),
                           counts=queries.open_counts(current_user), statuses=workflow.OPEN_STATUSES, kinds=KINDS)


@bp.get("/triage")
@roles_required("supervisor", "admin")
def triage():
    """待分派: what routing could not place, with the reason, assigned to a bureau in one step."""
    bureaus = db.session.scalars(select(Bureau).where(Bureau.active).order_by(Bureau.id)).all()
    result = queries.triage_queue(page_number(), current_app.config["PER_PAGE"])
    return render_template("cases/triage.html", rows=result.items, result=result, bureaus=bureaus, now=utcnow(),
                           returns=queries.returns_by_bureau())


@bp.get("/cases/<number>")
@roles_required(*ROLES)
def show(number: str, revealed: dict | None = None):
    case = queries.case_for(current_user, number)
    if case is None:
        abort(404)
    if number != case.number and revealed is None:  # typed as read aloud ("2026 1125 0004 27"): one address
        return redirect(url_for("cases.show", number=case.number))
    return _render_case(case, revealed=revealed)


def _render_case(case, revealed: dict | None = None, posted: dict | None = None, errors: dict | None = None,
                 confirm_needed: bool = False):
    """The case page; after a refused action, with the form as it was posted and its errors."""
    actions = offered_actions(case, current_user)
    # only the grounds of the case's own rulebook version (Order 20 before 2026-04-15, Order 121 from then)
    grounds = {purpose: grounds_for(case, purpose) for purpose in {t.ground for t in actions if t.ground}}
    bureaus = db.session.scalars(select(Bureau).where(Bureau.active).order_by(Bureau.id)).all()
    handlers = db.session.scalars(select(User).where(User.role == "bureau", User.bureau_id == case.bureau_id,
                                                     User.active).order_by(User.display_name)).all() \
        if case.bureau_id else []
    running = extension_requests.running_verification(case.id) if case.kind == "report" else None
    return render_template("cases/show.html", case=case, detail=case_detail(case, current_user), actions=actions,
                           grounds=grounds, bureaus=bureaus, handlers=handlers, revealed=revealed,
                           may_reveal=may_see_personal_data(current_user, case), clocks=clocks.clocks_of(case.id),
                           extension_days=clocks.extension_length(running) if running else None,
                           extension_request=extension_requests.pending_request(case.id),
                           posted=posted or {}, errors=errors or {}, confirm_needed=confirm_needed, now=utcnow(),
                           case_flags=flags.flags_for(case, current_user),
                           identity_grounds=identity.suggested_grounds(case.identity_check, grounds))


@bp.post("/cases/<number>/reveal")
@roles_required("bureau", "supervisor", "admin")
def reveal(number: str):
    """Show the caller's phone and ID number unmasked, once, and log that it was seen."""
    case = queries.case_for(current_user, number)
    if case is None:
        abort(404)
    if not may_see_personal_data(current_user, case):
        abort(403)
    revealed = reveal_personal_data(case, current_user)
    db.session.commit()
    return show(number, revealed=revealed)


def _action_form(form) -> dict:
    """The posted form as the action's input: empty fields dropped, checkboxes as true/false."""
    data = {k: v for k, v in form.to_dict().items() if k not in ("csrf_token", "next") and v not in ("", None)}
    if "version" in data:
        # not a whole number ("²", "1e3"): left as text, so the action is refused with 422, never run unchecked
        data["version"] = int(data["version"]) if data["version"].isascii() and data["version"].isdigit() \
            and len(data["version"]) < 10 else data["version"]
    data["confirm"] = data.get("confirm") in ("1", "on", "true")
    return data


@bp.post("/cases/<number>/actions")
@roles_required(*ROLES)
def act(number: str):
    case = queries.case_for(current_user, number)
    if case is None:
        abort(404)
    form = _action_form(request.form)
    errors, confirm_needed, status = {}, False, 200
    try:
        if form.get("action") == "withdraw" and not form["confirm"]:
            # Withdrawing ends the case on the consumer's word: the page asks first, naming the case.
            raise FieldErrors({"confirm": _("tick the box to confirm which case is withdrawn")})
        taken = take_action(case, current_user, parse_action(form))
        message = next_steps_message(taken)
        db.session.commit()
        flash(message, "ok")
    except NeedsConfirmation as exc:
        errors, confirm_needed, status = exc.fields, True, 422
    except FieldErrors as exc:
        errors, status = exc.fields, 422
    except ActionRefused as exc:  # ActionForbidden (the role may not take it) is 403, the status's refusal 409
        errors, status = {"": str(exc)}, 403 if isinstance(exc, ActionForbidden) else 409
    except StaleDataError:
        errors, status = {"": _("Someone else changed this case meanwhile; here it is as it is now.")}, 409
    if errors:
        db.session.rollback()
        flash("; ".join(f"{label(k)}: {v}" if k else v for k, v in errors.items()), "error")
        return _render_case(case, posted=request.form.to_dict(), errors=errors, confirm_needed=confirm_needed), status
    if request.form.get("next") == "triage" and current_user.role in ("supervisor", "admin"):
        return redirect(url_for("cases.triage"))
    if request.form.get("next") == "extensions" and current_user.role in ("supervisor", "admin"):
        return redirect(url_for("cases.extensions"))
    if queries.case_for(current_user, number) is None:
        # Returned to the centre: the case is no longer this bureau's, so its page would be a 404.
        return redirect(url_for("cases.inbox" if current_user.role == "bureau" else "cases.index"))
    return redirect(url_for("cases.show", number=number))


@bp.get("/extensions")
@roles_required("supervisor", "admin")
def extensions():
    """延期审批: handlers' extension requests waiting for a supervisor's decision, oldest first."""
    page, rows = extension_requests.pending_page(page_number(), current_app.config["PER_PAGE"])
    return render_template("cases/extensions.html", page=page, rows=rows)
