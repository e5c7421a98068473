"""The consumer's pages after submitting (no log-in): look a case up with its number and query code,
follow it, rate it once closed, add information while it is open; and the care mode switch (关怀模式).

After a successful look-up, the session keeps the case number as verified for a while, so the consumer
can rate or add information without typing the code again; the code itself is never kept nor put in a URL."""
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from hotline.cases.schemas import FieldErrors
from hotline.extensions import db
from hotline.portal import information, lookup, ratings
from hotline.portal.lookup_limits import code_checks
from hotline.types import utcnow

bp = Blueprint("portal", __name__)
VERIFIED = "portal_case"  # {"number": ..., "at": ISO time} in the signed session cookie
CARE_COOKIE = "care"


def _verified_case():
    """The case this browser looked up in the last PORTAL_SESSION_MINUTES (30 by default), else None."""
    kept = session.get(VERIFIED)
    if not isinstance(kept, dict):
        return None
    try:
        at = datetime.fromisoformat(kept["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if utcnow() - at > timedelta(minutes=current_app.config.get("PORTAL_SESSION_MINUTES", 30)):
        session.pop(VERIFIED, None)
        return None
    return lookup.case_by_number(kept.get("number", ""))


@bp.url_value_preprocessor
def _allow_evidence_uploads(endpoint, _values):
    # Adding information takes files (hotline/portal/evidence.py's limits); the app-wide 1 MiB stays elsewhere.
    if endpoint == "portal.add_information":
        from hotline.portal import evidence
        count, size = evidence.limits()
        request.max_content_length = count * size + 1024 * 1024


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")  # a case's progress stays off shared caches
    return response


@bp.errorhandler(429)
def too_many(_exc):
    return render_template("portal/too_many.html"), 429


@bp.route("/track", methods=["GET", "POST"])
@code_checks
def track():
    if request.method == "GET":
        return render_template("portal/lookup.html", errors={}, number="")
    number = request.form.get("number", "")
    try:
        case = lookup.find_case(number, request.form.get("code"))
    except FieldErrors as exc:
        return render_template("portal/lookup.html", errors=exc.fields, number=number), 422
    if case is None:  # one message, whichever was wrong
        errors = {"form": _("No case matches this number and query code. Check both and try again.")}
        return render_template("portal/lookup.html", errors=errors, number=number), 404
    session[VERIFIED] = {"number": case.number, "at": utcnow().isoformat()}
    return redirect(url_for("portal.status"))


@bp.get("/track/case")
def status():
    case = _verified_case()
    if case is None:
        return redirect(url_for("portal.track"))
    rating = lookup.rating_of(case)
    now = utcnow()
    return render_template("portal/status.html", case=case, words=lookup.status_words(case),
                           events=lookup.public_events(case), event_words=lookup.event_words,
                           deadlines=lookup.deadline_lines(case, now), reason=lookup.decision_reason(case),
                           rating=rating, may_rate=lookup.may_rate(case, rating), view=lookup.public_view(case))


@bp.route("/track/rate", methods=["GET", "POST"])
def rate():
    """Two short screens (one step each): the score, then the comment and, for 1 or 2, the bureau question."""
    case = _verified_case()
    if case is None:
        return redirect(url_for("portal.track"))
    if not lookup.may_rate(case, lookup.rating_of(case)):
        return redirect(url_for("portal.status"))
    source = request.form if request.method == "POST" else request.args
    if "score" not in source:
        return render_template("portal/rate.html", case=case, step=1, errors={}, form={})
    try:
        score, comment, fault = ratings.parse_rating(source)
    except FieldErrors as exc:
        step = 1 if "score" in exc.fields else 2
        return render_template("portal/rate.html", case=case, step=step, errors=exc.fields, form=source,
                               score=source.get("score")), 422
    if request.method == "GET":
        return render_template("portal/rate.html", case=case, step=2, errors={}, form={}, score=score)
    try:
        ratings.rate_case(case, score, comment, fault)
        db.session.commit()
    except ratings.RatingRefused:
        db.session.rollback()
    return redirect(url_for("portal.status", rated=1))


@bp.route("/track/add", methods=["GET", "POST"])
def add_information():
    case = _verified_case()
    if case is None:
        return redirect(url_for("portal.track"))
    if not case.is_open:
        return redirect(url_for("portal.status"))
    from hotline.portal import evidence
    limits = evidence.limits()
    if request.method == "GET":
        return render_template("portal/add.html", case=case, errors={}, text="", limits=limits)
    uploads = [u for u in request.files.getlist("evidence") if u.filename]
    try:
        text = information.parse_information(request.form, required=not uploads)
        files = evidence.attach_files(case, uploads, "consumer") if uploads else []
        information.add_information(case, text, files=len(files))
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        return render_template("portal/add.html", case=case, errors=exc.fields, text=request.form.get("text", ""),
                               limits=limits), 422
    except information.InformationRefused:
        db.session.rollback()
    return redirect(url_for("portal.status", added=1))


@bp.post("/track/leave")
def leave():
    """Forget the case on this device (a shared phone, a relative's)."""
    session.pop(VERIFIED, None)
    return redirect(url_for("portal.track"))


@bp.get("/care")
def care():
    """关怀模式 on or off, kept in a cookie for a year; back to the page the switch was on."""
    target = request.referrer or url_for("portal.track")
    if urlsplit(target).netloc not in ("", request.host):
        target = url_for("portal.track")
    response = redirect(target)
    on = request.args.get("on") == "1"
    response.set_cookie(CARE_COOKIE, "1" if on else "0", max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=request.is_secure)
    return response
