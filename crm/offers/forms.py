"""Forms for products and group-buy offers. They parse; the service (crm.offers.service) decides what is allowed
and says why in Chinese."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.core.forms import (
    LocalizedDateField,
    LocalizedDecimalField,
    LocalizedIntegerField,
    choices,
    input_required,
    required,
)
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission
from crm.offers.models import ProductTier


class ProductForm(OncePerSubmission, FlaskForm):
    name = StringField(_l("产品名称"), validators=[required(_l("请填写产品名称")), Length(max=100)])
    category = StringField(_l("品类"), validators=[Optional(), Length(max=50)])
    model = StringField(_l("型号"), validators=[Optional(), Length(max=50)])
    colour = StringField(_l("颜色"), validators=[Optional(), Length(max=50)])
    unit = StringField(_l("单位"), validators=[Optional(), Length(max=10)], default="件")
    unit_price = LocalizedDecimalField(_l("单价（元）"), places=2, validators=[input_required(_l("请填写单价"))])
    tier = SelectField(_l("产品定位"), choices=[], default=ProductTier.REGULAR.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tier.choices = choices((t.value, t.label) for t in ProductTier)


class OfferForm(OncePerSubmission, FlaskForm):
    title = StringField(_l("方案名称"), validators=[required(_l("请填写方案名称")), Length(max=100)])
    starts_on = LocalizedDateField(_l("开始日期"), validators=[input_required(_l("请填写开始日期"))])
    ends_on = LocalizedDateField(_l("报名截止"), validators=[input_required(_l("请填写报名截止日期"))])
    event_on = LocalizedDateField(_l("活动日期"), validators=[Optional()])
    store_gift = StringField(_l("到店交定礼"), validators=[Optional(), Length(max=200)])
    deposit_amount = LocalizedDecimalField(_l("定金（元）"), places=2, validators=[Optional()])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=5000)])


class TierForm(FlaskForm):
    min_deposits = LocalizedIntegerField(_l("交定户数（满）"), validators=[input_required(_l("请填写交定户数"))])
    discount_percent = LocalizedIntegerField(_l("折扣（88 即 88折）"), validators=[input_required(_l("请填写折扣"))])
    note = StringField(_l("说明"), validators=[Optional(), Length(max=200)])


class EarlyBirdForm(FlaskForm):
    first_n = LocalizedIntegerField(_l("前几名"), validators=[input_required(_l("请填写名额"))])
    benefit = StringField(_l("早鸟礼"), validators=[required(_l("请填写早鸟礼")), Length(max=200)])


class PromiseForm(FlaskForm):
    years = LocalizedIntegerField(_l("年限"), validators=[input_required(_l("请填写年限"))])
    item = StringField(_l("承诺内容"), validators=[required(_l("请填写承诺内容")), Length(max=200)])
    remedy = StringField(_l("处理方式"), validators=[required(_l("请填写处理方式")), Length(max=200)])
