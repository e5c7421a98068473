"""Public pages to submit online (no log-in), and the staff's download of a case's evidence files.

The steps: the form (POST /submit) → a summary with the SMS code (POST /submit/confirm) → the
receipt (GET /submit/receipt, after a redirect, so a reload never submits twice). What was typed
travels in hidden fields between the steps; files, which a browser cannot re-fill, are stored at
the first step and carried by a signed token. Nothing is registered before the last step."""
from io import BytesIO

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from limits import parse

from hotline.auth.models import AccessLog
from hotline.cases.access import can_see
from hotline.cases.queries import case_for
from hotline.cases.schemas import FieldErrors
from hotline.extensions import db, limiter
from hotline.portal import confirmations, evidence, submit
from hotline.portal.models import Evidence

bp = Blueprint("portal_submit", __name__)
RECEIPT_KEY = "portal_receipt"  # the number and code just issued, for this browser's receipt page
HONEYPOT = "website"  # hidden by CSS; people leave it empty, form-filling robots do not
UPLOAD_ENDPOINTS = {"portal_submit.form", "portal_submit.confirm"}


@bp.url_value_preprocessor
def _allow_evidence_uploads(endpoint, _values):
    # Only the submit steps take files: the app-wide MAX_CONTENT_LENGTH (1 MiB) stays for every other
    # route. This runs before the app's before_request hooks, which read the form (and so the body).
    if endpoint in UPLOAD_ENDPOINTS:
        count, size = evidence.limits()
        request.max_content_length = count * size + 1024 * 1024


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")  # personal data and the query code stay off caches
    return response


def _over_limit(setting: str, scope: str, key: str) -> bool:
    """Counts one hit against a configured limit (Redis or memory, as Flask-Limiter is configured)."""
    if not limiter.enabled:
        return False
    return not limiter.limiter.hit(parse(current_app.config[setting]), scope, key)


def _client() -> str:
    return get_remote_address() or "unknown"


