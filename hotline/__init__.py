"""hotline: case management for a 12315 consumer-complaint hotline."""
import secrets
from pathlib import Path

from flask import Flask, has_request_context, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _secret_key(app: Flask) -> str:
    """HOTLINE_SECRET_KEY, else one generated once into the instance folder (never in production)."""
    if app.config.get("SECRET_KEY"):
        return app.config["SECRET_KEY"]
    if app.config["ENV"] == "production":
        raise RuntimeError("HOTLINE_SECRET_KEY must be set in production")
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets readers work while one writer commits; foreign keys are off by default in SQLite.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def create_app(config: dict | None = None) -> Flask:
    from config import Config

    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"),
                template_folder=str(PROJECT_ROOT / "templates"))
    app.config.from_object(Config)
    app.config.update(config or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = _secret_key(app)
    from hotline.cases import personal_data
    personal_data.init_app(app)  # the data and query-code keys, independent of the secret key
    app.config["SQLALCHEMY_DATABASE_URI"] = (app.config.get("SQLALCHEMY_DATABASE_URI")
                                             or app.config["DATABASE_URL"]
                                             or f"sqlite:///{Path(app.instance_path) / 'hotline.db'}")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + app.config["SQLALCHEMY_DATABASE_URI"][13:]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    else:
        from hotline import database  # noqa: F401  (an idle connection is pinged, a busy one is not)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config["DATABASE_ENGINE_OPTIONS"])
    production = app.config["ENV"] == "production"
    if production:  # served over HTTPS only: cookies never travel in clear text
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"

    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    from hotline.security import IdConverter
    app.url_map.converters["int"] = IdConverter  # bounded path ids, before any route is added (issue #12)
    _bind_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    from hotline.cli import register_commands
    register_commands(app)
    return app


def _select_locale():
    # Simplified Chinese unless the user picked English (kept in the session).
    if has_request_context() and session.get("lang") == "en":
        return "en"
    return "zh_Hans_CN"


def _bind_extensions(app: Flask) -> None:
    from hotline import models  # noqa: F401  (every table registered on the metadata)
    from hotline.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        from hotline.auth.sessions import load_user
        return load_user(user_id)  # refuses ended (logged out, idle) sessions
    from hotline.auth.limits import log_limiter_storage
    log_limiter_storage(app)


def _register_blueprints(app: Flask) -> None:
    from hotline import api
    from hotline.alerts.api import bp as alerts_api_bp
    from hotline.alerts.public import bp as public_bp
    from hotline.alerts.views import bp as alerts_bp
    from hotline.api.openapi import docs
    from hotline.auth.views import bp as auth_bp
    from hotline.cases.views import bp as cases_bp
    from hotline.deadlines.views import bp as deadlines_bp
    from hotline.extensions import csrf
    from hotline.intake.views import bp as intake_bp
    from hotline.reference.views import bp as reference_bp
    from hotline.routing.views import bp as routing_bp

    csrf.exempt(api.bp)  # token requests carry no cookie; cookie writes are checked in api.auth
    csrf.exempt(alerts_api_bp)
    from hotline.sms.views import bp as sms_bp
    csrf.exempt(sms_bp)  # gateways push receipts and replies server to server, with the shared token
    app.register_blueprint(sms_bp)
    for blueprint in (alerts_bp, public_bp, alerts_api_bp):
        app.register_blueprint(blueprint)
    from hotline.portal.api import bp as portal_api_bp
    from hotline.portal.views import bp as portal_bp
    csrf.exempt(portal_api_bp)  # the consumer's JSON endpoints: no cookie session, the query code is the secret
    for blueprint in (portal_bp, portal_api_bp):
        app.register_blueprint(blueprint)
    from hotline.portal.submit_views import bp as portal_submit_bp
    app.register_blueprint(portal_submit_bp)
    # The bureau scoreboard (staff), complaint disclosure (public, no log-in) and its settings (admin).
    from hotline.stats.disclosure_admin import bp as disclosure_admin_bp
    from hotline.stats.disclosure_views import bp as disclosure_bp
    from hotline.stats.scoreboard_views import bp as scoreboard_bp
    for blueprint in (scoreboard_bp, disclosure_bp, disclosure_admin_bp):
        app.register_blueprint(blueprint)
    for blueprint in (auth_bp, cases_bp, intake_bp, reference_bp, routing_bp, deadlines_bp, api.bp, docs):
        app.register_blueprint(blueprint)
    from hotline.stats.api import bp as stats_api_bp
    from hotline.stats.views import bp as stats_bp
    for blueprint in (stats_bp, stats_api_bp):  # the dashboard and GET /api/v1/stats/... (issue #11)
        app.register_blueprint(blueprint)
    from hotline.stats.report_views import bp as reports_bp
    app.register_blueprint(reports_bp)  # the monthly and yearly reports (issue #11)
    from hotline.open311.views import bp as open311_bp
    csrf.exempt(open311_bp)  # Open311 (issue #13): writes authenticate by api_key only, never by a cookie
    app.register_blueprint(open311_bp)
    api.register_error_handlers(app)
    import hotline.alerts.operations  # noqa: F401  (outbox handlers register on import)
    import hotline.routing.operations  # noqa: F401
    import hotline.sms.operations  # noqa: F401
    import hotline.stats.refresh  # noqa: F401  (marks changed cases for a recount)


def _register_hooks(app: Flask) -> None:
    from hotline.errors import register_error_pages
    register_error_pages(app)  # after the API's handlers: pages get the app's own error page, /api/ keeps JSON
    from hotline.security import (
        add_security_headers,
        inject_template_helpers,
        refuse_non_json_body,
        refuse_unstorable_input,
    )
    app.before_request(refuse_non_json_body)  # 415/400 for an API body that is not UTF-8 JSON (issue #12)
    app.before_request(refuse_unstorable_input)
    app.after_request(add_security_headers)
    app.context_processor(inject_template_helpers)
    from hotline.templating import register_template_helpers
    register_template_helpers(app)
