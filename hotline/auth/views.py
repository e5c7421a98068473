"""Log-in, log-out, the language switch, and the role guard for pages."""
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from hotline.auth.forms import LoginForm
from hotline.auth.operations import authenticate
from hotline.extensions import db, limiter

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


def _login_key() -> str:
    return f"{request.remote_addr}:{(request.form.get('username') or '').strip().lower()}"


def _failed_login(_response) -> bool:
    # Only failures use up the allowance: a shared office's address logs its whole shift in at 08:00.
    return not g.get("login_succeeded")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_failed_login)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=_login_key,
               deduct_when=_failed_login)
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
            g.login_succeeded = True
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
                target = url_for(HOME[user.role])
            return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
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
