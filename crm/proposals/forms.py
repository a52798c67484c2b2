"""Forms of the proposal pages. They check shapes; the service checks the rules and says what is wrong in Chinese."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.core.forms import LocalizedDecimalField, choices, int_or_none, required
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission
from crm.proposals.models import ConsentChannel, ProposalKind


def _person_label(person) -> str:
    """A name, with the flat when known (two owners may share a nickname); never a phone number."""
    flat = "-".join(part for part in (person.building, person.unit, person.room) if part)
    return f"{person.name}（{flat}）" if flat else person.name


class ProposalForm(OncePerSubmission, FlaskForm):
    title = StringField(_l("方案标题"), validators=[required(_l("请填写方案标题")), Length(max=100)])
    # Ids may come back from anywhere: the service accepts only the estate's floor plans and the dealer's people.
    floor_plan_id = SelectField(_l("户型"), choices=[], coerce=int_or_none, validate_choice=False)
    kind = SelectField(_l("方案类型"), choices=[], default=ProposalKind.GENERAL.value)
    style = StringField(_l("风格"), validators=[Optional(), Length(max=20, message=_l("风格不能超过 20 个字"))])
    person_id = SelectField(_l("业主（个性方案）"), choices=[], coerce=int_or_none, validate_choice=False)
    designer_id = SelectField(_l("设计师"), choices=[], coerce=int_or_none, validate_choice=False)
    description = TextAreaField(_l("设计说明"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, floor_plans=(), people=(), designers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.floor_plan_id.choices = choices([("", _l("请选择"))] + [(p.id, p.name) for p in floor_plans])
        self.kind.choices = choices((k.value, k.label) for k in ProposalKind)
        self.person_id.choices = choices([("", _l("未指定"))] + [(p.id, _person_label(p)) for p in people])
        self.designer_id.choices = choices(
            [("", _l("未指定"))] + [(u.id, f"{u.name}（{u.role.label}）") for u in designers]
        )


class ItemForm(FlaskForm):
    """A product line: pick from the catalog (blank fields take the product's) or type it in."""

    product_id = SelectField(_l("从产品库选择"), choices=[], coerce=int_or_none, validate_choice=False)
    name = StringField(_l("产品名称"), validators=[Optional(), Length(max=100)])
    model = StringField(_l("型号"), validators=[Optional(), Length(max=50)])
    colour = StringField(_l("颜色"), validators=[Optional(), Length(max=50)])
    unit = StringField(_l("单位"), validators=[Optional(), Length(max=10)])
    quantity = LocalizedDecimalField(_l("数量"), places=None, validators=[Optional()])
    unit_price = LocalizedDecimalField(_l("单价（元）"), places=None, validators=[Optional()])

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.product_id.choices = choices(
            [("", _l("不选（手工填写）"))]
            + [
                (p.id, " · ".join(x for x in (p.name, p.model, p.colour, f"¥{p.unit_price:,}/{p.unit}") if x))
                for p in products
            ]
        )


class ImageForm(FlaskForm):
    image = FileField(_l("图片"))
    caption = StringField(_l("说明"), validators=[Optional(), Length(max=100)])


class ConsentForm(FlaskForm):
    channel = SelectField(_l("同意方式"), choices=[], default=ConsentChannel.IN_STORE.value)
    note = StringField(_l("备注"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = choices((c.value, c.label) for c in ConsentChannel)


class WithdrawConsentForm(FlaskForm):
    note = StringField(_l("撤回原因"), validators=[Optional(), Length(max=200)])


class ActionForm(FlaskForm):
    """A button with nothing to fill in (publish, revoke, delete): its refusals show above it."""


class CommentForm(FlaskForm):
    nickname = StringField(_l("群昵称"), validators=[Optional(), Length(max=30)])
    body = TextAreaField(_l("评论内容"), validators=[required(_l("请填写评论内容"))])
    is_flaw = BooleanField(_l("指出了瑕疵"))


class FlawForm(FlaskForm):
    is_flaw = BooleanField(_l("瑕疵"))


class ResolveForm(FlaskForm):
    resolution = TextAreaField(_l("处理说明"), validators=[required(_l("请写明怎么处理的")), Length(max=500)])
