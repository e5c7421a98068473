"""Log-in, log-out, the language switch, the role guard for pages, and the administrator's API-token page."""
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from hotline.auth import sessions
from hotline.auth.forms import LoginForm
from hotline.auth.limits import login_limits, remember_device
from hotline.auth.models import ApiToken
from hotline.auth.operations import authenticate, revoke_token
from hotline.cases.queries import paginate
from hotline.extensions import db
from hotline.paging import page_number

bp = Blueprint("auth", __name__)

HOME = {"operator": "intake.console", "station": "intake.station", "bureau": "cases.inbox",
        "supervisor": "cases.triage", "admin": "cases.index"}


def roles_required(*roles: str):
    """A page for these roles only: anonymous users go to log-in, others get 403."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data.strip(), form.password.data)
        if user is None:
            flash(_("Wrong user name or password."), "error")
        else:
            db.session.commit()
            lang = session.get("lang")
            session.clear()  # a fresh session on log-in: no fixation; the language picked before stays
            if lang:
                session["lang"] = lang
            login_user(user)
            sessions.start(user)
            g.login_succeeded = True  # successes never count against the limits
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
                target = url_for(HOME[user.role])
            response = redirect(target)
            remember_device(response, user.username)
            return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    sessions.end_every_session(current_user._get_current_object())  # a copied cookie stops working too
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    session["lang"] = "en" if code == "en" else "zh_Hans_CN"
    target = request.referrer or url_for("auth.home")
    return redirect(target if urlsplit(target).netloc in ("", request.host) else url_for("auth.home"))


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME[current_user.role]))


# ---- API tokens (the administrator's page) -------------------------------------------------------------

MAX_ID = 2**31 - 1  # a larger path id matches no row (and must not reach PostgreSQL's integer)


@bp.get("/admin/tokens")
@roles_required("admin")
def tokens():
    """Every API token: prefix, user, created, last used, revoked; never the token itself."""
    query = select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                                      ApiToken.id.desc())
    page = paginate(query, page_number(), current_app.config["PER_PAGE"])
    return render_template("admin/tokens.html", page=page)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@roles_required("admin")
def revoke_api_token(token_id: int):
    row = revoke_token(token_id, by=current_user.username) if token_id <= MAX_ID else None
    if row is None:
        abort(404)
    db.session.commit()
    flash(_("Token %(prefix)s… of %(user)s is revoked.", prefix=row.prefix, user=row.user.username), "ok")
    return redirect(url_for("auth.tokens", page=request.args.get("page", type=int) or None))
