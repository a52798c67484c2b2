from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from crm.core.forms import LocalizedDateField, LocalizedIntegerField, choices, input_required, int_or_none, required
from crm.core.i18n import lazy_gettext as _l
from crm.groups.models import AccountRole
from crm.scripts.content import MAX_DAYS_PER_PHASE, MAX_INTENT_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, ScriptKind


class PlaybookForm(FlaskForm):
    name = StringField(_l("剧本名称"), validators=[required(_l("请填写剧本名称")), Length(max=MAX_NAME_CHARS)])
    description = TextAreaField(_l("适用场景"), validators=[Optional(), Length(max=1000)])


class PhaseForm(FlaskForm):
    name = StringField(_l("阶段名称"), validators=[required(_l("请填写阶段名称")), Length(max=MAX_NAME_CHARS)])
    goal = StringField(_l("阶段目标"), validators=[Optional(), Length(max=500)])
    days = LocalizedIntegerField(
        _l("天数"),
        validators=[
            input_required(_l("请填写天数")),
            NumberRange(1, MAX_DAYS_PER_PHASE, _l("天数须在 1 到 %(max)d 之间", max=MAX_DAYS_PER_PHASE)),
        ],
    )


class ItemForm(FlaskForm):
    time = StringField(_l("时间"), validators=[required(_l("请填写时间，如 09:00"))])
    slot = StringField(_l("时段"), validators=[Optional(), Length(max=MAX_NAME_CHARS)])
    role = SelectField(_l("角色"), choices=[], default=AccountRole.MAIN_IP.value)
    kind = SelectField(_l("类型"), choices=[], default=ScriptKind.TOPIC.value)
    text = TextAreaField(_l("话术内容"), validators=[required(_l("请填写话术内容")), Length(max=MAX_TEXT_CHARS)])
    intent = StringField(_l("意图说明"), validators=[Optional(), Length(max=MAX_INTENT_CHARS)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices((r.value, r.label) for r in AccountRole)
        self.kind.choices = choices((k.value, k.label) for k in ScriptKind)


class TemplateForm(FlaskForm):
    name = StringField(_l("名称"), validators=[required(), Length(max=MAX_NAME_CHARS)])
    text = TextAreaField(_l("内容"), validators=[required(), Length(max=MAX_TEXT_CHARS)])


class PublishForm(FlaskForm):
    note = StringField(_l("本次修改说明"), validators=[Optional(), Length(max=200)])


class ImageForm(FlaskForm):
    image = FileField(_l("配图"), validators=[FileRequired(_l("请选择图片"))])


class ImportForm(FlaskForm):
    file = FileField(_l("剧本文件（.xlsx）"), validators=[FileRequired(_l("请选择要导入的文件"))])


ROLE_FIELDS = {role: f"role_{role.value}" for role in AccountRole}


class ApplyForm(FlaskForm):
    """Run a group on a playbook. Placeholder values come as value_<n> fields the view reads itself."""

    version_id = SelectField(_l("剧本"), choices=[], coerce=int_or_none, validate_choice=False)
    starts_on = LocalizedDateField(_l("开始日期"), validators=[input_required(_l("请选择开始日期"))])
    # Any id may come back; the service accepts only the dealer's own active users.
    role_main_ip = SelectField(_l("主IP"), choices=[], coerce=int_or_none, validate_choice=False)
    role_helper = SelectField(_l("马甲"), choices=[], coerce=int_or_none, validate_choice=False)
    role_service = SelectField(_l("客服"), choices=[], coerce=int_or_none, validate_choice=False)
    role_designer = SelectField(_l("设计师"), choices=[], coerce=int_or_none, validate_choice=False)

    def __init__(self, *args, versions=(), users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.version_id.choices = choices(
            [("", _l("请选择"))] + [(v.id, f"{v.playbook.name} {v.label}") for v in versions]
        )
        for name in ROLE_FIELDS.values():
            getattr(self, name).choices = choices([("", _l("不安排"))] + [(u.id, u.name) for u in users])

    def role_users(self) -> dict:
        return {role: getattr(self, name).data for role, name in ROLE_FIELDS.items()}


class ShiftForm(FlaskForm):
    from_date = LocalizedDateField(_l("从哪天起"), validators=[input_required(_l("请选择日期"))])
    days = LocalizedIntegerField(_l("顺延天数（负数为提前）"), validators=[input_required(_l("请填写天数"))])
    note = StringField(_l("原因"), validators=[Optional(), Length(max=200)])


class SkipDayForm(FlaskForm):
    on_date = LocalizedDateField(_l("跳过哪一天"), validators=[input_required(_l("请选择日期"))])
    note = StringField(_l("原因"), validators=[Optional(), Length(max=200)])


class NoteForm(FlaskForm):
    note = StringField(_l("原因"), validators=[Optional(), Length(max=200)])


class TaskDoneForm(FlaskForm):
    sent_text = TextAreaField(_l("实际发送的内容"), validators=[required(_l("请填写实际发送的内容"))])


class TaskSkipForm(FlaskForm):
    reason = StringField(_l("跳过原因"), validators=[required(_l("请写明跳过的原因")), Length(max=200)])


class ReassignForm(FlaskForm):
    role = SelectField(_l("角色"), choices=[])
    # Any id may come back; the service accepts only the dealer's own active users.
    user_id = SelectField(_l("换成"), choices=[], coerce=int_or_none, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices((r.value, r.label) for r in AccountRole)
