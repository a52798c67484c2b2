from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from crm.core.forms import LocalizedFloatField, choices, required
from crm.core.i18n import lazy_gettext as _l
from crm.maps.coords import CoordSystem


class DealerForm(FlaskForm):
    code = StringField(_l("经销商编码"), validators=[required(_l("请填写经销商编码")), Length(max=32)])
    name = StringField(_l("经销商名称"), validators=[required(_l("请填写经销商名称")), Length(max=100)])
    city_id = SelectField(_l("所在城市"), coerce=int, validators=[required(_l("请选择城市"))])
    territory = TextAreaField(_l("负责区域"), validators=[Optional(), Length(max=2000)])
    is_active = BooleanField(_l("启用"), default=True)

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.city_id.choices = choices((c.id, c.name) for c in cities)


class StoreForm(FlaskForm):
    name = StringField(_l("门店名称"), validators=[required(_l("请填写门店名称")), Length(max=100)])
    city_id = SelectField(_l("城市"), coerce=int, validators=[required(_l("请选择城市"))])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=32)])
    coord_system = SelectField(
        _l("坐标系"), choices=choices((c.value, c.label) for c in CoordSystem), default=CoordSystem.WGS84.value
    )
    lng = LocalizedFloatField(
        _l("经度"), validators=[Optional(), NumberRange(-180, 180, _l("经度应在 -180 到 180 之间"))]
    )
    lat = LocalizedFloatField(_l("纬度"), validators=[Optional(), NumberRange(-90, 90, _l("纬度应在 -90 到 90 之间"))])

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.city_id.choices = choices((c.id, c.name) for c in cities)


class UserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[required(_l("请填写用户名")), Length(max=64)])
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=64)])
    role = SelectField(_l("角色"), validators=[required(_l("请选择角色"))])
    dealer_id = SelectField(_l("经销商"), coerce=lambda v: int(v) if v not in (None, "", "None") else None)
    phone = StringField(_l("手机号"), validators=[Optional(), Length(max=32)])
    password = PasswordField(_l("密码"), validators=[Optional(), Length(max=128)])
    is_active = BooleanField(_l("启用"), default=True)

    def __init__(self, *args, roles=(), dealers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices((r.value, r.label) for r in roles)
        self.dealer_id.choices = choices(
            [("", _l("（总部，无经销商）"))] + [(d.id, f"{d.code} {d.name}") for d in dealers]
        )
