"""Builders for group tests: extra groups, metrics and people, through the real services."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.groups import service
from crm.groups.models import Group, GroupMetric, GroupStatus

HX = {"HX-Request": "true"}


def add_group(estate, name: str, status: GroupStatus = GroupStatus.OPERATING) -> Group:
    return service.create_group(db.session, estate, service.GroupFields(name=name, status=status))


def add_metric(group: Group, day: date, **values) -> GroupMetric:
    return service.record_metrics(db.session, group, day, values, None)


def add_estate(world, name: str, households: int = 1000, **extra):
    return create_estate(
        db.session,
        world.a.dealer_id,
        EstateFields(name=name, city_id=world.city_ids["齐齐哈尔"], households=households, **extra),
    )


def metric_rows(group_id: int) -> list[GroupMetric]:
    return list(db.session.scalars(sa.select(GroupMetric).where(GroupMetric.group_id == group_id)))


def metric_post(group_id: int, **values) -> dict:
    """Form data for a group's quick metrics form (its fields carry the group's prefix)."""
    return {f"g{group_id}-{name}": value for name, value in values.items()}


def without_offer_and_proposals(app, world_dealer) -> None:
    """Remove the test world's offer and proposals for the estate, so the deal formula's parts fall back to ticks."""
    from crm.offers.models import GroupOffer
    from crm.proposals.models import Proposal

    with app.app_context():
        db.session.execute(sa.delete(Proposal).where(Proposal.estate_id == world_dealer.estate_id))
        db.session.execute(sa.delete(GroupOffer).where(GroupOffer.estate_id == world_dealer.estate_id))
        db.session.commit()
