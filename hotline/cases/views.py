"""Case pages: the list, the bureau inbox, the triage queue, one case with its timeline and the
action forms for what the user may do next."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hotline.auth.models import ROLES, User
from hotline.auth.views import roles_required
from hotline.cases import queries, workflow
from hotline.cases.access import may_see_personal_data
from hotline.cases.actions import ActionRefused, parse_action, take_action
from hotline.cases.operations import reveal_personal_data
from hotline.cases.schemas import CHANNELS, KINDS, FieldErrors
from hotline.cases.serialise import case_detail
from hotline.extensions import db
from hotline.labels import label
from hotline.reference.models import Bureau, StatutoryGround
from hotline.types import utcnow

bp = Blueprint("cases", __name__)


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.get("/cases")
@roles_required(*ROLES)
def index():
    filters = {name: request.args.get(name, "").strip() for name in queries.FILTERS}
    result = queries.list_cases(current_user, {k: v for k, v in filters.items() if v}, _page(),
                                current_app.config["PER_PAGE"])
    bureaus = db.session.scalars(select(Bureau).order_by(Bureau.id)).all()
    return render_template("cases/index.html", result=result, filters=filters, statuses=workflow.STATUSES,
                           kinds=KINDS, channels=CHANNELS, bureaus=bureaus)


@bp.get("/inbox")
@roles_required("bureau")
def inbox():
    """分局待办: the bureau's open cases, the one due first on top."""
    filters = {name: request.args.get(name, "").strip() for name in ("status", "kind", "mine", "overdue")}
    rows, total = queries.inbox(current_user, {k: v for k, v in filters.items() if v}, _page(),
                                current_app.config["PER_PAGE"])
    return render_template("cases/inbox.html", rows=rows, total=total, filters=filters, now=utcnow(),
                           counts=queries.open_counts(current_user), statuses=workflow.OPEN_STATUSES, kinds=KINDS)


@bp.get("/triage")
@roles_required("supervisor", "admin")
def triage():
    """待分派: what routing could not place, with the reason, assigned to a bureau in one step."""
    bureaus = db.session.scalars(select(Bureau).where(Bureau.active).order_by(Bureau.id)).all()
    return render_template("cases/triage.html", rows=queries.triage_queue(), bureaus=bureaus, now=utcnow(),
                           returns=queries.returns_by_bureau())


@bp.get("/cases/<number>")
@roles_required(*ROLES)
def show(number: str, revealed: dict | None = None):
    case = queries.case_for(current_user, number)
    if case is None:
        abort(404)
    actions = [t for t in workflow.actions_for(case.kind, case.status, current_user.role)
               if current_user.role != "bureau" or case.bureau_id == current_user.bureau_id]
    if case.assignment_final:
        actions = [t for t in actions if t.action != "return_to_centre"]
    grounds = {purpose: db.session.scalars(select(StatutoryGround).where(StatutoryGround.purpose == purpose,
                                                                         StatutoryGround.active)
                                           .order_by(StatutoryGround.code)).all()
               for purpose in {t.ground for t in actions if t.ground}}
    bureaus = db.session.scalars(select(Bureau).where(Bureau.active).order_by(Bureau.id)).all()
    handlers = db.session.scalars(select(User).where(User.role == "bureau", User.bureau_id == case.bureau_id,
                                                     User.active).order_by(User.display_name)).all() \
        if case.bureau_id else []
    return render_template("cases/show.html", case=case, detail=case_detail(case, current_user), actions=actions,
                           grounds=grounds, bureaus=bureaus, handlers=handlers, revealed=revealed,
                           may_reveal=may_see_personal_data(current_user, case))


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


@bp.post("/cases/<number>/actions")
@roles_required(*ROLES)
def act(number: str):
    case = queries.case_for(current_user, number)
    if case is None:
        abort(404)
    form = request.form.to_dict()
    form.pop("csrf_token", None)
    form.pop("next", None)
    if "version" in form:
        form["version"] = int(form["version"]) if form["version"].isdigit() else None
    form = {k: v for k, v in form.items() if v not in ("", None)}
    try:
        take_action(case, current_user, parse_action(form))
        db.session.commit()
        flash(_("Done: %(action)s.", action=label(form.get("action"))), "ok")
    except FieldErrors as exc:
        db.session.rollback()
        flash("; ".join(f"{label(k) or k}: {v}" for k, v in exc.fields.items()), "error")
    except ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except StaleDataError:
        db.session.rollback()
        flash(_("Someone else changed this case meanwhile; here it is as it is now."), "error")
    target = request.form.get("next", "")
    if target in ("triage",) and current_user.role in ("supervisor", "admin"):
        return redirect(url_for("cases.triage"))
    return redirect(url_for("cases.show", number=number))


@bp.get("/extensions")
@roles_required("supervisor", "admin")
def extensions():
    """延期审批: handlers' extension requests waiting for a supervisor's decision (built in #7)."""
    abort(404)
