"""Case pages: the list with filters and paging, and one case with its timeline."""
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from hotline.auth.models import ROLES
from hotline.auth.views import roles_required
from hotline.cases import queries
from hotline.cases.schemas import CHANNELS, KINDS
from hotline.cases.serialise import case_detail
from hotline.extensions import db
from hotline.reference.models import Bureau

bp = Blueprint("cases", __name__)
STATUSES = ("registered", "triage", "pending", "accepted", "suspended", "verifying", "closed")


@bp.get("/cases")
@roles_required(*ROLES)
def index():
    filters = {name: request.args.get(name, "").strip() for name in queries.FILTERS}
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    result = queries.list_cases(current_user, {k: v for k, v in filters.items() if v}, page,
                                current_app.config["PER_PAGE"])
    bureaus = db.session.query(Bureau).order_by(Bureau.id).all()
    return render_template("cases/index.html", result=result, filters=filters, statuses=STATUSES,
                           kinds=KINDS, channels=CHANNELS, bureaus=bureaus)


@bp.get("/cases/<number>")
@roles_required(*ROLES)
def show(number: str):
    case = queries.case_for(current_user, number)
    if case is None:
        abort(404)
    return render_template("cases/show.html", case=case, detail=case_detail(case))
