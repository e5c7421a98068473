"""Intake pages: the operator's console (phone, walk-in, letter) and the community-station page. A
registration answers with a redirect to the confirmation; a form sent twice registers once (once.py)."""
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.api import idempotency
from hotline.auth.views import roles_required
from hotline.cases import queries
from hotline.cases.numbers import group_case_number
from hotline.cases.operations import register_case
from hotline.cases.schemas import CHANNELS, KINDS, FieldErrors, parse_case
from hotline.cases.workflow import STATUSES
from hotline.extensions import db
from hotline.intake import once
from hotline.intake.forms import all_field_errors, complainant_rows, form_to_payload, in_form_order
from hotline.intake.next_steps import next_steps
from hotline.labels import label
from hotline.reference.queries import active_stations, category_choices
from hotline.types import utcnow

bp = Blueprint("intake", __name__)
INTAKE_ROLES = ("operator", "supervisor", "admin", "station")


def _intake(template: str, fixed_channel: str | None, recent_filter: dict | None):
    errors: dict[str, str] = {}
    values: dict = {}
    registered = None
    status = 200
    rows = complainant_rows({})
    token = once.new_token()
    if request.method == "POST":
        payload = form_to_payload(request.form)
        if fixed_channel:
            payload["channel"] = fixed_channel
        rows = complainant_rows(payload)
        values, token = request.form, once.token_to_keep()
        if "add_complainant" in request.form:
            # 共同投诉 without JavaScript: the form comes back with one more complainant row, nothing registered
            rows = complainant_rows(payload, add=True)
        else:
            answer = _register_once(payload)
            if not isinstance(answer, tuple):
                return answer  # registered (now or by the first post of this form): post/redirect/get
            errors, status = answer
            if status == 409:
                token = once.new_token()  # the token was used: sending the form again registers a new case
    else:
        registered = once.registered_to_show()
    tz = current_app.config["TIMEZONE"]
    recent = queries.list_cases(current_user, recent_filter or {}, 1, 15).items if recent_filter is not None else []
    return render_template(template, errors=errors, values=values, registered=registered, form_token=token,
                           first_error=next(iter(errors), None), complainant_rows=rows,
                           focus_complainant=len(rows) - 1 if "add_complainant" in request.form else None,
                           next_steps=next_steps(registered.case, tz) if registered else None,
                           kinds=KINDS, channels=[c for c in CHANNELS if c != "station"],
                           categories=category_choices(), stations=active_stations(), recent=recent,
                           status_labels={s: label(s) for s in STATUSES}), status


def _register_once(payload: dict):
    """Register the form's case once (hotline/intake/once.py): a redirect to the confirmation, or
    (errors, status) for the form shown again."""
    still_running = {"": _("This form is still being registered. Open the list of cases in a moment to find it.")}
    try:
        claimed = once.claim_form(payload)
    except idempotency.KeyReused as exc:
        first = exc.args[0].get("number") if exc.args and isinstance(exc.args[0], dict) else None
        if not first:
            return still_running, 409
        return {"": _("This form was sent before and registered as case %(number)s. Check the fields and register "
                      "again to log a new case.", number=group_case_number(first))}, 409
    except idempotency.InProgress:
        return still_running, 409
    if not claimed.answered:
        try:
            registered = register_case(parse_case(payload), current_user)
            idempotency.record(claimed, 201, once.confirmation(registered))
            db.session.commit()
        except FieldErrors as exc:
            idempotency.release(claimed)  # nothing was registered: the same form, corrected, goes through
            # The first check stops at its first stage; the form marks every wrong field at once.
            return all_field_errors(payload, current_user, utcnow()) or in_form_order(exc.fields), 422
        except BaseException:
            idempotency.release(claimed)
            raise
    once.remember(claimed)
    return redirect(url_for(request.endpoint), code=303)


@bp.route("/console", methods=["GET", "POST"])
@roles_required("operator", "supervisor", "admin")
def console():
    """话务台: one keyboard-first page to log a call in seconds."""
    return _intake("intake/console.html", None, None)


@bp.route("/station", methods=["GET", "POST"])
@roles_required("station")
def station():
    """服务站: the same intake for station staff, tied to their station, with their station's cases."""
    return _intake("intake/station.html", "station", {})


@bp.get("/intake/cases/<number>/next")
@roles_required(*INTAKE_ROLES)
def registered_next(number: str):
    """Where a just-registered case went and its first deadline; the confirmation box asks until routed."""
    case = queries.case_for(current_user, number)
    if case is None:
        abort(404)
    return jsonify(next_steps(case, current_app.config["TIMEZONE"]))
