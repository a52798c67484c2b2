"""Writes for picking targets. Functions flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.validation import FieldError
from crm.estates.models import Estate, EstateStage
from crm.maps.models import TileProvider, TrafficMapSettings
from crm.maps.queries import settings_for
from crm.targets.scoring import FACTORS


def mark_as_targets(session: Session, dealer_id: int, estate_ids: list[int]) -> int:
    """Move the chosen unplanned estates to 目标; estates already further along are left alone."""
    if not estate_ids:
        return 0
    estates = session.scalars(
        sa.select(Estate).where(
            Estate.dealer_id == dealer_id, Estate.id.in_(estate_ids), Estate.stage == EstateStage.UNPLANNED
        )
    ).all()
    for estate in estates:
        estate.stage = EstateStage.TARGET
    session.flush()
    return len(estates)


@dataclass
class SettingsFields:
    weights: dict[str, int]
    join_rate_percent: float
    conversion_rate_percent: float
    yearly_target_orders: int | None
    avg_order_value: int | None
    store_ring_m: int
    tile_provider: TileProvider | None


def save_settings(session: Session, dealer_id: int, data: SettingsFields) -> TrafficMapSettings:
    """Store the dealer's weights, rates, target and map choices (creating the row on first save)."""
    if any(not 0 <= data.weights.get(name, 0) <= 100 for name in FACTORS):
        raise FieldError("weights", _("权重应在 0 到 100 之间"))
    if sum(data.weights.get(name, 0) for name in FACTORS) == 0:
        raise FieldError("weights", _("至少一个因素的权重要大于 0"))
    for field_name, value in (
        ("join_rate_percent", data.join_rate_percent),
        ("conversion_rate_percent", data.conversion_rate_percent),
    ):
        if not 0 <= value <= 100:
            raise FieldError(field_name, _("比例应在 0 到 100 之间"))
    if not 100 <= data.store_ring_m <= 50000:
        raise FieldError("store_ring_m", _("辐射半径应在 100 到 50000 米之间"))
    settings = settings_for(session, dealer_id)
    if settings.id is None:
        session.add(settings)
    settings.score_weights = {name: int(data.weights.get(name, 0)) for name in FACTORS}
    settings.join_rate = data.join_rate_percent / 100
    settings.conversion_rate = data.conversion_rate_percent / 100
    settings.yearly_target_orders = data.yearly_target_orders
    settings.avg_order_value = data.avg_order_value
    settings.store_ring_m = data.store_ring_m
    settings.tile_provider = data.tile_provider
    session.flush()
    return settings
