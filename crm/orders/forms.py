"""Forms of the order and contract pages. They parse; the service (crm.orders.service) decides what is allowed
and says why in Chinese."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.core.forms import (
    LocalizedDateField,
    LocalizedDecimalField,
    LocalizedIntegerField,
    VersionField,
    choices,
    int_or_none,
)
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission

MAX_ROWS = 30


def person_label(person) -> str:
    """A name, with the flat when known (two owners may share a nickname); never a phone number."""
    flat = "-".join(part for part in (person.building, person.unit, person.room) if part)
    return f"{person.name}（{flat}）" if flat else person.name


class OrderForm(OncePerSubmission, FlaskForm):
    version = VersionField()  # optimistic locking: the version this form was shown with
    # Ids may come back from anywhere: the service accepts only the estate's floor plans and proposals.
    floor_plan_id = SelectField(_l("户型"), choices=[], coerce=int_or_none, validate_choice=False)
    proposal_id = SelectField(_l("从方案复制产品"), choices=[], coerce=int_or_none, validate_choice=False)
    building = StringField(_l("楼栋"), validators=[Optional(), Length(max=20)])
    unit = StringField(_l("单元"), validators=[Optional(), Length(max=20)])
    room = StringField(_l("房号"), validators=[Optional(), Length(max=20)])
    deposit_amount = LocalizedDecimalField(_l("定金（元）"), places=2, validators=[Optional()])
    deposit_paid_on = LocalizedDateField(_l("交定日期"), validators=[Optional()])
    deposit_in_store = BooleanField(_l("到店交定"))
    delivery_on = LocalizedDateField(_l("送货日期"), validators=[Optional()])
    install_on = LocalizedDateField(_l("安装日期"), validators=[Optional()])
    payment_terms = TextAreaField(_l("付款方式"), validators=[Optional(), Length(max=2000)])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, floor_plans=(), proposals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.floor_plan_id.choices = choices([("", _l("未指定"))] + [(p.id, p.name) for p in floor_plans])
        self.proposal_id.choices = choices(
            [("", _l("不复制（稍后添加产品）"))]
            + [(p.id, f"{p.title}（{p.kind.label} · {len(p.items)} 项）") for p in proposals]
        )


class ItemForm(FlaskForm):
    """An order line: pick from the catalog (blank fields take the product's) or type it in."""

    product_id = SelectField(_l("从产品库选择"), choices=[], coerce=int_or_none, validate_choice=False)
    name = StringField(_l("产品名称"), validators=[Optional(), Length(max=100)])
    model = StringField(_l("型号"), validators=[Optional(), Length(max=50)])
    colour = StringField(_l("颜色"), validators=[Optional(), Length(max=50)])
    unit = StringField(_l("单位"), validators=[Optional(), Length(max=10)])
    quantity = LocalizedDecimalField(_l("数量"), places=None, validators=[Optional()])
    list_price = LocalizedDecimalField(_l("原价（元）"), places=None, validators=[Optional()])
    unit_price = LocalizedDecimalField(_l("成交单价（元）"), places=None, validators=[Optional()])

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.product_id.choices = choices(
            [("", _l("不选（手工填写）"))]
            + [
                (p.id, " · ".join(x for x in (p.name, p.model, p.colour, f"¥{p.unit_price:,}/{p.unit}") if x))
                for p in products
            ]
        )


class StatusForm(FlaskForm):
    """The next-step button: `to` is the status the page offered (a second click is refused, not repeated)."""

    to = HiddenField()
    note = StringField(_l("备注"), validators=[Optional(), Length(max=200)])


class CancelForm(FlaskForm):
    note = StringField(_l("取消原因"), validators=[Optional(), Length(max=200)])


class ActionForm(FlaskForm):
    """A button with nothing to fill in (create, sign, revise, delete): its refusals show above it."""


class PromiseRow(Form):
    item = StringField(_l("承诺内容"), validators=[Optional(), Length(max=200)])
    years = LocalizedIntegerField(_l("年限"), validators=[Optional()])
    remedy = StringField(_l("处理方式"), validators=[Optional(), Length(max=200)])


class SalesContractForm(FlaskForm):
    title = StringField(_l("合同名称"), validators=[Length(max=100)])
    payment = TextAreaField(_l("付款方式"), validators=[Optional(), Length(max=2000)])
    delivery_on = LocalizedDateField(_l("送货日期"), validators=[Optional()])
    install_on = LocalizedDateField(_l("安装日期"), validators=[Optional()])
    promises = FieldList(FormField(PromiseRow), label=_l("服务承诺（写进合同的条款）"), max_entries=MAX_ROWS)
    standard = TextAreaField(_l("其他约定（每行一条）"), validators=[Optional(), Length(max=15000)])
    notes = TextAreaField(_l("补充说明"), validators=[Optional(), Length(max=5000)])


class ResultRow(Form):
    result = StringField(_l("约定结果"), validators=[Optional(), Length(max=200)])
    reward = StringField(_l("奖励"), validators=[Optional(), Length(max=200)])


class CooperationForm(FlaskForm):
    title = StringField(_l("协议名称"), validators=[Length(max=100)])
    group_id = SelectField(_l("社群"), choices=[], coerce=int_or_none, validate_choice=False)
    starts_on = LocalizedDateField(_l("开始日期"), validators=[Optional()])
    ends_on = LocalizedDateField(_l("结束日期"), validators=[Optional()])
    results = FieldList(FormField(ResultRow), label=_l("约定结果与奖励"), max_entries=MAX_ROWS)
    standard = TextAreaField(_l("其他约定（每行一条）"), validators=[Optional(), Length(max=15000)])
    notes = TextAreaField(_l("补充说明"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.group_id.choices = choices([("", _l("请选择"))] + [(g.id, g.name) for g in groups])


def pad_rows(field_list, blanks: int = 3) -> None:
    """Blank rows to fill in after the saved ones (no script needed to add a row)."""
    for _ in range(min(blanks, MAX_ROWS - len(field_list.entries))):
        field_list.append_entry()
