"""Builders for offer tests: offers, tiers and deposits through the real services (or plain rows for days the
metrics form would refuse)."""

from __future__ import annotations

from datetime import date

from crm.extensions import db
from crm.groups.models import Group, GroupMetric
from crm.offers import service
from crm.offers.models import GroupOffer

HX = {"HX-Request": "true"}


def make_offer(estate, starts_on: date, ends_on: date, tiers=((10, 88),), title: str = "测试团购") -> GroupOffer:
    offer = service.create_offer(
        db.session, estate, service.OfferFields(title=title, starts_on=starts_on, ends_on=ends_on)
    )
    for min_deposits, discount_percent in tiers:
        service.add_tier(db.session, offer, service.TierFields(min_deposits, discount_percent))
    return offer


def deposit_row(group: Group, day: date, deposits: int) -> GroupMetric:
    """A day's deposits for a group as a plain row (any day, even one the metrics form would call future)."""
    metric = GroupMetric(dealer_id=group.dealer_id, group_id=group.id, day=day, deposits=deposits)
    db.session.add(metric)
    db.session.flush()
    return metric
