from flask_wtf import FlaskForm
from wtforms.validators import NumberRange

from crm.core.forms import LocalizedFloatField, input_required
from crm.core.i18n import lazy_gettext as _l


class PlaceForm(FlaskForm):
    """Where the estate's marker was dropped, in the datum of the map's tiles."""

    lng = LocalizedFloatField(_l("经度"), validators=[input_required(), NumberRange(-180, 180)])
    lat = LocalizedFloatField(_l("纬度"), validators=[input_required(), NumberRange(-90, 90)])
