"""盘图 (Pantu): the app factory."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from crm.config import INSTANCE_DIR, PROJECT_ROOT, build_config
from crm.core.i18n import install_template_gettext
from crm.extensions import babel, csrf, db, htmx, login_manager, migrate

# Endpoints a visitor may reach without logging in.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.set_language", "home.healthz"}
PUBLIC_BLUEPRINTS = {"share"}  # proposals shared to owners' groups: no login, an unguessable link


class _HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (request and request.is_secure)


def create_app(config: dict | None = None) -> Flask:
    """Build the 盘图 app; `config` overrides what the environment says."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_mapping(build_config(config))
    app.json.ensure_ascii = False  # Chinese names as UTF-8, not \uXXXX (half the bytes in GeoJSON)
    INSTANCE_DIR.mkdir(exist_ok=True)
    if app.config["BEHIND_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.session_interface = _HttpsAwareSessionInterface()

    _init_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_template_helpers(app)

    from crm.core.errors import register_error_handlers

    register_error_handlers(app)

    from crm.cli import crm_cli

    app.cli.add_command(crm_cli)
    return app


def _select_locale():
    from flask import current_app, has_request_context

    language = session.get("language") if has_request_context() else None
    if language in current_app.config["LANGUAGES"]:
        return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite enforces foreign keys only when asked, per connection; WAL lets readers and a writer overlap."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True, render_as_batch=True)
    htmx.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    install_template_gettext(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page itself says what to do
    # "basic", not "strong": tablets hop between Wi-Fi and 4G, and a changed IP must not log staff out.
    login_manager.session_protection = "basic"

    from crm.auth.service import load_user

    @login_manager.user_loader
    def _load_user(user_id: str):
        return load_user(db.session, user_id)

    # Import every model so Alembic and relationship strings see the whole schema.
    import crm.audit.service  # noqa: F401  (the audit trail's flush listener)
    import crm.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from crm.audit.views import bp as audit_bp
    from crm.auth.views import bp as auth_bp
    from crm.coverage.views import bp as coverage_bp
    from crm.estates.views import bp as estates_bp
    from crm.geocoding.views import bp as geocoding_bp
    from crm.groups.views import bp as groups_bp
    from crm.home.views import bp as home_bp
    from crm.imports.views import bp as imports_bp
    from crm.installs.views import bp as installs_bp
    from crm.jobs.views import bp as jobs_bp
    from crm.maps.views import bp as maps_bp
    from crm.offers.views import bp as offers_bp
    from crm.orders.views import bp as orders_bp
    from crm.org.views import bp as org_bp
    from crm.people.io import bp as people_io_bp
    from crm.people.views import bp as people_bp
    from crm.plans.views import bp as plans_bp
    from crm.proposals.share import bp as share_bp
    from crm.proposals.views import bp as proposals_bp
    from crm.scripts.views import bp as scripts_bp
    from crm.targets.views import bp as targets_bp

    for blueprint in (
        auth_bp,
        home_bp,
        org_bp,
        estates_bp,
        imports_bp,
        geocoding_bp,
        maps_bp,
        targets_bp,
        plans_bp,
        groups_bp,
        people_bp,
        people_io_bp,
        scripts_bp,
        offers_bp,
        proposals_bp,
        share_bp,
        installs_bp,
        orders_bp,
        coverage_bp,
        jobs_bp,
        audit_bp,
    ):
        app.register_blueprint(blueprint)


def _register_request_hooks(app: Flask) -> None:
    from crm.core import gc_pause
    from crm.core.scoping import Scope, set_request_scope

    gc_pause.init_app(app)

    @app.before_request
    def _require_login_and_scope():
        if current_user.is_authenticated:
            if current_user.is_hq:
                set_request_scope(Scope.everything())
            else:
                set_request_scope(Scope.dealer(current_user.dealer_id))
            return None
        set_request_scope(Scope.nothing())
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None or request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        if htmx:
            from flask_htmx import make_response as htmx_response

            return htmx_response(redirect=url_for("auth.login"))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        if session.get("_user_id"):  # the session, not current_user: no database round trip (it may be down)
            # Dealer pages hold private data: keep them out of shared caches and back-button caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_template_helpers(app: Flask) -> None:
    from crm.core.models import BUSINESS_TIMEZONE, local_today
    from crm.core.roles import Permission, Role, has_permission

    @app.template_filter("thousands")
    def _thousands(value) -> str:
        return "—" if value is None else f"{value:,}"

    @app.template_filter("localtime")
    def _localtime(value, pattern: str = "%Y-%m-%d %H:%M") -> str:
        """A stored UTC timestamp as the dealers read it (Beijing time)."""
        return value.astimezone(BUSINESS_TIMEZONE).strftime(pattern) if value else ""

    @app.context_processor
    def _helpers():
        return {
            "Permission": Permission,
            "Role": Role,
            "can": lambda permission: has_permission(current_user, permission),
            "current_language": _select_locale(),
            "local_today": local_today,
        }
