from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length

from crm.core.forms import required
from crm.core.i18n import lazy_gettext as _l


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[required(_l("请输入用户名")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[required(_l("请输入密码")), Length(max=128)])
