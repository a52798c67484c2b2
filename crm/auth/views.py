from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from crm.auth.forms import LoginForm
from crm.auth.service import LoginThrottled, authenticate
from crm.core.urls import safe_next
from crm.extensions import db

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, form.username.data, form.password.data, request.remote_addr or "")
        except LoginThrottled:
            minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
            form.form_errors.append(_("登录失败次数过多，请 %(minutes)d 分钟后再试", minutes=minutes))
            status = 429
        else:
            db.session.commit()
            if user is None:
                form.form_errors.append(_("用户名或密码错误"))
                status = 401
            else:
                next_url = safe_next(request.args.get("next"))
                language = session.get("language")
                session.clear()  # a fresh session on login: no fixation
                if language:
                    session["language"] = language
                session.permanent = True  # stay logged in for a working day (PERMANENT_SESSION_LIFETIME)
                login_user(user)
                return redirect(next_url)
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("已退出登录"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["language"] = code
    return redirect(safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))
