"""Forms of the installation pages. They parse; the service (crm.installs.service) decides what is allowed and says
why in Chinese."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from crm.core.forms import LocalizedDateField, VersionField, choices, int_or_none, required
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission
from crm.installs.service import ChecklistResult, person_label

PASS, FAIL = "pass", "fail"


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (easier than a multi-select with a finger)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class JobForm(OncePerSubmission, FlaskForm):
    version = VersionField()  # optimistic locking: the version this form was shown with
    order_id = SelectField(_l("订单"), choices=[], coerce=int_or_none, validate_choice=False)
    scheduled_on = LocalizedDateField(_l("安装日期"), validators=[Optional()])
    installer_ids = CheckboxesField(_l("安装工"), choices=[], coerce=int_or_none, validate_choice=False)
    building = StringField(_l("楼栋"), validators=[Optional(), Length(max=20)])
    unit = StringField(_l("单元"), validators=[Optional(), Length(max=20)])
    room = StringField(_l("房号"), validators=[Optional(), Length(max=20)])

    def __init__(self, *args, orders=(), installers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.order_id.choices = choices(
            [("", _l("请选择"))]
            + [
                (o.id, " · ".join(x for x in (o.person.name, o.estate.name, o.address, o.status.label) if x))
                for o in orders
            ]
        )
        self.installer_ids.choices = choices((u.id, u.name) for u in installers)


class AttemptForm(FlaskForm):
    """One step's record. The checklist rows (`result_<i>`, `note_<i>`) are added per standard by `attempt_form`."""

    step = HiddenField()
    performer_user_id = SelectField(_l("执行人"), choices=[], coerce=int_or_none, validate_choice=False)
    performer_person_id = SelectField(_l("检查的邻居"), choices=[], coerce=int_or_none, validate_choice=False)
    performer_name = StringField(_l("在哪个群检查"), validators=[Optional(), Length(max=64)])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=5000)])
    defects = TextAreaField(_l("其他缺陷（一行一条）"), validators=[Optional(), Length(max=10000)])
    photos = MultipleFileField(_l("现场照片"))
    photo_caption = StringField(_l("照片说明"), validators=[Optional(), Length(max=100)])
    signature = HiddenField()

    items: list[str] = []

    def rows(self):
        """(item, result field, note field) for each checklist item."""
        return [(item, getattr(self, f"result_{i}"), getattr(self, f"note_{i}")) for i, item in enumerate(self.items)]

    def checklist(self) -> list[ChecklistResult]:
        results = []
        for item, result, note in self.rows():
            passed = {PASS: True, FAIL: False}.get(result.data)
            results.append(ChecklistResult(item=item, passed=passed, note=note.data or ""))
        return results


def attempt_form(items: list[str], users=(), people=(), **kwargs) -> AttemptForm:
    """An AttemptForm with a 合格/不合格 choice and a note per checklist item of the dealer's standard."""

    class _AttemptForm(AttemptForm):
        pass

    for index, item in enumerate(items):
        setattr(
            _AttemptForm,
            f"result_{index}",
            RadioField(item, choices=choices([(PASS, _l("合格")), (FAIL, _l("不合格"))]), validate_choice=False),
        )
        setattr(
            _AttemptForm,
            f"note_{index}",
            StringField(_l("说明"), validators=[Optional(), Length(max=200)]),
        )
    form = _AttemptForm(**kwargs)
    form.items = list(items)
    form.performer_user_id.choices = choices([("", _l("请选择"))] + [(u.id, u.name) for u in users])
    form.performer_person_id.choices = choices([("", _l("请选择"))] + [(p.id, person_label(p)) for p in people])
    return form


class FixForm(FlaskForm):
    fix_note = TextAreaField(_l("怎么整改的"), validators=[required(_l("请写明怎么整改的")), Length(max=500)])
    fix_photo = FileField(_l("整改后照片"))


class PhotosForm(FlaskForm):
    photos = MultipleFileField(_l("补充照片"))
    caption = StringField(_l("照片说明"), validators=[Optional(), Length(max=100)])


class StandardForm(FlaskForm):
    items = TextAreaField(_l("检查项（一行一项）"), validators=[required(_l("验收标准至少要有一项"))])


class ClaimForm(FlaskForm):
    description = TextAreaField(_l("报修问题"), validators=[required(_l("请描述报修的问题")), Length(max=500)])
    reported_on = LocalizedDateField(_l("报修日期"), validators=[Optional()])


class ResolveClaimForm(FlaskForm):
    resolution = TextAreaField(_l("处理结果"), validators=[required(_l("请写明怎么处理的")), Length(max=500)])
    resolved_on = LocalizedDateField(_l("处理日期"), validators=[Optional()])
