from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import NumberRange, Optional

from crm.core.forms import LocalizedFloatField, LocalizedIntegerField, choices, input_required
from crm.core.i18n import lazy_gettext as _l
from crm.maps.models import TileProvider
from crm.targets.scoring import FACTOR_LABELS, FACTORS


def _weight_field(name):
    return LocalizedIntegerField(
        FACTOR_LABELS[name],
        validators=[input_required(), NumberRange(0, 100, _l("权重应在 0 到 100 之间"))],
    )


class TargetSettingsForm(FlaskForm):
    weight_households = _weight_field("households")
    weight_delivery = _weight_field("delivery")
    weight_finish = _weight_field("finish")
    weight_price = _weight_field("price")
    weight_distance = _weight_field("distance")
    weight_competitors = _weight_field("competitors")
    weight_groups = _weight_field("groups")
    join_rate_percent = LocalizedFloatField(
        _l("预计入群率（%）"), validators=[input_required(), NumberRange(0, 100, _l("比例应在 0 到 100 之间"))]
    )
    conversion_rate_percent = LocalizedFloatField(
        _l("预计成交率（%）"), validators=[input_required(), NumberRange(0, 100, _l("比例应在 0 到 100 之间"))]
    )
    yearly_target_orders = LocalizedIntegerField(
        _l("年度目标成交单数"), validators=[Optional(), NumberRange(min=0, message=_l("不能小于 0"))]
    )
    avg_order_value = LocalizedIntegerField(
        _l("平均客单价（元）"), validators=[Optional(), NumberRange(min=0, message=_l("不能小于 0"))]
    )
    store_ring_m = LocalizedIntegerField(
        _l("门店辐射半径（米）"),
        validators=[input_required(), NumberRange(100, 50000, _l("辐射半径应在 100 到 50000 米之间"))],
    )
    tile_provider = SelectField(_l("地图底图"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tile_provider.choices = choices(
            [("", _l("系统默认"))] + [(provider.value, provider.label) for provider in TileProvider]
        )

    @property
    def weight_fields(self):
        return [getattr(self, f"weight_{name}") for name in FACTORS]

    def load(self, settings) -> None:
        """Fill the form from saved settings (percentages shown as percentages)."""
        for name in FACTORS:
            getattr(self, f"weight_{name}").data = settings.score_weights.get(name, 0)
        self.join_rate_percent.data = round(settings.join_rate * 100, 2)
        self.conversion_rate_percent.data = round(settings.conversion_rate * 100, 2)
        self.yearly_target_orders.data = settings.yearly_target_orders
        self.avg_order_value.data = settings.avg_order_value
        self.store_ring_m.data = settings.store_ring_m
        self.tile_provider.data = settings.tile_provider.value if settings.tile_provider else ""
