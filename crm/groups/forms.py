from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from crm.core.forms import (
    LocalizedDateField,
    LocalizedIntegerField,
    VersionField,
    choices,
    input_required,
    int_or_none,
    required,
)
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission
from crm.groups.models import AccountRole, FormulaPart, GroupKind, GroupOrigin, GroupStatus, Platform


class GroupForm(OncePerSubmission, FlaskForm):
    version = VersionField()  # optimistic locking: the version this form was shown with
    name = StringField(_l("群名称"), validators=[required(_l("请填写群名称")), Length(max=100)])
    kind = SelectField(_l("群类型"), choices=[], default=GroupKind.SELF_BUILT.value)
    origin = SelectField(_l("建群/进群方式"), choices=[], default="")
    platform = SelectField(_l("平台"), choices=[], default=Platform.WECHAT.value)
    # The service checks the owner belongs to the dealer (and says so in Chinese).
    owner_person_id = SelectField(_l("群主"), choices=[], coerce=int_or_none, validate_choice=False)
    started_on = LocalizedDateField(_l("建群/进群日期"), validators=[Optional()])
    status = SelectField(_l("状态"), choices=[], default=GroupStatus.PREPARING.value)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k.value, k.label) for k in GroupKind)
        self.origin.choices = choices([("", _l("未填写"))] + [(o.value, o.label) for o in GroupOrigin])
        self.platform.choices = choices((p.value, p.label) for p in Platform)
        self.status.choices = choices((s.value, s.label) for s in GroupStatus)
        self.owner_person_id.choices = choices([("", _l("未指定"))] + [(p.id, p.name) for p in people])


class AccountForm(FlaskForm):
    # Any id may come back; the service accepts only the dealer's own active users.
    user_id = SelectField(_l("账号"), choices=[], coerce=int_or_none, validate_choice=False)
    role = SelectField(_l("角色"), choices=[], default=AccountRole.MAIN_IP.value)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = choices([("", _l("请选择"))] + [(u.id, u.name) for u in users])
        self.role.choices = choices((r.value, r.label) for r in AccountRole)


class MetricForm(FlaskForm):
    """A day's numbers; blank keeps what was entered before (0 for a new day). The service refuses the impossible."""

    day = LocalizedDateField(_l("日期"), validators=[input_required(_l("请填写日期"))])
    members = LocalizedIntegerField(_l("群成员"), validators=[Optional()])
    owners = LocalizedIntegerField(_l("业主"), validators=[Optional()])
    joins = LocalizedIntegerField(_l("进群"), validators=[Optional()])
    leaves = LocalizedIntegerField(_l("退群"), validators=[Optional()])
    messages = LocalizedIntegerField(_l("消息数"), validators=[Optional()])
    active_members = LocalizedIntegerField(_l("活跃人数"), validators=[Optional()])
    store_visits = LocalizedIntegerField(_l("到店"), validators=[Optional()])
    deposits = LocalizedIntegerField(_l("交定"), validators=[Optional()])
    orders = LocalizedIntegerField(_l("成交"), validators=[Optional()])
    gmv = LocalizedIntegerField(_l("成交额（元）"), validators=[Optional()])


class FormulaCheckForm(FlaskForm):
    part = SelectField(choices=choices((p.value, p.label) for p in FormulaPart))
    is_done = BooleanField(_l("已做到"))
    note = StringField(_l("依据"), validators=[Optional(), Length(max=255)])