def _form(values: dict, errors: dict, files: list[dict], status: int = 200):
    return render_template("portal/submit.html", values=values, errors=errors, files=files,
                           files_token=submit.files_token(files), honeypot=HONEYPOT, fields=submit.TEXT_FIELDS,
                           max_files=evidence.limits()[0], max_mb=evidence.limits()[1] // (1024 * 1024)), status


def _summary(values: dict, files: list[dict], phone: str | None, errors: dict | None = None, status: int = 200,
             notice: str | None = None):
    return render_template("portal/submit_confirm.html", values=values, files=files,
                           files_token=submit.files_token(files), phone=phone, errors=errors or {}, notice=notice,
                           honeypot=HONEYPOT, fields=submit.TEXT_FIELDS), status


def _send_code(phone: str) -> str | None:
    """Send a code, or the reason none was sent (too many asked for this number or from this client)."""
    if _over_limit("PORTAL_CODE_RATE_LIMIT_PHONE", "portal-code-phone", phone) \
            or _over_limit("PORTAL_CODE_RATE_LIMIT_CLIENT", "portal-code-client", _client()):
        return _("Too many codes were asked for. Wait an hour and try again, or call 12315.")
    confirmations.send_code(phone)
    db.session.commit()
    return None


@bp.route("/submit", methods=["GET", "POST"])
def form():
    if request.method == "GET":
        kind = request.args.get("kind")
        return _form(submit.values_from({"kind": kind}), {}, [])
    values = submit.values_from(request.form)
    kept = submit.files_from_token(request.form.get("files"))
    removed = set(request.form.getlist("remove"))
    files = [f for f in kept if f["key"] not in removed]
    if request.form.get(HONEYPOT):
        return _form(values, {"": _("The form could not be sent. Leave the field marked “leave empty” empty.")},
                     files, 422)
    errors: dict = {}
    new: list = []
    try:
        new = evidence.check_files(request.files.getlist("evidence"), len(files))
        if len(files) + len(new) > evidence.limits()[0]:
            raise FieldErrors({"evidence": _("at most %(count)s files", count=evidence.limits()[0])})
    except FieldErrors as exc:
        errors.update(exc.fields)
    try:
        parsed = submit.check_submission(values)
    except FieldErrors as exc:
        errors = {**exc.fields, **errors}
    if errors:  # nothing is stored for a form that does not pass: no disk filled by junk posts
        if new and "evidence" not in errors:
            errors["evidence"] = _("The files were not kept because of the errors above: choose them again.")
        return _form(values, errors, files, 422)
    if _over_limit("PORTAL_SUBMIT_RATE_LIMIT_CLIENT", "portal-upload-client", _client()):
        return _form(values, {"": _("Too many submissions. Try again later, or call 12315.")}, files, 429)
    files += evidence.store(new)
    phone = submit.phone_to_confirm(parsed)
    if phone:
        refused = _send_code(phone)
        if refused:
            return _form(values, {"consumer.phone": refused}, files, 429)
    return _summary(values, files, phone)


@bp.post("/submit/confirm")
def confirm():
    values = submit.values_from(request.form)
    files = submit.files_from_token(request.form.get("files"))
    if "edit" in request.form:
        return _form(values, {}, files)
    if request.form.get(HONEYPOT):
        return _form(values, {"": _("The form could not be sent. Leave the field marked “leave empty” empty.")},
                     files, 422)
    try:
        parsed = submit.check_submission(values)  # the hidden fields are the consumer's to change: check again
    except FieldErrors as exc:
        return _form(values, exc.fields, files, 422)
    phone = submit.phone_to_confirm(parsed)
    if "resend" in request.form and phone:
        refused = _send_code(phone)
        return _summary(values, files, phone, {"code": refused} if refused else None, 429 if refused else 200,
                        notice=None if refused else _("A new code is on its way."))
    if _over_limit("PORTAL_SUBMIT_RATE_LIMIT_CLIENT", "portal-submit-client", _client()):
        return _summary(values, files, phone, {"": _("Too many submissions. Try again later, or call 12315.")}, 429)
    if phone and not confirmations.use_code(phone, request.form.get("code")):
        db.session.commit()  # the wrong try counts
        return _summary(values, files, phone, {"code": _("The code is wrong or has expired. Ask for a new one.")}, 422)
    # Counted per phone only once its code matched: a stranger's wrong codes cannot use up the owner's allowance.
    if phone and _over_limit("PORTAL_SUBMIT_RATE_LIMIT_PHONE", "portal-submit-phone", phone):
        return _summary(values, files, phone, {"": _("Too many submissions. Try again later, or call 12315.")}, 429)
    try:
        registered = submit.submit(parsed, files)
        db.session.commit()
    except FieldErrors as exc:  # the registration's own checks (dates against the clock, say)
        db.session.rollback()
        return _form(values, exc.fields, files, 422)
    session[RECEIPT_KEY] = {"number": registered.case.number, "code": registered.query_code,
                            "kind": registered.case.kind, "sms": registered.receipt_sent}
    return redirect(url_for("portal_submit.receipt"))


@bp.get("/submit/receipt")
def receipt():
    # Shown once: the session cookie is signed, not encrypted, and a shared phone or station computer
    # must not hand the next person the code. The page says to note it (it also came by SMS).
    issued = session.pop(RECEIPT_KEY, None)
    if not issued:
        return redirect(url_for("portal_submit.form"))
    track = url_for("portal.track") if "portal.track" in current_app.view_functions else None  # the look-up page
    return render_template("portal/submit_receipt.html", issued=issued, track_url=track)


@bp.app_template_global("case_evidence")
def case_evidence(case) -> list[Evidence]:
    """The case page's evidence card (staff who may see the case see its files)."""
    return evidence.evidence_of(case)


@bp.get("/cases/<number>/evidence/<int:evidence_id>")
@login_required
def download(number: str, evidence_id: int):
    """A case's file, for staff who may see the case; images (re-encoded by us) shown in the browser,
    everything else downloaded. Each view is written to the access log, as for unmasked personal data."""
    case = case_for(current_user, number)
    item = db.session.get(Evidence, evidence_id)
    if case is None or not can_see(current_user, case) or item is None or item.case_id != case.id:
        abort(404)
    db.session.add(AccessLog(user_id=current_user.id, case_id=case.id, what=f"evidence:{item.id}"))
    db.session.commit()
    response = send_file(BytesIO(evidence.read(item)), mimetype=item.content_type,
                         as_attachment=item.content_type not in evidence.SHOWN_INLINE,
                         download_name=item.original_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
