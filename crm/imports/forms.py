from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from crm.core.forms import choices, input_required, required
from crm.core.i18n import lazy_gettext as _l
from crm.imports.parsing import FIELD_LABELS
from crm.maps.coords import CoordSystem

# Form fields of the mapping form are named after the file column's position: headers can hold anything.
COLUMN_FIELD_PREFIX = "column-"


def _coord_system_field():
    return SelectField(
        _l("文件里的坐标系"),
        choices=choices((c.value, c.label) for c in CoordSystem),
        default=CoordSystem.BD09.value,
        validators=[input_required()],
    )


class ImportUploadForm(FlaskForm):
    file = FileField(_l("楼盘表文件（.xlsx 或 .csv）"), validators=[FileRequired(_l("请选择要导入的文件"))])
    city_id = SelectField(_l("城市"), coerce=int, validators=[required(_l("请选择城市"))])
    coord_system = _coord_system_field()

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.city_id.choices = choices((c.id, c.name) for c in cities)


class ColumnMappingForm(FlaskForm):
    """The coordinate system (and CSRF token) of the mapping form; the column selects are read by `chosen_fields`."""

    coord_system = _coord_system_field()


def field_choices() -> list[tuple[str, str]]:
    """Options of a column's select: ignore, then every estate field an import can fill."""
    return [("", str(_l("忽略")))] + [(name, str(label)) for name, label in FIELD_LABELS.items()]


def chosen_fields(formdata) -> dict[int, str]:
    """Column index → chosen field, from the mapping form's `column-<index>` selects."""
    chosen = {}
    for key, value in formdata.items():
        if key.startswith(COLUMN_FIELD_PREFIX) and key.removeprefix(COLUMN_FIELD_PREFIX).isdigit():
            chosen[int(key.removeprefix(COLUMN_FIELD_PREFIX))] = value if value in FIELD_LABELS else ""
    return chosen
