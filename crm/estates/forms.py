from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from crm.core.forms import (
    LocalizedDecimalField,
    LocalizedFloatField,
    LocalizedIntegerField,
    MonthField,
    VersionField,
    choices,
    required,
)
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission
from crm.estates.models import EstateAge, EstateFinish, EstateStage
from crm.maps.coords import CoordSystem


class EstateForm(OncePerSubmission, FlaskForm):
    version = VersionField()  # optimistic locking: the version this form was shown with
    name = StringField(_l("楼盘名称"), validators=[required(_l("请填写楼盘名称")), Length(max=100)])
    city_id = SelectField(_l("城市"), coerce=int, validators=[required(_l("请选择城市"))])
    district = StringField(_l("区域"), validators=[Optional(), Length(max=50)])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=255)])
    coord_system = SelectField(
        _l("坐标系"),
        choices=choices((c.value, c.label) for c in CoordSystem),
        default=CoordSystem.WGS84.value,
    )
    lng = LocalizedFloatField(
        _l("经度"), validators=[Optional(), NumberRange(-180, 180, _l("经度应在 -180 到 180 之间"))]
    )
    lat = LocalizedFloatField(_l("纬度"), validators=[Optional(), NumberRange(-90, 90, _l("纬度应在 -90 到 90 之间"))])
    households = LocalizedIntegerField(
        _l("户数"), validators=[Optional(), NumberRange(min=0, message=_l("户数不能小于 0"))]
    )
    delivery_date = MonthField(_l("交房时间"), validators=[Optional()])
    age = SelectField(_l("新盘/老盘"), choices=[])
    finish = SelectField(_l("交付标准"), choices=[])
    avg_price = LocalizedIntegerField(
        _l("均价（元/㎡）"), validators=[Optional(), NumberRange(min=0, message=_l("均价不能小于 0"))]
    )
    developer = StringField(_l("开发商"), validators=[Optional(), Length(max=100)])
    source = StringField(_l("数据来源"), validators=[Optional(), Length(max=100)])
    competitors = StringField(_l("竞品"), validators=[Optional(), Length(max=255)])
    stage = SelectField(_l("阶段"), choices=[], default=EstateStage.UNPLANNED.value)
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.city_id.choices = choices((c.id, c.name) for c in cities)
        self.age.choices = choices([("", _l("未知"))] + [(a.value, a.label) for a in EstateAge])
        self.finish.choices = choices([("", _l("未知"))] + [(f.value, f.label) for f in EstateFinish])
        self.stage.choices = choices((s.value, s.label) for s in EstateStage)

    def validate_lat(self, field):
        if (field.data is None) != (self.lng.data is None) and not self.lng.errors:
            raise ValidationError(_l("经度和纬度需要同时填写"))


class FloorPlanForm(FlaskForm):
    name = StringField(_l("户型名称"), validators=[required(_l("请填写户型名称")), Length(max=50)])
    area_m2 = LocalizedDecimalField(
        _l("面积（㎡）"),
        places=2,
        validators=[Optional(), NumberRange(min=1, max=100000, message=_l("面积应在 1 到 100000 ㎡ 之间"))],
    )
    rooms = LocalizedIntegerField(
        _l("卧室数"), validators=[Optional(), NumberRange(min=0, max=50, message=_l("卧室数应在 0 到 50 之间"))]
    )
    unit_count = LocalizedIntegerField(
        _l("套数"), validators=[Optional(), NumberRange(min=0, message=_l("套数不能小于 0"))]
    )
    image = FileField(_l("户型图"))


class StageForm(FlaskForm):
    stage = SelectField(_l("阶段"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage.choices = choices((s.value, s.label) for s in EstateStage)
