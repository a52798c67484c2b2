"""Error pages in the user's language; never a stack trace."""

import sqlalchemy as sa
from flask import Flask, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from crm.extensions import db


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("请求有误"), _("提交的内容无法处理，请返回上一页检查后重试。")),
        403: (_("没有权限"), _("您的角色不能进行此操作。如需权限，请联系社群负责人或总部管理员。")),
        404: (_("找不到页面"), _("您要找的内容不存在，或不属于您的经销商。")),
        405: (_("请求方式不被允许"), _("请通过页面上的按钮进行此操作。")),
        413: (_("文件太大"), _("上传的文件超过了允许的大小。")),
        429: (_("操作太频繁"), _("请稍后再试。")),
        500: (_("系统出错了"), _("我们已记录此问题，请稍后重试。")),
    }


def render_error(code: int, detail: str | None = None):
    title, message = _messages().get(code, (_("出错了"), ""))
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return render_error(400, _("页面已过期或来源无法验证，请刷新页面后重试。"))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code and error.code < 400:
            return error
        return render_error(error.code or 500)

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def _database_unavailable(error):
        # The database restarting or out of reach: say so and let the client retry; the pool
        # (pool_pre_ping) reconnects on the next request, no app restart needed.
        db.session.remove()
        app.logger.warning("Database unavailable: %s", error.__class__.__name__)
        # Rendered without the context processors: Flask-Login's would ask the database for the user.
        body = app.jinja_env.get_template("errors/unavailable.html").render(current_language=get_locale().language)
        return body, 503, {"Retry-After": "5", "Cache-Control": "no-store"}

    @app.teardown_appcontext
    def _drop_a_dead_session(_exc):
        # Registered after Flask-SQLAlchemy's teardown, so it runs first. When the database goes away in
        # the middle of a request, the ROLLBACK that closing the session sends fails too; left to
        # Flask-SQLAlchemy, that error escapes the app and the client gets a bare 500 instead of the 503.
        try:
            db.session.remove()
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            db.session().invalidate()
            db.session.remove()

    if app.testing:
        return  # let tests see the real exception

    @app.errorhandler(Exception)
    def _unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return render_error(500)
